//! The simulated deployment: hosts (each a tiny driver around one `RaftNode`, with a
//! disk and a state machine), the network and the clock. Hosts can be paused (a stopped
//! process: no ticks, nothing received, writes finishing unseen) and resumed.
use crate::checker::Checker;
use crate::client::History;
use crate::clock::Clock;
use crate::disk::Disk;
use crate::kv::{Command, Sm};
use crate::net::{Envelope, Net};
use ballast_raft::{
    decode_conf, ConfState, Config, EntryKind, HardState, Index, MessageBody, NodeId, RaftNode,
    Ready, Role, ServerInfo, SnapshotMeta, Term,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashMap, VecDeque};

pub const TICK_MS: u64 = 10;

pub enum Ev {
    Tick(NodeId),
    Deliver(Envelope),
    Persisted { node: NodeId, epoch: u64 },
    Client,
    Fault,
}

/// Events a paused host will see when it resumes, bounded like a socket buffer.
pub const MAX_HELD: usize = 50_000;

pub struct Pause {
    /// Messages to the host wait for it (a stopped process) or are lost (its buffers
    /// overflowed, or the connection was reset).
    pub hold_messages: bool,
    pub held: VecDeque<Ev>,
}

/// A read the leader confirmed, waiting for the state machine to reach its index.
pub struct ConfirmedRead {
    pub index: Index,
    pub ctx: u64,
}

pub struct Host {
    pub id: NodeId,
    pub raft: Option<RaftNode>,
    pub disk: Disk,
    inflight: Option<Ready>,
    epoch: u64,
    /// State machine: the registers and the chain hash of everything applied.
    pub applied: Index,
    pub sm: Sm,
    conf_applied: ConfState,
    snap_inbox: HashMap<Index, Sm>,
    /// Index -> (term, op id) of the client writes this host proposed.
    pub proposals: HashMap<Index, (Term, u64)>,
    /// Read ctx -> (highest index applied anywhere when the read was asked, op id).
    pub reads: HashMap<u64, (Index, u64)>,
    pub confirmed_reads: Vec<ConfirmedRead>,
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
    pub pauses: u64,
    /// Client operations checked for linearizability, and search states explored.
    pub ops_checked: u64,
    pub search_states: u64,
}

