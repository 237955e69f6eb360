//! The `Gossip` state machine: construction, public accessors and the small
//! helpers every part shares (sending with piggybacked broadcasts, events).

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::awareness::Awareness;
use crate::broadcast::{retransmit_limit, BroadcastQueue, Key};
use crate::config::Config;
use crate::fxhash::FxMap;
use crate::metrics::Metrics;
use crate::nodes::{NodeEntry, NodeState, Nodes};
use crate::probe::{Probe, Relay};
use crate::query::Queries;
use crate::serf::Intent;
use crate::suspicion::Suspicion;
use crate::types::{Event, Member, Now, Output, Status};
use crate::wire::{self, Alive, Msg};

/// Broadcasts queued at most (Serf's MaxQueueDepth default).
pub(crate) const BROADCAST_CAPACITY: usize = 4096;
/// Pending outputs at most; beyond it new datagrams are dropped (as a full
/// socket buffer would). Events are never dropped: they are bounded by the
/// work of one call.
pub(crate) const OUTPUT_CAPACITY: usize = 65536;
/// Ack payload limit (Vivaldi coordinates need well under this).
pub const MAX_ACK_PAYLOAD: usize = 128;

/// One member's gossip state machine. `Clone` snapshots it whole (the
/// simulator forks a formed pool this way).
#[derive(Clone)]
pub struct Gossip {
    pub(crate) cfg: Config,
    pub(crate) rng: StdRng,
    pub(crate) nodes: Nodes,
    pub(crate) awareness: Awareness,
    pub(crate) seq: u32,
    pub(crate) probe_list: Vec<usize>,
    pub(crate) probe_pos: usize,
    pub(crate) probe: Option<Probe>,
    pub(crate) relays: VecDeque<Relay>,
    pub(crate) next_probe: Now,
    pub(crate) next_gossip: Now,
    pub(crate) next_push_pull: Now,
    pub(crate) next_reap: Now,
    pub(crate) next_reconnect: Now,
    pub(crate) suspicions: BTreeMap<String, Suspicion>,
    pub(crate) broadcasts: BroadcastQueue,
    pub(crate) outputs: VecDeque<Output>,
    /// Serf's Lamport clock (intents and queries).
    pub(crate) clock: u64,
    pub(crate) recent_intents: FxMap<String, Intent>,
    pub(crate) ack_payload: Vec<u8>,
    pub(crate) queries: Queries,
    pub(crate) push_pull_targets: VecDeque<SocketAddr>,
    /// Broadcast ids of our leave intent and leave message, once `leave` ran.
    pub(crate) leave: Option<[u64; 2]>,
    pub(crate) metrics: Metrics,
    /// Lifeguard: our own timers may not accuse anyone before this (see `tick`).
    pub(crate) hold_accusations_until: Now,
}

