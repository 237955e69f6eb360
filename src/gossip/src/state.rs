//! SWIM membership transitions (memberlist state.go aliveNode / suspectNode /
//! deadNode / refute), with the Serf status each one implies.

use crate::broadcast::Key;
use crate::core::Gossip;
use crate::nodes::{NodeEntry, NodeState};
use crate::serial::incarnation_newer;
use crate::suspicion::{suspicion_timeout, Suspicion};
use crate::types::{Event, Member, Now, Status};
use crate::wire::{Accusation, Alive, Msg};

impl Gossip {
    pub(crate) fn alive_node(&mut self, a: Alive, now: Now) {
        let me = self.is_me(&a.node);
        if me && self.leaving() {
            return;
        }
        let Some(i) = self.nodes.idx(&a.node) else {
            self.add_new_node(a, now);
            return;
        };
        let e = self.nodes.at(i);
        let mut readdressed = false;
        if e.member.addr != a.addr {
            let dead = matches!(e.state(), NodeState::Dead | NodeState::Left);
            let reclaim = self.cfg.dead_node_reclaim;
            let can_reclaim = reclaim.is_zero() || now.saturating_sub(e.state_change) > reclaim;
            if me || !(dead && can_reclaim) {
                return; // a name conflict: keep what we know
            }
            readdressed = true;
        }
        if !me && !readdressed && !incarnation_newer(a.incarnation, e.member.incarnation) {
            return; // stale or duplicate
        }
        if me {
            if incarnation_newer(e.member.incarnation, a.incarnation)
                || (a.incarnation == e.member.incarnation && a.tags == e.member.tags)
            {
                return; // an old or our own announcement echoed back
            }
            // Someone announces a version of us we never sent: out-announce it.
            self.refute(a.incarnation, None, now);
            return;
        }
        let changed = e.member.addr != a.addr || e.member.tags != a.tags;
        let old_status = e.member.status;
        if !self.suspicions.is_empty() {
            self.suspicions.remove(&a.node);
        }
        let msg = Msg::Alive(a.clone());
        self.broadcast(Key::Member(a.node.clone()), &msg);

        self.nodes.set_state(i, NodeState::Alive, now);
        let e = self.nodes.at_mut(i);
        e.member.addr = a.addr;
        e.member.tags = a.tags;
        e.member.incarnation = a.incarnation;
        match old_status {
            Status::Failed | Status::Left | Status::None => {
                e.member.status = Status::Alive;
                e.member.status_since = now;
                let name = e.member.name.clone();
                self.apply_recent_intents(&name, now);
                let m = self.nodes.at(self.nodes.idx(&name).unwrap_or(i)).member.clone();
                self.event(Event::Join(m));
            }
            Status::Alive | Status::Leaving => {
                if changed {
                    let m = e.member.clone();
                    self.event(Event::Update(m));
                }
            }
        }
    }

    fn add_new_node(&mut self, a: Alive, now: Now) {
        let msg = Msg::Alive(a.clone());
        let member = Member {
            name: a.node.clone(),
            addr: a.addr,
            tags: a.tags,
            status: Status::Alive,
            incarnation: a.incarnation,
            status_since: now,
        };
        self.nodes.insert(NodeEntry::new(member, NodeState::Alive, now));
        self.broadcast(Key::Member(a.node.clone()), &msg);
        self.apply_recent_intents(&a.node, now);
        if let Some(e) = self.nodes.get(&a.node) {
            let m = e.member.clone();
            self.event(Event::Join(m));
        }
    }