impl std::ops::AddAssign for Stats {
    fn add_assign(&mut self, o: Self) {
        self.snapshots_installed += o.snapshots_installed;
        self.truncations += o.truncations;
        self.crashes_mid_write += o.crashes_mid_write;
        self.leaderships += o.leaderships;
        self.pauses += o.pauses;
        self.ops_checked += o.ops_checked;
        self.search_states += o.search_states;
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
    pub next_ctx: u64,
    /// (index, op id, time) of writes the proposer saw applied.
    pub acked: Vec<(Index, u64, u64)>,
    pub reads_done: u64,
    pub history: History,
    pub paused: BTreeMap<NodeId, Pause>,
    pub stats: Stats,
    pub membership: bool,
    pub crashes: bool,
    /// Past the chaos phase: no more faults.
    pub healed: bool,
    /// The client stops here so the cluster can quiesce before the final checks.
    pub client_stop_at: u64,
    pub seed: u64,
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
            next_ctx: 1,
            acked: Vec::new(),
            reads_done: 0,
            history: History::default(),
            paused: BTreeMap::new(),
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
            servers: ids.iter().map(|&id| server_info(id)).collect(),
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
                sm: Sm::default(),
                conf_applied: ConfState::default(),
                snap_inbox: HashMap::new(),
                proposals: HashMap::new(),
                reads: HashMap::new(),
                confirmed_reads: Vec::new(),
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
                Ev::Deliver(env) => match self.paused.get_mut(&env.msg.to) {
                    Some(p) if p.hold_messages && p.held.len() < MAX_HELD => {
                        p.held.push_back(Ev::Deliver(env))
                    }
                    Some(_) => {}
                    None => self.deliver(env),
                },
                // The write finishes while the process is stopped; it notices on resume.
                Ev::Persisted { node, epoch } => match self.paused.get_mut(&node) {
                    Some(p) => p.held.push_back(Ev::Persisted { node, epoch }),
                    None => self.persisted(node, epoch),
                },
                Ev::Client => self.client(),
                Ev::Fault => crate::chaos::fault(self),
            }
        }
        self.clock.now = end;
    }

    fn on_tick(&mut self, id: NodeId) {
        self.clock.after(TICK_MS, Ev::Tick(id));
        if self.paused.contains_key(&id) {
            return;
        }
        if let Some(r) = self.hosts.get_mut(&id).and_then(|h| h.raft.as_mut()) {
            r.tick();
            self.touched(id);
        }
    }

    /// Stops `id` like SIGSTOP or a long GC pause: its timers freeze where they are.
    pub fn pause(&mut self, id: NodeId, hold_messages: bool) {
        if self.hosts[&id].raft.is_none() || self.paused.contains_key(&id) {
            return;
        }
        self.stats.pauses += 1;
        let held = VecDeque::new();
        self.paused.insert(
            id,
            Pause {
                hold_messages,
                held,
            },
        );
    }

    /// Resumes `id`: first `catch_up_ticks` ticks at once (a driver whose timer fires
    /// for the time it missed, with stale election timers), then what it missed.
    pub fn resume(&mut self, id: NodeId, catch_up_ticks: u32) {
        let Some(p) = self.paused.remove(&id) else {
            return;
        };
        for _ in 0..catch_up_ticks {
            if let Some(r) = self.hosts.get_mut(&id).and_then(|h| h.raft.as_mut()) {
                r.tick();
                self.touched(id);
            }
        }
        let now = self.clock.now;
        for ev in p.held {
            self.clock.at(now, ev);
        }
    }

    fn deliver(&mut self, env: Envelope) {
        let to = env.msg.to;
        let Some(h) = self.hosts.get_mut(&to) else {
            return;
        };
        let Some(raft) = h.raft.as_mut() else { return };
        if let Some((i, sm)) = env.snap_data {
            h.snap_inbox.insert(i, sm);
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
            let sm = *h
                .snap_inbox
                .get(&meta.index)
                .unwrap_or_else(|| panic!("seed {seed}: snapshot data missing"));
            self.check.installed_snapshot(id, meta.index, sm.hash);
            h.disk.install_snapshot(meta.clone(), sm);
            h.applied = meta.index;
            h.sm = sm;
            h.conf_applied = meta.conf.clone();
            check_servers(seed, id, &meta.conf, &self.ids);
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
            if let Some(&(floor, _)) = h.reads.get(&rs.ctx) {
                assert!(
                    rs.index >= floor,
                    "seed {seed}: ReadIndex {} below index {floor} applied before the read",
                    rs.index
                );
                h.confirmed_reads.push(ConfirmedRead {
                    index: rs.index,
                    ctx: rs.ctx,
                });
            }
        }
        self.serve_reads(id);
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
        let result = h.sm.apply(e);
        h.applied = e.index;
        self.check.applied_entry(id, e, h.sm.hash);
        if let Some((cmd, outcome)) = result {
            self.history.applied(cmd.op_id, e.index, outcome, now);
            if h.proposals.remove(&e.index) == Some((e.term, cmd.op_id)) {
                self.acked.push((e.index, cmd.op_id, now));
                self.history.complete(cmd.op_id, outcome, now);
            }
        }
        match e.kind {
            EntryKind::Config => {
                h.conf_applied = decode_conf(&e.data).expect("config entry decodes");
                check_servers(self.seed, id, &h.conf_applied, &self.ids);
            }
            EntryKind::Normal | EntryKind::Noop => {}
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
            h.disk.compact(meta, h.sm);
        }
    }

    fn send(&mut self, from: NodeId, m: ballast_raft::Message) {
        let mut snap_data = None;
        if let MessageBody::InstallSnapshot { meta } = &m.body {
            let h = self.hosts.get_mut(&from).expect("known host");
            match &h.disk.snapshot {
                Some((s, sm)) if s.index == meta.index => snap_data = Some((s.index, *sm)),
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

    /// Serves confirmed reads whose index the state machine has reached.
    fn serve_reads(&mut self, id: NodeId) {
        let now = self.clock.now;
        let h = self.hosts.get_mut(&id).expect("known host");
        let applied = h.applied;
        let ready: Vec<ConfirmedRead> = {
            let (ready, wait) = std::mem::take(&mut h.confirmed_reads)
                .into_iter()
                .partition(|r| r.index <= applied);
            h.confirmed_reads = wait;
            ready
        };
        for r in ready {
            let h = self.hosts.get_mut(&id).expect("known host");
            let Some((_, op_id)) = h.reads.remove(&r.ctx) else {
                continue;
            };
            let key = self.history.key_of(op_id);
            let value = h.sm.kv[usize::from(key)];
            self.history
                .complete(op_id, crate::kv::Outcome::Value(value), now);
            self.reads_done += 1;
        }
    }

    /// Proposes a client write on `id`; records it in the history when accepted.
    pub fn propose_write(&mut self, id: NodeId, key: u8, op: crate::kv::Op) -> bool {
        let op_id = self.history.next_id();
        let cmd = Command { op_id, key, op };
        let now = self.clock.now;
        let h = self.hosts.get_mut(&id).expect("known host");
        let raft = h.raft.as_mut().expect("alive");
        let accepted = match raft.propose(EntryKind::Normal, cmd.encode()) {
            Ok(index) => {
                let term = raft.current_term();
                h.proposals.insert(index, (term, op_id));
                self.history.invoke(op_id, key, op, now);
                true
            }
            Err(_) => false,
        };
        self.touched(id);
        accepted
    }

    /// Asks `id` for a linearizable read of `key`; recorded when accepted.
    pub fn start_read(&mut self, id: NodeId, key: u8) -> bool {
        let op_id = self.history.next_id();
        let floor = self.check.max_applied;
        let ctx = self.next_ctx;
        let now = self.clock.now;
        let h = self.hosts.get_mut(&id).expect("known host");
        let raft = h.raft.as_mut().expect("alive");
        let accepted = raft.read_index(ctx).is_ok();
        if accepted {
            h.reads.insert(ctx, (floor, op_id));
            self.next_ctx += 1;
            self.history.invoke(op_id, key, crate::kv::Op::Read, now);
        }
        self.touched(id);
        accepted
    }

    /// One client write on the current leader, if any (used after the client stopped).
    pub fn propose_probe(&mut self) {
        let Some(id) = self.leader() else { return };
        let value = self.history.peek_id();
        self.propose_write(id, 0, crate::kv::Op::Write(value));
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
        // A stopped process can be killed too; what it had not seen is gone with it.
        self.paused.remove(&id);
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
        h.confirmed_reads.clear();
        match &h.disk.snapshot {
            Some((m, sm)) => {
                h.applied = m.index;
                h.sm = *sm;
                h.conf_applied = m.conf.clone();
            }
            None => {
                h.applied = 0;
                h.sm = Sm::default();
                h.conf_applied = h.disk.initial_conf.clone();
            }
        }
        self.check.restarted(id);
        self.touched(id);
    }
}

/// The address book entry the sim gives every node (it must survive Config entries,
/// snapshots and restarts unchanged).
pub fn server_info(id: NodeId) -> ServerInfo {
    ServerInfo {
        id,
        address: format!("10.0.0.{id}:8300"),
        node: format!("node-{id}"),
        node_id: format!("00000000-0000-4000-8000-{id:012}"),
    }
}

/// Every membership the cluster agrees on carries the address book it started with.
fn check_servers(seed: u64, id: NodeId, conf: &ConfState, ids: &[NodeId]) {
    let want: Vec<ServerInfo> = ids.iter().map(|&i| server_info(i)).collect();
    assert_eq!(
        conf.servers, want,
        "seed {seed}: node {id} got a membership whose servers changed"
    );
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
