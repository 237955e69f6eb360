//! Log replication: leader ticks, Append/Heartbeat sending with flow control, the
//! follower side of Append/Heartbeat/InstallSnapshot, and commit by counting (§5.4.2).
use crate::config::RaftError;
use crate::membership::quorum;
use crate::message::MessageBody;
use crate::ready::{ReplicationState, Role};
use crate::types::{Entry, EntryKind, Index, NodeId, SnapshotMeta, Term};
use crate::RaftNode;

impl RaftNode {
    pub(crate) fn tick_leader(&mut self) {
        self.heartbeat_elapsed += 1;
        self.election_elapsed += 1;
        if self.election_elapsed >= self.cfg.election_tick {
            self.election_elapsed = 0;
            if self.cfg.check_quorum {
                if !self.quorum_active() {
                    // CheckQuorum: cut off from a majority for a whole election timeout.
                    let term = self.term;
                    self.become_follower(term, None);
                    return;
                }
                let me = self.id;
                for (id, pr) in self.progress.iter_mut() {
                    pr.recent_active = *id == me;
                }
            }
            // A transfer that did not finish within an election timeout is abandoned.
            self.transferee = None;
        }
        let (me, last) = (self.id, self.log.last_index());
        for (id, pr) in self.progress.iter_mut() {
            if *id == me {
                continue;
            }
            pr.ticks_since_contact = pr.ticks_since_contact.saturating_add(1);
            if pr.waiting_for_ack() && pr.matched < last {
                pr.stall_ticks = pr.stall_ticks.saturating_add(1);
            }
        }
        if self.heartbeat_elapsed >= self.cfg.heartbeat_tick {
            self.heartbeat_elapsed = 0;
            self.bcast_heartbeat();
        }
    }

    fn quorum_active(&self) -> bool {
        let active = self
            .conf
            .voters
            .iter()
            .filter(|v| **v == self.id || self.progress.get(v).is_some_and(|p| p.recent_active))
            .count();
        active >= quorum(self.conf.voters.len())
    }

    pub(crate) fn bcast_append(&mut self, allow_empty: bool) {
        let peers: Vec<NodeId> = self
            .progress
            .keys()
            .copied()
            .filter(|&p| p != self.id)
            .collect();
        for p in peers {
            let mut first = true;
            // Pipeline as much as the window allows; later batches are never empty.
            while self.send_append(p, allow_empty && first) {
                first = false;
            }
        }
    }

    /// Sends the next Append (or the snapshot) to `to` unless flow control pauses it.
    pub(crate) fn send_append(&mut self, to: NodeId, allow_empty: bool) -> bool {
        let Some(pr) = self.progress.get(&to) else {
            return false;
        };
        if pr.is_paused() {
            return false;
        }
        let prev_index = pr.next - 1;
        let prev_term = self.log.term(prev_index);
        let entries = self.log.entries_from(
            pr.next,
            self.cfg.max_entries_per_msg,
            self.cfg.max_bytes_per_msg,
        );
        let (Some(prev_term), Some(entries)) = (prev_term, entries) else {
            // The follower needs entries compacted away: it needs the snapshot.
            let meta = self.snapshot_meta();
            if let Some(pr) = self.progress.get_mut(&to) {
                pr.become_snapshot(meta.index);
                pr.told_commit(meta.index);
            }
            self.send(to, MessageBody::InstallSnapshot { meta });
            return true;
        };
        if entries.is_empty() && !allow_empty {
            return false;
        }
        let last = entries.last().map_or(0, |e| e.index);
        let commit = self.log.committed;
        if let Some(pr) = self.progress.get_mut(&to) {
            pr.sent_append(last);
            // The follower commits no further than the last entry this message carries.
            pr.told_commit(commit.min(last.max(prev_index)));
        }
        self.send(
            to,
            MessageBody::Append {
                prev_index,
                prev_term,
                entries,
                commit,
            },
        );
        true
    }

    pub(crate) fn bcast_heartbeat(&mut self) {
        let read_ctx = self.reads.last_seq();
        let commit = self.log.committed;
        let me = self.id;
        let beats: Vec<(NodeId, Index)> = self
            .progress
            .iter_mut()
            .filter(|(id, _)| **id != me)
            // Never tell a follower to commit past what it is known to hold.
            .map(|(id, p)| {
                let c = p.matched.min(commit);
                p.told_commit(c);
                (*id, c)
            })
            .collect();
        for (to, commit) in beats {
            self.send(to, MessageBody::Heartbeat { commit, read_ctx });
        }
    }

