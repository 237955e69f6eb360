//! The control shard's synchronous half: takes requests from the service shards (and from
//! other servers) into the Raft core, applies what Raft committed, and routes results
//! back. Never awaits: the async driver (mod.rs) owns the disk and calls in here between
//! I/O steps.
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

use ballast_http::BackendError;
use ballast_raft::{decode_conf, ConfState, EntryKind, Index, ProposeError, RaftNode, Ready, Role, ServerInfo, SnapshotMeta, Term};
use ballast_rpc::Transport;
use ballast_shards::QueueSender;
use ballast_store::{encode_command, ApplyResult, Applier, ChangeSet, Command, TombstoneGc};
use glommio::channels::local_channel::LocalSender;

use super::frames::FrameCache;
use super::proto::Response;
use crate::cluster_view::ClusterView;
use crate::messages::{OperatorOp, OperatorReply, ToControl, ToService, WriteFailure};
use crate::view::RaftView;

/// Results of recently applied entries kept on a follower while it has forwarded writes
/// outstanding: the leader's "appended at index i" may arrive after i was applied here.
const RECENT_RESULTS: usize = 8192;
/// Frames kept for shipping/writing without re-encoding.
const FRAME_CACHE_BYTES: usize = 64 << 20;

/// Who waits for an entry to be applied.
pub enum Waiter {
    Write { shard: usize, id: u64 },
    Operator { shard: usize, id: u64 },
    /// Another server's forwarded operator request.
    Remote(LocalSender<Response>),
}

/// Who waits for a ReadIndex confirmation.
pub enum ReadWaiter {
    Shard { shard: usize, id: u64 },
    /// A follower's forwarded read: it gets the index and waits for its own apply.
    Remote(LocalSender<Response>),
}

/// A request this server cannot serve itself: the driver sends it to the leader.
pub enum Forward {
    Write { shard: usize, id: u64, cmd: Vec<u8> },
    Read { shard: usize, id: u64 },
    Operator { shard: usize, id: u64, op: OperatorOp },
}

pub struct Control {
    pub raft: RaftNode,
    pub applier: Applier,
    pub view: RaftView,
    pub cluster: ClusterView,
    pub transport: Transport,
    pub frames: FrameCache,
    pub me: ServerInfo,
    pub datacenter: String,
    links: Vec<QueueSender<ToService>>,
    /// Entries awaiting apply: index → (term proposed in, who waits).
    writes: HashMap<Index, (Term, Waiter)>,
    reads_by_ctx: HashMap<u64, ReadWaiter>,
    reads_by_index: BTreeMap<Index, Vec<(usize, u64)>>,
    next_read_ctx: u64,
    /// Writes this follower forwarded whose index is not known yet.
    pub forwarding: usize,
    recent: VecDeque<(Index, Term, ApplyResult)>,
    /// A Changes message could not be queued to this shard: send a full reset next time.
    missed_changes: Vec<bool>,
    role: Role,
    /// Highest index applied to the store (mirrors the core's `applied`).
    applied: u64,
    /// The membership as of `applied` (what a snapshot taken now must record).
    pub conf_applied: ConfState,
    pub last_snapshot: u64,
    /// Snapshot data received from the leader, until the core hands it back in a Ready.
    pub received_snapshot: Option<(Index, Vec<u8>)>,
    /// The newest snapshot's bytes, shipped to followers that fell behind the log.
    pub snapshot_bytes: Option<(Index, Rc<Vec<u8>>)>,
    /// Servers heard of through discovery (before and besides the configuration).
    pub known: BTreeMap<ballast_raft::NodeId, ServerInfo>,
    /// Set by discovery once `bootstrap_expect` servers know each other: the driver
    /// writes this first configuration to the log.
    pub pending_bootstrap: Option<ConfState>,
    /// Consul's tombstone GC: the leader reaps KV tombstones 15 minutes after deletes.
    gc: TombstoneGc,
    epoch: Instant,
}

