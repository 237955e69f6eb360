//! A background poller of /v1/status/leader and /v1/agent/self (Stats.raft) on chosen servers,
//! one thread per server, so a test can assert "no leader change, no term increase" over a
//! whole fault window instead of at its two ends.
use super::{http_req, num};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct Sample {
    pub at: Duration,
    pub server: usize,
    /// None: that request got no (valid) answer.
    pub leader: Option<String>,
    pub term: Option<u64>,
    pub state: Option<String>,
}

pub struct Monitor {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<Sample>>>,
    threads: Vec<JoinHandle<()>>,
}

impl Monitor {
    /// Polls each (index, HTTP address) every `every`.
    pub fn start(targets: &[(usize, SocketAddr)], every: Duration) -> Monitor {
        let stop = Arc::new(AtomicBool::new(false));
        let samples: Arc<Mutex<Vec<Sample>>> = Arc::default();
        let t0 = Instant::now();
        let threads = targets
            .iter()
            .map(|&(server, addr)| {
                let (stop, samples) = (stop.clone(), samples.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let s = poll(server, addr, t0);
                        samples.lock().unwrap().push(s);
                        std::thread::sleep(every);
                    }
                })
            })
            .collect();
        Monitor { stop, samples, threads }
    }

    /// Stops polling and returns every sample, in time order.
    pub fn stop(mut self) -> Samples {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        let mut v = std::mem::take(&mut *self.samples.lock().unwrap());
        v.sort_by_key(|s| s.at);
        Samples(v)
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn poll(server: usize, addr: SocketAddr, t0: Instant) -> Sample {
    let timeout = Duration::from_secs(2);
    let leader = http_req(addr, "GET", "/v1/status/leader", b"", timeout)
        .ok()
        .filter(|r| r.status == 200)
        .and_then(|r| serde_json::from_slice::<String>(&r.body).ok());
    let (mut term, mut state) = (None, None);
    if let Ok(r) = http_req(addr, "GET", "/v1/agent/self", b"", timeout) {
        if let Ok(j) = serde_json::from_slice::<serde_json::Value>(&r.body) {
            term = num(&j["Stats"]["raft"]["term"]);
            state = j["Stats"]["raft"]["state"].as_str().map(str::to_string);
        }
    }
    Sample { at: t0.elapsed(), server, leader, term, state }
}

pub struct Samples(pub Vec<Sample>);

impl Samples {
    pub fn of(&self, server: usize) -> impl Iterator<Item = &Sample> {
        self.0.iter().filter(move |s| s.server == server)
    }
    /// Samples of `server` that got both answers.
    pub fn answered(&self, server: usize) -> usize {
        self.of(server).filter(|s| s.leader.is_some() && s.term.is_some()).count()
    }
    pub fn max_term(&self, server: usize) -> Option<u64> {
        self.of(server).filter_map(|s| s.term).max()
    }
    /// Every sample in which a watched server's leader, term or role differs from the stable
    /// picture (`leader` at `term`, `leader_idx` in state Leader, the others Follower).
    pub fn violations(&self, watched: &[usize], leader_idx: usize, leader: &str, term: u64) -> Vec<String> {
        let mut out = Vec::new();
        for s in self.0.iter().filter(|s| watched.contains(&s.server)) {
            let want_state = if s.server == leader_idx { "Leader" } else { "Follower" };
            let bad_leader = s.leader.as_deref().is_some_and(|l| l != leader);
            let bad_term = s.term.is_some_and(|t| t != term);
            let bad_state = s.state.as_deref().is_some_and(|st| st != want_state);
            if bad_leader || bad_term || bad_state {
                out.push(format!(
                    "t={:.1}s s{}: leader {:?} term {:?} state {:?} (want {leader} / {term} / {want_state})",
                    s.at.as_secs_f64(),
                    s.server + 1,
                    s.leader,
                    s.term,
                    s.state
                ));
            }
        }
        out
    }
    /// (term, server) of every leadership observed: a server answering state Leader at a term.
    /// Its length minus one is the number of leader changes the poller saw.
    pub fn leaderships(&self) -> Vec<(u64, usize)> {
        let mut v: Vec<(u64, usize)> = self
            .0
            .iter()
            .filter(|s| s.state.as_deref() == Some("Leader"))
            .filter_map(|s| s.term.map(|t| (t, s.server)))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}
