//! Counters for metrics and tests. Plain cells: the transport lives on one executor.
use std::cell::Cell;

/// Per-lane counters. For the Snapshot lane a "message" is a whole snapshot stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LaneStats {
    /// Messages written to a socket.
    pub sent_msgs: u64,
    pub sent_bytes: u64,
    /// Messages refused at `send` (queue full) or lost with a failed connection/write.
    pub dropped_msgs: u64,
    /// Currently queued, over all peers (gauges).
    pub queued_msgs: u64,
    pub queued_bytes: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TransportStats {
    pub priority: LaneStats,
    pub data: LaneStats,
    pub snapshot: LaneStats,
    /// Outbound connections established (Raft lanes, snapshots and calls).
    pub connects: u64,
    pub connect_failures: u64,
    /// Established connections lost to a write error or deadline.
    pub disconnects: u64,
    pub calls_ok: u64,
    pub calls_failed: u64,
}

#[derive(Default)]
pub(crate) struct LaneCounters {
    pub sent_msgs: Cell<u64>,
    pub sent_bytes: Cell<u64>,
    pub dropped_msgs: Cell<u64>,
}

impl LaneCounters {
    pub(crate) fn snapshot(&self) -> LaneStats {
        LaneStats {
            sent_msgs: self.sent_msgs.get(),
            sent_bytes: self.sent_bytes.get(),
            dropped_msgs: self.dropped_msgs.get(),
            queued_msgs: 0,
            queued_bytes: 0,
        }
    }
}

#[derive(Default)]
pub(crate) struct Counters {
    pub priority: LaneCounters,
    pub data: LaneCounters,
    pub snapshot: LaneCounters,
    pub connects: Cell<u64>,
    pub connect_failures: Cell<u64>,
    pub disconnects: Cell<u64>,
    pub calls_ok: Cell<u64>,
    pub calls_failed: Cell<u64>,
}

pub(crate) fn bump(c: &Cell<u64>, by: u64) {
    c.set(c.get().saturating_add(by));
}

/// Inbound server counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerStats {
    pub accepted: u64,
    /// Closed on accept because `max_inbound_conns` were open.
    pub refused_over_limit: u64,
    /// Closed because the preamble was missing, late or wrong.
    pub bad_preambles: u64,
    /// Closed because a frame or message did not decode or was not allowed.
    pub protocol_errors: u64,
    pub raft_delivered: u64,
    pub snapshots_delivered: u64,
    pub calls_answered: u64,
    pub calls_refused_overloaded: u64,
    pub active_conns: u64,
}
