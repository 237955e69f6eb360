//! The Serf layer (hashicorp/serf serf.go): join/leave intents ordered by a
//! Lamport clock, graceful leave, force-leave with prune, tags, and the reap
//! of failed and left members.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::broadcast::Key;
use crate::core::Gossip;
use crate::nodes::NodeState;
use crate::serial::ltime_newer;
use crate::types::{Event, Now, Status};
use crate::wire::{Accusation, Msg};

/// Intents about members we do not know yet, kept for when they join.
const RECENT_INTENTS_CAPACITY: usize = 1024;
/// ... and for this long (serf's recentIntentTimeout).
const RECENT_INTENT_TTL: Duration = Duration::from_secs(300);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IntentKind {
    Join,
    Leave,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Intent {
    pub kind: IntentKind,
    pub ltime: u64,
    pub at: Now,
}

impl Gossip {
    pub(crate) fn witness(&mut self, ltime: u64) {
        if !ltime_newer(self.clock, ltime) {
            self.clock = ltime.wrapping_add(1);
        }
    }

    fn tick_clock(&mut self) -> u64 {
        let t = self.clock;
        self.clock = self.clock.wrapping_add(1);
        t
    }

    /// Remember an intent about an unknown member; true if it was news.
    fn upsert_intent(&mut self, node: &str, kind: IntentKind, ltime: u64, now: Now) -> bool {
        if let Some(old) = self.recent_intents.get(node) {
            if !ltime_newer(ltime, old.ltime) {
                return false;
            }
        } else if self.recent_intents.len() >= RECENT_INTENTS_CAPACITY {
            let oldest = self.recent_intents.iter().min_by_key(|(_, i)| i.at).map(|(n, _)| n.clone());
            if let Some(n) = oldest {
                self.recent_intents.remove(&n);
            }
        }
        self.recent_intents.insert(node.to_string(), Intent { kind, ltime, at: now });
        true
    }

    /// A member just joined (or came back): apply what intents said about it.
    pub(crate) fn apply_recent_intents(&mut self, node: &str, now: Now) {
        if self.recent_intents.is_empty() {
            return;
        }
        let Some(intent) = self.recent_intents.remove(node) else { return };
        let Some(i) = self.nodes.idx(node) else { return };
        let e = self.nodes.at_mut(i);
        if !ltime_newer(intent.ltime, e.status_ltime) {
            return;
        }
        e.status_ltime = intent.ltime;
        if intent.kind == IntentKind::Leave && e.member.status == Status::Alive {
            e.member.status = Status::Leaving;
            e.member.status_since = now;
        }
    }

    /// serf handleNodeJoinIntent; true = news worth re-gossiping.
    pub(crate) fn on_join_intent(&mut self, node: &str, ltime: u64, now: Now) -> bool {
        self.witness(ltime);
        let Some(i) = self.nodes.idx(node) else {
            return self.upsert_intent(node, IntentKind::Join, ltime, now);
        };
        let e = self.nodes.at_mut(i);
        if !ltime_newer(ltime, e.status_ltime) {
            return false;
        }
        e.status_ltime = ltime;
        if e.member.status == Status::Leaving {
            // The leave we saw was older than this join.
            e.member.status = Status::Alive;
            e.member.status_since = now;
            let m = e.member.clone();
            self.event(Event::Update(m));
        }
        true
    }

    /// serf handleNodeLeaveIntent; true = news worth re-gossiping.
    pub(crate) fn on_leave_intent(&mut self, node: &str, ltime: u64, prune: bool, now: Now) -> bool {
        self.witness(ltime);
        let Some(i) = self.nodes.idx(node) else {
            return self.upsert_intent(node, IntentKind::Leave, ltime, now);
        };
        if !ltime_newer(ltime, self.nodes.at(i).status_ltime) {
            return false;
        }
        if self.is_me(node) && !self.leaving() {
            // We are not leaving: answer with a newer join intent.
            let t = self.tick_clock();
            self.nodes.at_mut(i).status_ltime = t;
            self.broadcast(Key::Join(node.to_string()), &Msg::JoinIntent { node: node.to_string(), ltime: t });
            return false;
        }
        let e = self.nodes.at_mut(i);
        e.status_ltime = ltime;
        match e.member.status {
            Status::Alive => {
                e.member.status = Status::Leaving;
                e.member.status_since = now;
                let m = e.member.clone();
                self.event(Event::Update(m));
            }
            Status::Failed => {
                e.member.status = Status::Left;
                e.member.status_since = now;
                let m = e.member.clone();
                self.event(Event::Leave(m));
            }
            Status::Leaving | Status::Left => {}
            Status::None => return false,
        }
        if prune && !self.is_me(node) {
            self.forget(node);
        }
        true
    }

    /// Erase a member (Event::Reap).
    pub(crate) fn forget(&mut self, node: &str) {
        if self.is_me(node) {
            return;
        }
        self.suspicions.remove(node);
        if let Some(e) = self.nodes.remove(node) {
            self.reset_probe_round();
            self.event(Event::Reap(e.member));
        }
    }

    /// Broadcast a leave intent and our leave; status Leaving, then Left once
    /// both have been gossiped enough (`leave_done`).
    pub fn leave(&mut self, now: Now) {
        if self.leaving() {
            return;
        }
        let me = self.cfg.name.clone();
        let i = self.me_idx();
        let t = self.tick_clock();
        let e = self.nodes.at_mut(i);
        e.status_ltime = t;
        e.member.status = Status::Leaving;
        e.member.status_since = now;
        let inc = e.member.incarnation;
        let intent = self.broadcast(Key::Leave(me.clone()), &Msg::LeaveIntent { node: me.clone(), ltime: t, prune: false });
        let dead = Msg::Dead(Accusation { node: me.clone(), incarnation: inc, from: me.clone() });
        let gone = self.broadcast(Key::Member(me), &dead);
        self.nodes.set_state(i, NodeState::Left, now);
        self.probe = None;
        self.leave = Some([intent, gone]);
        self.finish_leave(now);
    }

    /// Our leave has been gossiped enough that we may stop.
    pub fn leave_done(&self) -> bool {
        match self.leave {
            None => false,
            Some(ids) => self.nodes.live() == 0 || ids.iter().all(|id| !self.broadcasts.contains(*id)),
        }
    }

    pub(crate) fn finish_leave(&mut self, now: Now) {
        if !self.leave_done() {
            return;
        }
        let i = self.me_idx();
        let e = self.nodes.at_mut(i);
        if e.member.status != Status::Left {
            e.member.status = Status::Left;
            e.member.status_since = now;
        }
    }

    /// New tags: a new incarnation announces them.
    pub fn set_tags(&mut self, tags: BTreeMap<String, String>, now: Now) {
        let _ = now;
        if self.leaving() {
            return;
        }
        self.cfg.tags = tags.clone();
        let i = self.me_idx();
        let e = self.nodes.at_mut(i);
        e.member.tags = tags;
        e.member.incarnation = e.member.incarnation.wrapping_add(1);
        let m = e.member.clone();
        self.broadcast_self_alive();
        self.event(Event::Update(m));
    }

    /// serf RemoveFailedNode: a failed (or left) member becomes Left; with
    /// `prune` it is forgotten at once. An alive member is marked Leaving and
    /// will refute if it is really there.
    pub fn force_leave(&mut self, name: &str, prune: bool, now: Now) -> Result<(), String> {
        if self.is_me(name) {
            return Err(format!("cannot force-leave the local node {name:?}; use leave"));
        }
        if self.nodes.get(name).is_none() {
            return Err(format!("no member named {name:?}"));
        }
        let t = self.tick_clock();
        self.on_leave_intent(name, t, prune, now);
        let msg = Msg::LeaveIntent { node: name.to_string(), ltime: t, prune };
        self.broadcast(Key::Leave(name.to_string()), &msg);
        Ok(())
    }

    /// Forget members failed longer than reconnect_timeout and left longer than
    /// tombstone_timeout; drop stale intents.
    pub(crate) fn reap(&mut self, now: Now) {
        let (reconnect, tombstone) = (self.cfg.reconnect_timeout, self.cfg.tombstone_timeout);
        let gone: Vec<String> = self
            .nodes
            .iter()
            .filter(|e| {
                let age = now.saturating_sub(e.member.status_since);
                match e.member.status {
                    Status::Failed => age > reconnect,
                    Status::Left => age > tombstone,
                    _ => false,
                }
            })
            .map(|e| e.member.name.clone())
            .collect();
        for name in gone {
            self.forget(&name);
        }
        self.recent_intents.retain(|_, i| now.saturating_sub(i.at) <= RECENT_INTENT_TTL);
    }
}
