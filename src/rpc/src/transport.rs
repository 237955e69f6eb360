//! The outbound side: peers, their lane queues and writer tasks, snapshot streams and
//! calls. Everything lives on the control shard's executor (Rc/RefCell, no locks); the
//! writer and connection tasks are spawned lazily, on first use, on the current executor.
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use ballast_raft::{Message, MessageBody, NodeId};

use crate::calls::{self, CallConn, ForgetOnDrop};
use crate::error::{CallError, SendError};
use crate::lanes::{lane_of, Lane, LaneQueue};
use crate::outbound::{lane_counters, run_writer};
use crate::snapshot::stream_snapshot;
use crate::stats::{bump, Counters, TransportStats};
use crate::wire;
use crate::TransportOptions;

/// Server-to-server transport. Cheap to clone (an `Rc` inside); not `Send`.
#[derive(Clone)]
pub struct Transport {
    inner: Rc<Inner>,
}

struct Inner {
    self_id: NodeId,
    opts: Rc<TransportOptions>,
    peers: RefCell<HashMap<NodeId, Peer>>,
    calls: RefCell<HashMap<SocketAddr, Rc<CallConn>>>,
    counters: Rc<Counters>,
}

struct Peer {
    addr: SocketAddr,
    priority: LaneHandle,
    data: LaneHandle,
    /// Set while a snapshot streams to this peer (shared with the stream task).
    snapshot_busy: Rc<Cell<bool>>,
}

/// A peer's lane queue plus whether its writer task was spawned. Dropping it (peer
/// removed, address changed, transport dropped) closes the queue: the writer exits and
/// its connection closes.
struct LaneHandle {
    queue: Rc<LaneQueue>,
    writer_started: Cell<bool>,
}

impl Drop for LaneHandle {
    fn drop(&mut self) {
        self.queue.close();
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        for conn in self.calls.borrow().values() {
            conn.fail_all(CallError::Closed);
        }
    }
}

impl Transport {
    pub fn new(self_id: NodeId, opts: TransportOptions) -> Transport {
        Transport {
            inner: Rc::new(Inner {
                self_id,
                opts: Rc::new(opts),
                peers: RefCell::default(),
                calls: RefCell::default(),
                counters: Rc::default(),
            }),
        }
    }

    pub fn self_id(&self) -> NodeId {
        self.inner.self_id
    }

    /// Adds or updates where a peer listens. A changed address drops the old lanes
    /// (their queued messages and connections); the same address is a no-op.
    pub fn set_peer(&self, id: NodeId, addr: SocketAddr) {
        let mut peers = self.inner.peers.borrow_mut();
        if peers.get(&id).is_some_and(|p| p.addr == addr) {
            return;
        }
        let o = &self.inner.opts;
        let lane = |lane, msgs, bytes| LaneHandle {
            queue: Rc::new(LaneQueue::new(id, lane, msgs, bytes)),
            writer_started: Cell::new(false),
        };
        let peer = Peer {
            addr,
            priority: lane(
                Lane::Priority,
                o.priority_queue_msgs,
                o.max_frame_bytes + wire::FRAME_HEADER_LEN,
            ),
            data: lane(Lane::Data, o.data_queue_msgs, o.data_queue_bytes),
            snapshot_busy: Rc::default(),
        };
        tracing::debug!(peer = id, %addr, "peer address set");
        peers.insert(id, peer);
    }

    pub fn remove_peer(&self, id: NodeId) {
        self.inner.peers.borrow_mut().remove(&id);
    }

    pub fn peers(&self) -> Vec<(NodeId, SocketAddr)> {
        let mut v: Vec<_> = self
            .inner
            .peers
            .borrow()
            .iter()
            .map(|(id, p)| (*id, p.addr))
            .collect();
        v.sort_unstable();
        v
    }

    /// Queues a Raft message to `msg.to` on its lane; never blocks nor awaits. Over the
    /// lane's bound, or to an unknown peer: `Err`, and the message is dropped.
    ///
    /// `frames` (only for Append): the exact storage frames of `msg`'s entries, as
    /// `ballast_storage::encode_frames` or the log produced them. They are sent as they
    /// are, and `msg`'s entries are not encoded again. With `None` and non-empty entries
    /// the transport frames the entries itself. `InstallSnapshot` goes through
    /// [`Transport::send_snapshot`], not here.
    pub fn send(&self, mut msg: Message, frames: Option<Vec<u8>>) -> Result<(), SendError> {
        let peer = msg.to;
        let lane = lane_of(&msg.body);
        let counters = &self.inner.counters;
        let result = (|| {
            if lane == Lane::Snapshot {
                return Err(SendError::Encode(
                    "InstallSnapshot must go through send_snapshot".into(),
                ));
            }
            let peers = self.inner.peers.borrow();
            let p = peers.get(&peer).ok_or(SendError::UnknownPeer(peer))?;
            let frames = match (&mut msg.body, frames) {
                (MessageBody::Append { entries, .. }, Some(f)) => {
                    entries.clear();
                    f
                }
                (MessageBody::Append { entries, .. }, None) if !entries.is_empty() => {
                    let f = ballast_storage::encode_frames(entries)
                        .map_err(|e| SendError::Encode(e.to_string()))?;
                    entries.clear();
                    f
                }
                (_, None) => Vec::new(),
                (body, Some(_)) => {
                    return Err(SendError::Encode(format!(
                        "frames given with a {} message",
                        body.kind()
                    )))
                }
            };
            let max = self.inner.opts.max_frame_bytes;
            let encoded = wire::encode_raft(&msg, &frames, max).map_err(|e| match e {
                crate::WireError::FrameTooLarge { len, max } => SendError::TooLarge {
                    peer,
                    bytes: len,
                    max,
                },
                other => SendError::Encode(other.to_string()),
            })?;
            let handle = if lane == Lane::Data {
                &p.data
            } else {
                &p.priority
            };
            handle.queue.push(encoded)?;
            if !handle.writer_started.replace(true) {
                glommio::spawn_local(run_writer(
                    handle.queue.clone(),
                    p.addr,
                    self.inner.self_id,
                    self.inner.opts.clone(),
                    self.inner.counters.clone(),
                ))
                .detach();
            }
            Ok(())
        })();
        if let Err(e) = &result {
            bump(&lane_counters(counters, lane).dropped_msgs, 1);
            tracing::debug!(peer, kind = msg.body.kind(), "message not sent: {e}");
        }
        result
    }

