//! Consul-compatible HTTP API for ballast: a lean HTTP/1.1 server on
//! glommio (httparse; keep-alive, pipelining, chunked bodies, deadlines),
//! Consul's router and handlers (KV, txn, status, agent self/members,
//! operator Raft),
//! consistency modes and blocking queries over the published state
//! snapshot. The agent supplies a [`Backend`] per service shard.

mod agent;
mod agent_local;
mod backend;
mod blocking;
mod catalog;
mod coordinate;
pub mod duration;
mod json;
mod forwarding;
mod keyring;
mod kv;
mod membership;
mod operator;
pub mod params;
mod router;
mod server;
mod status;
mod txn;
pub mod txn_json;
mod write;

#[cfg(feature = "testing")]
pub mod testing;

pub use agent_local::{notify_local_change, LOCAL_STATE_TOPIC};
pub use catalog::wire::{decode_node_view, deregister_request_body, register_request_body, NodeView};
pub use backend::{
    AgentConfig, AgentInfo, Backend, BackendError, Coord, LeaderStatus, Member, PeerSelector,
    RaftConfiguration, RaftServer,
};
pub use server::parse::{parse_head, ChunkedDecoder, RequestHead};
pub use server::response::{encode_response, http_date, Response};
pub use forwarding::{decode_forwarded_response, encode_forwarded_request};
pub use server::Body;
pub use server::{serve, HttpService, Request, ServerOptions, ServerStats};