pub struct ControlParts {
    pub raft: RaftNode,
    pub applier: Applier,
    pub view: RaftView,
    pub cluster: ClusterView,
    pub transport: Transport,
    pub me: ServerInfo,
    pub datacenter: String,
    pub links: Vec<QueueSender<ToService>>,
    pub last_snapshot: u64,
    pub conf_applied: ConfState,
}

impl Control {
    pub fn new(p: ControlParts) -> Self {
        let n = p.links.len();
        let st = p.raft.status();
        Control {
            raft: p.raft,
            applier: p.applier,
            view: p.view,
            cluster: p.cluster,
            transport: p.transport,
            frames: FrameCache::new(FRAME_CACHE_BYTES),
            me: p.me,
            datacenter: p.datacenter,
            links: p.links,
            writes: HashMap::new(),
            reads_by_ctx: HashMap::new(),
            reads_by_index: BTreeMap::new(),
            next_read_ctx: 1,
            forwarding: 0,
            recent: VecDeque::new(),
            missed_changes: vec![false; n],
            role: st.role,
            applied: st.applied,
            conf_applied: p.conf_applied,
            last_snapshot: p.last_snapshot,
            received_snapshot: None,
            snapshot_bytes: None,
            known: BTreeMap::new(),
            pending_bootstrap: None,
            gc: TombstoneGc::default(),
            epoch: Instant::now(),
        }
    }

    pub fn broadcast(&mut self, make: impl Fn() -> ToService) {
        for link in &self.links {
            let _ = link.try_send(make());
        }
    }

    pub fn reply(&self, shard: usize, msg: ToService) {
        // Queues are sized above each shard's in-flight bound, so Full means the shard is
        // gone or wedged; its waiter then times out on its own deadline.
        if let Some(link) = self.links.get(shard) {
            let _ = link.try_send(msg);
        }
    }

    pub fn is_leader(&self) -> bool {
        self.role == Role::Leader
    }

    /// The leader's RPC address, when some other server leads.
    pub fn leader_addr(&self) -> Option<SocketAddr> {
        let leader = self.raft.status_leader()?;
        if leader == self.me.id {
            return None;
        }
        self.cluster.load().server(leader)?.info.address.parse().ok()
    }

    pub fn leader_info(&self) -> Option<ServerInfo> {
        let leader = self.raft.status_leader()?;
        self.cluster.load().server(leader).map(|s| s.info.clone())
    }

    /// A request from a service shard. Returns what must be forwarded to the leader.
    pub fn on_request(&mut self, shard: usize, msg: ToControl) -> Option<Forward> {
        match msg {
            // The gossip pools answer these (see control/mod.rs); never Raft's business.
            ToControl::Gossip { .. } => None,
            ToControl::Propose { id, cmd } => {
                if self.must_forward_write() {
                    return Some(Forward::Write { shard, id, cmd });
                }
                match self.raft.propose(EntryKind::Normal, cmd) {
                    Ok(index) => {
                        // The entry was just appended in the current term; term_at avoids
                        // cloning the whole status on every proposal.
                        let term = self.raft.term_at(index).unwrap_or(0);
                        self.writes.insert(index, (term, Waiter::Write { shard, id }));
                    }
                    Err(e) => self.reply(shard, ToService::Written { id, result: Err(failure(e)) }),
                }
                None
            }
            ToControl::ReadBarrier { id } => {
                if !self.is_leader() && self.raft.status_leader().is_some() {
                    return Some(Forward::Read { shard, id });
                }
                let ctx = self.next_ctx();
                match self.raft.read_index(ctx) {
                    Ok(()) => {
                        self.reads_by_ctx.insert(ctx, ReadWaiter::Shard { shard, id });
                    }
                    Err(e) => self.reply(shard, ToService::ReadReady { id, result: Err(failure(e)) }),
                }
                None
            }
            ToControl::Operator { id, op } => {
                if !self.is_leader() {
                    if self.raft.status_leader().is_some() {
                        return Some(Forward::Operator { shard, id, op });
                    }
                    self.reply(shard, ToService::OperatorDone { id, result: Err(BackendError::NoLeader) });
                    return None;
                }
                if op == OperatorOp::Configuration {
                    super::view_sync::sync(self);
                    let info = (*self.cluster.load()).clone();
                    self.reply(shard, ToService::OperatorDone { id, result: Ok(OperatorReply::Configuration(info)) });
                    return None;
                }
                match self.operate(&op) {
                    Ok(Some(index)) => {
                        let term = self.raft.term_at(index).unwrap_or(0);
                        self.writes.insert(index, (term, Waiter::Operator { shard, id }));
                    }
                    Ok(None) => self.reply(shard, ToService::OperatorDone { id, result: Ok(OperatorReply::Done) }),
                    Err(e) => self.reply(shard, ToService::OperatorDone { id, result: Err(e) }),
                }
                None
            }
        }
    }

