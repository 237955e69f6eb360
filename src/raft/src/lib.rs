//! Sans-IO Raft core. The driver feeds it `tick()`, `step(msg)`, `propose(data)` and reads
//! back a `Ready` (what to persist, send, apply), then calls `advance(..)`. No runtime,
//! no sockets, no clocks here: the same code runs under glommio and in the simulator.
//!
//! Semantics follow the Raft paper and thesis in the style of etcd-io/raft: PreVote,
//! CheckQuorum with leader stickiness, ReadIndex, learners, single-server membership
//! changes through `Config` entries (in force once appended), leadership transfer, and
//! pipelined replication with an in-flight window per follower.
mod accessors;
mod commit_broadcast;
mod config;
mod election;
mod log;
mod membership;
mod message;
mod node;
mod progress;
mod read_index;
mod ready;
mod replication;
mod rng;
mod types;

pub use config::{Bootstrap, Config, ProposeError, RaftError};
pub use membership::{decode_conf, encode_conf};
pub use message::{Message, MessageBody};
pub use node::RaftNode;
pub use ready::{PeerStatus, ReadState, Ready, ReplicationState, Role, SoftState, Status};
pub use types::*;
