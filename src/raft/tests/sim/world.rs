//! The simulated deployment: hosts (each a tiny driver around one `RaftNode`, with a
//! disk and a state machine), the network and the clock.
use crate::checker::{mix, Checker};
use crate::clock::Clock;
use crate::disk::Disk;
use crate::net::{Envelope, Net};
use ballast_raft::{
    decode_conf, ConfState, Config, EntryKind, HardState, Index, MessageBody, NodeId, RaftNode,
    Ready, Role, SnapshotMeta, Term,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashMap};

pub const TICK_MS: u64 = 10;

pub enum Ev {
    Tick(NodeId),
    Deliver(Envelope),
    Persisted { node: NodeId, epoch: u64 },
    Client,
    Fault,
}

pub struct Host {
    pub id: NodeId,
    pub raft: Option<RaftNode>,
    pub disk: Disk,
    inflight: Option<Ready>,
    epoch: u64,
    /// State machine: applied index and chain hash of everything applied.
    pub applied: Index,
    hash: u64,
    conf_applied: ConfState,
    snap_inbox: HashMap<Index, u64>,
    proposals: HashMap<Index, (Term, u64)>,
    /// Read ctx -> highest index known applied anywhere when the read was asked.
    reads: HashMap<u64, Index>,
}

impl Host {
    pub fn inflight_desc(&self) -> String {
        format!(
            "{:?} epoch {}",
            self.inflight.as_ref().map(|r| (
                r.entries.len(),
                r.messages.len(),
                r.committed_entries.len()
            )),
            self.epoch
        )
    }
}

/// What a run exercised, so a scenario can prove it reached the interesting paths.
#[derive(Default, Debug, Clone, Copy)]
pub struct Stats {
    pub snapshots_installed: u64,
    pub truncations: u64,
    pub crashes_mid_write: u64,
    pub leaderships: u64,
}

impl std::ops::AddAssign for Stats {
    fn add_assign(&mut self, o: Self) {
        self.snapshots_installed += o.snapshots_installed;
        self.truncations += o.truncations;
        self.crashes_mid_write += o.crashes_mid_write;
        self.leaderships += o.leaderships;
    }
}

pub struct Tuning {
    pub cfg: fn(NodeId) -> Config,
    pub compact_every: u64,
}

pub struct World {
    pub clock: Clock<Ev>,
    pub net: Net,
    pub rng: StdRng,
    pub hosts: BTreeMap<NodeId, Host>,
    pub check: Checker,
    pub ids: Vec<NodeId>,
    tuning: Tuning,
    next_value: u64,
    next_ctx: u64,
    /// (index, value, time) of proposals the proposer saw applied.
    pub acked: Vec<(Index, u64, u64)>,
    pub reads_done: u64,
    pub stats: Stats,
    pub membership: bool,
    pub crashes: bool,
    /// Past the chaos phase: no more faults.
    pub healed: bool,
    /// The client stops here so the cluster can quiesce before the final checks.
    pub client_stop_at: u64,
    seed: u64,
}

impl World {
    pub fn new(seed: u64, ids: &[NodeId], initial_voters: &[NodeId], tuning: Tuning) -> Self {
        let mut w = Self {
            clock: Clock::new(),
            net: Net::new(),
            rng: StdRng::seed_from_u64(seed),
            hosts: BTreeMap::new(),
            check: Checker::default(),
            ids: ids.to_vec(),
            tuning,
            next_value: 1,
            next_ctx: 1,
            acked: Vec::new(),
            reads_done: 0,
            stats: Stats::default(),
            membership: false,
            crashes: false,
            healed: false,
            client_stop_at: u64::MAX,
            seed,
        };
        let conf = ConfState {
            voters: initial_voters.to_vec(),
            learners: vec![],
        };
        for &id in ids {
            let disk = Disk {
                // Nodes outside the initial cluster start empty and wait to be added.
                initial_conf: if initial_voters.contains(&id) {
                    conf.clone()
                } else {
                    ConfState::default()
                },
                ..Disk::default()
            };
            let host = Host {
                id,
                raft: None,
                disk,
                inflight: None,
                epoch: 0,
                applied: 0,
                hash: 0,
                conf_applied: ConfState::default(),
                snap_inbox: HashMap::new(),
                proposals: HashMap::new(),
                reads: HashMap::new(),
            };
            w.hosts.insert(id, host);
            w.restart(id);
            let phase = w.rng.gen_range(0..TICK_MS);
            w.clock.at(phase, Ev::Tick(id));
        }
        w
    }

