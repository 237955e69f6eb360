//! `RaftNode`: state, construction, the term rules every message passes through, and
//! the Ready/advance handshake. Elections, replication, reads and membership live in
//! their own files as further `impl RaftNode` blocks.
use crate::config::{Bootstrap, Config, ProposeError, RaftError};
use crate::log::RaftLog;
use crate::membership;
use crate::message::{Message, MessageBody};
use crate::progress::Progress;
use crate::read_index::ReadQueue;
use crate::ready::{PeerStatus, ReadState, Ready, Role, SoftState, Status};
use crate::rng::SplitMix64;
use crate::types::{ConfState, Entry, EntryKind, HardState, Index, NodeId, SnapshotMeta, Term};
use std::collections::BTreeMap;

pub struct RaftNode {
    pub(crate) cfg: Config,
    pub(crate) id: NodeId,
    pub(crate) term: Term,
    pub(crate) vote: NodeId,
    pub(crate) role: Role,
    pub(crate) leader: Option<NodeId>,
    pub(crate) log: RaftLog,
    /// Membership in force: the newest Config entry in the log, else `base_conf`.
    pub(crate) conf: ConfState,
    /// Index of the entry that set `conf` (the compaction point when it came from there).
    pub(crate) conf_index: Index,
    /// Membership at the compaction point.
    pub(crate) base_conf: ConfState,
    /// Leader only: one entry per member (self included when a member).
    pub(crate) progress: BTreeMap<NodeId, Progress>,
    pub(crate) votes: BTreeMap<NodeId, bool>,
    pub(crate) election_elapsed: u32,
    pub(crate) heartbeat_elapsed: u32,
    pub(crate) randomized_timeout: u32,
    pub(crate) leader_contact: u32,
    pub(crate) transferee: Option<NodeId>,
    pub(crate) reads: ReadQueue,
    pub(crate) msgs: Vec<Message>,
    pub(crate) read_states: Vec<ReadState>,
    pub(crate) pending_snapshot: Option<SnapshotMeta>,
    pub(crate) uncommitted_bytes: usize,
    /// Proposals appended since the last Ready: replicate them in one batch.
    pub(crate) pending_bcast: bool,
    prev_soft: SoftState,
    prev_hard: HardState,
    pub(crate) rng: SplitMix64,
}

impl RaftNode {
    pub fn new(cfg: Config, boot: Bootstrap, rng_seed: u64) -> Result<Self, RaftError> {
        cfg.validate()?;
        let (snap_index, snap_term) = boot.snapshot.as_ref().map_or((0, 0), |s| (s.index, s.term));
        check_entries(&boot.entries, snap_index, snap_term)?;
        let hs = boot.hard_state;
        let last_index = snap_index + boot.entries.len() as u64;
        let last_term = boot.entries.last().map_or(snap_term, |e| e.term);
        if hs.term < last_term {
            return Err(RaftError::InvalidBootstrap(format!(
                "hard state term {} is below the last log term {last_term}",
                hs.term
            )));
        }
        // A commit index beyond the recovered log means the tail was lost; it is
        // re-learned from the leader, so clamp instead of refusing to start.
        let commit = hs.commit.clamp(snap_index, last_index);
        let base_conf = boot
            .snapshot
            .as_ref()
            .map_or(boot.conf.clone(), |s| s.conf.clone());
        let log = RaftLog::new(snap_index, snap_term, boot.entries, commit);
        let (conf_index, conf) = match membership::latest_in(log.iter_rev()) {
            Some(found) => found,
            None => {
                if let Some(bad) = log.iter_rev().find(|e| e.kind == EntryKind::Config) {
                    return Err(RaftError::CorruptConfEntry { index: bad.index });
                }
                (snap_index, base_conf.clone())
            }
        };
        let id = cfg.id;
        let mut node = Self {
            id,
            term: hs.term,
            vote: hs.vote,
            role: Role::Follower,
            leader: None,
            log,
            conf,
            conf_index,
            base_conf,
            progress: BTreeMap::new(),
            votes: BTreeMap::new(),
            election_elapsed: 0,
            heartbeat_elapsed: 0,
            randomized_timeout: cfg.election_tick,
            leader_contact: 0,
            transferee: None,
            reads: ReadQueue::default(),
            msgs: Vec::new(),
            read_states: Vec::new(),
            pending_snapshot: None,
            uncommitted_bytes: 0,
            pending_bcast: false,
            prev_soft: SoftState {
                leader: None,
                role: Role::Follower,
            },
            prev_hard: HardState {
                term: hs.term,
                vote: hs.vote,
                commit,
            },
            rng: SplitMix64::new(rng_seed ^ id.rotate_left(32)),
            cfg,
        };
        node.reset_randomized_timeout();
        Ok(node)
    }

