//! The control shard: Raft, the log, apply and publish, and the server-to-server
//! transport. It runs on its own executor (or in its own high-share task queue when
//! everything shares one core) and does no blocking work: disk I/O through io_uring,
//! snapshots on a helper thread, bounded queues only.
mod discovery;
mod forward;
mod frames;
mod handoff;
mod install;
mod membership;
mod net;
mod notify;
mod peers_json;
mod proto;
mod recovery;
mod snapshotter;
mod state;
mod view_sync;

use std::cell::RefCell;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use ballast_raft::{Config, HardState, ServerInfo};
use ballast_rpc::{Transport, TransportOptions};
use ballast_shards::{QueueReceiver, QueueSender};
use ballast_storage::{save_hard_state, RaftLog};
use ballast_store::Store;

use crate::cluster_view::ClusterView;
use crate::lifecycle::ShutdownFlag;
use crate::messages::{ToControl, ToService, WriteFailure};
use crate::view::RaftView;
pub use discovery::{parse_join, DiscoverySetup};
pub use notify::Notify;
use snapshotter::Snapshotter;
use state::{Control, ControlParts};

pub struct ControlSetup {
    pub data_dir: PathBuf,
    pub raft: Config,
    pub me: ServerInfo,
    /// A server that is its own cluster (dev, -bootstrap, -bootstrap-expect=1).
    pub single_server: bool,
    /// Where other servers (and client agents forwarding their HTTP API) reach this one.
    pub rpc_listen: Vec<SocketAddr>,
    pub discovery: DiscoverySetup,
    pub store: Store,
    pub view: RaftView,
    pub cluster: ClusterView,
    pub tick: Duration,
    pub snapshot_threshold: u64,
    pub trailing_logs: u64,
    pub shutdown: ShutdownFlag,
    pub gossip: crate::gossip::GossipSetup,
    pub members: std::sync::Arc<crate::gossip::MembersView>,
}

