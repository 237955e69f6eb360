//! ballast-local: the agent's own services and checks, as Consul's agent
//! keeps them (agent/agent_endpoint.go, agent/agent.go, agent/local/state.go,
//! agent/ae/ae.go). Pure logic: no runtime, the caller owns time and I/O
//! scheduling; only persistence touches the file system.
//!
//! - [`decode`]: request bodies decoded as Consul accepts them.
//! - [`LocalState`]: register/deregister, maintenance, TTL updates, views.
//! - persistence: [`LocalState::load`] and a write per change.
//! - anti-entropy: [`LocalState::plan_full_sync`] / [`LocalState::plan_changes`]
//!   produce catalog `RegisterRequest`/`DeregisterRequest`s; [`ae`] times them.

pub mod ae;
mod decode;
mod definition;
pub mod duration;
mod error;
mod gojson;
mod load;
mod maintenance;
mod ops;
mod persist;
mod persist_fs;
mod state;
mod sync;
mod validate;
mod views;

pub use decode::{decode_check_registration, decode_check_update, decode_service_registration};
pub use definition::{CheckDefinition, CheckType, CheckUpdate, ServiceDefinition};
pub use error::LocalError;
pub use maintenance::{
    is_maintenance_check, service_maint_check_id, DEFAULT_NODE_MAINT_REASON, DEFAULT_SERVICE_MAINT_REASON,
    MAINT_CHECK_TYPE, NODE_MAINT_NAME, SERVICE_MAINT_NAME,
};
pub use ops::{cap_output, DEFAULT_CHECK_OUTPUT_MAX_SIZE};
pub use state::{CheckState, LocalConfig, LocalState, NodeInfo, ServiceState};
pub use sync::{check_is_same, service_is_same, SyncAction, SyncOp, CONSUL_SERVICE_ID};
pub use validate::{is_any_address, valid_status, validate_service_meta, validate_weights};
pub use views::{
    agent_check_json, agent_service_json, aggregated_status, api_check_json, content_hash, health_status_code,
    service_health_not_found_json, ServiceHealth, ServiceHealthByName, HEALTH_MAINT,
};

#[cfg(test)]
mod tests;
