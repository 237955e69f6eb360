//! Failure detection (memberlist probeNode): a direct ping, then indirect
//! ping-reqs through k peers (who nack if the target stays silent), then
//! suspicion. Lifeguard feeds the outcome into local health, which stretches
//! our own probe interval when we look like the slow one.

use std::net::SocketAddr;

use rand::seq::SliceRandom;

use crate::core::Gossip;
use crate::nodes::NodeState;
use crate::types::{Event, Now};
use crate::wire::{Accusation, Msg};

/// Indirect probes we relay at once, at most.
const RELAY_CAPACITY: usize = 1024;

#[derive(Clone, Debug)]
pub(crate) struct Probe {
    pub seq: u32,
    pub target: String,
    pub sent: Now,
    pub direct_deadline: Now,
    pub deadline: Now,
    pub indirect: bool,
    pub expected_nacks: u32,
    pub nacks: u32,
}

#[derive(Clone, Debug)]
pub(crate) struct Relay {
    pub seq: u32,
    pub origin: SocketAddr,
    pub origin_seq: u32,
    pub deadline: Now,
    pub nack: bool,
}

impl Gossip {
    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Next node in the shuffled round (memberlist's probe list), skipping
    /// ourselves and the dead.
    fn next_probe_target(&mut self) -> Option<usize> {
        for _ in 0..2 {
            while self.probe_pos < self.probe_list.len() {
                let i = self.probe_list[self.probe_pos];
                self.probe_pos += 1;
                if i < self.nodes.len() {
                    let e = self.nodes.at(i);
                    if e.state().is_live() && !self.is_me(&e.member.name) {
                        return Some(i);
                    }
                }
            }
            // Round over: reshuffle.
            self.probe_list = (0..self.nodes.len()).collect();
            self.probe_list.shuffle(&mut self.rng);
            self.probe_pos = 0;
        }
        None
    }

    pub(crate) fn reset_probe_round(&mut self) {
        self.probe_list.clear();
        self.probe_pos = 0;
    }

    pub(crate) fn start_probe(&mut self, now: Now) {
        let Some(i) = self.next_probe_target() else { return };
        let e = self.nodes.at(i);
        let (target, addr, state, inc) = (e.member.name.clone(), e.member.addr, e.state(), e.member.incarnation);
        let seq = self.next_seq();
        let mut msgs = Vec::with_capacity(2);
        if state != NodeState::Alive && self.cfg.lifeguard {
            // Buddy system: tell a suspect it is suspected so it can refute at
            // once. The accusation goes before the ping so the suspect has
            // refuted by the time it acks, and the ack carries the refutation.
            let from = self.cfg.name.clone();
            msgs.push(Msg::Suspect(Accusation { node: target.clone(), incarnation: inc, from }));
            self.metrics.buddy_suspects_sent += 1;
        }
        msgs.push(Msg::Ping { seq, target: target.clone() });
        self.metrics.probes += 1;
        let interval = self.awareness.scale(self.cfg.probe_interval);
        self.probe = Some(Probe {
            seq,
            target,
            sent: now,
            direct_deadline: now + self.cfg.probe_timeout,
            deadline: now + interval,
            indirect: false,
            expected_nacks: 0,
            nacks: 0,
        });
        self.send(addr, &msgs);
    }

    pub(crate) fn probe_timers(&mut self, now: Now) {
        let Some(p) = &self.probe else { return };
        if !p.indirect && now >= p.direct_deadline && now < p.deadline.max(self.hold_accusations_until) {
            self.send_indirect_probes();
        }
        if let Some(p) = &self.probe {
            if now >= p.deadline && now >= self.hold_accusations_until {
                self.fail_probe(now);
            }
        }
    }

    fn send_indirect_probes(&mut self) {
        let Some(p) = &self.probe else { return };
        let (seq, target) = (p.seq, p.target.clone());
        let Some(t) = self.nodes.get(&target) else { return };
        let target_addr = t.member.addr;
        let me = self.cfg.name.clone();
        let peers = self.random_nodes(self.cfg.indirect_checks, |e| {
            e.state() == NodeState::Alive && e.member.name != me && e.member.name != target
        });
        let nack = self.cfg.lifeguard;
        if let Some(p) = &mut self.probe {
            p.indirect = true;
            p.expected_nacks = if nack { peers.len() as u32 } else { 0 };
        }
        for i in peers {
            let to = self.nodes.at(i).member.addr;
            let msg = Msg::PingReq { seq, target: target.clone(), target_addr, nack };
            self.send(to, &[msg]);
        }
    }

    fn fail_probe(&mut self, now: Now) {
        let Some(p) = self.probe.take() else { return };
        self.metrics.probes_failed += 1;
        // Missing nacks mean our own links (or we) are slow; no nack-capable
        // peers at all counts as one miss.
        let delta = if p.expected_nacks > 0 { p.expected_nacks.saturating_sub(p.nacks) as i32 } else { 1 };
        self.awareness.apply_delta(delta);
        let Some(e) = self.nodes.get(&p.target) else { return };
        let inc = e.member.incarnation;
        let from = self.cfg.name.clone();
        self.suspect_node(Accusation { node: p.target, incarnation: inc, from }, now);
    }

    pub(crate) fn on_ping(&mut self, from: SocketAddr, seq: u32, target: &str) {
        if !self.is_me(target) {
            return; // meant for a previous owner of this address
        }
        let payload = self.ack_payload.clone();
        self.send(from, &[Msg::Ack { seq, payload }]);
    }

    pub(crate) fn on_ping_req(&mut self, from: SocketAddr, seq: u32, target: String, target_addr: SocketAddr, nack: bool, now: Now) {
        if self.is_me(&target) {
            return;
        }
        let local = self.next_seq();
        if self.relays.len() >= RELAY_CAPACITY {
            self.relays.pop_front();
        }
        self.relays.push_back(Relay { seq: local, origin: from, origin_seq: seq, deadline: now + self.cfg.probe_timeout, nack });
        self.send(target_addr, &[Msg::Ping { seq: local, target }]);
    }

    pub(crate) fn on_ack(&mut self, seq: u32, payload: Vec<u8>, now: Now) {
        if let Some(p) = &self.probe {
            if p.seq == seq {
                let p = self.probe.take().expect("checked");
                self.awareness.apply_delta(-1);
                if !p.indirect {
                    let rtt = now.saturating_sub(p.sent);
                    self.event(Event::PingComplete { node: p.target, rtt, payload });
                }
                return;
            }
        }
        if let Some(pos) = self.relays.iter().position(|r| r.seq == seq) {
            let r = self.relays.remove(pos).expect("position is valid");
            self.send(r.origin, &[Msg::Ack { seq: r.origin_seq, payload }]);
        }
    }

    pub(crate) fn on_nack(&mut self, seq: u32) {
        if let Some(p) = &mut self.probe {
            if p.seq == seq && p.indirect && p.nacks < p.expected_nacks {
                p.nacks += 1;
            }
        }
    }

    /// Relays whose target stayed silent: nack the origin if it asked.
    pub(crate) fn expire_relays(&mut self, now: Now) {
        while let Some(r) = self.relays.front() {
            if r.deadline > now {
                break;
            }
            let r = self.relays.pop_front().expect("front exists");
            if r.nack {
                self.send(r.origin, &[Msg::Nack { seq: r.origin_seq }]);
            }
        }
    }
}