impl Gossip {
    pub fn new(cfg: Config, now: Now, seed: u64) -> Gossip {
        let mut rng = StdRng::seed_from_u64(seed);
        let awareness = Awareness::new(if cfg.lifeguard { cfg.awareness_max_multiplier } else { 1 });
        // Stagger the periodic work so a pool started at once does not beat in step.
        let stagger = |rng: &mut StdRng, d: std::time::Duration| d.mul_f64(rng.gen::<f64>());
        let next_probe = now + stagger(&mut rng, cfg.probe_interval);
        let next_gossip = now + stagger(&mut rng, cfg.gossip_interval);
        let next_push_pull = now + cfg.push_pull_interval + stagger(&mut rng, cfg.push_pull_interval);
        let mut g = Gossip {
            rng,
            nodes: Nodes::default(),
            awareness,
            seq: 0,
            probe_list: Vec::new(),
            probe_pos: 0,
            probe: None,
            relays: VecDeque::new(),
            next_probe,
            next_gossip,
            next_push_pull,
            next_reap: now + cfg.reap_interval,
            next_reconnect: now + crate::pushpull::RECONNECT_INTERVAL,
            suspicions: BTreeMap::new(),
            broadcasts: BroadcastQueue::new(BROADCAST_CAPACITY),
            outputs: VecDeque::new(),
            clock: 0,
            recent_intents: FxMap::default(),
            ack_payload: Vec::new(),
            queries: Queries::default(),
            push_pull_targets: VecDeque::new(),
            leave: None,
            metrics: Metrics::default(),
            hold_accusations_until: now,
            cfg,
        };
        let me = Member {
            name: g.cfg.name.clone(),
            addr: g.cfg.addr,
            tags: g.cfg.tags.clone(),
            status: Status::Alive,
            incarnation: 0,
            status_since: now,
        };
        let i = g.nodes.insert(NodeEntry::new(me, NodeState::Alive, now));
        g.clock = 1;
        g.nodes.at_mut(i).status_ltime = 1;
        g.broadcast_self_alive();
        g.broadcast(Key::Join(g.cfg.name.clone()), &Msg::JoinIntent { node: g.cfg.name.clone(), ltime: 1 });
        g
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Everything to send and report, in order.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    pub fn members(&self) -> impl Iterator<Item = &Member> {
        self.nodes.iter().map(|e| &e.member)
    }

    pub fn member(&self, name: &str) -> Option<&Member> {
        self.nodes.get(name).map(|e| &e.member)
    }

    /// Lifeguard awareness score (0 = healthy).
    pub fn local_health(&self) -> u32 {
        self.awareness.score()
    }

    /// Members SWIM considers alive or suspect, ourselves included.
    pub fn num_alive(&self) -> usize {
        self.nodes.live()
    }

    /// Payload returned in our acks (at most `MAX_ACK_PAYLOAD` bytes; longer is cut).
    pub fn set_ack_payload(&mut self, mut payload: Vec<u8>) {
        payload.truncate(MAX_ACK_PAYLOAD);
        self.ack_payload = payload;
    }

    /// Failure-detector counters since construction.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Broadcasts waiting to be gossiped (for drivers' metrics).
    pub fn broadcast_queue_len(&self) -> usize {
        self.broadcasts.len()
    }

    // ---------- shared helpers ----------

    pub(crate) fn is_me(&self, name: &str) -> bool {
        name == self.cfg.name
    }

    pub(crate) fn me(&self) -> &NodeEntry {
        self.nodes.get(&self.cfg.name).expect("own entry is never removed")
    }

    pub(crate) fn me_idx(&self) -> usize {
        self.nodes.idx(&self.cfg.name).expect("own entry is never removed")
    }

    pub(crate) fn leaving(&self) -> bool {
        self.leave.is_some()
    }

    pub(crate) fn event(&mut self, e: Event) {
        self.outputs.push_back(Output::Event(e));
    }

    pub(crate) fn broadcast(&mut self, key: Key, msg: &Msg) -> u64 {
        self.broadcasts.push(key, wire::encode_msg(msg))
    }

    pub(crate) fn broadcast_self_alive(&mut self) -> u64 {
        let me = &self.me().member;
        let msg = Msg::Alive(Alive {
            node: me.name.clone(),
            addr: me.addr,
            incarnation: me.incarnation,
            tags: me.tags.clone(),
        });
        self.broadcast(Key::Member(self.cfg.name.clone()), &msg)
    }

    pub(crate) fn retransmit_limit(&self) -> u32 {
        retransmit_limit(self.cfg.retransmit_mult, self.nodes.live())
    }

    /// Send `msgs` in one datagram, filling the rest of the budget with broadcasts.
    pub(crate) fn send(&mut self, to: SocketAddr, msgs: &[Msg]) {
        let mut bytes = Vec::with_capacity(self.cfg.packet_budget);
        bytes.push(wire::VERSION);
        for m in msgs {
            bytes.extend_from_slice(&wire::encode_msg(m));
        }
        if bytes.len() > self.cfg.packet_budget {
            return; // cannot fit even alone; callers check sizes, so this is rare
        }
        let limit = self.retransmit_limit();
        let room = self.cfg.packet_budget - bytes.len();
        self.broadcasts.take(room, limit, &mut bytes);
        self.push_packet(to, bytes);
    }

    pub(crate) fn push_packet(&mut self, to: SocketAddr, bytes: Vec<u8>) {
        if self.outputs.len() >= OUTPUT_CAPACITY {
            return;
        }
        self.outputs.push_back(Output::Packet { to, bytes });
    }

    /// Up to `k` distinct random node indices passing `keep` (memberlist kRandomNodes).
    pub(crate) fn random_nodes(&mut self, k: usize, keep: impl Fn(&NodeEntry) -> bool) -> Vec<usize> {
        let n = self.nodes.len();
        let mut out = Vec::with_capacity(k);
        for _ in 0..3 * n {
            if out.len() >= k {
                break;
            }
            let i = self.rng.gen_range(0..n);
            if out.contains(&i) || !keep(self.nodes.at(i)) {
                continue;
            }
            out.push(i);
        }
        out
    }
}
