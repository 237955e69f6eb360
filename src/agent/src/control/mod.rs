//! The control shard: Raft, the log, apply and publish. It runs on its own executor (or in
//! its own high-share task queue when everything shares one core) and does no blocking
//! work: disk I/O through io_uring, snapshots on a helper thread, bounded queues only.
mod notify;
mod recovery;
mod snapshotter;
mod state;

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use ballast_raft::{Config, HardState, NodeId};
use ballast_shards::{QueueReceiver, QueueSender};
use ballast_storage::{save_hard_state, RaftLog};
use ballast_store::Store;

use crate::lifecycle::ShutdownFlag;
use crate::messages::{ToControl, ToService, WriteFailure};
use crate::view::RaftView;
use notify::Notify;
use snapshotter::Snapshotter;
use state::Control;


pub struct ControlSetup {
    pub data_dir: PathBuf,
    pub raft: Config,
    pub self_id: NodeId,
    pub store: Store,
    pub view: RaftView,
    pub tick: Duration,
    pub snapshot_threshold: u64,
    pub trailing_logs: u64,
    pub shutdown: ShutdownFlag,
}

/// Runs until shutdown. An error is fatal for the agent (corrupt log, failed disk write).
pub async fn run_control(
    setup: ControlSetup,
    to_services: Vec<QueueSender<ToService>>,
    from_services: Vec<QueueReceiver<ToControl>>,
) -> Result<(), String> {
    let rec = match recovery::recover(&setup.data_dir, setup.raft.clone(), setup.self_id, setup.store.clone()).await {
        Ok(r) => r,
        Err(e) => {
            for link in &to_services {
                let _ = link.try_send(ToService::Fatal);
            }
            return Err(e);
        }
    };
    let raft_dir = recovery::raft_dir(&setup.data_dir);
    let mut saved = {
        let st = rec.raft.status();
        HardState { term: st.term, vote: st.vote, commit: st.commit }
    };
    let last_snapshot = rec.snapshot.as_ref().map_or(0, |s| s.index);
    let ctl = Rc::new(RefCell::new(Control::new(rec.raft, rec.applier, setup.view.clone(), to_services, last_snapshot)));
    let mut log = rec.log;
    {
        let mut c = ctl.borrow_mut();
        let st = c.raft.status();
        if st.conf.voters == [setup.self_id] && st.conf.learners.is_empty() {
            // A single voter needs nobody's vote: elect at once instead of after a timeout.
            c.raft.campaign();
        }
        c.broadcast(|| ToService::Started);
    }
    let notify = Rc::new(Notify::default());

    for (shard, rx) in from_services.into_iter().enumerate() {
        let (ctl, notify) = (ctl.clone(), notify.clone());
        glommio::spawn_local(async move {
            let mut batch = Vec::with_capacity(256);
            while rx.recv_batch(&mut batch, 256).await > 0 {
                let mut c = ctl.borrow_mut();
                for msg in batch.drain(..) {
                    c.on_request(shard, msg);
                }
                drop(c);
                notify.signal();
            }
        })
        .detach();
    }
    {
        let (ctl, notify, shutdown, tick) = (ctl.clone(), notify.clone(), setup.shutdown.clone(), setup.tick);
        glommio::spawn_local(async move {
            loop {
                glommio::timer::sleep(tick).await;
                {
                    let mut c = ctl.borrow_mut();
                    c.raft.tick();
                    c.refresh_view();
                    c.resend_missed();
                    c.reap_tombstones();
                }
                notify.signal();
                if shutdown.is_set() {
                    break;
                }
            }
        })
        .detach();
    }

    let mut snaps = Snapshotter::new(raft_dir.clone(), setup.snapshot_threshold);
    let result = loop {
        notify.wait().await;
        if setup.shutdown.is_set() {
            break Ok(());
        }
        if let Err(e) = drain_ready(&ctl, &mut log, &raft_dir, &mut saved).await {
            ctl.borrow_mut().fail_writes(WriteFailure::Storage(e.clone()));
            break Err(e);
        }
        if let Some(meta) = snaps.poll() {
            let compact_to = meta.index.saturating_sub(setup.trailing_logs);
            let dropped = {
                let mut c = ctl.borrow_mut();
                c.last_snapshot = meta.index;
                c.raft.compact(meta)
            };
            // Segments go only once the core let go of the entries (applied and durable);
            // Consul's trailing logs stay so a follower a little behind needs no snapshot.
            if dropped && compact_to > 0 {
                match log.compact(compact_to).await {
                    Ok(n) if n > 0 => tracing::info!(segments = n, upto = compact_to, "compacted the log"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!("log compaction failed: {e}"),
                }
            }
        }
        let c = ctl.borrow();
        if snaps.due(c.last_snapshot, c.applied()) {
            snaps.maybe_start(c.last_snapshot, c.snapshot_meta(), c.applier.store().load());
        }
    };

    {
        let mut c = ctl.borrow_mut();
        c.fail_writes(WriteFailure::ShuttingDown);
        c.broadcast(|| ToService::Shutdown);
    }
    if let Err(e) = log.close().await {
        tracing::warn!("closing the log: {e}");
    }
    result
}

/// Persists and applies every Ready the core has: term/vote in their own file when they
/// changed, entries with one write and one fdatasync (group commit: all proposals that
/// arrived meanwhile go in the same batch), then apply and reply. (`rd.snapshot`, a snapshot
/// received from a leader, and `rd.messages` appear once there are peers: next issue.)
async fn drain_ready(ctl: &Rc<RefCell<Control>>, log: &mut RaftLog, raft_dir: &std::path::Path, saved: &mut HardState) -> Result<(), String> {
    loop {
        let rd = {
            let mut c = ctl.borrow_mut();
            if !c.raft.has_ready() {
                return Ok(());
            }
            c.raft.ready()
        };
        // Term and vote first: a log entry of a term the hard state does not know yet would
        // make the log unrecoverable after a crash between the two writes.
        if let Some(hs) = rd.hard_state {
            if hs.term != saved.term || hs.vote != saved.vote {
                save_hard_state(raft_dir, &hs).await.map_err(|e| format!("saving raft term and vote: {e}"))?;
                *saved = hs;
            }
        }
        if !rd.entries.is_empty() {
            log.append(&rd.entries).await.map_err(|e| format!("writing the raft log: {e}"))?;
        }
        ctl.borrow_mut().after_persist(rd);
    }
}
