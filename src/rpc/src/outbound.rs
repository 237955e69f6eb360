//! The writer task of one (peer, lane): connects (with a deadline and backoff), then
//! writes everything queued in one write, with a deadline. Raft lanes are one-way, so
//! it never waits for replies; a stuck peer costs one write deadline, after which the
//! connection is dropped and the batch counted as dropped.
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use ballast_raft::NodeId;
use glommio::net::TcpStream;

use crate::io::{connect, peer_closed, write_all_deadline};
use crate::lanes::LaneQueue;
use crate::stats::{bump, Counters, LaneCounters};
use crate::{Lane, TransportOptions};

const BACKOFF_MIN: Duration = Duration::from_millis(20);
const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// Bytes taken off the queue per write: bounds the copy held outside the queue's bound.
const MAX_BATCH: usize = 4 << 20;

pub(crate) fn lane_counters(c: &Counters, lane: Lane) -> &LaneCounters {
    match lane {
        Lane::Priority => &c.priority,
        Lane::Data => &c.data,
        Lane::Snapshot => &c.snapshot,
    }
}

pub(crate) async fn run_writer(
    queue: Rc<LaneQueue>,
    addr: SocketAddr,
    self_id: NodeId,
    opts: Rc<TransportOptions>,
    counters: Rc<Counters>,
) {
    let (peer, lane) = (queue.peer, queue.lane);
    let mut conn: Option<TcpStream> = None;
    let mut backoff = BACKOFF_MIN;
    // Reachable = the last batch was written. Warn only when this flips, so a flapping
    // (e.g. SIGSTOPped) peer does not flood the log.
    let mut reachable = true;
    while queue.wait_for_work().await {
        if conn.as_ref().is_some_and(peer_closed) {
            tracing::debug!(peer, %addr, ?lane, "peer closed the connection; reconnecting");
            bump(&counters.disconnects, 1);
            conn = None;
        }
        let stream = match conn.as_mut() {
            Some(s) => s,
            None => {
                let attempt = connect(
                    addr,
                    lane.wire(),
                    self_id,
                    opts.connect_deadline(),
                    opts.write_timeout,
                    opts.source_ip,
                )
                .await;
                match attempt {
                    Ok(s) => {
                        bump(&counters.connects, 1);
                        backoff = BACKOFF_MIN;
                        conn.insert(s)
                    }
                    Err(e) => {
                        bump(&counters.connect_failures, 1);
                        mark_unreachable(&mut reachable, peer, addr, lane, &e);
                        // Messages keep queuing (up to the bound) meanwhile.
                        futures_lite::future::or(
                            glommio::timer::sleep(backoff),
                            queue.wait_closed(),
                        )
                        .await;
                        backoff = (backoff * 2).min(BACKOFF_MAX);
                        continue;
                    }
                }
            }
        };
        let batch = queue.take_batch(MAX_BATCH);
        let lc = lane_counters(&counters, lane);
        match write_all_deadline(stream, &batch.bytes, opts.write_timeout).await {
            Ok(()) => {
                bump(&lc.sent_msgs, batch.msgs);
                bump(&lc.sent_bytes, batch.bytes.len() as u64);
                if !reachable {
                    tracing::warn!(peer, %addr, ?lane, "peer reachable again");
                    reachable = true;
                }
                tracing::debug!(
                    peer,
                    ?lane,
                    msgs = batch.msgs,
                    bytes = batch.bytes.len(),
                    "wrote batch"
                );
            }
            Err(e) => {
                bump(&lc.dropped_msgs, batch.msgs);
                bump(&counters.disconnects, 1);
                tracing::debug!(peer, %addr, ?lane, dropped = batch.msgs, "write failed, dropping connection: {e}");
                mark_unreachable(&mut reachable, peer, addr, lane, &e);
                conn = None;
            }
        }
        // A long backlog must not starve the executor's other tasks.
        glommio::yield_if_needed().await;
    }
    tracing::debug!(peer, ?lane, "lane writer stopped");
}

fn mark_unreachable(
    reachable: &mut bool,
    peer: NodeId,
    addr: SocketAddr,
    lane: Lane,
    e: &std::io::Error,
) {
    if *reachable {
        tracing::warn!(peer, %addr, ?lane, "peer unreachable: {e}");
    } else {
        tracing::debug!(peer, %addr, ?lane, "peer still unreachable: {e}");
    }
    *reachable = false;
}
