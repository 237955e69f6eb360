//! Deterministic simulator for the gossip core.
//!
//! A virtual clock (binary heap of timed events), simulated UDP (delay,
//! jitter, loss, partitions) and TCP push-pull (reliable, delayed, cut by
//! partitions), and a per-node processing model: each node handles its
//! inputs (datagrams, push-pull streams, timer wake-ups) one at a time, each
//! costing a service time proportional to its size. A node `slow`-times
//! slower has every service time multiplied, like a CPU-starved process: its
//! replies leave late and it reads acks late. Like such a process, when it
//! finally gets to an input it first runs the timers that expired meanwhile
//! (so an ack that waited in its queue past the probe deadline is too late).
//! A slow node may also be descheduled for a while (`Starvation`), and its
//! receive queue is bounded like a socket buffer.
//!
//! Seeds: every run prints its seed; set GOSSIP_SEED to replay one.

#![allow(dead_code)]

pub mod diag;

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use ballast_gossip::{Config, Event, Gossip, Output};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The seed for a scenario: GOSSIP_SEED if set, else `default`. Printed so a
/// failing run can be replayed.
pub fn seed(test: &str, default: u64) -> u64 {
    let s = std::env::var("GOSSIP_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    println!("[{test}] seed {s} (replay with GOSSIP_SEED={s})");
    s
}

/// Scale knob: GOSSIP_BIG=1 runs the long versions.
pub fn big() -> bool {
    std::env::var("GOSSIP_BIG").map(|v| v == "1").unwrap_or(false)
}

pub fn addr_of(i: usize) -> SocketAddr {
    let ip = Ipv4Addr::new(10, (i >> 16) as u8, (i >> 8) as u8, i as u8);
    SocketAddr::new(IpAddr::V4(ip), 8301)
}

pub fn name_of(i: usize) -> String {
    format!("node-{i:04}")
}

#[derive(Clone, Copy, Debug)]
pub struct Net {
    /// One-way latency.
    pub delay: Duration,
    /// Extra uniform 0..jitter latency.
    pub jitter: Duration,
    /// UDP loss probability.
    pub loss: f64,
}

impl Net {
    pub fn lan() -> Net {
        Net { delay: Duration::from_micros(500), jitter: Duration::from_micros(1500), loss: 0.001 }
    }
}

/// Service time model: `base + per_kib * size` per input, times the node's
/// slowness. A slow node is also a CPU-starved process: see `Starvation`.
#[derive(Clone, Copy, Debug)]
pub struct Cost {
    pub base: Duration,
    pub per_kib: Duration,
    pub starvation: Option<Starvation>,
}

/// How a slow node loses the CPU besides working 10x slower: descheduling
/// episodes (run-queue waits, cgroup throttling, reclaim) arrive as a
/// Poisson process in wall time, `gap` apart on average, each lasting `len`.
/// Wall time, not per input, so a node's stall time does not grow with the
/// traffic the protocol sends it. A stall delays whatever the node is doing
/// or about to do; one that ends while the node is idle costs nothing.
#[derive(Clone, Copy, Debug)]
pub struct Starvation {
    pub gap: Duration,
    pub len: StallLen,
}

#[derive(Clone, Copy, Debug)]
pub enum StallLen {
    /// Exponential with this mean, cut at `cap`.
    Exp { mean: Duration, cap: Duration },
    /// Uniform in 0..max.
    Uniform { max: Duration },
}

impl Cost {
    pub fn default_model() -> Cost {
        Cost { base: Duration::from_micros(200), per_kib: Duration::from_micros(800), starvation: None }
    }
}

#[derive(Clone)]
enum Input {
    Packet { from: SocketAddr, bytes: Vec<u8> },
    PushPull { from: usize, bytes: Vec<u8> },
    PushPullReply { from: usize, bytes: Vec<u8> },
    Tick,
}

impl Input {
    fn size(&self) -> usize {
        match self {
            Input::Packet { bytes, .. } | Input::PushPull { bytes, .. } | Input::PushPullReply { bytes, .. } => {
                bytes.len()
            }
            Input::Tick => 64,
        }
    }
}

#[derive(Clone)]
enum Ev {
    Arrive { node: usize, input: Input, gen: u32 },
    Timer { node: usize, gen: u64 },
    Done { node: usize },
}

#[derive(Clone)]
struct Timed {
    at: Duration,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Timed {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Timed {}
impl PartialOrd for Timed {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Timed {
    fn cmp(&self, o: &Self) -> Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq)) // min-heap
    }
}

/// Inputs a node can have waiting; more are dropped, as by a full socket
/// receive buffer (Linux's default 208 KiB holds ~150 full datagrams).
const QUEUE_CAPACITY: usize = 256;

#[derive(Clone)]
pub struct SimNode {
    pub g: Option<Gossip>,
    pub addr: SocketAddr,
    pub slow: u32,
    /// Incremented on crash/restart so in-flight inputs to the old process vanish.
    gen: u32,
    /// Waiting inputs with the time each arrived.
    queue: VecDeque<(Input, Duration)>,
    current: Option<Input>,
    timer_gen: u64,
    timer_at: Option<Duration>,
    tick_queued: bool,
    pub dropped: u64,
    pub stats: NodeStats,
    /// The current or next stall of a slow node: [start, end).
    stall: (Duration, Duration),
}

/// Where a node's time went, and what happened to it (for diagnosis).
#[derive(Clone, Default, Debug)]
pub struct NodeStats {
    pub inputs: u64,
    /// Service time spent working (size-proportional cost times slowness).
    pub busy: Duration,
    /// Time descheduled (the starved-process stalls).
    pub stalled: Duration,
    pub stalls: u64,
    pub longest_stall: Duration,
    /// Time inputs waited in the queue before service started.
    pub waited: Duration,
    pub longest_wait: Duration,
    pub max_queue: usize,
    /// When this node refuted accusations about itself (watched nodes only).
    pub refuted_at: Vec<Duration>,
    pub refutations_seen: u64,
}

/// Who declared an unwatched member failed, and in what state.
#[derive(Clone, Debug)]
pub struct OtherFailure {
    pub at: Duration,
    pub observer: usize,
    pub subject: usize,
    pub observer_slow: bool,
    /// The observer's Lifeguard local health score then.
    pub observer_health: u32,
    pub observer_queue: usize,
    pub declared_inc: u32,
    pub own_inc: u32,
}

/// The state of a watched member at the moment someone declared it failed.
#[derive(Clone, Debug)]
pub struct FailureNote {
    pub at: Duration,
    pub observer: usize,
    pub subject: usize,
    /// The incarnation the observer declared dead.
    pub declared_inc: u32,
    /// The subject's own incarnation then (higher: it had refuted in time
    /// but the refutation had not reached the observer).
    pub own_inc: u32,
    pub since_last_refute: Option<Duration>,
    pub queue_len: usize,
    /// How long the oldest waiting input of the subject had waited.
    pub oldest_wait: Duration,
    pub stalled: bool,
}

#[derive(Clone)]
pub struct Sim {
    pub now: Duration,
    pub nodes: Vec<SimNode>,
    heap: BinaryHeap<Timed>,
    seq: u64,
    rng: StdRng,
    pub net: Net,
    pub cost: Cost,
    by_addr: HashMap<SocketAddr, usize>,
    /// Partition group per node; nodes talk only within a group.
    groups: Option<Vec<u32>>,
    /// Answer every query at once with the query name as payload.
    pub auto_respond: bool,
    pub packets_sent: u64,
    pub inputs_processed: u64,
    /// Nodes whose false failures are recorded in `failure_notes`.
    watched: Vec<bool>,
    pub failure_notes: Vec<FailureNote>,
    /// Failures declared about members not watched (healthy-speed ones).
    pub other_failures: Vec<OtherFailure>,
}

impl Sim {
    pub fn new(seed: u64, net: Net) -> Sim {
        Sim {
            now: Duration::ZERO,
            nodes: Vec::new(),
            heap: BinaryHeap::new(),
            seq: 0,
            rng: StdRng::seed_from_u64(seed),
            net,
            cost: Cost::default_model(),
            by_addr: HashMap::new(),
            groups: None,
            auto_respond: false,
            packets_sent: 0,
            inputs_processed: 0,
            watched: Vec::new(),
            failure_notes: Vec::new(),
            other_failures: Vec::new(),
        }
    }

    /// Give a forked simulation its own random stream.
    pub fn reseed(&mut self, seed: u64) {
        self.rng = StdRng::seed_from_u64(seed);
    }

    fn push(&mut self, at: Duration, ev: Ev) {
        self.seq += 1;
        self.heap.push(Timed { at, seq: self.seq, ev });
    }

    /// Add a node (not yet joined) with config `cfg`.
    pub fn add_node(&mut self, cfg: Config) -> usize {
        let i = self.nodes.len();
        let seed = self.rng.gen();
        let addr = cfg.addr;
        self.nodes.push(SimNode {
            g: Some(Gossip::new(cfg, self.now, seed)),
            addr,
            slow: 1,
            gen: 0,
            queue: VecDeque::new(),
            current: None,
            timer_gen: 0,
            timer_at: None,
            tick_queued: false,
            dropped: 0,
            stats: NodeStats::default(),
            stall: (Duration::ZERO, Duration::ZERO),
        });
        self.watched.push(false);
        self.by_addr.insert(addr, i);
        self.arm_timer(i);
        i
    }

    pub fn gossip(&self, i: usize) -> Option<&Gossip> {
        self.nodes[i].g.as_ref()
    }

    pub fn is_up(&self, i: usize) -> bool {
        self.nodes[i].g.is_some()
    }

    /// Run `f` on node `i` now (as its driver would), then send what it produced.
    pub fn with_node<R>(&mut self, i: usize, f: impl FnOnce(&mut Gossip, Duration) -> R) -> Option<R> {
        let now = self.now;
        let r = f(self.nodes[i].g.as_mut()?, now);
        self.flush(i, &mut |_, _, _| {});
        Some(r)
    }

    /// Node `i` joins through node `via` (a push-pull with join=true).
    pub fn join(&mut self, i: usize, via: usize) {
        let now = self.now;
        let Some(g) = self.nodes[i].g.as_mut() else { return };
        let bytes = g.push_pull_request(true, now);
        self.flush(i, &mut |_, _, _| {});
        self.stream(i, via, Input::PushPull { from: i, bytes });
    }

    /// The process stops: no more input, no more output.
    pub fn crash(&mut self, i: usize) {
        let n = &mut self.nodes[i];
        n.g = None;
        n.gen += 1;
        n.queue.clear();
        n.current = None;
        n.tick_queued = false;
        n.timer_at = None;
    }

    /// A fresh process with the same name and address.
    pub fn restart(&mut self, i: usize, cfg: Config) {
        self.crash(i);
        let seed = self.rng.gen();
        self.nodes[i].g = Some(Gossip::new(cfg, self.now, seed));
        self.arm_timer(i);
    }

    pub fn set_slow(&mut self, i: usize, factor: u32) {
        self.nodes[i].slow = factor.max(1);
        self.nodes[i].stall = (self.now, self.now);
    }

    /// Record refutations of node `i` and a `FailureNote` whenever anyone
    /// declares it failed.
    pub fn watch(&mut self, i: usize) {
        self.watched[i] = true;
        if let Some(g) = self.nodes[i].g.as_ref() {
            self.nodes[i].stats.refutations_seen = g.metrics().refutations;
        }
    }

    /// Up healthy-speed nodes whose view of node `i` is older than its own
    /// incarnation (its latest refutation has not reached them yet).
    pub fn stale_views(&self, i: usize) -> usize {
        let Some(g) = self.gossip(i) else { return 0 };
        let name = &g.config().name;
        let own = g.member(name).map_or(0, |m| m.incarnation);
        (0..self.nodes.len())
            .filter(|&j| j != i && self.nodes[j].slow == 1)
            .filter_map(|j| self.gossip(j))
            .filter(|o| o.member(name).is_none_or(|m| ballast_gossip::incarnation_newer(own, m.incarnation)))
            .count()
    }

    /// Reset every node's counters (after the pool formed).
    pub fn reset_stats(&mut self) {
        for n in &mut self.nodes {
            n.stats = NodeStats::default();
        }
        self.failure_notes.clear();
        self.other_failures.clear();
    }

    fn note_failure(&mut self, observer: usize, m: &ballast_gossip::Member) {
        let Some(&j) = self.by_addr.get(&m.addr) else { return };
        if !self.watched[j] {
            let o = &self.nodes[observer];
            self.other_failures.push(OtherFailure {
                at: self.now,
                observer,
                subject: j,
                observer_slow: o.slow > 1,
                observer_health: o.g.as_ref().map_or(0, |g| g.local_health()),
                observer_queue: o.queue.len(),
                declared_inc: m.incarnation,
                own_inc: self.nodes[j].g.as_ref().and_then(|g| g.member(&m.name)).map_or(0, |me| me.incarnation),
            });
            return;
        }
        let n = &self.nodes[j];
        let own_inc = n.g.as_ref().and_then(|g| g.member(&m.name)).map_or(0, |me| me.incarnation);
        self.failure_notes.push(FailureNote {
            at: self.now,
            observer,
            subject: j,
            declared_inc: m.incarnation,
            own_inc,
            since_last_refute: n.stats.refuted_at.last().map(|&t| self.now - t),
            queue_len: n.queue.len(),
            oldest_wait: n.queue.front().map_or(Duration::ZERO, |(_, t)| self.now - *t),
            stalled: n.stall.0 <= self.now && self.now < n.stall.1,
        });
    }

    pub fn partition(&mut self, groups: Vec<u32>) {
        self.groups = Some(groups);
    }

    pub fn heal(&mut self) {
        self.groups = None;
    }

    fn connected(&self, a: usize, b: usize) -> bool {
        match &self.groups {
            Some(g) => g[a] == g[b],
            None => true,
        }
    }

    fn latency(&mut self) -> Duration {
        let j = self.net.jitter.as_nanos() as u64;
        let extra = if j > 0 { self.rng.gen_range(0..j) } else { 0 };
        self.net.delay + Duration::from_nanos(extra)
    }

    fn stream(&mut self, from: usize, to: usize, input: Input) {
        if !self.connected(from, to) || !self.is_up(to) {
            return; // the TCP connect fails
        }
        let at = self.now + self.latency() * 2;
        let gen = self.nodes[to].gen;
        self.push(at, Ev::Arrive { node: to, input, gen });
    }

    fn arm_timer(&mut self, i: usize) {
        let Some(g) = self.nodes[i].g.as_ref() else { return };
        let d = g.next_deadline().max(self.now);
        let n = &mut self.nodes[i];
        if n.timer_at.map_or(true, |t| d < t) {
            n.timer_gen += 1;
            n.timer_at = Some(d);
            let gen = n.timer_gen;
            self.push(d, Ev::Timer { node: i, gen });
        }
    }

    fn enqueue(&mut self, i: usize, input: Input) {
        let n = &mut self.nodes[i];
        if n.g.is_none() {
            return;
        }
        if n.queue.len() >= QUEUE_CAPACITY {
            n.dropped += 1;
            return;
        }
        n.queue.push_back((input, self.now));
        n.stats.max_queue = n.stats.max_queue.max(n.queue.len());
        if n.current.is_none() {
            self.start_next(i);
        }
    }

    fn start_next(&mut self, i: usize) {
        let cost = self.cost;
        let slow = self.nodes[i].slow;
        let Some((input, arrived)) = self.nodes[i].queue.pop_front() else { return };
        let kib = input.size() as f64 / 1024.0;
        let service = (cost.base + cost.per_kib.mul_f64(kib)) * slow;
        let now = self.now;
        let done = if slow > 1 { self.starved_finish(i, now, service) } else { now + service };
        let st = &mut self.nodes[i].stats;
        st.inputs += 1;
        st.busy += service;
        st.waited += now - arrived;
        st.longest_wait = st.longest_wait.max(now - arrived);
        self.nodes[i].current = Some(input);
        self.push(done, Ev::Done { node: i });
    }

    /// When node `i`, starting `work` at `start`, finishes it through its stalls.
    fn starved_finish(&mut self, i: usize, start: Duration, work: Duration) -> Duration {
        let Some(starve) = self.cost.starvation else { return start + work };
        let (mut t, mut left) = (start, work);
        loop {
            let (s, e) = self.nodes[i].stall;
            if e <= t {
                self.next_stall(i, starve);
            } else if s <= t {
                t = e; // descheduled: wait it out
            } else if t + left <= s {
                return t + left;
            } else {
                left -= s - t; // preempted at s, resumes at e
                t = e;
            }
        }
    }

    fn next_stall(&mut self, i: usize, starve: Starvation) {
        let exp = |rng: &mut StdRng, mean: Duration| mean.mul_f64(-(1.0 - rng.gen::<f64>()).ln());
        let start = self.nodes[i].stall.1 + exp(&mut self.rng, starve.gap);
        let len = match starve.len {
            StallLen::Exp { mean, cap } => exp(&mut self.rng, mean).min(cap),
            StallLen::Uniform { max } => max.mul_f64(self.rng.gen::<f64>()),
        };
        self.nodes[i].stall = (start, start + len);
        let st = &mut self.nodes[i].stats;
        st.stalls += 1;
        st.stalled += len;
        st.longest_stall = st.longest_stall.max(len);
    }

    /// Route node `i`'s outputs; events go to `on_event`.
    fn flush(&mut self, i: usize, on_event: &mut dyn FnMut(usize, Duration, &Event)) {
        let now = self.now;
        let mut queries = Vec::new();
        let mut pulls = Vec::new();
        loop {
            let Some(g) = self.nodes[i].g.as_mut() else { return };
            let Some(out) = g.poll_output() else {
                while let Some(t) = g.take_push_pull_target() {
                    pulls.push(t);
                }
                break;
            };
            match out {
                Output::Packet { to, bytes } => {
                    self.packets_sent += 1;
                    let Some(&j) = self.by_addr.get(&to) else { continue };
                    if !self.connected(i, j) || self.rng.gen_bool(self.net.loss) {
                        continue;
                    }
                    let at = now + self.latency();
                    let gen = self.nodes[j].gen;
                    let from = self.nodes[i].addr;
                    self.push(at, Ev::Arrive { node: j, input: Input::Packet { from, bytes }, gen });
                }
                Output::Event(e) => {
                    if let Event::Failed(m) = &e {
                        self.note_failure(i, m);
                    }
                    if let Event::Query { id, name, .. } = &e {
                        if self.auto_respond {
                            queries.push((*id, name.clone()));
                        }
                    }
                    on_event(i, now, &e);
                }
            }
        }
        for t in pulls {
            let Some(&j) = self.by_addr.get(&t) else { continue };
            let Some(g) = self.nodes[i].g.as_mut() else { break };
            let bytes = g.push_pull_request(false, now);
            self.stream(i, j, Input::PushPull { from: i, bytes });
        }
        if !queries.is_empty() {
            if let Some(g) = self.nodes[i].g.as_mut() {
                for (id, name) in queries {
                    g.respond(id, name.into_bytes(), now);
                }
            }
            self.flush(i, on_event);
        }
    }

    fn process(&mut self, i: usize, on_event: &mut dyn FnMut(usize, Duration, &Event)) {
        let now = self.now;
        let Some(input) = self.nodes[i].current.take() else { return };
        self.inputs_processed += 1;
        if matches!(input, Input::Tick) {
            self.nodes[i].tick_queued = false;
        }
        let mut reply = None;
        let from_addr = match &input {
            Input::PushPull { from, .. } | Input::PushPullReply { from, .. } => self.nodes[*from].addr,
            _ => self.nodes[i].addr,
        };
        if let Some(g) = self.nodes[i].g.as_mut() {
            // Expired timers first, as a starved process finds them on waking.
            if g.next_deadline() <= now {
                g.tick(now);
            }
            match input {
                Input::Tick => {}
                Input::Packet { from, bytes } => {
                    let _ = g.handle_packet(from, &bytes, now);
                }
                Input::PushPull { from, bytes } => {
                    if let Ok(r) = g.handle_push_pull(from_addr, &bytes, now) {
                        reply = Some((from, r));
                    }
                }
                Input::PushPullReply { bytes, .. } => {
                    let _ = g.handle_push_pull_reply(from_addr, &bytes, now);
                }
            }
        }
        self.flush(i, on_event);
        if self.watched[i] {
            let r = self.nodes[i].g.as_ref().map_or(0, |g| g.metrics().refutations);
            let st = &mut self.nodes[i].stats;
            if r > st.refutations_seen {
                st.refutations_seen = r;
                st.refuted_at.push(now);
            }
        }
        if let Some((to, bytes)) = reply {
            self.stream(i, to, Input::PushPullReply { from: i, bytes });
        }
        self.nodes[i].timer_at = None;
        self.arm_timer(i);
        self.start_next(i);
    }

    /// Advance the clock to `until`, reporting every event.
    pub fn run_until(&mut self, until: Duration, mut on_event: impl FnMut(usize, Duration, &Event)) {
        while let Some(top) = self.heap.peek() {
            if top.at > until {
                break;
            }
            let t = self.heap.pop().expect("peeked");
            self.now = t.at;
            match t.ev {
                Ev::Arrive { node, input, gen } => {
                    if self.nodes[node].gen == gen {
                        self.enqueue(node, input);
                    }
                }
                Ev::Timer { node, gen } => {
                    let n = &mut self.nodes[node];
                    if n.timer_gen != gen || n.g.is_none() {
                        continue;
                    }
                    n.timer_at = None;
                    if !n.tick_queued {
                        n.tick_queued = true;
                        self.enqueue(node, Input::Tick);
                    }
                }
                Ev::Done { node } => self.process(node, &mut on_event),
            }
        }
        self.now = until;
    }

    /// Nodes up and not yet knowing every other up node as alive.
    pub fn unconverged(&self) -> usize {
        let up: Vec<usize> = (0..self.nodes.len()).filter(|&i| self.is_up(i)).collect();
        up.iter()
            .filter(|&&i| {
                let g = self.gossip(i).expect("up");
                up.iter().any(|&j| {
                    g.member(&name_of(j)).map_or(true, |m| m.status != ballast_gossip::Status::Alive)
                })
            })
            .count()
    }
}

/// A pool of `n` members with `cfg_for(i)` configs, joined in a staggered
/// wave through random earlier members, then left to settle for `settle`.
pub fn start_pool(sim: &mut Sim, n: usize, cfg_for: impl Fn(usize) -> Config, settle: Duration) {
    for i in 0..n {
        sim.add_node(cfg_for(i));
    }
    let wave = Duration::from_millis(10 * n as u64);
    for i in 1..n {
        let at = wave.mul_f64(i as f64 / n as f64);
        sim.run_until(at, |_, _, _| {});
        let via = sim.rng.gen_range(0..i);
        sim.join(i, via);
    }
    let end = sim.now + settle;
    sim.run_until(end, |_, _, _| {});
}