    /// Whether a write must go to the leader (checked before proposing, so the command
    /// is not consumed by a failed local proposal).
    pub fn must_forward_write(&self) -> bool {
        !self.is_leader() && self.raft.status_leader().is_some_and(|l| l != self.me.id)
    }

    fn next_ctx(&mut self) -> u64 {
        let ctx = self.next_read_ctx;
        self.next_read_ctx += 1;
        ctx
    }

    /// Leader side of a follower's forwarded write.
    pub fn propose_forwarded(&mut self, cmd: Vec<u8>) -> Response {
        match self.raft.propose(EntryKind::Normal, cmd) {
            Ok(index) => Response::Proposed { index, term: self.raft.term_at(index).unwrap_or(0) },
            Err(ProposeError::NotLeader { .. }) => Response::NotLeader { leader: self.leader_info() },
            Err(e) => error_response(failure(e)),
        }
    }

    /// Leader side of a follower's forwarded read: the reply carries the read index.
    pub fn read_forwarded(&mut self, tx: LocalSender<Response>) {
        if !self.is_leader() {
            let _ = tx.try_send(Response::NotLeader { leader: self.leader_info() });
            return;
        }
        let ctx = self.next_ctx();
        match self.raft.read_index(ctx) {
            Ok(()) => {
                self.reads_by_ctx.insert(ctx, ReadWaiter::Remote(tx));
            }
            Err(e) => {
                let _ = tx.try_send(error_response(failure(e)));
            }
        }
    }

    /// Leader side of a forwarded operator request; answers through `tx`.
    pub fn operate_forwarded(&mut self, op: OperatorOp, tx: LocalSender<Response>) {
        if !self.is_leader() {
            let _ = tx.try_send(Response::NotLeader { leader: self.leader_info() });
            return;
        }
        match self.operate(&op) {
            Ok(Some(index)) => {
                let term = self.raft.term_at(index).unwrap_or(0);
                self.writes.insert(index, (term, Waiter::Remote(tx)));
            }
            Ok(None) => {
                let _ = tx.try_send(Response::Done);
            }
            Err(e) => {
                let _ = tx.try_send(Response::Error { code: e.status(), message: e.to_string() });
            }
        }
    }

    /// The follower learned where the leader appended its forwarded write.
    pub fn forwarded_write_placed(&mut self, shard: usize, id: u64, index: Index, term: Term) {
        self.forwarding = self.forwarding.saturating_sub(1);
        if index > self.applied {
            self.writes.insert(index, (term, Waiter::Write { shard, id }));
            return;
        }
        let result = match self.recent.iter().find(|(i, _, _)| *i == index) {
            Some((_, t, r)) if *t == term => Ok(r.clone()),
            Some(_) => Err(WriteFailure::LeadershipLost),
            None => Err(WriteFailure::Forward(format!("the result of index {index} is no longer known here"))),
        };
        self.reply(shard, ToService::Written { id, result });
    }

    /// The follower got a read index from the leader: serve once applied up to it.
    pub fn forwarded_read_placed(&mut self, shard: usize, id: u64, index: Index) {
        self.reads_by_index.entry(index).or_default().push((shard, id));
        self.release_reads();
    }

