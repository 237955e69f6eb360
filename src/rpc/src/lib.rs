//! Server-to-server transport for the control shard (one glommio executor: Rc/RefCell,
//! `!Send` futures, no locks, no blocking calls).
//!
//! * Raft messages travel one-way on per-(peer, lane) connections, each with its own
//!   bounded queue and writer task, so heartbeats never wait behind appends or snapshot
//!   chunks ([`Lane`], [`Transport::send`]).
//! * Snapshots stream in chunks on their own lane and are acked ([`Transport::send_snapshot`]).
//! * Request/response calls to any address are multiplexed per address ([`Transport::call`]).
//! * [`serve`] accepts all of these and hands them to the owner ([`Inbound`], `on_call`).
//!
//! Wire format: see [`wire`]. Every queue is bounded; every write has a deadline.
mod calls;
mod error;
mod inbound;
mod inbound_calls;
mod io;
mod lanes;
mod options;
mod outbound;
mod signal;
mod snapshot;
mod stats;
mod transport;
pub mod wire;

pub use ballast_raft::{Message, MessageBody, NodeId, SnapshotMeta};
pub use error::{CallError, SendError, WireError};
pub use io::{connect_http_lane, connect_plain, peer_closed};
pub use inbound::{serve, Inbound, OnCall, OnHttp, OnInbound, ServeHandle, Server};
pub use lanes::{lane_of, Lane};
pub use options::TransportOptions;
pub use snapshot::SnapshotAssembler;
pub use stats::{LaneStats, ServerStats, TransportStats};
pub use transport::Transport;
