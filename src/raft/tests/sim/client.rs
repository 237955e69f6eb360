//! The simulated client and its history. It talks to any node that believes it leads
//! (a deposed leader that has not noticed yet must neither serve stale reads nor lose
//! acknowledged writes): writes and cas through `propose`, reads through `read_index`
//! then the local state machine. Every operation is recorded with its invocation and
//! completion times on the virtual clock; an operation that never completes stays
//! pending (it may or may not have taken effect).
//!
//! Before checking, the history is tightened with what the simulator knows for sure: a
//! write took effect no later than the first time any node applied it (it committed
//! before that), so its response time becomes the earlier of that and the client's
//! answer, and a pending write that some node applied gets that time and outcome. A
//! pending write no node ever applied had no effect anyone could observe, so it is
//! left out. Every history the client alone could see as non-linearizable stays so
//! (intervals only shrink), and the search no longer has to guess where dozens of
//! lost writes might have gone, which is what kept it exponential.
use crate::kv::{Op, Outcome, KEYS};
use crate::linearizability::{check_register, CheckError, Event};
use crate::world::{Ev, World};
use ballast_raft::{Index, NodeId, Role};
use rand::Rng;
use std::collections::{BTreeMap, HashMap};

/// Search states allowed per key before the checker gives up (a failure: histories are
/// kept small enough that a correct run never comes near it).
const SEARCH_BUDGET: u64 = 2_000_000;

/// Like a fixed pool of client threads: at most this many operations wait for an answer;
/// one that waited `OP_TIMEOUT_MS` is given up on (it stays pending in the history) and
/// frees its slot. This bounds how many operations overlap, which is what the
/// linearizability search is exponential in.
const MAX_OUTSTANDING: usize = 5;
const OP_TIMEOUT_MS: u64 = 250;

#[derive(Default)]
pub struct History {
    next: u64,
    ops: BTreeMap<u64, (u8, Event)>,
    /// What the client last saw in each register: cas operations expect it.
    last_seen: [u64; KEYS],
    /// (op id, invocation time) of operations still waited for.
    outstanding: Vec<(u64, u64)>,
    /// Op id -> (time, index, outcome) of its first application on any node.
    applied_at: HashMap<u64, (u64, Index, Outcome)>,
}

impl History {
    /// Ids double as written values, so every write is unique and 0 is "never written".
    pub fn peek_id(&self) -> u64 {
        self.next.max(1)
    }

    pub fn next_id(&mut self) -> u64 {
        let id = self.peek_id();
        self.next = id + 1;
        id
    }

    pub fn invoke(&mut self, id: u64, key: u8, op: Op, now: u64) {
        let ev = Event {
            id,
            op,
            invoke: now,
            done: None,
        };
        self.ops.insert(id, (key, ev));
        self.outstanding.push((id, now));
    }

    /// Whether the client may start another operation now.
    fn has_free_slot(&mut self, now: u64) -> bool {
        let ops = &self.ops;
        self.outstanding.retain(|&(id, at)| {
            now < at + OP_TIMEOUT_MS && ops.get(&id).is_some_and(|(_, e)| e.done.is_none())
        });
        self.outstanding.len() < MAX_OUTSTANDING
    }

    pub fn key_of(&self, id: u64) -> u8 {
        self.ops[&id].0
    }

    pub fn complete(&mut self, id: u64, outcome: Outcome, now: u64) {
        let Some((key, ev)) = self.ops.get_mut(&id) else {
            return;
        };
        if ev.done.is_some() {
            return;
        }
        ev.done = Some((now, outcome));
        let seen = &mut self.last_seen[usize::from(*key)];
        match (ev.op, outcome) {
            (_, Outcome::Value(v)) | (Op::Write(v), _) => *seen = v,
            (Op::Cas { new, .. }, Outcome::Swapped(true)) => *seen = new,
            _ => {}
        }
    }

    pub fn applied(&mut self, id: u64, index: Index, outcome: Outcome, now: u64) {
        self.applied_at.entry(id).or_insert((now, index, outcome));
    }

    /// The history of `key`, tightened with the cluster's ground truth (module docs).
    fn events_of(&self, key: u8) -> Vec<Event> {
        self.ops
            .values()
            .filter(|(k, _)| *k == key)
            .filter_map(|&(_, mut e)| {
                if e.op == Op::Read {
                    return Some(e);
                }
                match (e.done, self.applied_at.get(&e.id)) {
                    (Some((t, outcome)), Some(&(first, _, _))) => {
                        e.done = Some((t.min(first), outcome))
                    }
                    (None, Some(&(first, _, outcome))) => e.done = Some((first, outcome)),
                    (Some(_), None) => {
                        panic!("op {} completed without being applied", e.id)
                    }
                    (None, None) => return None,
                }
                Some(e)
            })
            .collect()
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Checks every key's history; panics with the seed and the stuck operations.
    /// Returns the number of search states explored.
    pub fn check(&self, seed: u64) -> u64 {
        let mut explored = 0;
        for key in 0..KEYS as u8 {
            let events = self.events_of(key);
            match check_register(&events, SEARCH_BUDGET) {
                Ok(n) => explored += n,
                Err(CheckError::Exhausted { budget }) => {
                    if std::env::var("SIM_DUMP_HISTORY").is_ok() {
                        for e in &events {
                            eprintln!("{:?} {:?}", e, self.applied_at.get(&e.id));
                        }
                    }
                    panic!(
                        "seed {seed}: key {key}: linearizability search gave up after {budget} \
                     states over {} ops (replay with SIM_SEED={seed})",
                        events.len()
                    )
                }
                Err(CheckError::Violation {
                    linearized,
                    value,
                    stuck,
                }) => {
                    let stuck: Vec<String> = stuck
                        .iter()
                        .map(|e| {
                            let at = self.applied_at.get(&e.id).map(|a| (a.0, a.1));
                            format!("{e:?} first applied (time, index) {at:?}")
                        })
                        .collect();
                    panic!(
                        "seed {seed}: key {key}: client history is not linearizable \
                         ({} ops; replay with SIM_SEED={seed}). The deepest attempt \
                         linearized {linearized} completed ops leaving the register at \
                         {value}; none of these fits next:\n{}",
                        events.len(),
                        stuck.join("\n")
                    )
                }
            }
        }
        explored
    }
}

impl World {
    /// One client operation on a node that believes it leads; reschedules itself.
    pub fn client(&mut self) {
        if self.clock.now >= self.client_stop_at {
            return;
        }
        let delay = self.rng.gen_range(2..8);
        self.clock.after(delay, Ev::Client);
        if !self.history.has_free_slot(self.clock.now) {
            return;
        }
        let leaders: Vec<NodeId> = self
            .hosts
            .values()
            .filter(|h| !self.paused.contains_key(&h.id))
            .filter(|h| h.raft.as_ref().is_some_and(|r| r.role() == Role::Leader))
            .map(|h| h.id)
            .collect();
        let Some(&id) = leaders.get(self.rng.gen_range(0..leaders.len().max(1))) else {
            return;
        };
        let key = self.rng.gen_range(0..KEYS as u8);
        let value = self.history.peek_id();
        match self.rng.gen_range(0..10) {
            0..=3 => {
                self.start_read(id, key);
            }
            4..=7 => {
                self.propose_write(id, key, Op::Write(value));
            }
            _ => {
                let expect = self.history.last_seen[usize::from(key)];
                self.propose_write(id, key, Op::Cas { expect, new: value });
            }
        }
    }
}