    pub(crate) fn suspect_node(&mut self, s: Accusation, now: Now) {
        let Some(i) = self.nodes.idx(&s.node) else { return };
        let e = self.nodes.at(i);
        if incarnation_newer(e.member.incarnation, s.incarnation) {
            return;
        }
        let restart = match self.suspicions.get_mut(&s.node) {
            Some(susp) if !incarnation_newer(s.incarnation, susp.incarnation) => {
                // Independent confirmations shorten the timeout; pass new ones on.
                if susp.confirm(&s.from) {
                    self.broadcast(Key::Member(s.node.clone()), &Msg::Suspect(s));
                }
                return;
            }
            // An accusation of a newer incarnation proves the member refuted
            // the one we track (we missed its alive): that suspicion, and its
            // head start, are void. Counting it as a confirmation (memberlist
            // does) lets a stale timer declare a live member dead.
            Some(_) => true,
            None => false,
        };
        if !restart && e.state() != NodeState::Alive {
            return;
        }
        if self.is_me(&s.node) {
            if !self.leaving() {
                self.refute(s.incarnation, Some(&s.from), now);
            }
            return;
        }
        let n = self.nodes.live();
        let mut k = if self.cfg.lifeguard { self.cfg.suspicion_mult.saturating_sub(2) } else { 0 };
        if (n as i64 - 2) < k as i64 {
            k = 0;
        }
        let min = suspicion_timeout(self.cfg.suspicion_mult, n, self.cfg.probe_interval);
        let max = if self.cfg.lifeguard { min * self.cfg.suspicion_max_timeout_mult.max(1) } else { min };
        self.nodes.set_state(i, NodeState::Suspect, now);
        self.nodes.at_mut(i).member.incarnation = s.incarnation;
        self.metrics.suspicions_started += 1;
        self.suspicions
            .insert(s.node.clone(), Suspicion::new(&s.from, s.incarnation, k, min, max, now));
        self.broadcast(Key::Member(s.node.clone()), &Msg::Suspect(s));
    }

    pub(crate) fn dead_node(&mut self, d: Accusation, now: Now) {
        let Some(i) = self.nodes.idx(&d.node) else { return };
        let e = self.nodes.at(i);
        if incarnation_newer(e.member.incarnation, d.incarnation) {
            return;
        }
        if matches!(e.state(), NodeState::Dead | NodeState::Left) {
            return;
        }
        if self.is_me(&d.node) {
            if !self.leaving() {
                self.refute(d.incarnation, Some(&d.from), now);
            }
            return;
        }
        if !self.suspicions.is_empty() {
            self.suspicions.remove(&d.node);
        }
        let left = d.from == d.node;
        self.broadcast(Key::Member(d.node.clone()), &Msg::Dead(d.clone()));
        self.nodes.set_state(i, if left { NodeState::Left } else { NodeState::Dead }, now);
        let e = self.nodes.at_mut(i);
        e.member.incarnation = d.incarnation;
        let status = if left || e.member.status == Status::Leaving { Status::Left } else { Status::Failed };
        if e.member.status == status {
            return;
        }
        e.member.status = status;
        e.member.status_since = now;
        let m = e.member.clone();
        self.event(if status == Status::Left { Event::Leave(m) } else { Event::Failed(m) });
    }

    /// Announce ourselves alive with an incarnation above the accusation's.
    /// With Lifeguard the refutation also leaves at once, to the accuser
    /// (whose timer started first) and a gossip round's worth of members:
    /// it races every suspicion timer in the pool, and a struggling node's
    /// next gossip tick may come late.
    pub(crate) fn refute(&mut self, accused: u32, accuser: Option<&str>, now: Now) {
        let i = self.me_idx();
        let cur = self.nodes.at(i).member.incarnation;
        let mut inc = cur.wrapping_add(1);
        if !incarnation_newer(inc, accused) {
            inc = accused.wrapping_add(1);
        }
        self.nodes.at_mut(i).member.incarnation = inc;
        self.metrics.refutations += 1;
        if self.cfg.lifeguard {
            // Having to refute is a sign we may be the slow one.
            self.awareness.apply_delta(1);
        }
        self.broadcast_self_alive();
        if !self.cfg.lifeguard {
            return;
        }
        let to = accuser
            .filter(|a| !self.is_me(a))
            .and_then(|a| self.nodes.get(a))
            .filter(|e| e.state().is_live())
            .map(|e| e.member.addr);
        if let Some(addr) = to {
            self.send(addr, &[]);
        }
        self.gossip_round(now);
    }

    /// Suspicions whose time ran out become deaths.
    pub(crate) fn expire_suspicions(&mut self, now: Now) {
        if now < self.hold_accusations_until {
            return;
        }
        let due: Vec<String> = self
            .suspicions
            .iter()
            .filter(|(_, s)| s.deadline() <= now)
            .map(|(n, _)| n.clone())
            .collect();
        for name in due {
            let Some(s) = self.suspicions.remove(&name) else { continue };
            let Some(e) = self.nodes.get(&name) else { continue };
            if e.state() == NodeState::Suspect && e.member.incarnation == s.incarnation {
                self.metrics.suspicions_expired += 1;
                let from = self.cfg.name.clone();
                self.dead_node(Accusation { node: name, incarnation: s.incarnation, from }, now);
            }
        }
    }
}