    #[allow(dead_code)]
    pub fn alive(&self) -> Vec<NodeId> {
        self.hosts
            .values()
            .filter(|h| h.raft.is_some())
            .map(|h| h.id)
            .collect()
    }

    pub fn crashed(&self) -> Vec<NodeId> {
        self.hosts
            .values()
            .filter(|h| h.raft.is_none())
            .map(|h| h.id)
            .collect()
    }

    pub fn leader(&self) -> Option<NodeId> {
        self.hosts
            .values()
            .filter_map(|h| h.raft.as_ref().map(|r| r.status()))
            .filter(|s| s.role == Role::Leader)
            .max_by_key(|s| s.term)
            .map(|s| s.id)
    }

    pub fn run_until(&mut self, end: u64) {
        let trace = std::env::var("SIM_TRACE")
            .ok()
            .and_then(|s| s.parse::<u64>().ok());
        while let Some(ev) = self.clock.pop_until(end) {
            if trace.is_some_and(|t| self.clock.now >= t) {
                match &ev {
                    Ev::Deliver(e) => eprintln!("{} deliver {:?}", self.clock.now, e.msg),
                    Ev::Persisted { node, epoch } => {
                        eprintln!("{} persisted {node} {epoch}", self.clock.now)
                    }
                    _ => {}
                }
            }
            match ev {
                Ev::Tick(id) => self.on_tick(id),
                Ev::Deliver(env) => self.deliver(env),
                Ev::Persisted { node, epoch } => self.persisted(node, epoch),
                Ev::Client => self.client(),
                Ev::Fault => crate::chaos::fault(self),
            }
        }
        self.clock.now = end;
    }

    fn on_tick(&mut self, id: NodeId) {
        if let Some(r) = self.hosts.get_mut(&id).and_then(|h| h.raft.as_mut()) {
            r.tick();
            self.touched(id);
        }
        self.clock.after(TICK_MS, Ev::Tick(id));
    }

    fn deliver(&mut self, env: Envelope) {
        let to = env.msg.to;
        let Some(h) = self.hosts.get_mut(&to) else {
            return;
        };
        let Some(raft) = h.raft.as_mut() else { return };
        if let Some((i, hash)) = env.snap_data {
            h.snap_inbox.insert(i, hash);
        }
        if let Err(e) = raft.step(env.msg.clone()) {
            panic!("seed {}: node {to} refused {:?}: {e}", self.seed, env.msg);
        }
        self.touched(to);
    }

    /// Observe invariants and start persisting the next Ready if the disk is idle.
    fn touched(&mut self, id: NodeId) {
        let h = self.hosts.get_mut(&id).expect("known host");
        let Some(raft) = h.raft.as_mut() else { return };
        self.check.observe(id, raft);
        if h.inflight.is_some() || !raft.has_ready() {
            return;
        }
        let rd = raft.ready();
        let delay = if rd.must_sync(&h.disk.hard) {
            self.rng.gen_range(1..=4)
        } else {
            0
        };
        h.inflight = Some(rd);
        let epoch = h.epoch;
        self.clock.after(delay, Ev::Persisted { node: id, epoch });
    }

