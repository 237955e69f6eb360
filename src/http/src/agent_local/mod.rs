//! Consul's agent-local endpoints (agent/agent_endpoint.go): this agent's
//! own services and checks, their health, maintenance mode and TTL updates.
//! Every agent answers these itself (never forwarded); the semantics live in
//! `ballast_local::LocalState`, this module is the HTTP surface: paths,
//! query parameters, the order of Consul's checks, statuses and bodies.

mod access;
mod health;
mod maintenance;
mod reads;
mod register;
mod service;
mod ttl;
mod wake;

pub(crate) use health::{health_by_id, health_by_name};
pub(crate) use maintenance::{node_maintenance, service_maintenance};
pub(crate) use reads::{checks, services};
pub(crate) use register::{deregister_check, deregister_service, register_check, register_service};
pub(crate) use service::service;
pub(crate) use ttl::{check_fail, check_pass, check_update, check_warn};
pub use wake::{notify_local_change, LOCAL_STATE_TOPIC};
