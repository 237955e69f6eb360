//! TCP push-pull: full state exchange (memberlist pushPull + serf
//! LocalState/MergeRemoteState), used to join and, periodically, to repair
//! what gossip missed (a healed partition converges this way).

use std::net::SocketAddr;
use std::time::Duration;

use rand::Rng;

use crate::broadcast::Key;
use crate::core::Gossip;
use crate::nodes::NodeState;
use crate::types::{DecodeError, Now, Status};
use crate::wire::{Accusation, Alive, Msg, Reader, Writer, VERSION};

/// memberlist pushPullScaleThreshold.
const SCALE_THRESHOLD: usize = 32;
const TARGETS_CAPACITY: usize = 4;
/// serf ReconnectInterval.
pub(crate) const RECONNECT_INTERVAL: Duration = Duration::from_secs(30);

struct Entry {
    alive: Alive,
    state: NodeState,
    status_ltime: u64,
    leaving: bool,
}

struct RemoteState {
    clock: u64,
    entries: Vec<Entry>,
}

/// memberlist pushPullScale: the interval grows with log2 of the pool size.
pub(crate) fn push_pull_scale(interval: Duration, n: usize) -> Duration {
    if n <= SCALE_THRESHOLD {
        return interval;
    }
    let mult = ((n as f64).log2() - (SCALE_THRESHOLD as f64).log2()).ceil() + 1.0;
    interval * (mult as u32)
}

impl Gossip {
    fn encode_state(&self, join: bool) -> Vec<u8> {
        let mut w = Writer::default();
        w.u8(VERSION);
        w.u8(join as u8);
        w.varint(self.clock);
        w.varint(self.nodes.len() as u64);
        for e in self.nodes.iter() {
            let m = &e.member;
            w.str(&m.name);
            w.addr(&m.addr);
            w.varint(m.incarnation as u64);
            w.u8(e.state() as u8);
            w.tags(&m.tags);
            w.varint(e.status_ltime);
            w.u8(matches!(m.status, Status::Leaving | Status::Left) as u8);
        }
        w.buf
    }

    fn decode_state(bytes: &[u8]) -> Result<RemoteState, DecodeError> {
        let mut r = Reader::new(bytes);
        if r.u8()? != VERSION {
            return Err(DecodeError("unsupported push-pull version"));
        }
        let _join = r.bool()?;
        let clock = r.varint()?;
        let n = r.varint()?;
        let mut entries = Vec::new();
        for _ in 0..n {
            // Each entry reads at least one byte, so a lying count fails fast.
            let node = r.name()?;
            let addr = r.addr()?;
            let incarnation = r.u32()?;
            let state = NodeState::from_u8(r.u8()?).ok_or(DecodeError("bad node state"))?;
            let tags = r.tags()?;
            let status_ltime = r.varint()?;
            let leaving = r.bool()?;
            entries.push(Entry { alive: Alive { node, addr, incarnation, tags }, state, status_ltime, leaving });
        }
        if !r.is_empty() {
            return Err(DecodeError("trailing bytes in push-pull"));
        }
        Ok(RemoteState { clock, entries })
    }

    fn merge_state(&mut self, remote: RemoteState, now: Now) {
        self.witness(remote.clock);
        let me = self.cfg.name.clone();
        for e in &remote.entries {
            let a = e.alive.clone();
            match e.state {
                NodeState::Alive => self.alive_node(a, now),
                NodeState::Left => {
                    let d = Accusation { node: a.node.clone(), incarnation: a.incarnation, from: a.node };
                    self.dead_node(d, now)
                }
                // Prefer suspecting over believing a remote death outright.
                NodeState::Dead | NodeState::Suspect => {
                    let s = Accusation { node: a.node, incarnation: a.incarnation, from: me.clone() };
                    self.suspect_node(s, now)
                }
            }
        }
        for e in remote.entries {
            let node = &e.alive.node;
            let news = if e.leaving {
                self.on_leave_intent(node, e.status_ltime, false, now)
            } else {
                self.on_join_intent(node, e.status_ltime, now)
            };
            let _ = news; // push-pull already carries the full state; no re-gossip
        }
    }

    /// Bytes to send when this node opens a push-pull (`join` = it is a join).
    pub fn push_pull_request(&mut self, join: bool, now: Now) -> Vec<u8> {
        let _ = now;
        if join && !self.leaving() {
            // serf broadcasts a fresh join intent when it joins.
            let t = self.clock;
            self.clock = self.clock.wrapping_add(1);
            let i = self.me_idx();
            self.nodes.at_mut(i).status_ltime = t;
            let me = self.cfg.name.clone();
            self.broadcast(Key::Join(me.clone()), &Msg::JoinIntent { node: me, ltime: t });
        }
        self.encode_state(join)
    }

    /// Another node opened a push-pull with `bytes`; returns our reply.
    pub fn handle_push_pull(&mut self, from: SocketAddr, bytes: &[u8], now: Now) -> Result<Vec<u8>, DecodeError> {
        let _ = from;
        let remote = Self::decode_state(bytes)?;
        let reply = self.encode_state(false);
        self.merge_state(remote, now);
        Ok(reply)
    }

    /// The reply to our push-pull arrived.
    pub fn handle_push_pull_reply(&mut self, from: SocketAddr, bytes: &[u8], now: Now) -> Result<(), DecodeError> {
        let _ = from;
        let remote = Self::decode_state(bytes)?;
        self.merge_state(remote, now);
        Ok(())
    }

    /// Where the core wants a periodic push-pull opened (poll after `tick`).
    pub fn take_push_pull_target(&mut self) -> Option<SocketAddr> {
        self.push_pull_targets.pop_front()
    }

    /// serf reconnect: now and then push-pull with a random failed member, with
    /// probability failed/alive, so a healed partition finds itself again
    /// (failed members are neither probed nor chosen for push-pull).
    pub(crate) fn reconnect(&mut self) {
        if self.leaving() {
            return;
        }
        let failed: Vec<usize> =
            (0..self.nodes.len()).filter(|&i| self.nodes.at(i).member.status == Status::Failed).collect();
        if failed.is_empty() {
            return;
        }
        let alive = self.nodes.live().max(1);
        let prob = (failed.len() as f64 / alive as f64).min(1.0);
        if self.rng.gen::<f64>() > prob {
            return;
        }
        let i = failed[self.rng.gen_range(0..failed.len())];
        self.queue_push_pull(self.nodes.at(i).member.addr);
    }

    fn queue_push_pull(&mut self, to: SocketAddr) {
        if self.push_pull_targets.len() >= TARGETS_CAPACITY {
            self.push_pull_targets.pop_front();
        }
        self.push_pull_targets.push_back(to);
    }

    pub(crate) fn schedule_push_pull(&mut self, now: Now) {
        let interval = push_pull_scale(self.cfg.push_pull_interval, self.nodes.live());
        self.next_push_pull = now + interval;
        if self.leaving() {
            return;
        }
        let me = self.cfg.name.clone();
        let peer = self.random_nodes(1, |e| e.state() == NodeState::Alive && e.member.name != me);
        if let Some(&i) = peer.first() {
            self.queue_push_pull(self.nodes.at(i).member.addr);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_matches_memberlist() {
        let s = Duration::from_secs(30);
        assert_eq!(push_pull_scale(s, 1), s);
        assert_eq!(push_pull_scale(s, 32), s);
        assert_eq!(push_pull_scale(s, 33), s * 2);
        assert_eq!(push_pull_scale(s, 64), s * 2);
        assert_eq!(push_pull_scale(s, 1000), s * 6);
    }
}
