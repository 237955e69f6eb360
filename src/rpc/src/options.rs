//! Tunables of the transport and of the inbound server. Both ends of a connection should
//! use the same `max_frame_bytes`: a sender's frame above the receiver's limit closes
//! the connection.
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct TransportOptions {
    /// Deadline of one TCP connect; also the deadline for an inbound preamble to arrive.
    pub connect_timeout: Duration,
    /// Deadline of every socket write: a peer that stops reading gets its connection
    /// dropped (and the batch being written counted as dropped) instead of wedging a lane.
    pub write_timeout: Duration,
    /// Bound of each peer's Priority lane queue, in messages.
    pub priority_queue_msgs: usize,
    /// Bounds of each peer's Data lane queue, in encoded bytes and in messages.
    pub data_queue_bytes: usize,
    pub data_queue_msgs: usize,
    /// Size of the chunks a snapshot is streamed in.
    pub snapshot_chunk_bytes: usize,
    /// Largest frame body accepted from the network (and sent): bigger is a protocol error.
    pub max_frame_bytes: usize,
    /// A snapshot announced bigger than this is refused.
    pub max_snapshot_bytes: u64,
    /// Deadline of `Transport::call` when the caller gives none.
    pub call_timeout: Duration,
    /// Calls outstanding per destination address; over it `call` fails `Overloaded` at once.
    pub max_calls_in_flight: usize,
    /// Inbound connections accepted at once; more are closed on accept.
    pub max_inbound_conns: usize,
    /// Calls one inbound connection may have running at once; over it a request is
    /// answered with an `Overloaded` error response at once.
    pub max_inbound_calls_per_conn: usize,
    /// An outbound call connection with no call pending for this long is closed.
    pub call_idle_timeout: Duration,
    /// Source address of outbound connections (Consul binds its RPC client to the
    /// `-bind` IP, so peers and firewalls see the server's own address). None: the
    /// kernel picks.
    pub source_ip: Option<std::net::IpAddr>,
}

impl Default for TransportOptions {
    fn default() -> Self {
        TransportOptions {
            connect_timeout: Duration::from_secs(1),
            write_timeout: Duration::from_secs(2),
            priority_queue_msgs: 1024,
            data_queue_bytes: 64 << 20,
            data_queue_msgs: 8192,
            snapshot_chunk_bytes: 1 << 20,
            max_frame_bytes: 64 << 20,
            max_snapshot_bytes: 4 << 30,
            call_timeout: Duration::from_secs(10),
            max_calls_in_flight: 4096,
            max_inbound_conns: 256,
            max_inbound_calls_per_conn: 1024,
            call_idle_timeout: Duration::from_secs(60),
            source_ip: None,
        }
    }
}

impl TransportOptions {
    /// Chunk size actually used: at least 1 byte, and a chunk frame fits in a frame.
    pub(crate) fn chunk_bytes(&self) -> usize {
        self.snapshot_chunk_bytes
            .min(self.max_frame_bytes.saturating_sub(64))
            .max(1)
    }

    /// A zero duration would make glommio's connect fail; keep every deadline positive.
    pub(crate) fn connect_deadline(&self) -> Duration {
        self.connect_timeout.max(Duration::from_millis(1))
    }
}