    // ---- driver inputs -------------------------------------------------------------

    pub fn tick(&mut self) {
        if self.role == Role::Leader {
            self.tick_leader();
        } else {
            self.leader_contact = self.leader_contact.saturating_add(1);
            self.election_elapsed = self.election_elapsed.saturating_add(1);
            if self.election_elapsed >= self.randomized_timeout && self.promotable() {
                self.election_elapsed = 0;
                self.hup(false);
            }
        }
    }

    pub fn step(&mut self, m: Message) -> Result<(), RaftError> {
        if m.to != self.id {
            return Err(RaftError::WrongRecipient {
                to: m.to,
                me: self.id,
            });
        }
        if m.from == self.id || m.from == 0 {
            return Ok(());
        }
        if m.term > self.term {
            let vote_request = matches!(
                m.body,
                MessageBody::PreVote { .. } | MessageBody::Vote { .. }
            );
            let forced = matches!(m.body, MessageBody::Vote { transfer: true, .. });
            if vote_request && !forced && self.in_lease() {
                // Leader stickiness: we heard from a live leader within the election
                // timeout, so this candidate is disruptive (or partitioned from it).
                return Ok(());
            }
            match m.body {
                // A pre-vote never changes terms: that is its whole point.
                MessageBody::PreVote { .. } | MessageBody::PreVoteResp { reject: false } => {}
                MessageBody::Append { .. }
                | MessageBody::Heartbeat { .. }
                | MessageBody::InstallSnapshot { .. } => self.become_follower(m.term, Some(m.from)),
                _ => self.become_follower(m.term, None),
            }
        } else if m.term < self.term {
            match m.body {
                // Tell a stale leader about the newer term so it steps down; without this,
                // a leader cut off by CheckQuorum/PreVote could stay stuck forever.
                MessageBody::Append { .. } | MessageBody::Heartbeat { .. }
                    if self.cfg.check_quorum || self.cfg.pre_vote =>
                {
                    self.send(
                        m.from,
                        MessageBody::AppendResp {
                            reject: true,
                            index: 0,
                            reject_hint: 0,
                            hint_term: 0,
                        },
                    )
                }
                MessageBody::PreVote { .. } => {
                    self.send(m.from, MessageBody::PreVoteResp { reject: true })
                }
                _ => {}
            }
            return Ok(());
        }
        match m.body {
            MessageBody::PreVote {
                last_index,
                last_term,
            } => {
                self.handle_vote_request(m.from, m.term, last_index, last_term, true);
                Ok(())
            }
            MessageBody::Vote {
                last_index,
                last_term,
                ..
            } => {
                self.handle_vote_request(m.from, m.term, last_index, last_term, false);
                Ok(())
            }
            body => match self.role {
                Role::Leader => {
                    self.step_leader(m.from, body);
                    Ok(())
                }
                Role::PreCandidate | Role::Candidate => self.step_candidate(m.from, m.term, body),
                Role::Follower => self.step_follower(m.from, body),
            },
        }
    }

