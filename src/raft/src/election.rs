//! Elections: PreVote, votes, role changes, leadership transfer (TimeoutNow).
use crate::config::RaftError;
use crate::membership::quorum;
use crate::message::MessageBody;
use crate::progress::Progress;
use crate::ready::Role;
use crate::types::{Entry, EntryKind, NodeId, Term};
use crate::RaftNode;

enum Tally {
    Won,
    Lost,
    Pending,
}

impl RaftNode {
    /// Starts an election (a pre-vote round first unless this is a transfer).
    pub(crate) fn hup(&mut self, transfer: bool) {
        if self.role == Role::Leader || !self.promotable() {
            return;
        }
        if self.cfg.pre_vote && !transfer {
            self.become_pre_candidate();
            self.run_round(true, false);
        } else {
            self.campaign_for_real(transfer);
        }
    }

    fn campaign_for_real(&mut self, transfer: bool) {
        self.become_candidate();
        self.run_round(false, transfer);
    }

    /// Votes for itself, then either wins at once (single voter) or asks the others.
    fn run_round(&mut self, pre: bool, transfer: bool) {
        let id = self.id;
        match self.poll(id, true) {
            Tally::Won => return self.round_won(pre),
            Tally::Lost => return self.become_follower(self.term, None),
            Tally::Pending => {}
        }
        let (last_index, last_term) = (self.log.last_index(), self.log.last_term());
        let term = if pre { self.term + 1 } else { self.term };
        let voters: Vec<NodeId> = self
            .conf
            .voters
            .iter()
            .copied()
            .filter(|&v| v != id)
            .collect();
        for v in voters {
            let body = if pre {
                MessageBody::PreVote {
                    last_index,
                    last_term,
                }
            } else {
                MessageBody::Vote {
                    last_index,
                    last_term,
                    transfer,
                }
            };
            self.send_with_term(v, term, body);
        }
    }

    fn round_won(&mut self, pre: bool) {
        if pre {
            self.campaign_for_real(false);
        } else {
            self.become_leader();
        }
    }

    fn poll(&mut self, from: NodeId, granted: bool) -> Tally {
        if self.conf.voters.contains(&from) {
            self.votes.entry(from).or_insert(granted);
        }
        let q = quorum(self.conf.voters.len());
        let yes = self.votes.values().filter(|g| **g).count();
        let no = self.votes.values().filter(|g| !**g).count();
        if yes >= q {
            Tally::Won
        } else if self.conf.voters.len() - no < q {
            Tally::Lost
        } else {
            Tally::Pending
        }
    }

    pub(crate) fn handle_vote_request(
        &mut self,
        from: NodeId,
        term: Term,
        last_index: u64,
        last_term: Term,
        pre: bool,
    ) {
        // We may grant when we already voted for this candidate, when we have neither
        // voted nor know a leader in this term, or for a pre-vote about a future term.
        let can_vote = self.vote == from
            || (self.vote == 0 && self.leader.is_none())
            || (pre && term > self.term);
        let granted = can_vote && self.log.is_up_to_date(last_index, last_term);
        let body = if pre {
            MessageBody::PreVoteResp { reject: !granted }
        } else {
            MessageBody::VoteResp { reject: !granted }
        };
        if granted {
            // A granted pre-vote answers in the term asked about, so the candidate counts it.
            self.send_with_term(from, term, body);
            if !pre {
                self.election_elapsed = 0;
                self.vote = from;
            }
        } else {
            self.send(from, body);
        }
    }

