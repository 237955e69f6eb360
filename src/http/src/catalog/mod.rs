//! Consul's catalog and health HTTP endpoints: registration writes through
//! Raft, reads over the published snapshot with blocking on catalog topics.

mod filter;
mod gojson;
pub(crate) mod health;
mod json;
mod near;
mod read_args;
pub(crate) mod reads;
pub(crate) mod register;
mod register_decode;
pub(crate) mod render_cache;
mod respond;
pub mod wire;

pub(crate) use read_args::parse_go_bool;