/// Runs until shutdown. An error is fatal for the agent (corrupt log, failed disk write).
pub async fn run_control(
    setup: ControlSetup,
    to_services: Vec<QueueSender<ToService>>,
    from_services: Vec<QueueReceiver<ToControl>>,
) -> Result<(), String> {
    let initial = if setup.single_server {
        ballast_raft::ConfState { voters: vec![setup.me.id], learners: vec![], servers: vec![setup.me.clone()] }
    } else {
        ballast_raft::ConfState::default()
    };
    let rec = match recovery::recover(&setup.data_dir, setup.raft.clone(), initial, setup.store.clone()).await {
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
    // Outbound connections leave from the -bind address, as Consul's RPC pool does.
    let transport_opts = TransportOptions { source_ip: setup.rpc_listen.first().map(|a| a.ip()), ..TransportOptions::default() };
    let transport = Transport::new(setup.me.id, transport_opts);
    let links = to_services.clone();
    let mut control = Control::new(ControlParts {
        raft: rec.raft,
        applier: rec.applier,
        view: setup.view.clone(),
        cluster: setup.cluster.clone(),
        transport: transport.clone(),
        me: setup.me.clone(),
        datacenter: setup.discovery.datacenter.clone(),
        links: to_services,
        last_snapshot,
        conf_applied: rec.conf_applied,
    });
    if let (Some(meta), Some(bytes)) = (&rec.snapshot, rec.snapshot_bytes) {
        control.snapshot_bytes = Some((meta.index, Rc::new(bytes)));
    }
    let ctl = Rc::new(RefCell::new(control));
    let mut log = rec.log;
    let notify = Rc::new(Notify::default());
    {
        let mut c = ctl.borrow_mut();
        let st = c.raft.status();
        if st.conf.voters == [setup.me.id] && st.conf.learners.is_empty() {
            // A single voter needs nobody's vote: elect at once instead of after a timeout.
            c.raft.campaign();
        }
        view_sync::sync(&mut c);
        c.broadcast(|| ToService::Started);
    }
    for addr in &setup.rpc_listen {
        let listener = glommio::net::TcpListener::bind(addr).map_err(|e| format!("binding the server RPC port {addr}: {e}"))?;
        let (c1, n1, c2, n2) = (ctl.clone(), notify.clone(), ctl.clone(), notify.clone());
        let handle = ballast_rpc::serve(
            listener,
            setup.me.id,
            Rc::new(move |from, inbound| net::on_inbound(&c1, &n1, from, inbound)),
            Rc::new(move |bytes| net::handle_call(c2.clone(), n2.clone(), bytes)),
            TransportOptions::default(),
        );
        handle.server().set_http_handoff(handoff::to_service_shards(links.clone()));
        handle.detach();
    }
    let gossip = crate::gossip::GossipAgent::start(setup.gossip, setup.members.clone(), setup.shutdown.clone())?;
    glommio::spawn_local(discovery::run_discovery(ctl.clone(), notify.clone(), setup.discovery.clone(), setup.shutdown.clone()))
        .detach();

    for (shard, rx) in from_services.into_iter().enumerate() {
        let (ctl, notify, gossip, link, shutdown) = (ctl.clone(), notify.clone(), gossip.clone(), links[shard].clone(), setup.shutdown.clone());
        glommio::spawn_local(async move {
            let mut batch = Vec::with_capacity(256);
            while rx.recv_batch(&mut batch, 256).await > 0 {
                let mut forwards = Vec::new();
                {
                    let mut c = ctl.borrow_mut();
                    for msg in batch.drain(..) {
                        if let ToControl::Gossip { id, op } = msg {
                            crate::gossip::handle_op(&gossip, link.clone(), id, op, shutdown.clone());
                            continue;
                        }
                        if let Some(f) = c.on_request(shard, msg) {
                            forwards.push(f);
                        }
                    }
                }
                for f in forwards {
                    forward::spawn_forward(&ctl, &notify, f);
                }
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
                    view_sync::sync(&mut c);
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
        if let Err(e) = bootstrap_if_asked(&ctl, &mut log, &raft_dir, &mut saved, &setup.raft).await {
            break Err(e);
        }
        if let Err(e) = drain_ready(&ctl, &notify, &mut log, &raft_dir, &mut saved).await {
            ctl.borrow_mut().fail_writes(WriteFailure::Storage(e.clone()));
            break Err(e);
        }
        if let Some((meta, bytes)) = snaps.poll() {
            let compact_to = meta.index.saturating_sub(setup.trailing_logs);
            let dropped = {
                let mut c = ctl.borrow_mut();
                c.last_snapshot = meta.index;
                c.snapshot_bytes = Some((meta.index, Rc::new(bytes)));
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

/// Writes the first configuration discovery agreed on (`-bootstrap-expect`): term 1, a
/// Config entry at index 1 naming all expected servers, identical on each of them.
async fn bootstrap_if_asked(ctl: &Rc<RefCell<Control>>, log: &mut RaftLog, raft_dir: &Path, saved: &mut HardState, cfg: &Config) -> Result<(), String> {
    let Some(conf) = ctl.borrow_mut().pending_bootstrap.take() else { return Ok(()) };
    if ctl.borrow().configured() {
        return Ok(()); // another server's configuration reached us meanwhile
    }
    let entry = ballast_raft::Entry { term: 1, index: 1, kind: ballast_raft::EntryKind::Config, data: ballast_raft::encode_conf(&conf) };
    let hs = HardState { term: 1, vote: 0, commit: 0 };
    save_hard_state(raft_dir, &hs).await.map_err(|e| format!("saving raft term and vote: {e}"))?;
    *saved = hs;
    log.append(std::slice::from_ref(&entry)).await.map_err(|e| format!("writing the raft log: {e}"))?;
    let boot = ballast_raft::Bootstrap { hard_state: hs, conf: Default::default(), snapshot: None, entries: vec![entry] };
    let raft = ballast_raft::RaftNode::new(cfg.clone(), boot, rand::random()).map_err(|e| e.to_string())?;
    let mut c = ctl.borrow_mut();
    c.raft = raft;
    view_sync::sync(&mut c);
    Ok(())
}

/// Persists and applies every Ready the core has: an installed snapshot first, term/vote
/// in their own file when they changed, entries with one write and one fdatasync (group
/// commit: all proposals that arrived meanwhile go in the same batch, written as the exact
/// frames the leader shipped), then apply and reply, then send the messages.
async fn drain_ready(ctl: &Rc<RefCell<Control>>, notify: &Rc<Notify>, log: &mut RaftLog, raft_dir: &Path, saved: &mut HardState) -> Result<(), String> {
    loop {
        let mut rd = {
            let mut c = ctl.borrow_mut();
            if !c.raft.has_ready() {
                return Ok(());
            }
            let rd = c.raft.ready();
            // Before any of its messages can tell a follower this commit index.
            let commit = rd.hard_state.map_or(0, |h| h.commit).max(rd.committed_entries.last().map_or(0, |e| e.index));
            c.view.set_commit(commit);
            rd
        };
        if let Some(meta) = rd.snapshot.clone() {
            install::install_snapshot(ctl, log, raft_dir, meta).await?;
        }
        // A leader ships new entries to followers while it writes them itself (Raft thesis
        // 10.2.1): its own copy counts towards the quorum only after `advance`, so nothing
        // commits on a write that is not durable. Anything else a Ready says (votes,
        // acknowledgements) waits for the disk.
        let leading = rd.soft_state.map_or(ctl.borrow().is_leader(), |s| s.role == ballast_raft::Role::Leader);
        let vote_changed = rd.hard_state.is_some_and(|hs| hs.term != saved.term || hs.vote != saved.vote);
        if leading && !vote_changed && rd.messages.iter().any(|m| matches!(m.body, ballast_raft::MessageBody::Append { .. })) {
            let (appends, rest): (Vec<_>, Vec<_>) =
                std::mem::take(&mut rd.messages).into_iter().partition(|m| matches!(m.body, ballast_raft::MessageBody::Append { .. }));
            rd.messages = rest;
            net::send_messages(ctl, notify, appends);
        }
        // Term and vote first: a log entry of a term the hard state does not know yet would
        // make the log unrecoverable after a crash between the two writes.
        if let Some(hs) = rd.hard_state {
            if hs.term != saved.term || hs.vote != saved.vote {
                save_hard_state(raft_dir, &hs).await.map_err(|e| format!("saving raft term and vote: {e}"))?;
                *saved = hs;
            }
        }
        let conf_changed = rd.snapshot.is_some() || rd.entries.iter().any(|e| e.kind == ballast_raft::EntryKind::Config);
        if let (Some(first), Some(last)) = (rd.entries.first(), rd.entries.last()) {
            let (first, last) = (first.index, last.index);
            let frames = ctl.borrow_mut().frames.frames_for(&rd.entries)?;
            log.append_frames(&frames, first, last).await.map_err(|e| format!("writing the raft log: {e}"))?;
        }
        let messages = std::mem::take(&mut rd.messages);
        {
            let mut c = ctl.borrow_mut();
            c.after_persist(rd);
            if conf_changed {
                view_sync::sync(&mut c);
            }
        }
        net::send_messages(ctl, notify, messages);
    }
}