    pub(crate) fn step_candidate(
        &mut self,
        from: NodeId,
        term: Term,
        body: MessageBody,
    ) -> Result<(), RaftError> {
        match body {
            MessageBody::Append { .. }
            | MessageBody::Heartbeat { .. }
            | MessageBody::InstallSnapshot { .. } => {
                self.become_follower(term, Some(from));
                self.step_follower(from, body)
            }
            MessageBody::PreVoteResp { reject } if self.role == Role::PreCandidate => {
                self.count_vote(from, !reject, true);
                Ok(())
            }
            MessageBody::VoteResp { reject } if self.role == Role::Candidate => {
                self.count_vote(from, !reject, false);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn count_vote(&mut self, from: NodeId, granted: bool, pre: bool) {
        match self.poll(from, granted) {
            Tally::Won => self.round_won(pre),
            Tally::Lost => self.become_follower(self.term, None),
            Tally::Pending => {}
        }
    }

    pub(crate) fn step_follower(
        &mut self,
        from: NodeId,
        body: MessageBody,
    ) -> Result<(), RaftError> {
        match body {
            MessageBody::Append {
                prev_index,
                prev_term,
                entries,
                commit,
            } => {
                self.heard_from_leader(from);
                self.handle_append(from, prev_index, prev_term, entries, commit)
            }
            MessageBody::Heartbeat { commit, read_ctx } => {
                self.heard_from_leader(from);
                self.handle_heartbeat(from, commit, read_ctx);
                Ok(())
            }
            MessageBody::InstallSnapshot { meta } => {
                self.heard_from_leader(from);
                self.handle_snapshot(from, meta);
                Ok(())
            }
            // The leader hands over: campaign now, skipping the pre-vote (we know the
            // cluster is healthy) and flagging the votes so stickiness does not block us.
            MessageBody::TimeoutNow => {
                self.hup(true);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn heard_from_leader(&mut self, from: NodeId) {
        self.election_elapsed = 0;
        self.leader_contact = 0;
        self.leader = Some(from);
    }

    fn become_pre_candidate(&mut self) {
        // Term and vote stay: a pre-vote must not disturb anyone.
        self.votes.clear();
        self.leader = None;
        self.role = Role::PreCandidate;
    }

    fn become_candidate(&mut self) {
        self.reset(self.term + 1);
        self.vote = self.id;
        self.role = Role::Candidate;
    }

    fn become_leader(&mut self) {
        self.reset(self.term);
        self.role = Role::Leader;
        self.leader = Some(self.id);
        self.leader_contact = 0;
        self.sync_progress();
        // CheckQuorum counts only what is heard during this leadership.
        let me = self.id;
        for (id, pr) in self.progress.iter_mut() {
            pr.recent_active = *id == me;
        }
        let stable = self.log.stable;
        if let Some(pr) = self.progress.get_mut(&self.id) {
            pr.maybe_update(stable);
            pr.become_replicate();
        }
        // The no-op commits this term (and with it every earlier entry, §5.4.2).
        let index = self.log.last_index() + 1;
        self.log.push(Entry {
            term: self.term,
            index,
            kind: EntryKind::Noop,
            data: Vec::new(),
        });
        self.bcast_append(true);
    }

    pub fn transfer_leader(&mut self, to: NodeId) {
        if self.role != Role::Leader || to == self.id || self.transferee == Some(to) {
            return;
        }
        if !self.conf.voters.contains(&to) || !self.progress.contains_key(&to) {
            return;
        }
        self.transferee = Some(to);
        // The transfer is abandoned when this reaches an election timeout.
        self.election_elapsed = 0;
        let caught_up = self
            .progress
            .get(&to)
            .is_some_and(|p| p.matched == self.log.last_index());
        if caught_up {
            self.send(to, MessageBody::TimeoutNow);
        } else {
            self.send_append(to, true);
        }
    }

    /// Makes the progress map match the membership (leader only).
    pub(crate) fn sync_progress(&mut self) {
        let next = self.log.last_index() + 1;
        let cap = self.cfg.max_inflight_msgs;
        self.progress
            .retain(|id, _| self.conf.voters.contains(id) || self.conf.learners.contains(id));
        for &v in &self.conf.voters {
            self.progress
                .entry(v)
                .or_insert_with(|| Progress::new(next, cap, false))
                .learner = false;
        }
        for &l in &self.conf.learners {
            self.progress
                .entry(l)
                .or_insert_with(|| Progress::new(next, cap, true))
                .learner = true;
        }
        if self
            .transferee
            .is_some_and(|t| !self.conf.voters.contains(&t))
        {
            self.transferee = None;
        }
    }
}
