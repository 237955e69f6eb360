//! Vivaldi network coordinates, behaving as Consul's `github.com/hashicorp/serf/coordinate`.
//!
//! * [`Config`]: the tuning parameters, with serf's defaults.
//! * [`Coordinate`]: a point (Euclidean vector + height + adjustment + error), serialised
//!   to JSON with Consul's field names, and distance estimation between two points.
//! * [`Client`]: one node's estimate, updated from RTT observations of its peers.
//! * [`wire`]: a compact binary encoding for the gossip ack payload.
//!
//! All coordinate values are in seconds, as in serf.

mod client;
mod config;
mod coordinate;
mod error;
mod go_duration;
mod latency_filter;
mod rng;
mod vector;
pub mod wire;

pub use client::{Client, ClientStats, MAX_RTT};
pub use config::Config;
pub use coordinate::{compute_distance, Coordinate};
pub use error::Error;
pub use go_duration::format_go_duration;
pub use rng::SplitMix64;
