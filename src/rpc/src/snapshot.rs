//! Snapshots on their own lane: the sender streams one snapshot per connection (a
//! begin frame, then chunks at consecutive offsets) and waits for the receiver's ack;
//! the receiver reassembles with [`SnapshotAssembler`], which checks every offset and
//! length and never holds more than the announced (and bounded) size.
use std::net::SocketAddr;
use std::rc::Rc;

use ballast_raft::{Message, NodeId};

use crate::error::{SendError, WireError};
use crate::io::{connect, with_deadline, write_all_deadline, ConnError, FrameReader};
use crate::stats::{bump, Counters};
use crate::wire::{self, SnapshotPart, WireLane};
use crate::TransportOptions;

/// Reassembles one snapshot at a time from Snapshot-lane frame bodies.
pub struct SnapshotAssembler {
    max_bytes: u64,
    partial: Option<Partial>,
}

struct Partial {
    msg: Message,
    total: u64,
    data: Vec<u8>,
}

impl SnapshotAssembler {
    pub fn new(max_bytes: u64) -> Self {
        SnapshotAssembler {
            max_bytes,
            partial: None,
        }
    }

    /// Feeds one frame body. Returns the message and the whole data once the last byte
    /// arrived. Any error leaves the assembler unusable for this connection.
    pub fn feed(&mut self, body: &[u8]) -> Result<Option<(Message, Vec<u8>)>, WireError> {
        match wire::decode_snapshot_part(body)? {
            SnapshotPart::Begin { msg, total_len } => {
                if self.partial.is_some() {
                    return Err(WireError::Protocol(
                        "a new snapshot began before the previous one was complete".into(),
                    ));
                }
                if total_len > self.max_bytes {
                    return Err(WireError::SnapshotTooLarge {
                        len: total_len,
                        max: self.max_bytes,
                    });
                }
                if total_len == 0 {
                    return Ok(Some((msg, Vec::new())));
                }
                self.partial = Some(Partial {
                    msg,
                    total: total_len,
                    data: Vec::new(),
                });
                Ok(None)
            }
            SnapshotPart::Chunk { offset, data } => {
                let Some(p) = self.partial.as_mut() else {
                    return Err(WireError::Protocol(
                        "snapshot chunk before its begin frame".into(),
                    ));
                };
                let have = p.data.len() as u64;
                if offset != have {
                    return Err(WireError::Protocol(format!(
                        "snapshot chunk at offset {offset}, expected {have}"
                    )));
                }
                if data.is_empty() || have + data.len() as u64 > p.total {
                    return Err(WireError::Protocol(format!(
                        "snapshot chunk of {} bytes at {offset} does not fit the announced {} bytes",
                        data.len(),
                        p.total
                    )));
                }
                // Grow by doubling, capped at the announced total: memory follows the
                // bytes that actually arrived, never the announcement alone.
                if p.data.capacity() - p.data.len() < data.len() {
                    let want = (p.data.len() * 2)
                        .max(p.data.len() + data.len())
                        .min(p.total as usize);
                    p.data.reserve_exact(want - p.data.len());
                }
                p.data.extend_from_slice(data);
                if p.data.len() as u64 == p.total {
                    let done = self.partial.take().map(|p| (p.msg, p.data));
                    return Ok(done);
                }
                Ok(None)
            }
        }
    }
}

/// Streams `data` to `addr` on a fresh Snapshot-lane connection and waits for the ack.
pub(crate) async fn stream_snapshot(
    peer: NodeId,
    addr: SocketAddr,
    self_id: NodeId,
    begin: Vec<u8>,
    data: Rc<Vec<u8>>,
    opts: Rc<TransportOptions>,
    counters: Rc<Counters>,
) -> Result<(), SendError> {
    let fail = |reason: String| SendError::Stream { peer, reason };
    let result = async {
        let mut stream = match connect(
            addr,
            WireLane::Snapshot,
            self_id,
            opts.connect_deadline(),
            opts.write_timeout,
            opts.source_ip,
        )
        .await
        {
            Ok(s) => {
                bump(&counters.connects, 1);
                s
            }
            Err(e) => {
                bump(&counters.connect_failures, 1);
                return Err(fail(e.to_string()));
            }
        };
        write_all_deadline(&mut stream, &begin, opts.write_timeout)
            .await
            .map_err(|e| fail(format!("writing the snapshot header: {e}")))?;
        let chunk = opts.chunk_bytes();
        let mut offset = 0usize;
        while offset < data.len() {
            let end = (offset + chunk).min(data.len());
            let frame = wire::encode_snapshot_chunk(
                offset as u64,
                &data[offset..end],
                opts.max_frame_bytes,
            )
            .map_err(|e| fail(e.to_string()))?;
            write_all_deadline(&mut stream, &frame, opts.write_timeout)
                .await
                .map_err(|e| fail(format!("writing the chunk at {offset}: {e}")))?;
            offset = end;
        }
        // The receiver acks once it has the whole snapshot; its owner may take a while
        // to take it in, so the call deadline applies rather than the write deadline.
        let mut reader = FrameReader::new(&mut stream, 4096);
        let ack = with_deadline(opts.call_timeout, "waiting for the snapshot ack", async {
            match reader.next().await {
                Ok(Some(body)) => Ok(wire::decode_snapshot_ack(body).map_err(|e| e.to_string())),
                Ok(None) => Ok(Err(
                    "receiver closed the connection before acking".to_string()
                )),
                Err(ConnError::Io(e)) => Err(e),
                Err(e) => Ok(Err(e.to_string())),
            }
        })
        .await
        .map_err(|e| fail(e.to_string()))?
        .map_err(fail)?;
        ack.map_err(|why| fail(format!("receiver refused the snapshot: {why}")))
    }
    .await;
    match &result {
        Ok(()) => {
            bump(&counters.snapshot.sent_msgs, 1);
            bump(&counters.snapshot.sent_bytes, data.len() as u64);
            tracing::debug!(peer, bytes = data.len(), "snapshot sent");
        }
        Err(e) => {
            bump(&counters.snapshot.dropped_msgs, 1);
            tracing::warn!(peer, %addr, "{e}");
        }
    }
    result
}