    /// After the Ready's entries and hard state are durable: advance the core, apply what
    /// committed, answer the writers and readers, publish once for the whole batch.
    pub fn after_persist(&mut self, rd: Ready) {
        self.raft.advance(&rd);
        if let Some(meta) = &rd.snapshot {
            // The driver restored the store from the leader's snapshot before this call.
            self.conf_applied = meta.conf.clone();
            self.last_snapshot = meta.index;
            self.set_applied(meta.index, true);
        }
        if let Some(ss) = rd.soft_state {
            if self.role == Role::Leader && ss.role != Role::Leader {
                self.fail_writes(WriteFailure::LeadershipLost);
            }
            self.role = ss.role;
        }
        let mut last_applied = None;
        for e in &rd.committed_entries {
            let result = match e.kind {
                EntryKind::Normal => Some(self.applier.apply(e.index, &e.data)),
                EntryKind::Noop => {
                    self.applier.apply_noop(e.index);
                    None
                }
                EntryKind::Config => {
                    if let Some(conf) = decode_conf(&e.data) {
                        self.conf_applied = conf;
                    }
                    self.applier.apply_noop(e.index);
                    None
                }
            };
            if let Some((term, waiter)) = self.writes.remove(&e.index) {
                let ok = term == e.term;
                self.answer(waiter, ok, result.clone());
            }
            if self.forwarding > 0 {
                if let Some(r) = result {
                    if self.recent.len() == RECENT_RESULTS {
                        self.recent.pop_front();
                    }
                    self.recent.push_back((e.index, e.term, r));
                }
            } else if !self.recent.is_empty() {
                self.recent.clear();
            }
            last_applied = Some(e.index);
        }
        if let Some(idx) = last_applied {
            self.set_applied(idx, false);
        }
        for rs in &rd.read_states {
            match self.reads_by_ctx.remove(&rs.ctx) {
                Some(ReadWaiter::Shard { shard, id }) => self.reads_by_index.entry(rs.index).or_default().push((shard, id)),
                Some(ReadWaiter::Remote(tx)) => {
                    let _ = tx.try_send(Response::ReadIndex { index: rs.index });
                }
                None => {}
            }
        }
        self.release_reads();
        self.refresh_view();
    }

    fn answer(&self, waiter: Waiter, same_term: bool, result: Option<ApplyResult>) {
        match waiter {
            Waiter::Write { shard, id } => {
                let result = match result {
                    Some(r) if same_term => Ok(r),
                    _ => Err(WriteFailure::LeadershipLost),
                };
                self.reply(shard, ToService::Written { id, result });
            }
            Waiter::Operator { shard, id } => {
                let result = if same_term { Ok(OperatorReply::Done) } else { Err(BackendError::Internal("leadership lost while committing log".into())) };
                self.reply(shard, ToService::OperatorDone { id, result });
            }
            Waiter::Remote(tx) => {
                let resp = if same_term {
                    Response::Done
                } else {
                    Response::Error { code: 500, message: "leadership lost while committing log".into() }
                };
                let _ = tx.try_send(resp);
            }
        }
    }

    /// Publishes the store after applying up to `idx` (also after installing a snapshot).
    pub fn set_applied(&mut self, idx: Index, reset: bool) {
        self.raft.applied_to(idx);
        self.applied = idx;
        self.view.set_applied(idx);
        let mut changes = self.applier.publish();
        // A whole new state (snapshot installed): every blocking query must look again.
        changes.reset |= reset;
        let now = self.now_ms();
        for i in &changes.tombstone_indexes {
            self.gc.hint(now, *i);
        }
        self.send_changes(changes);
    }

    pub fn release_reads(&mut self) {
        let applied = self.applied;
        while let Some(entry) = self.reads_by_index.first_entry() {
            if *entry.key() > applied {
                break;
            }
            for (shard, id) in entry.remove() {
                self.reply(shard, ToService::ReadReady { id, result: Ok(()) });
            }
        }
    }

    fn send_changes(&mut self, changes: ChangeSet) {
        for (i, link) in self.links.iter().enumerate() {
            let mut cs = changes.clone();
            if self.missed_changes[i] {
                cs.reset = true;
            }
            self.missed_changes[i] = link.try_send(ToService::Changes(cs)).is_err();
        }
    }