    pub fn propose(&mut self, kind: EntryKind, data: Vec<u8>) -> Result<Index, ProposeError> {
        if self.role != Role::Leader {
            return Err(ProposeError::NotLeader {
                leader: self.leader,
            });
        }
        if self.transferee.is_some() {
            return Err(ProposeError::TransferInProgress);
        }
        if data.len() > self.cfg.max_bytes_per_msg {
            return Err(ProposeError::TooLarge {
                size: data.len(),
                max: self.cfg.max_bytes_per_msg,
            });
        }
        if self.uncommitted_bytes > 0
            && self.uncommitted_bytes + data.len() > self.cfg.max_uncommitted_bytes
        {
            return Err(ProposeError::Overloaded);
        }
        let new_conf = if kind == EntryKind::Config {
            let next = membership::decode_conf(&data).ok_or(ProposeError::InvalidConfChange(
                "payload is not a ConfState",
            ))?;
            if self.conf_index > self.log.committed || !self.committed_in_term() {
                return Err(ProposeError::ConfChangePending);
            }
            membership::check_single_change(&self.conf, &next)?;
            Some(next)
        } else {
            None
        };
        let index = self.log.last_index() + 1;
        self.uncommitted_bytes += data.len();
        self.log.push(Entry {
            term: self.term,
            index,
            kind,
            data,
        });
        if let Some(conf) = new_conf {
            self.set_conf(index, conf);
        }
        self.pending_bcast = true;
        Ok(index)
    }

    pub fn campaign(&mut self) {
        self.hup(false);
    }

    // ---- Ready handshake -------------------------------------------------------------

    pub fn has_ready(&self) -> bool {
        self.soft_state() != self.prev_soft
            || self.hard_state() != self.prev_hard
            || self.pending_snapshot.is_some()
            || self.log.has_unstable()
            || !self.msgs.is_empty()
            || !self.read_states.is_empty()
            || self.log.has_next_committed()
            || (self.pending_bcast && self.role == Role::Leader)
    }

    /// Takes the next batch. Call `advance` with it before taking another.
    pub fn ready(&mut self) -> Ready {
        if std::mem::take(&mut self.pending_bcast) && self.role == Role::Leader {
            self.bcast_append(false);
        }
        let soft = self.soft_state();
        let hard = self.hard_state();
        let rd = Ready {
            soft_state: (soft != self.prev_soft).then_some(soft),
            hard_state: (hard != self.prev_hard).then_some(hard),
            snapshot: self.pending_snapshot.take(),
            entries: self.log.unstable_entries(),
            committed_entries: self
                .log
                .take_committed(self.cfg.max_committed_bytes_per_ready),
            messages: std::mem::take(&mut self.msgs),
            read_states: std::mem::take(&mut self.read_states),
        };
        self.prev_soft = soft;
        self.prev_hard = hard;
        rd
    }

    pub fn advance(&mut self, rd: &Ready) {
        if let Some(s) = &rd.snapshot {
            self.log.applied = self.log.applied.max(s.index);
        }
        // Entries replaced by a conflicting Append while the driver was writing are not
        // durable in their new form; the longest prefix that still matches is.
        if rd
            .entries
            .first()
            .is_some_and(|f| f.index <= self.log.stable + 1)
        {
            if let Some(e) = rd
                .entries
                .iter()
                .rev()
                .find(|e| self.log.match_term(e.index, e.term))
            {
                self.log.stable_to(e.index, e.term);
            }
        }
        if self.role == Role::Leader {
            let stable = self.log.stable;
            if let Some(pr) = self.progress.get_mut(&self.id) {
                pr.maybe_update(stable);
            }
            // Our own fsync may be what completes a quorum.
            self.commit_and_broadcast();
        }
    }

    pub fn applied_to(&mut self, index: Index) {
        let index = index.min(self.log.apply_emitted).min(self.log.committed);
        self.log.applied = self.log.applied.max(index);
    }

    /// A state-store snapshot covering `snap.index` exists: forget entries up to it.
    /// Ignored unless `snap.index` is applied and durable here and matches the log.
    /// The membership recorded for the snapshot is the one this log says was in force
    /// at `snap.index`.
    /// Returns whether entries were dropped.
    pub fn compact(&mut self, snap: SnapshotMeta) -> bool {
        if self.log.term(snap.index) != Some(snap.term) {
            return false;
        }
        let conf = self.conf_at(snap.index);
        let done = self.log.compact_to(snap.index);
        if done {
            self.base_conf = conf;
        }
        done
    }

    /// The snapshot a lagging follower needs: the last compaction point.
    pub fn snapshot_meta(&self) -> SnapshotMeta {
        SnapshotMeta {
            index: self.log.snap_index(),
            term: self.log.snap_term(),
            conf: self.base_conf.clone(),
        }
    }

    /// Term of the entry at `index` if it is still in memory (or is the compaction point).
    pub fn term_at(&self, index: Index) -> Option<Term> {
        self.log.term(index)
    }

