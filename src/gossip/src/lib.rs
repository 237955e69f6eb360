//! Sans-IO gossip core for ballast: SWIM failure detection with the Lifeguard
//! extensions (local health awareness, dynamic suspicion timeouts, buddy
//! refutation), as in hashicorp/memberlist, plus the part of hashicorp/serf
//! Consul relies on (tags, join/leave intents with Lamport times, member
//! statuses, reap, force-leave, queries).
//!
//! No sockets, clocks, threads or runtime: the driver feeds datagrams,
//! push-pull streams and the current time in, and drains [`Output`]s.

mod awareness;
mod broadcast;
mod config;
mod core;
#[cfg(test)]
mod core_tests;
mod dispatch;
mod fxhash;
mod metrics;
mod nodes;
mod probe;
mod pushpull;
mod query;
mod serf;
mod serial;
mod state;
mod suspicion;
mod types;
mod wire;

pub use crate::config::Config;
pub use crate::core::Gossip;
pub use crate::metrics::Metrics;
pub use crate::suspicion::{suspicion_timeout, remaining_suspicion_time};
pub use crate::types::{DecodeError, Event, Member, Now, Output, Status};
pub use crate::serial::{incarnation_newer, ltime_newer};