    /// Retries shards that missed a change notification (their queue was full).
    pub fn resend_missed(&mut self) {
        if self.missed_changes.iter().any(|m| *m) {
            let cs = ChangeSet { index: self.applied, reset: true, ..ChangeSet::default() };
            for (i, link) in self.links.iter().enumerate() {
                if self.missed_changes[i] {
                    self.missed_changes[i] = link.try_send(ToService::Changes(cs.clone())).is_err();
                }
            }
        }
    }

    /// Keeps the service shards' view of leadership current. A leader serves default-mode
    /// reads only once it has applied an entry of its own term (its no-op).
    pub fn refresh_view(&mut self) {
        let leader = self.raft.status_leader();
        let is_leader = self.role == Role::Leader;
        let term = self.raft.current_term();
        let ready = is_leader && self.raft.term_at(self.applied) == Some(term);
        self.view.set_leader(leader, ready, term);
        if self.gc.is_enabled() != ready {
            self.gc.set_enabled(ready);
        }
        if is_leader || (leader.is_some() && self.raft.ticks_since_leader_contact() == 0) {
            self.view.touch_contact();
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// On the tick: propose the reaping of tombstones whose TTL ran out (leader only).
    pub fn reap_tombstones(&mut self) {
        if let Some(upto) = self.gc.expire(self.now_ms()) {
            if let Err(e) = self.raft.propose(EntryKind::Normal, encode_command(&Command::ReapTombstones { upto })) {
                tracing::debug!("tombstone reaping not proposed: {e}");
            }
        }
    }

    pub fn fail_writes(&mut self, why: WriteFailure) {
        for (_, (_, waiter)) in std::mem::take(&mut self.writes) {
            match waiter {
                Waiter::Write { shard, id } => self.reply(shard, ToService::Written { id, result: Err(why.clone()) }),
                Waiter::Operator { shard, id } => {
                    self.reply(shard, ToService::OperatorDone { id, result: Err(BackendError::Internal(describe(&why))) })
                }
                Waiter::Remote(tx) => {
                    let _ = tx.try_send(Response::Error { code: 500, message: describe(&why) });
                }
            }
        }
        for (_, waiter) in std::mem::take(&mut self.reads_by_ctx) {
            match waiter {
                ReadWaiter::Shard { shard, id } => self.reply(shard, ToService::ReadReady { id, result: Err(why.clone()) }),
                ReadWaiter::Remote(tx) => {
                    let _ = tx.try_send(Response::Error { code: 500, message: describe(&why) });
                }
            }
        }
        for (_, waiters) in std::mem::take(&mut self.reads_by_index) {
            for (shard, id) in waiters {
                self.reply(shard, ToService::ReadReady { id, result: Err(why.clone()) });
            }
        }
    }

    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// What a snapshot taken now would cover: everything applied, with the membership in
    /// force at that point (not a newer, possibly uncommitted, one).
    pub fn snapshot_meta(&self) -> SnapshotMeta {
        SnapshotMeta { index: self.applied, term: self.raft.term_at(self.applied).unwrap_or(0), conf: self.conf_applied.clone() }
    }
}

pub fn failure(e: ProposeError) -> WriteFailure {
    match e {
        ProposeError::NotLeader { .. } => WriteFailure::NoLeader,
        ProposeError::TooLarge { size, max } => WriteFailure::Overloaded(format!("entry of {size} bytes exceeds {max}")),
        other => WriteFailure::Overloaded(other.to_string()),
    }
}

pub fn describe(f: &WriteFailure) -> String {
    match f {
        WriteFailure::NoLeader => "No cluster leader".into(),
        WriteFailure::Overloaded(m) | WriteFailure::Storage(m) | WriteFailure::Forward(m) => m.clone(),
        WriteFailure::LeadershipLost => "leadership lost while committing log".into(),
        WriteFailure::ShuttingDown => "agent is shutting down".into(),
    }
}

pub fn error_response(f: WriteFailure) -> Response {
    let code = match f {
        WriteFailure::Overloaded(_) => 429,
        WriteFailure::ShuttingDown => 503,
        _ => 500,
    };
    Response::Error { code, message: describe(&f) }
}
