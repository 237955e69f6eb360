//! `ballast-bench catalog`: the catalog at scale (issue 5). Registers N simulated nodes
//! with S services each through `PUT /v1/catalog/register`, measures
//! `GET /v1/health/service/<s>?passing` on a service with I instances, then parks W
//! blocking watchers on that service, changes it once, and reports how long until the
//! last watcher got its answer.
//!
//! Service names are laid out so every service has the same number of instances:
//! node `i` carries the S services of group `i mod (N*S/I/S)`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::http1::HttpConn;
use crate::stats::new_histogram;

#[derive(Clone, Debug)]
pub struct ScaleConfig {
    pub addr: String,
    pub nodes: usize,
    pub services_per_node: usize,
    pub instances_per_service: usize,
    /// Connections used to register and to read.
    pub conns: usize,
    pub read_duration: Duration,
    pub watchers: usize,
    /// Add `?stale` to the measured reads (each server answers from its own state).
    pub stale: bool,
    /// Make every measured read a different request (an ignored `&r=<n>` parameter), so no
    /// answer comes from the server's rendered copy: the cost of rendering each one.
    pub distinct: bool,
}

impl ScaleConfig {
    fn groups(&self) -> usize {
        (self.nodes / self.instances_per_service).max(1)
    }

    fn service_name(&self, node: usize, j: usize) -> String {
        let group = node % self.groups();
        format!("svc-{}", group * self.services_per_node + j)
    }

    /// The service read and watched: `svc-0`, on every node of group 0.
    pub fn measured_service(&self) -> String {
        self.service_name(0, 0)
    }
}

fn register_body(node: usize, service: &str, port: u16) -> Vec<u8> {
    let id = format!("{service}-{port}");
    json!({
        "Node": format!("sim-{node:05}"),
        "Address": format!("10.{}.{}.{}", (node >> 16) & 255, (node >> 8) & 255, node & 255),
        "NodeMeta": {"rack": format!("r{}", node % 16)},
        "Service": {"ID": id, "Service": service, "Port": port, "Tags": ["v1", "bench"], "Meta": {"version": "1"}},
        "Check": {"CheckID": format!("service:{id}"), "Name": format!("{service} health"), "Status": "passing", "ServiceID": id},
    })
    .to_string()
    .into_bytes()
}

fn request(method: &str, path: &str, host: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    r.extend_from_slice(body);
    r
}

/// What `run` measured.
#[derive(Debug, Clone)]
pub struct ScaleReport {
    pub registered: usize,
    pub register_secs: f64,
    pub instances_seen: usize,
    pub response_bytes: usize,
    pub reads: u64,
    pub read_errors: u64,
    pub read_rps: f64,
    pub read_p50_us: u64,
    pub read_p99_us: u64,
    pub read_p999_us: u64,
    pub watchers: usize,
    pub watchers_woken: usize,
    pub wake_first_ms: f64,
    pub wake_p50_ms: f64,
    pub wake_p99_ms: f64,
    pub wake_last_ms: f64,
}

impl ScaleReport {
    pub fn to_json(&self, cfg: &ScaleConfig) -> Value {
        json!({
            "nodes": cfg.nodes, "services_per_node": cfg.services_per_node,
            "instances_per_service": cfg.instances_per_service, "conns": cfg.conns, "stale": cfg.stale,
            "distinct": cfg.distinct,
            "registered": self.registered, "register_secs": self.register_secs,
            "register_per_sec": self.registered as f64 / self.register_secs.max(1e-9),
            "instances_seen": self.instances_seen, "response_bytes": self.response_bytes,
            "reads": self.reads, "read_errors": self.read_errors, "read_rps": self.read_rps,
            "read_p50_us": self.read_p50_us, "read_p99_us": self.read_p99_us, "read_p999_us": self.read_p999_us,
            "watchers": self.watchers, "watchers_woken": self.watchers_woken,
            "wake_first_ms": self.wake_first_ms, "wake_p50_ms": self.wake_p50_ms,
            "wake_p99_ms": self.wake_p99_ms, "wake_last_ms": self.wake_last_ms,
        })
    }
}

pub fn run(cfg: &ScaleConfig) -> Result<ScaleReport, String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    rt.block_on(run_async(cfg.clone()))
}

