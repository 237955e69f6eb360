//! The ballast agent: wires the shards runtime, Raft, the log, the state store and the
//! HTTP API together. `run` is what `ballast agent` calls.
mod catalog;
mod client_control;
mod cluster_view;
mod control;
mod deadline;
mod gossip;
mod identity;
mod lifecycle;
mod local_agent;
mod logging;
mod messages;
mod service;
mod start;
mod view;

pub use identity::{BALLAST_VERSION, CONSUL_COMPAT_VERSION};
pub use start::run;
