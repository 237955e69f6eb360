//! Lanes and the bounded per-(peer, lane) queue feeding a writer task.
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::task::Poll;

use ballast_raft::{MessageBody, NodeId};

use crate::error::SendError;
use crate::signal::WakerSlot;
use crate::wire::WireLane;

/// Which connection a message travels on. Each (peer, lane) has its own outbound TCP
/// connection, bounded queue and writer task, so heartbeats never wait behind appends
/// or snapshot chunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lane {
    Priority,
    Data,
    Snapshot,
}

/// Append and AppendResp -> Data; InstallSnapshot -> Snapshot; everything else
/// (Heartbeat(Resp), PreVote(Resp), Vote(Resp), TimeoutNow) -> Priority.
pub fn lane_of(body: &MessageBody) -> Lane {
    match body {
        MessageBody::Append { .. } | MessageBody::AppendResp { .. } => Lane::Data,
        MessageBody::InstallSnapshot { .. } => Lane::Snapshot,
        _ => Lane::Priority,
    }
}

impl Lane {
    pub(crate) fn wire(self) -> WireLane {
        match self {
            Lane::Priority => WireLane::Priority,
            Lane::Data => WireLane::Data,
            Lane::Snapshot => WireLane::Snapshot,
        }
    }
}

/// Encoded frames waiting for one (peer, lane) writer. Bounded in messages and bytes.
pub(crate) struct LaneQueue {
    pub(crate) peer: NodeId,
    pub(crate) lane: Lane,
    max_msgs: usize,
    max_bytes: usize,
    inner: RefCell<QueueInner>,
    writer: WakerSlot,
}

#[derive(Default)]
struct QueueInner {
    frames: VecDeque<Vec<u8>>,
    bytes: usize,
    closed: bool,
}

/// What a writer took off the queue to write in one go.
pub(crate) struct Batch {
    pub bytes: Vec<u8>,
    pub msgs: u64,
}

impl LaneQueue {
    pub(crate) fn new(peer: NodeId, lane: Lane, max_msgs: usize, max_bytes: usize) -> Self {
        LaneQueue {
            peer,
            lane,
            max_msgs: max_msgs.max(1),
            max_bytes: max_bytes.max(1),
            inner: RefCell::default(),
            writer: WakerSlot::default(),
        }
    }

    /// Queues one encoded frame, or refuses it when the queue is at its bound.
    pub(crate) fn push(&self, frame: Vec<u8>) -> Result<(), SendError> {
        let mut q = self.inner.borrow_mut();
        if frame.len() > self.max_bytes {
            return Err(SendError::TooLarge {
                peer: self.peer,
                bytes: frame.len() as u64,
                max: self.max_bytes as u64,
            });
        }
        if q.closed || q.frames.len() >= self.max_msgs || q.bytes + frame.len() > self.max_bytes {
            return Err(SendError::QueueFull {
                peer: self.peer,
                lane: self.lane,
            });
        }
        q.bytes += frame.len();
        q.frames.push_back(frame);
        drop(q);
        self.writer.wake();
        Ok(())
    }

    pub(crate) fn close(&self) {
        let mut q = self.inner.borrow_mut();
        q.closed = true;
        q.frames.clear();
        q.bytes = 0;
        drop(q);
        self.writer.wake();
    }

    pub(crate) fn queued(&self) -> (u64, u64) {
        let q = self.inner.borrow();
        (q.frames.len() as u64, q.bytes as u64)
    }

    /// Waits until there is something to write (true) or the queue is closed (false).
    pub(crate) async fn wait_for_work(&self) -> bool {
        poll_fn(|cx| {
            let q = self.inner.borrow();
            if q.closed {
                Poll::Ready(false)
            } else if !q.frames.is_empty() {
                Poll::Ready(true)
            } else {
                self.writer.register(cx);
                Poll::Pending
            }
        })
        .await
    }

    pub(crate) async fn wait_closed(&self) {
        poll_fn(|cx| {
            if self.inner.borrow().closed {
                Poll::Ready(())
            } else {
                self.writer.register(cx);
                Poll::Pending
            }
        })
        .await
    }

    /// Takes queued frames, in order, up to about `max_batch` bytes (at least one frame).
    pub(crate) fn take_batch(&self, max_batch: usize) -> Batch {
        let mut q = self.inner.borrow_mut();
        let mut batch = Batch {
            bytes: Vec::new(),
            msgs: 0,
        };
        while let Some(front) = q.frames.front() {
            if batch.msgs > 0 && batch.bytes.len() + front.len() > max_batch {
                break;
            }
            let frame = q.frames.pop_front().unwrap_or_default();
            q.bytes -= frame.len();
            if batch.msgs == 0 {
                batch.bytes = frame;
            } else {
                batch.bytes.extend_from_slice(&frame);
            }
            batch.msgs += 1;
        }
        batch
    }
}