    pub fn status(&self) -> Status {
        let peers = self
            .progress
            .iter()
            .map(|(&id, p)| PeerStatus {
                id,
                match_index: p.matched,
                next_index: p.next,
                state: p.state,
                recent_active: p.recent_active,
                learner: p.learner,
                ticks_since_contact: if id == self.id {
                    0
                } else {
                    p.ticks_since_contact
                },
            })
            .collect();
        Status {
            id: self.id,
            term: self.term,
            vote: self.vote,
            role: self.role,
            leader: self.leader,
            commit: self.log.committed,
            applied: self.log.applied,
            first_index: self.log.first_index(),
            last_index: self.log.last_index(),
            conf: self.conf.clone(),
            ticks_since_leader_contact: if self.role == Role::Leader {
                0
            } else {
                self.leader_contact
            },
            transferring_to: self.transferee,
            peers,
        }
    }

    // ---- shared helpers --------------------------------------------------------------

    fn soft_state(&self) -> SoftState {
        SoftState {
            leader: self.leader,
            role: self.role,
        }
    }

    fn hard_state(&self) -> HardState {
        HardState {
            term: self.term,
            vote: self.vote,
            commit: self.log.committed,
        }
    }

    pub(crate) fn send(&mut self, to: NodeId, body: MessageBody) {
        self.msgs.push(Message {
            from: self.id,
            to,
            term: self.term,
            body,
        });
    }

    pub(crate) fn send_with_term(&mut self, to: NodeId, term: Term, body: MessageBody) {
        self.msgs.push(Message {
            from: self.id,
            to,
            term,
            body,
        });
    }

    /// May this node campaign? Voters may. So may a node whose removal (or demotion) is
    /// not yet committed: it can still be the only holder of that change, and as a
    /// leader outside its configuration (thesis §4.2.2) it commits the change with the
    /// new voters and then steps down. Without this a two-voter cluster deadlocks when
    /// the leader demotes itself and loses leadership before the change commits.
    pub(crate) fn promotable(&self) -> bool {
        if self.conf.voters.contains(&self.id) {
            return true;
        }
        self.conf_index > self.log.committed
            && self.conf_index > 0
            && self.conf_at(self.conf_index - 1).voters.contains(&self.id)
    }

    pub(crate) fn in_lease(&self) -> bool {
        self.cfg.check_quorum
            && self.leader.is_some()
            && self.election_elapsed < self.cfg.election_tick
    }

    pub(crate) fn committed_in_term(&self) -> bool {
        self.log.term(self.log.committed) == Some(self.term)
    }

    pub(crate) fn reset_randomized_timeout(&mut self) {
        let e = self.cfg.election_tick;
        self.randomized_timeout = self.rng.in_range(e, e.saturating_mul(2));
    }

    /// Common part of every role change.
    pub(crate) fn reset(&mut self, term: Term) {
        if self.term != term {
            self.term = term;
            self.vote = 0;
        }
        self.leader = None;
        self.election_elapsed = 0;
        self.heartbeat_elapsed = 0;
        self.reset_randomized_timeout();
        self.votes.clear();
        self.progress.clear();
        self.transferee = None;
        self.reads.clear();
        self.uncommitted_bytes = 0;
        self.pending_bcast = false;
    }

    pub(crate) fn become_follower(&mut self, term: Term, leader: Option<NodeId>) {
        self.reset(term);
        self.role = Role::Follower;
        self.leader = leader;
        if leader.is_some() {
            self.leader_contact = 0;
        }
    }
}

/// Recovered entries must be contiguous after the snapshot with non-decreasing terms.
fn check_entries(entries: &[Entry], snap_index: Index, snap_term: Term) -> Result<(), RaftError> {
    let mut prev_term = snap_term;
    for (i, e) in entries.iter().enumerate() {
        let want = snap_index + 1 + i as u64;
        if e.index != want {
            return Err(RaftError::InvalidBootstrap(format!(
                "entry {} found where {want} was expected",
                e.index
            )));
        }
        if e.term < prev_term {
            return Err(RaftError::InvalidBootstrap(format!(
                "entry {} has term {} below {prev_term}",
                e.index, e.term
            )));
        }
        prev_term = e.term;
    }
    Ok(())
}
