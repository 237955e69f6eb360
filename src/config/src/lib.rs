//! Agent configuration: Consul's JSON and HCL config files and command-line flags, merged in
//! Consul's order into one validated [`RuntimeConfig`].
//!
//! ```text
//! LoadOpts { flags, config_files, config_format, dev, hcl } --load--> LoadResult { config, warnings }
//! ```
mod builder;
mod decode;
mod duration;
mod error;
mod fragment;
mod gossip;
mod gossip_key;
mod hcl1;
mod hostname;
mod keys;
mod runtime;
mod source;
mod validate;

pub use builder::{load, parse_placement, LoadOpts, LoadResult};
pub use duration::parse_duration;
pub use error::ConfigError;
pub use fragment::{Config, GossipConfig, PortsConfig};
pub use hcl1::normalize_hcl1;
pub use gossip_key::decode_gossip_key;
pub use runtime::{ChecksConfig, GossipTuning, Placement, Ports, RuntimeConfig, RECONNECT_TIMEOUT_DEFAULT};
