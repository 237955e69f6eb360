//! The catalog: nodes, services and health checks as Consul's state store
//! keeps them (agent/consul/state/catalog.go), with its index rules.
//!
//! Writes arrive as `Command::CatalogRegister` / `CatalogDeregister`; reads
//! are methods on [`StateSnapshot`](crate::StateSnapshot) (`catalog_*`,
//! `node_checks`, `service_checks`, `checks_in_state`, `check_service_nodes`).

pub(crate) mod archive;
pub(crate) mod deregister;
pub(crate) mod indexes;
mod reads;
pub(crate) mod register;
pub(crate) mod tables;
mod types;
mod validate;

pub use reads::{NodeWithServices, ServiceEntry, ServiceInstance};
pub use types::*;

use std::sync::Arc;

use indexes::CatalogWriter;
use tables::CatalogTables;

/// Apply a registration at `idx`; on error the tables may be half
/// written: the caller restores its copy (as Consul aborts the txn).
pub(crate) fn apply_register(
    t: &mut CatalogTables,
    idx: u64,
    req: &RegisterRequest,
    topics: &mut Vec<Arc<str>>,
) -> Result<(), String> {
    let mut w = CatalogWriter::new(t, idx, topics);
    register::ensure_registration(&mut w, req)
}

/// Apply a deregistration at `idx` (same contract as [`apply_register`]).
pub(crate) fn apply_deregister(
    t: &mut CatalogTables,
    idx: u64,
    req: &DeregisterRequest,
    topics: &mut Vec<Arc<str>>,
) -> Result<(), String> {
    let mut w = CatalogWriter::new(t, idx, topics);
    deregister::apply_deregister(&mut w, req)
}