async fn run_async(cfg: ScaleConfig) -> Result<ScaleReport, String> {
    let (registered, register_secs) = populate(&cfg).await?;
    eprintln!("catalog: registered {registered} instances in {register_secs:.1}s");
    let service = cfg.measured_service();
    let (instances_seen, response_bytes, index) = probe(&cfg, &service).await?;
    eprintln!("catalog: {service} has {instances_seen} passing instances, {response_bytes} bytes, index {index}");
    let reads = read_load(&cfg, &service).await?;
    let wake = watch_storm(&cfg, &service).await?;
    Ok(ScaleReport {
        registered,
        register_secs,
        instances_seen,
        response_bytes,
        reads: reads.0,
        read_errors: reads.1,
        read_rps: reads.2,
        read_p50_us: reads.3,
        read_p99_us: reads.4,
        read_p999_us: reads.5,
        watchers: cfg.watchers,
        watchers_woken: wake.woken,
        wake_first_ms: wake.first_ms,
        wake_p50_ms: wake.p50_ms,
        wake_p99_ms: wake.p99_ms,
        wake_last_ms: wake.last_ms,
    })
}

/// Registers every instance over `conns` connections; returns (count, seconds).
async fn populate(cfg: &ScaleConfig) -> Result<(usize, f64), String> {
    let total = cfg.nodes * cfg.services_per_node;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..cfg.conns.max(1) {
        let cfg = cfg.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = HttpConn::connect(&cfg.addr).await.map_err(|e| format!("connect {}: {e}", cfg.addr))?;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok::<(), String>(());
                }
                let (node, j) = (i / cfg.services_per_node, i % cfg.services_per_node);
                let body = register_body(node, &cfg.service_name(node, j), 8000 + j as u16);
                let req = request("PUT", "/v1/catalog/register", &cfg.addr, &body);
                let mut tries = 0;
                loop {
                    if conn.must_reconnect {
                        conn = HttpConn::connect(&cfg.addr).await.map_err(|e| format!("reconnect: {e}"))?;
                    }
                    match conn.request(&req).await {
                        Ok(r) if r.status == 200 && r.body == b"true" => break,
                        Ok(r) if r.status == 429 && tries < 100 => tries += 1,
                        Ok(r) => return Err(format!("register: {} {}", r.status, String::from_utf8_lossy(r.body))),
                        Err(e) => return Err(format!("register: {e}")),
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| format!("register task: {e}"))??;
    }
    Ok((total, started.elapsed().as_secs_f64()))
}

fn health_path(service: &str, stale: bool, index: Option<u64>) -> String {
    let mut p = format!("/v1/health/service/{service}?passing");
    if stale {
        p.push_str("&stale");
    }
    if let Some(i) = index {
        p.push_str(&format!("&index={i}&wait=10m"));
    }
    p
}

/// One read: (entries, body bytes, X-Consul-Index).
async fn probe(cfg: &ScaleConfig, service: &str) -> Result<(usize, usize, u64), String> {
    let mut conn = HttpConn::connect(&cfg.addr).await.map_err(|e| format!("connect: {e}"))?;
    let req = request("GET", &health_path(service, cfg.stale, None), &cfg.addr, b"");
    let r = conn.request(&req).await.map_err(|e| format!("read: {e}"))?;
    if r.status != 200 {
        return Err(format!("read: {} {}", r.status, String::from_utf8_lossy(r.body)));
    }
    let v: Value = serde_json::from_slice(r.body).map_err(|e| format!("read: bad JSON: {e}"))?;
    let n = v.as_array().map(Vec::len).unwrap_or(0);
    Ok((n, r.body.len(), r.consul_index.unwrap_or(0)))
}

/// Closed-loop reads: (ok, errors, req/s, p50, p99, p99.9 in µs).
async fn read_load(cfg: &ScaleConfig, service: &str) -> Result<(u64, u64, f64, u64, u64, u64), String> {
    let path = health_path(service, cfg.stale, None);
    let req = Arc::new(request("GET", &path, &cfg.addr, b""));
    let distinct = cfg.distinct.then(|| Arc::new((path, cfg.addr.clone())));
    let counter = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + cfg.read_duration;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..cfg.conns.max(1) {
        let (req, addr, distinct, counter) = (req.clone(), cfg.addr.clone(), distinct.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let mut hist = new_histogram();
            let mut errors = 0u64;
            let mut conn = HttpConn::connect(&addr).await.map_err(|e| format!("connect: {e}"))?;
            while Instant::now() < deadline {
                if conn.must_reconnect {
                    conn = HttpConn::connect(&addr).await.map_err(|e| format!("reconnect: {e}"))?;
                }
                let unique;
                let this: &[u8] = match &distinct {
                    Some(d) => {
                        let n = counter.fetch_add(1, Ordering::Relaxed);
                        unique = request("GET", &format!("{}&r={n}", d.0), &d.1, b"");
                        &unique
                    }
                    None => &req,
                };
                let t = Instant::now();
                match conn.request(this).await {
                    Ok(r) if r.status == 200 => hist.saturating_record(t.elapsed().as_micros().max(1) as u64),
                    Ok(_) => errors += 1,
                    Err(_) => {
                        errors += 1;
                        conn = HttpConn::connect(&addr).await.map_err(|e| format!("reconnect: {e}"))?;
                    }
                }
            }
            Ok::<_, String>((hist, errors))
        }));
    }
    let mut all = new_histogram();
    let mut errors = 0;
    for t in tasks {
        let (h, e) = t.await.map_err(|e| format!("read task: {e}"))??;
        let _ = all.add(&h);
        errors += e;
    }
    let secs = started.elapsed().as_secs_f64();
    let ok = all.len();
    Ok((ok, errors, ok as f64 / secs, all.value_at_quantile(0.5), all.value_at_quantile(0.99), all.value_at_quantile(0.999)))
}

