//! Entry points that route inputs: datagrams in, timers, and the gossip round.

use std::net::SocketAddr;

use crate::broadcast::Key;
use crate::core::Gossip;
use crate::nodes::NodeState;
use crate::serial::incarnation_newer;
use crate::types::{DecodeError, Now};
use crate::wire::{self, Accusation, Alive, Msg};

impl Gossip {
    /// A UDP datagram arrived (already decrypted). Bad bytes: an error, no change.
    pub fn handle_packet(&mut self, from: SocketAddr, bytes: &[u8], now: Now) -> Result<(), DecodeError> {
        let msgs = wire::decode_packet(bytes)?;
        let mut corrections = Vec::new();
        for m in msgs {
            if let Msg::Suspect(a) | Msg::Dead(a) = &m {
                if let Some(c) = self.correction_for(a) {
                    corrections.push(c);
                }
            }
            self.handle_msg(from, m, now);
        }
        self.send_corrections(from, corrections);
        Ok(())
    }

    /// An accusation older than the incarnation we know a live member at
    /// means its sender missed the member's refutation (gossip can miss a
    /// member, and does not resend old news). Until it learns, the sender
    /// runs a suspicion nobody else can end: the accused ignores stale
    /// accusations, so the sender's timer declares a live member dead. The
    /// answer is our newer alive, straight back to the sender.
    fn correction_for(&self, a: &Accusation) -> Option<Msg> {
        let e = self.nodes.get(&a.node)?;
        if e.state() != NodeState::Alive || !incarnation_newer(e.member.incarnation, a.incarnation) {
            return None;
        }
        let m = &e.member;
        Some(Msg::Alive(Alive { node: m.name.clone(), addr: m.addr, incarnation: m.incarnation, tags: m.tags.clone() }))
    }

    /// Corrections for one datagram, in as few datagrams as fit the budget.
    fn send_corrections(&mut self, to: SocketAddr, msgs: Vec<Msg>) {
        if msgs.is_empty() || to == self.cfg.addr {
            return;
        }
        let room = self.cfg.packet_budget.saturating_sub(1);
        let mut batch = Vec::new();
        let mut size = 0;
        for m in msgs {
            let len = wire::encode_msg(&m).len();
            if !batch.is_empty() && size + len > room {
                self.send(to, &std::mem::take(&mut batch));
                size = 0;
            }
            size += len;
            batch.push(m);
        }
        self.send(to, &batch);
    }

    fn handle_msg(&mut self, from: SocketAddr, m: Msg, now: Now) {
        match m {
            Msg::Ping { seq, target } => self.on_ping(from, seq, &target),
            Msg::Ack { seq, payload } => self.on_ack(seq, payload, now),
            Msg::Nack { seq } => self.on_nack(seq),
            Msg::PingReq { seq, target, target_addr, nack } => {
                self.on_ping_req(from, seq, target, target_addr, nack, now)
            }
            Msg::Alive(a) => self.alive_node(a, now),
            Msg::Suspect(s) => self.suspect_node(s, now),
            Msg::Dead(d) => self.dead_node(d, now),
            Msg::JoinIntent { node, ltime } => {
                if self.on_join_intent(&node, ltime, now) {
                    self.broadcast(Key::Join(node.clone()), &Msg::JoinIntent { node, ltime });
                }
            }
            Msg::LeaveIntent { node, ltime, prune } => {
                if self.on_leave_intent(&node, ltime, prune, now) {
                    self.broadcast(Key::Leave(node.clone()), &Msg::LeaveIntent { node, ltime, prune });
                }
            }
            Msg::Query(q) => self.on_query(q, now),
            Msg::QueryResponse { id, from, payload } => self.on_query_response(id, from, payload, now),
        }
    }

    /// Run every timer due at `now` (extra calls are harmless).
    pub fn tick(&mut self, now: Now) {
        self.note_lateness(now);
        self.probe_timers(now);
        if self.probe.is_none() && now >= self.next_probe && !self.leaving() {
            self.next_probe = now + self.cfg.probe_interval;
            self.start_probe(now);
        }
        self.expire_relays(now);
        self.expire_suspicions(now);
        if now >= self.next_gossip {
            self.next_gossip = now + self.cfg.gossip_interval;
            self.gossip_round(now);
        }
        if now >= self.next_push_pull {
            self.schedule_push_pull(now);
        }
        if now >= self.next_reconnect {
            self.next_reconnect = now + crate::pushpull::RECONNECT_INTERVAL;
            self.reconnect();
        }
        if now >= self.next_reap {
            self.next_reap = now + self.cfg.reap_interval;
            self.reap(now);
        }
        self.expire_queries(now);
        if self.leaving() {
            self.finish_leave(now);
        }
    }

    /// Lifeguard: a tick long after our earliest deadline means we were not
    /// running when our timers came due (descheduled, paused, starved). What
    /// would have answered them (acks, refutations) is then most likely
    /// waiting in our receive buffer, so our own timers accuse nobody until
    /// we have had as long again to read it. Deaths others declare still
    /// apply at once: only the least trustworthy accusations wait.
    fn note_lateness(&mut self, now: Now) {
        if !self.cfg.lifeguard {
            return;
        }
        let late = now.saturating_sub(self.armed_deadline());
        if late > self.cfg.probe_timeout {
            self.hold_accusations_until = self.hold_accusations_until.max(now + late);
        }
    }

    /// When `tick` next has work.
    pub fn next_deadline(&self) -> Now {
        let d = self.armed_deadline();
        if self.broadcasts.len() > 0 {
            // Nothing to gossip means no gossip timer: an idle pool costs
            // nothing; the first broadcast goes out at the next tick.
            return d.min(self.next_gossip);
        }
        d
    }

    /// The earliest deadline of the timers that are always running: all but
    /// the gossip timer, which idles (and goes stale) with nothing to send,
    /// so a tick after it says nothing about our own lateness.
    fn armed_deadline(&self) -> Now {
        let mut d = self.next_reap.min(self.next_push_pull).min(self.next_reconnect);
        let hold = self.hold_accusations_until;
        match &self.probe {
            Some(p) if !p.indirect => d = d.min(p.direct_deadline.min(p.deadline.max(hold))),
            Some(p) => d = d.min(p.deadline.max(hold)),
            None if !self.leaving() => d = d.min(self.next_probe),
            None => {}
        }
        if let Some(r) = self.relays.front() {
            d = d.min(r.deadline);
        }
        for s in self.suspicions.values() {
            d = d.min(s.deadline().max(hold));
        }
        if let Some(q) = self.queries.next_deadline() {
            d = d.min(q);
        }
        d
    }

    /// Send queued broadcasts to a few random members (memberlist gossip()),
    /// including the recently dead so they learn it and can refute.
    pub(crate) fn gossip_round(&mut self, now: Now) {
        if self.broadcasts.len() == 0 {
            return;
        }
        let me = self.cfg.name.clone();
        let dead_window = self.cfg.gossip_to_the_dead;
        let targets = self.random_nodes(self.cfg.gossip_nodes, |e| {
            e.member.name != me
                && (e.state().is_live() || now.saturating_sub(e.state_change) < dead_window)
        });
        let limit = self.retransmit_limit();
        for i in targets {
            let to = self.nodes.at(i).member.addr;
            let mut bytes = Vec::with_capacity(self.cfg.packet_budget);
            bytes.push(wire::VERSION);
            if self.broadcasts.take(self.cfg.packet_budget.saturating_sub(1), limit, &mut bytes) == 0 {
                return;
            }
            self.push_packet(to, bytes);
        }
    }
}