    pub(crate) fn step_leader(&mut self, from: NodeId, body: MessageBody) {
        if let Some(pr) = self.progress.get_mut(&from) {
            if matches!(
                body,
                MessageBody::AppendResp { .. } | MessageBody::HeartbeatResp { .. }
            ) {
                pr.ticks_since_contact = 0;
            }
        }
        match body {
            MessageBody::AppendResp {
                reject,
                index,
                reject_hint,
                hint_term,
            } => self.handle_append_resp(from, reject, index, reject_hint, hint_term),
            MessageBody::HeartbeatResp { read_ctx } => self.handle_heartbeat_resp(from, read_ctx),
            _ => {}
        }
    }

    fn handle_append_resp(
        &mut self,
        from: NodeId,
        reject: bool,
        index: Index,
        hint: Index,
        hint_term: Term,
    ) {
        let next_probe = if reject && hint_term > 0 {
            self.log.find_conflict_by_term(hint, hint_term).0
        } else {
            hint
        };
        let last = self.log.last_index();
        let first = self.log.first_index();
        let Some(pr) = self.progress.get_mut(&from) else {
            return;
        };
        pr.recent_active = true;
        if reject {
            if pr.maybe_decr_to(index, next_probe) {
                if pr.state == ReplicationState::Replicate {
                    pr.become_probe();
                }
                self.send_append(from, true);
            }
            return;
        }
        let was_paused = pr.is_paused();
        if !pr.maybe_update(index) {
            return;
        }
        match pr.state {
            ReplicationState::Probe => pr.become_replicate(),
            ReplicationState::Snapshot if pr.matched + 1 >= first => {
                pr.become_probe();
                pr.become_replicate();
            }
            ReplicationState::Snapshot => {}
            ReplicationState::Replicate => pr.inflights.free_le(index),
        }
        let matched = pr.matched;
        // Tells every replicating follower about a new commit index at once.
        self.commit_and_broadcast();
        if self.role != Role::Leader {
            return; // committing our own removal stepped us down
        }
        if was_paused {
            self.send_append(from, true);
        }
        while self.send_append(from, false) {}
        // This follower may have just caught up to a commit it was not told about yet.
        self.send_commit(from);
        if self.transferee == Some(from) && matched == last {
            self.send(from, MessageBody::TimeoutNow);
        }
    }

    fn handle_heartbeat_resp(&mut self, from: NodeId, read_ctx: u64) {
        let last = self.log.last_index();
        let Some(pr) = self.progress.get_mut(&from) else {
            return;
        };
        pr.recent_active = true;
        pr.probe_sent = false;
        // The follower is alive but has acknowledged nothing for a while: an Append (or
        // the snapshot) was lost. Start over from its match. Snapshots get longer, since
        // streaming one legitimately takes time (the driver normally calls
        // `report_snapshot` first).
        let stall_limit = match pr.state {
            ReplicationState::Snapshot => self.cfg.election_tick,
            _ => (self.cfg.election_tick / 2).max(2),
        };
        if pr.waiting_for_ack() && pr.stall_ticks >= stall_limit {
            pr.become_probe();
        }
        let probing = pr.state == ReplicationState::Probe;
        if pr.matched < last {
            self.send_append(from, probing);
        }
        if read_ctx > 0 && self.conf.voters.contains(&from) {
            let voters = self.conf.voters.clone();
            let released = self.reads.ack(from, read_ctx, |acks| {
                acks.iter().filter(|a| voters.contains(a)).count() >= quorum(voters.len())
            });
            self.read_states.extend(released);
        }
    }

