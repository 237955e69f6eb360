//! Public value types shared by the core and its driver.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// Time since an arbitrary epoch chosen by the driver.
pub type Now = Duration;

/// Serf's member status, numbered as Consul's /v1/agent/members shows it.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    None = 0,
    Alive = 1,
    Leaving = 2,
    Left = 3,
    Failed = 4,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub addr: SocketAddr,
    pub tags: BTreeMap<String, String>,
    pub status: Status,
    pub incarnation: u32,
    /// When `status` last changed (reap counts from here).
    pub status_since: Now,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Join(Member),
    Update(Member),
    /// Left gracefully (or force-left).
    Leave(Member),
    Failed(Member),
    /// Forgotten (reaped after a timeout, or pruned by force-leave).
    Reap(Member),
    /// A probe of `node` was answered directly after `rtt`; `payload` is what
    /// that node set with `set_ack_payload`.
    PingComplete { node: String, rtt: Duration, payload: Vec<u8> },
    /// A query from another member (or ourselves); answer with `respond(id, ..)`.
    Query { id: u64, from: String, name: String, payload: Vec<u8> },
    /// An answer to a query this node started with `query`.
    QueryResponse { id: u64, from: String, payload: Vec<u8> },
    /// A query this node started is over (its timeout passed).
    QueryDone { id: u64 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Send these bytes in one UDP datagram.
    Packet { to: SocketAddr, bytes: Vec<u8> },
    Event(Event),
}

/// Bad bytes from the network. Nothing was changed by the call that returned it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeError(pub &'static str);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "gossip decode error: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}