    fn persisted(&mut self, id: NodeId, epoch: u64) {
        let seed = self.seed;
        let h = self.hosts.get_mut(&id).expect("known host");
        if h.epoch != epoch || h.raft.is_none() {
            return;
        }
        let Some(rd) = h.inflight.take() else { return };
        if let Some(meta) = &rd.snapshot {
            let hash = *h
                .snap_inbox
                .get(&meta.index)
                .unwrap_or_else(|| panic!("seed {seed}: snapshot data missing"));
            self.check.installed_snapshot(id, meta.index, hash);
            h.disk.install_snapshot(meta.clone(), hash);
            h.applied = meta.index;
            h.hash = hash;
            h.conf_applied = meta.conf.clone();
            h.snap_inbox.clear();
            self.stats.snapshots_installed += 1;
        }
        if rd
            .entries
            .first()
            .is_some_and(|e| e.index <= h.disk.last_index())
        {
            self.stats.truncations += 1;
        }
        if rd.soft_state.is_some_and(|s| s.role == Role::Leader) {
            self.stats.leaderships += 1;
        }
        if let Some(hs) = rd.hard_state {
            check_hard_state(id, &h.disk.hard, &hs);
            h.disk.hard = hs;
        }
        h.disk.write_entries(&rd.entries);
        let raft = h.raft.as_mut().expect("alive");
        raft.advance(&rd);
        for m in rd.messages {
            self.send(id, m);
        }
        for e in &rd.committed_entries {
            self.apply(id, e);
        }
        for rs in &rd.read_states {
            let h = self.hosts.get_mut(&id).expect("known host");
            if let Some(floor) = h.reads.remove(&rs.ctx) {
                assert!(
                    rs.index >= floor,
                    "seed {seed}: ReadIndex {} below index {floor} applied before the read",
                    rs.index
                );
                self.reads_done += 1;
            }
        }
        let h = self.hosts.get_mut(&id).expect("known host");
        let raft = h.raft.as_mut().expect("alive");
        raft.applied_to(h.applied);
        self.maybe_compact(id);
        self.touched(id);
    }

    fn apply(&mut self, id: NodeId, e: &ballast_raft::Entry) {
        let now = self.clock.now;
        let h = self.hosts.get_mut(&id).expect("known host");
        assert_eq!(e.index, h.applied + 1, "node {id} applies out of order");
        let durable = h.disk.entry(e.index).is_some_and(|d| d.term == e.term);
        assert!(
            durable,
            "node {id} applies entry {} that is not durable on its disk",
            e.index
        );
        h.hash = mix(h.hash, e);
        h.applied = e.index;
        self.check.applied_entry(id, e, h.hash);
        match e.kind {
            EntryKind::Config => {
                h.conf_applied = decode_conf(&e.data).expect("config entry decodes")
            }
            EntryKind::Normal => {
                let value = u64::from_le_bytes(e.data[..8].try_into().expect("8-byte proposals"));
                if h.proposals.remove(&e.index) == Some((e.term, value)) {
                    self.acked.push((e.index, value, now));
                }
            }
            EntryKind::Noop => {}
        }
    }

    fn maybe_compact(&mut self, id: NodeId) {
        let every = self.tuning.compact_every;
        let h = self.hosts.get_mut(&id).expect("known host");
        if every == 0 || h.applied < h.disk.snap_index() + every {
            return;
        }
        let Some(term) = self.check.applied.get(&h.applied).map(|e| e.term) else {
            return;
        };
        let meta = SnapshotMeta {
            index: h.applied,
            term,
            conf: h.conf_applied.clone(),
        };
        let raft = h.raft.as_mut().expect("alive");
        if raft.compact(meta.clone()) {
            h.disk.compact(meta, h.hash);
        }
    }

    fn send(&mut self, from: NodeId, m: ballast_raft::Message) {
        let mut snap_data = None;
        if let MessageBody::InstallSnapshot { meta } = &m.body {
            let h = self.hosts.get_mut(&from).expect("known host");
            match &h.disk.snapshot {
                Some((s, hash)) if s.index == meta.index => snap_data = Some((s.index, *hash)),
                _ => {
                    // The driver no longer has that snapshot file: the transfer fails.
                    h.raft.as_mut().expect("alive").report_snapshot(m.to, false);
                    return;
                }
            }
        }
        let env = Envelope { msg: m, snap_data };
        for d in self.net.route(&mut self.rng, from, env.msg.to) {
            self.clock.after(d, Ev::Deliver(env.clone()));
        }
    }

