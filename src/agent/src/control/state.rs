//! The control shard's synchronous half: takes requests from the service shards into the
//! Raft core, applies what Raft committed, and routes results back. Never awaits: the
//! async driver (driver.rs) owns the disk and calls in here between I/O steps.
use std::collections::{BTreeMap, HashMap};

use ballast_raft::{EntryKind, Index, ProposeError, RaftNode, Ready, Role, SnapshotMeta, Term};
use ballast_shards::QueueSender;
use std::time::Instant;

use ballast_store::{encode_command, Applier, ChangeSet, Command, TombstoneGc};

use crate::messages::{ToControl, ToService, WriteFailure};
use crate::view::RaftView;

pub struct Control {
    pub raft: RaftNode,
    pub applier: Applier,
    pub view: RaftView,
    links: Vec<QueueSender<ToService>>,
    /// Proposed entries awaiting apply: index → (term proposed in, shard, request id).
    writes: HashMap<Index, (Term, usize, u64)>,
    /// ReadIndex requests by context, then by the index they wait for.
    reads_by_ctx: HashMap<u64, (usize, u64)>,
    reads_by_index: BTreeMap<Index, Vec<(usize, u64)>>,
    next_read_ctx: u64,
    /// A Changes message could not be queued to this shard: send a full reset next time.
    missed_changes: Vec<bool>,
    role: Role,
    /// Highest index applied to the store (mirrors the core's `applied`).
    applied: u64,
    pub last_snapshot: u64,
    /// Consul's tombstone GC: the leader reaps KV tombstones 15 minutes after deletes.
    gc: TombstoneGc,
    epoch: Instant,
}

impl Control {
    pub fn new(raft: RaftNode, applier: Applier, view: RaftView, links: Vec<QueueSender<ToService>>, last_snapshot: u64) -> Self {
        let n = links.len();
        let st = raft.status();
        let (role, applied) = (st.role, st.applied);
        Control {
            raft,
            applier,
            view,
            links,
            writes: HashMap::new(),
            reads_by_ctx: HashMap::new(),
            reads_by_index: BTreeMap::new(),
            next_read_ctx: 1,
            missed_changes: vec![false; n],
            role,
            applied,
            last_snapshot,
            gc: TombstoneGc::default(),
            epoch: Instant::now(),
        }
    }

    pub fn broadcast(&mut self, make: impl Fn() -> ToService) {
        for link in &self.links {
            let _ = link.try_send(make());
        }
    }

    fn reply(&self, shard: usize, msg: ToService) {
        // Queues are sized above each shard's in-flight bound, so Full means the shard is
        // gone or wedged; its waiter then times out on its own deadline.
        if let Some(link) = self.links.get(shard) {
            let _ = link.try_send(msg);
        }
    }

    pub fn on_request(&mut self, shard: usize, msg: ToControl) {
        match msg {
            ToControl::Propose { id, cmd } => match self.raft.propose(EntryKind::Normal, cmd) {
                Ok(index) => {
                    // The entry was just appended in the current term; term_at avoids
                    // cloning the whole status on every proposal.
                    let term = self.raft.term_at(index).unwrap_or(0);
                    self.writes.insert(index, (term, shard, id));
                }
                Err(e) => self.reply(shard, ToService::Written { id, result: Err(failure(e)) }),
            },
            ToControl::ReadBarrier { id } => {
                let ctx = self.next_read_ctx;
                self.next_read_ctx += 1;
                match self.raft.read_index(ctx) {
                    Ok(()) => {
                        self.reads_by_ctx.insert(ctx, (shard, id));
                    }
                    Err(e) => self.reply(shard, ToService::ReadReady { id, result: Err(failure(e)) }),
                }
            }
        }
    }

    /// After the Ready's entries and hard state are durable: advance the core, apply what
    /// committed, answer the writers and readers, publish once for the whole batch.
    pub fn after_persist(&mut self, rd: Ready) {
        self.raft.advance(&rd);
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
                EntryKind::Noop | EntryKind::Config => {
                    self.applier.apply_noop(e.index);
                    None
                }
            };
            if let Some((term, shard, id)) = self.writes.remove(&e.index) {
                let result = match result {
                    Some(r) if term == e.term => Ok(r),
                    _ => Err(WriteFailure::LeadershipLost),
                };
                self.reply(shard, ToService::Written { id, result });
            }
            last_applied = Some(e.index);
        }
        if let Some(idx) = last_applied {
            self.raft.applied_to(idx);
            self.applied = idx;
            self.view.set_applied(idx);
            let changes = self.applier.publish();
            let now = self.now_ms();
            for idx in &changes.tombstone_indexes {
                self.gc.hint(now, *idx);
            }
            self.send_changes(changes);
        }
        for rs in &rd.read_states {
            if let Some(waiter) = self.reads_by_ctx.remove(&rs.ctx) {
                self.reads_by_index.entry(rs.index).or_default().push(waiter);
            }
        }
        self.release_reads();
        self.refresh_view();
    }

    fn release_reads(&mut self) {
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
        let st = self.raft.status();
        let is_leader = st.role == Role::Leader;
        let ready = is_leader && self.raft.term_at(st.applied) == Some(st.term);
        self.view.set_leader(st.leader, ready, st.term);
        if self.gc.is_enabled() != ready {
            self.gc.set_enabled(ready);
        }
        if st.leader.is_some() && st.ticks_since_leader_contact == 0 {
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
        for (_, (_, shard, id)) in std::mem::take(&mut self.writes) {
            self.reply(shard, ToService::Written { id, result: Err(why.clone()) });
        }
        for (_, (shard, id)) in std::mem::take(&mut self.reads_by_ctx) {
            self.reply(shard, ToService::ReadReady { id, result: Err(why.clone()) });
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

    /// What a snapshot taken now would cover: everything applied.
    pub fn snapshot_meta(&self) -> SnapshotMeta {
        let st = self.raft.status();
        SnapshotMeta { index: st.applied, term: self.raft.term_at(st.applied).unwrap_or(0), conf: st.conf }
    }
}

fn failure(e: ProposeError) -> WriteFailure {
    match e {
        ProposeError::NotLeader { .. } => WriteFailure::NoLeader,
        ProposeError::TooLarge { size, max } => WriteFailure::Overloaded(format!("entry of {size} bytes exceeds {max}")),
        other => WriteFailure::Overloaded(other.to_string()),
    }
}