struct Wake {
    woken: usize,
    first_ms: f64,
    p50_ms: f64,
    p99_ms: f64,
    last_ms: f64,
}

/// Parks `watchers` blocking queries at the current index, changes the service once
/// (a new instance on a new node), and times each watcher's answer from the moment the
/// change was sent.
async fn watch_storm(cfg: &ScaleConfig, service: &str) -> Result<Wake, String> {
    let (_, _, index) = probe(cfg, service).await?;
    let req = Arc::new(request("GET", &health_path(service, cfg.stale, Some(index)), &cfg.addr, b""));
    let parked = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Instant, String>>(cfg.watchers.max(1));
    // Connect in waves so the accept queue is not the thing measured.
    let connect_gate = Arc::new(tokio::sync::Semaphore::new(256));
    for _ in 0..cfg.watchers {
        let (req, addr, tx, parked, gate) = (req.clone(), cfg.addr.clone(), tx.clone(), parked.clone(), connect_gate.clone());
        tokio::spawn(async move {
            let permit = gate.acquire_owned().await;
            let conn = HttpConn::connect(&addr).await;
            drop(permit);
            let mut conn = match conn {
                Ok(c) => c,
                Err(e) => {
                    let _ = tx.send(Err(format!("connect: {e}"))).await;
                    return;
                }
            };
            parked.fetch_add(1, Ordering::Relaxed);
            let out = match conn.request(&req).await {
                Ok(r) if r.status == 200 && r.consul_index.is_some_and(|i| i > index) => Ok(Instant::now()),
                Ok(r) => Err(format!("watch answered {} with index {:?}", r.status, r.consul_index)),
                Err(e) => Err(format!("watch: {e}")),
            };
            let _ = tx.send(out).await;
        });
    }
    drop(tx);
    while parked.load(Ordering::Relaxed) < cfg.watchers {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Every request is written; give the server a moment to read and park them all.
    tokio::time::sleep(Duration::from_secs(3)).await;
    eprintln!("catalog: {} watchers parked at index {index}; changing {service}", cfg.watchers);
    let mut conn = HttpConn::connect(&cfg.addr).await.map_err(|e| format!("connect: {e}"))?;
    let body = register_body(cfg.nodes + 1, service, 9999);
    let change = request("PUT", "/v1/catalog/register", &cfg.addr, &body);
    let sent = Instant::now();
    let r = conn.request(&change).await.map_err(|e| format!("change: {e}"))?;
    if r.status != 200 {
        return Err(format!("change: {} {}", r.status, String::from_utf8_lossy(r.body)));
    }
    let mut times = Vec::with_capacity(cfg.watchers);
    let mut failures = 0usize;
    let mut first_failure = None;
    let wait_all = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(out) = rx.recv().await {
            match out {
                Ok(t) => times.push(t.saturating_duration_since(sent).as_secs_f64() * 1000.0),
                Err(e) => {
                    failures += 1;
                    first_failure.get_or_insert(e);
                }
            }
        }
    })
    .await;
    if wait_all.is_err() {
        eprintln!("catalog: gave up waiting after 120s");
    }
    if let Some(e) = first_failure {
        eprintln!("catalog: {failures} watchers failed, first: {e}");
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let q = |p: f64| times.get(((times.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(f64::NAN);
    Ok(Wake { woken: times.len(), first_ms: q(0.0), p50_ms: q(0.5), p99_ms: q(0.99), last_ms: q(1.0) })
}