    /// The client: proposes on whoever is leader, sometimes asks for a linearizable read.
    fn client(&mut self) {
        if self.clock.now >= self.client_stop_at {
            return;
        }
        let delay = self.rng.gen_range(2..8);
        self.clock.after(delay, Ev::Client);
        // Like a real client, talk to any node that believes it leads: a deposed leader
        // that has not noticed yet must not serve stale reads nor lose acked writes.
        let leaders: Vec<NodeId> = self
            .hosts
            .values()
            .filter(|h| {
                h.raft
                    .as_ref()
                    .is_some_and(|r| r.status().role == Role::Leader)
            })
            .map(|h| h.id)
            .collect();
        let Some(&id) = leaders.get(self.rng.gen_range(0..leaders.len().max(1))) else {
            return;
        };
        let value = self.next_value;
        let floor = self.check.max_applied;
        let read = self.rng.gen_range(0..4) == 0;
        let ctx = self.next_ctx;
        let h = self.hosts.get_mut(&id).expect("known host");
        let raft = h.raft.as_mut().expect("alive");
        if read {
            if raft.read_index(ctx).is_ok() {
                h.reads.insert(ctx, floor);
                self.next_ctx += 1;
            }
        } else if let Ok(index) = raft.propose(EntryKind::Normal, value.to_le_bytes().to_vec()) {
            let term = raft.status().term;
            h.proposals.insert(index, (term, value));
            self.next_value += 1;
        }
        self.touched(id);
    }

    /// One client proposal on the current leader, if any (used after the client stopped).
    pub fn propose_probe(&mut self) {
        let Some(id) = self.leader() else { return };
        let value = self.next_value;
        let h = self.hosts.get_mut(&id).expect("known host");
        let raft = h.raft.as_mut().expect("alive");
        if let Ok(index) = raft.propose(EntryKind::Normal, value.to_le_bytes().to_vec()) {
            let term = raft.status().term;
            h.proposals.insert(index, (term, value));
            self.next_value += 1;
        }
        self.touched(id);
    }

    /// Proposes a membership change on the leader (membership scenario).
    pub fn propose_conf(&mut self, next: ConfState) {
        let Some(id) = self.leader() else { return };
        let raft = self
            .hosts
            .get_mut(&id)
            .and_then(|h| h.raft.as_mut())
            .expect("alive");
        let _ = raft.propose(EntryKind::Config, ballast_raft::encode_conf(&next));
        self.touched(id);
    }

    pub fn crash(&mut self, id: NodeId) {
        let h = self.hosts.get_mut(&id).expect("known host");
        if h.raft.take().is_none() {
            return;
        }
        h.epoch += 1;
        // A crash mid-write: the hard state may have landed, then part of the entries.
        if let Some(rd) = h.inflight.take() {
            self.stats.crashes_mid_write += 1;
            if rd.snapshot.is_none() && self.rng.gen_bool(0.5) {
                if let Some(hs) = rd.hard_state {
                    check_hard_state(id, &h.disk.hard, &hs);
                    h.disk.hard = hs;
                }
                let n = self.rng.gen_range(0..=rd.entries.len());
                h.disk.write_entries(&rd.entries[..n]);
            }
        }
    }

    pub fn restart(&mut self, id: NodeId) {
        let seed = self.seed ^ id.wrapping_mul(0x51_7CC1_B727_220A);
        let cfg = (self.tuning.cfg)(id);
        let h = self.hosts.get_mut(&id).expect("known host");
        if h.raft.is_some() {
            return;
        }
        let boot = h.disk.bootstrap();
        let raft = RaftNode::new(cfg, boot, seed.wrapping_add(h.epoch))
            .unwrap_or_else(|e| panic!("seed {}: node {id} cannot restart: {e}", self.seed));
        h.raft = Some(raft);
        h.inflight = None;
        h.snap_inbox.clear();
        h.proposals.clear();
        h.reads.clear();
        match &h.disk.snapshot {
            Some((m, hash)) => {
                h.applied = m.index;
                h.hash = *hash;
                h.conf_applied = m.conf.clone();
            }
            None => {
                h.applied = 0;
                h.hash = 0;
                h.conf_applied = h.disk.initial_conf.clone();
            }
        }
        self.check.restarted(id);
        self.touched(id);
    }
}

/// Durable term never goes back; a durable vote never changes within a term.
fn check_hard_state(id: NodeId, old: &HardState, new: &HardState) {
    assert!(
        new.term >= old.term,
        "node {id} persisted term {} after {}",
        new.term,
        old.term
    );
    if new.term == old.term && old.vote != 0 {
        assert_eq!(
            new.vote, old.vote,
            "node {id} voted twice in term {}",
            new.term
        );
    }
}