    /// Streams a snapshot to `msg.to` on the Snapshot lane (its own connection), in
    /// chunks of `snapshot_chunk_bytes`, and waits for the receiver's ack. Fails at once
    /// if the peer is unknown, a snapshot already streams to it, or `msg` is not an
    /// InstallSnapshot. The stream runs as its own task: the returned future reports how
    /// it ended (feed that to `raft.report_snapshot`); dropping the future cancels it.
    pub fn send_snapshot(
        &self,
        msg: Message,
        data: Rc<Vec<u8>>,
    ) -> Result<impl Future<Output = Result<(), SendError>>, SendError> {
        let peer = msg.to;
        if !matches!(msg.body, MessageBody::InstallSnapshot { .. }) {
            return Err(SendError::NotASnapshot(peer));
        }
        let peers = self.inner.peers.borrow();
        let p = peers.get(&peer).ok_or(SendError::UnknownPeer(peer))?;
        if p.snapshot_busy.get() {
            return Err(SendError::SnapshotInProgress(peer));
        }
        let opts = &self.inner.opts;
        if data.len() as u64 > opts.max_snapshot_bytes {
            return Err(SendError::TooLarge {
                peer,
                bytes: data.len() as u64,
                max: opts.max_snapshot_bytes,
            });
        }
        let begin = wire::encode_snapshot_begin(&msg, data.len() as u64, opts.max_frame_bytes)
            .map_err(|e| SendError::Encode(e.to_string()))?;
        p.snapshot_busy.set(true);
        let busy = BusyGuard(p.snapshot_busy.clone());
        let task = glommio::spawn_local(stream_snapshot(
            peer,
            p.addr,
            self.inner.self_id,
            begin,
            data,
            opts.clone(),
            self.inner.counters.clone(),
        ));
        Ok(async move {
            let _busy = busy;
            task.await
        })
    }

    /// Request/response to any address on its Rpc lane. Calls to one address share one
    /// connection, matched by request id. `deadline` defaults to `call_timeout`. Over
    /// `max_calls_in_flight` to that address: `Err(Overloaded)` at once. Dropping the
    /// future forgets the call (a late response is ignored).
    pub async fn call(
        &self,
        addr: SocketAddr,
        request: Vec<u8>,
        deadline: Option<Duration>,
    ) -> Result<Vec<u8>, CallError> {
        let deadline = deadline.unwrap_or(self.inner.opts.call_timeout);
        let (conn, new) = self.call_conn(addr);
        let started = conn.start(&request, &self.inner.opts);
        if new {
            // The driver starts only after the first call is registered: a connection
            // that fails at once must fail that call with its real reason.
            glommio::spawn_local(calls::drive(
                conn.clone(),
                self.inner.self_id,
                self.inner.opts.clone(),
                self.inner.counters.clone(),
            ))
            .detach();
        }
        let result = match started {
            Err(e) => Err(e),
            Ok(id) => {
                drop(request);
                let _forget = ForgetOnDrop { conn: &conn, id };
                let answer = poll_fn(|cx| conn.poll_result(id, cx));
                futures_lite::future::or(answer, async {
                    glommio::timer::sleep(deadline).await;
                    Err(CallError::Timeout)
                })
                .await
            }
        };
        let c = &self.inner.counters;
        bump(
            if result.is_ok() {
                &c.calls_ok
            } else {
                &c.calls_failed
            },
            1,
        );
        result
    }

    /// The live connection to `addr`, or a new one (true: the caller spawns its driver).
    fn call_conn(&self, addr: SocketAddr) -> (Rc<CallConn>, bool) {
        let mut calls = self.inner.calls.borrow_mut();
        if let Some(c) = calls.get(&addr) {
            if !c.is_dead() {
                return (c.clone(), false);
            }
        }
        calls.retain(|_, c| !c.is_dead());
        let conn = CallConn::new(addr);
        calls.insert(addr, conn.clone());
        (conn, true)
    }

    pub fn stats(&self) -> TransportStats {
        let c = &self.inner.counters;
        let mut s = TransportStats {
            priority: c.priority.snapshot(),
            data: c.data.snapshot(),
            snapshot: c.snapshot.snapshot(),
            connects: c.connects.get(),
            connect_failures: c.connect_failures.get(),
            disconnects: c.disconnects.get(),
            calls_ok: c.calls_ok.get(),
            calls_failed: c.calls_failed.get(),
        };
        for p in self.inner.peers.borrow().values() {
            for (h, ls) in [(&p.priority, &mut s.priority), (&p.data, &mut s.data)] {
                let (msgs, bytes) = h.queue.queued();
                ls.queued_msgs += msgs;
                ls.queued_bytes += bytes;
            }
            if p.snapshot_busy.get() {
                s.snapshot.queued_msgs += 1;
            }
        }
        s
    }
}

/// Clears a peer's "snapshot streaming" flag when the stream ends or is dropped.
struct BusyGuard(Rc<Cell<bool>>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.set(false);
    }
}
