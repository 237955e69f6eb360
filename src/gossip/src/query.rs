//! Serf queries: gossiped to every member, deduplicated by (origin, id),
//! answered straight to the originator by UDP; the originator reports each
//! distinct responder once and the end of the query at its timeout.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use rand::Rng;

use crate::broadcast::Key;
use crate::core::Gossip;
use crate::types::{Event, Now};
use crate::wire::{self, Msg, QueryMsg};

const OPEN_CAPACITY: usize = 256;
const SEEN_CAPACITY: usize = 4096;
const PENDING_CAPACITY: usize = 1024;
/// serf QueryTimeoutMult.
const QUERY_TIMEOUT_MULT: u32 = 16;
/// Longest timeout a remote query may ask us to keep its answer slot.
const MAX_REMOTE_TIMEOUT: Duration = Duration::from_secs(3600);

#[derive(Clone)]
pub(crate) struct OpenQuery {
    deadline: Now,
    responders: HashSet<String>,
}

#[derive(Clone)]
pub(crate) struct Pending {
    to: SocketAddr,
    origin: String,
    deadline: Now,
}

#[derive(Default, Clone)]
pub(crate) struct Queries {
    open: BTreeMap<u64, OpenQuery>,
    seen: HashSet<(String, u64)>,
    seen_order: VecDeque<(String, u64)>,
    pending: BTreeMap<u64, Pending>,
}

impl Queries {
    /// First sighting of (origin, id)?
    fn first_sight(&mut self, origin: &str, id: u64) -> bool {
        let key = (origin.to_string(), id);
        if self.seen.contains(&key) {
            return false;
        }
        if self.seen_order.len() >= SEEN_CAPACITY {
            if let Some(old) = self.seen_order.pop_front() {
                self.seen.remove(&old);
            }
        }
        self.seen.insert(key.clone());
        self.seen_order.push_back(key);
        true
    }

    fn add_pending(&mut self, id: u64, p: Pending) {
        if self.pending.len() >= PENDING_CAPACITY && !self.pending.contains_key(&id) {
            let soonest = self.pending.iter().min_by_key(|(_, p)| p.deadline).map(|(k, _)| *k);
            if let Some(k) = soonest {
                self.pending.remove(&k);
            }
        }
        self.pending.insert(id, p);
    }

    pub fn next_deadline(&self) -> Option<Now> {
        self.open.values().map(|q| q.deadline).min()
    }
}

impl Gossip {
    /// serf's default query timeout: gossip_interval * 16 * ceil(log10(n+1)).
    pub fn default_query_timeout(&self) -> Duration {
        let scale = ((self.nodes.live() as f64) + 1.0).log10().ceil().max(1.0) as u32;
        self.cfg.gossip_interval * QUERY_TIMEOUT_MULT * scale
    }

    /// Start a query (every member, ourselves included, gets `Event::Query`).
    /// A zero `timeout` means Serf's default. Returns the query id.
    pub fn query(&mut self, name: &str, payload: Vec<u8>, timeout: Duration, now: Now) -> u64 {
        let timeout = if timeout.is_zero() { self.default_query_timeout() } else { timeout };
        let id: u64 = self.rng.gen();
        let ltime = self.clock;
        self.clock = self.clock.wrapping_add(1);
        if self.queries.open.len() >= OPEN_CAPACITY {
            if let Some((&old, _)) = self.queries.open.iter().min_by_key(|(_, q)| q.deadline) {
                self.queries.open.remove(&old);
                self.event(Event::QueryDone { id: old });
            }
        }
        self.queries.open.insert(id, OpenQuery { deadline: now + timeout, responders: HashSet::new() });
        let me = self.cfg.name.clone();
        let q = QueryMsg {
            id,
            ltime,
            origin: me.clone(),
            origin_addr: self.cfg.addr,
            timeout_ms: timeout.as_millis().min(u64::MAX as u128) as u64,
            name: name.to_string(),
            payload: payload.clone(),
        };
        self.queries.first_sight(&me, id);
        let frame = wire::encode_msg(&Msg::Query(q));
        if frame.len() < self.cfg.packet_budget {
            self.broadcasts.push(Key::Unique, frame);
        }
        let pending = Pending { to: self.cfg.addr, origin: me.clone(), deadline: now + timeout };
        self.queries.add_pending(id, pending);
        self.event(Event::Query { id, from: me, name: name.to_string(), payload });
        id
    }

    pub(crate) fn on_query(&mut self, q: QueryMsg, now: Now) {
        self.witness(q.ltime);
        if !self.queries.first_sight(&q.origin, q.id) {
            return;
        }
        self.broadcast(Key::Unique, &Msg::Query(q.clone()));
        let timeout = Duration::from_millis(q.timeout_ms).min(MAX_REMOTE_TIMEOUT);
        let pending = Pending { to: q.origin_addr, origin: q.origin.clone(), deadline: now + timeout };
        self.queries.add_pending(q.id, pending);
        self.event(Event::Query { id: q.id, from: q.origin, name: q.name, payload: q.payload });
    }

    /// Answer a query we got as `Event::Query` (once; late or unknown ids are ignored).
    pub fn respond(&mut self, id: u64, payload: Vec<u8>, now: Now) {
        let Some(p) = self.queries.pending.remove(&id) else { return };
        if now > p.deadline {
            return;
        }
        let me = self.cfg.name.clone();
        if p.origin == me {
            self.on_query_response(id, me, payload, now);
            return;
        }
        self.send(p.to, &[Msg::QueryResponse { id, from: me, payload }]);
    }

    pub(crate) fn on_query_response(&mut self, id: u64, from: String, payload: Vec<u8>, now: Now) {
        let Some(q) = self.queries.open.get_mut(&id) else { return };
        if now > q.deadline || !q.responders.insert(from.clone()) {
            return;
        }
        self.event(Event::QueryResponse { id, from, payload });
    }

    pub(crate) fn expire_queries(&mut self, now: Now) {
        let done: Vec<u64> = self.queries.open.iter().filter(|(_, q)| q.deadline <= now).map(|(id, _)| *id).collect();
        for id in done {
            self.queries.open.remove(&id);
            self.event(Event::QueryDone { id });
        }
        self.queries.pending.retain(|_, p| p.deadline >= now);
    }
}