    /// Advances the commit index to what a quorum of voters holds, if that entry is of
    /// the current term. Returns whether it moved.
    pub(crate) fn maybe_commit(&mut self) -> bool {
        if self.conf.voters.is_empty() {
            return false;
        }
        let mut matched: Vec<Index> = self
            .conf
            .voters
            .iter()
            .map(|v| self.progress.get(v).map_or(0, |p| p.matched))
            .collect();
        matched.sort_unstable_by(|a, b| b.cmp(a));
        let candidate = matched[quorum(matched.len()) - 1];
        if candidate <= self.log.committed || self.log.term(candidate) != Some(self.term) {
            return false;
        }
        let old = self.log.committed;
        self.log.commit_to(candidate);
        let mut freed = 0usize;
        for i in old + 1..=self.log.committed {
            freed += self.log.get(i).map_or(0, |e| e.data.len());
        }
        self.uncommitted_bytes = self.uncommitted_bytes.saturating_sub(freed);
        self.on_commit_in_term();
        if !self.promotable() && self.conf_index <= self.log.committed {
            // Our own removal is committed: hand over by stepping down.
            let term = self.term;
            self.become_follower(term, None);
        }
        true
    }

    pub(crate) fn handle_append(
        &mut self,
        from: NodeId,
        prev_index: Index,
        prev_term: Term,
        entries: Vec<Entry>,
        commit: Index,
    ) -> Result<(), RaftError> {
        let committed = self.log.committed;
        if prev_index < committed {
            // Stale or duplicated: everything up to our commit index matches anyway.
            self.send(
                from,
                MessageBody::AppendResp {
                    reject: false,
                    index: committed,
                    reject_hint: 0,
                    hint_term: 0,
                },
            );
            return Ok(());
        }
        if !self.log.match_term(prev_index, prev_term) {
            let (hint, hint_term) = self
                .log
                .find_conflict_by_term(prev_index.min(self.log.last_index()), prev_term);
            self.send(
                from,
                MessageBody::AppendResp {
                    reject: true,
                    index: prev_index,
                    reject_hint: hint,
                    hint_term,
                },
            );
            return Ok(());
        }
        for (i, e) in entries.iter().enumerate() {
            if e.index != prev_index + 1 + i as u64 {
                return Ok(()); // malformed batch: ignore it rather than corrupt the log
            }
            if e.kind == EntryKind::Config && crate::membership::decode_conf(&e.data).is_none() {
                return Err(RaftError::CorruptConfEntry { index: e.index });
            }
        }
        let last_new = prev_index + entries.len() as u64;
        let conflict = self.log.find_conflict(&entries);
        if conflict != 0 {
            if conflict <= committed {
                return Err(RaftError::CommittedConflict { index: conflict });
            }
            let start = (conflict - prev_index - 1) as usize;
            let new = &entries[start..];
            if let Some(cut) = self.log.append(new) {
                if self.conf_index >= cut {
                    self.recompute_conf();
                }
            }
            if let Some((idx, conf)) = crate::membership::latest_in(new.iter().rev()) {
                self.set_conf(idx, conf);
            }
        }
        self.log.commit_to(commit.min(last_new));
        self.send(
            from,
            MessageBody::AppendResp {
                reject: false,
                index: last_new,
                reject_hint: 0,
                hint_term: 0,
            },
        );
        Ok(())
    }

    pub(crate) fn handle_heartbeat(&mut self, from: NodeId, commit: Index, read_ctx: u64) {
        self.log.commit_to(commit);
        self.send(from, MessageBody::HeartbeatResp { read_ctx });
    }

    pub(crate) fn handle_snapshot(&mut self, from: NodeId, meta: SnapshotMeta) {
        let committed = self.log.committed;
        let reply = if meta.index <= committed {
            committed
        } else if self.log.match_term(meta.index, meta.term) {
            // We already hold the snapshot's last entry: just fast-forward the commit.
            self.log.commit_to(meta.index);
            self.log.committed
        } else {
            self.log.restore(meta.index, meta.term);
            self.base_conf = meta.conf.clone();
            self.conf = meta.conf.clone();
            self.conf_index = meta.index;
            let index = meta.index;
            self.pending_snapshot = Some(meta);
            index
        };
        self.send(
            from,
            MessageBody::AppendResp {
                reject: false,
                index: reply,
                reject_hint: 0,
                hint_term: 0,
            },
        );
    }

    /// The driver finished (or failed) streaming a snapshot to `to`.
    pub fn report_snapshot(&mut self, to: NodeId, success: bool) {
        let Some(pr) = self.progress.get_mut(&to) else {
            return;
        };
        if pr.state != ReplicationState::Snapshot {
            return;
        }
        if !success {
            pr.pending_snapshot = 0;
        }
        // Wait for the follower's answer (or a heartbeat) before probing again.
        pr.become_probe();
        pr.probe_sent = true;
    }
}
