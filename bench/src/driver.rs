//! Runs the load: C connections spread over T client threads, each thread a
//! single-threaded tokio runtime (like wrk's threads: no work stealing, no
//! cross-thread wakeups on the client side). Closed loop: each connection
//! sends its next request as soon as the previous answer arrives. Open loop:
//! each connection follows a fixed schedule, and latency is counted from the
//! scheduled start, so a slow answer that delays later requests is charged
//! to them too (coordinated-omission correction).
//!
//! With several addresses (the servers of a cluster), connection i goes to
//! address i mod N, so the load is spread evenly over the servers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::conn::{Conn, Failure, Op};
use crate::cpu;
use crate::stats::Recorder;
use crate::workload::{Plan, Target, Workload};

#[derive(Debug, Clone)]
pub struct RunConfig {
    pub target: Target,
    /// Where the connections go: connection i to `addrs[i % addrs.len()]`.
    pub addrs: Vec<String>,
    pub workload: Workload,
    pub conns: usize,
    pub threads: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub keys: usize,
    pub key_prefix: String,
    pub value_size: usize,
    /// Open loop at this many requests/s in total; None is closed loop.
    pub rate: Option<f64>,
    pub timeout: Duration,
    /// Write every key once before a read workload starts.
    pub preload: bool,
    /// Preload over one connection to this address (e.g. a cluster's leader)
    /// instead of over the measured connections.
    pub preload_addr: Option<String>,
    /// Processes whose CPU use is reported, by name; entries sharing a name
    /// (the servers of one cluster) are summed.
    pub watch: Vec<(String, u32)>,
}

impl RunConfig {
    /// The address connection `index` uses.
    pub fn addr_of(&self, index: usize) -> &str {
        &self.addrs[index % self.addrs.len()]
    }
}

/// CPU seconds one process used during the measured window.
#[derive(Debug, Clone)]
pub struct CpuUse {
    pub name: String,
    /// The processes summed under this name (none for the client itself).
    pub pids: Vec<u32>,
    /// None when any of them could not be read (exited, no /proc).
    pub seconds: Option<f64>,
}

pub struct RunOutcome {
    pub recorder: Recorder,
    /// From the end of warmup to the last counted answer (at least `duration`).
    pub elapsed: Duration,
    pub cpu: Vec<CpuUse>,
}

/// Where each connection's time window lies.
#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    measure_start: Instant,
    end: Instant,
}

/// After a refused connection, wait this long before trying again, so a
/// down server costs a bounded number of attempts instead of a spin.
const RECONNECT_PAUSE: Duration = Duration::from_millis(10);

pub fn run(cfg: &RunConfig) -> Result<RunOutcome, String> {
    if cfg.conns == 0 {
        return Err("need at least one connection".into());
    }
    if let Some(rate) = cfg.rate {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(format!("open-loop rate must be positive, got {rate}"));
        }
    }
    if cfg.addrs.is_empty() {
        return Err("need at least one address".into());
    }
    let threads = cfg.threads.clamp(1, cfg.conns);
    // One plan per address: the HTTP requests carry their server's Host.
    let plans = cfg
        .addrs
        .iter()
        .map(|addr| {
            Plan::new(cfg.target, cfg.workload, addr, &cfg.key_prefix, cfg.keys, cfg.value_size).map(Arc::new)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let plans = Arc::new(plans);
    if let Some(addr) = cfg.preload_addr.as_deref().filter(|_| needs_preload(cfg)) {
        preload_over_one_conn(cfg, addr)?;
    }
    let barrier = Arc::new(Barrier::new(threads + 1));
    let failed = Arc::new(AtomicBool::new(false));
    let window: Arc<OnceLock<Window>> = Arc::new(OnceLock::new());
    let setup_errors = Arc::new(Mutex::new(Vec::<String>::new()));

    let mut handles = Vec::with_capacity(threads);
    for t in 0..threads {
        let cfg = cfg.clone();
        let plans = Arc::clone(&plans);
        let barrier = Arc::clone(&barrier);
        let failed = Arc::clone(&failed);
        let window = Arc::clone(&window);
        let setup_errors = Arc::clone(&setup_errors);
        let handle = thread::Builder::new()
            .name(format!("bench-{t}"))
            .spawn(move || -> Vec<(Recorder, Instant)> {
                let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(rt) => rt,
                    Err(e) => {
                        failed.store(true, Ordering::SeqCst);
                        push_error(&setup_errors, format!("thread {t}: runtime: {e}"));
                        barrier.wait();
                        barrier.wait();
                        return Vec::new();
                    }
                };
                let mine: Vec<usize> = (t..cfg.conns).step_by(threads).collect();
                let setup = rt.block_on(setup_conns(&cfg, &plans, &mine));
                let conns = match setup {
                    Ok(conns) => conns,
                    Err(e) => {
                        failed.store(true, Ordering::SeqCst);
                        push_error(&setup_errors, e);
                        Vec::new()
                    }
                };
                barrier.wait(); // everyone connected (or failed)
                barrier.wait(); // main has set the window
                if failed.load(Ordering::SeqCst) {
                    return Vec::new();
                }
                let Some(win) = window.get().copied() else { return Vec::new() };
                rt.block_on(async move {
                    let mut set = JoinSet::new();
                    for (index, conn) in conns {
                        let plan = Arc::clone(&plans[index % plans.len()]);
                        let conns = cfg.conns;
                        let rate = cfg.rate;
                        set.spawn(async move {
                            match rate {
                                None => closed_loop(conn, plan, index, conns, win).await,
                                Some(rate) => open_loop(conn, plan, index, conns, rate, win).await,
                            }
                        });
                    }
                    let mut out = Vec::new();
                    while let Some(joined) = set.join_next().await {
                        if let Ok(result) = joined {
                            out.push(result);
                        }
                    }
                    out
                })
            })
            .map_err(|e| format!("spawn client thread: {e}"))?;
        handles.push(handle);
    }

    barrier.wait();
    let now = Instant::now();
    let win = Window { start: now, measure_start: now + cfg.warmup, end: now + cfg.warmup + cfg.duration };
    let _ = window.set(win);
    barrier.wait();

    if !failed.load(Ordering::SeqCst) {
        let until = win.measure_start.saturating_duration_since(Instant::now());
        thread::sleep(until);
    }
    let cpu_before = sample_cpu(&cfg.watch);

    let mut recorder = Recorder::default();
    let mut last = win.end;
    let mut lost_threads = 0;
    for handle in handles {
        match handle.join() {
            Ok(results) => {
                for (rec, done) in results {
                    recorder.merge(&rec);
                    last = last.max(done);
                }
            }
            Err(_) => lost_threads += 1,
        }
    }
    let cpu_after = sample_cpu(&cfg.watch);

    if failed.load(Ordering::SeqCst) {
        let errors = setup_errors.lock().map(|e| e.join("; ")).unwrap_or_default();
        return Err(format!("setup failed: {errors}"));
    }
    if lost_threads > 0 {
        return Err(format!("{lost_threads} client thread(s) panicked"));
    }
    let cpu = cpu_before
        .into_iter()
        .zip(cpu_after)
        .map(|((name, pids, before), (_, _, after))| CpuUse {
            name,
            pids,
            seconds: match (before, after) {
                (Some(b), Some(a)) => Some((a - b).max(0.0)),
                _ => None,
            },
        })
        .collect();
    Ok(RunOutcome { recorder, elapsed: last.saturating_duration_since(win.measure_start), cpu })
}

fn push_error(errors: &Mutex<Vec<String>>, e: String) {
    if let Ok(mut v) = errors.lock() {
        v.push(e);
    }
}

type CpuSample = (String, Vec<u32>, Option<f64>);

/// CPU samples for the watched processes, summed per name in the order the
/// names first appear, plus this client as "client".
fn sample_cpu(watch: &[(String, u32)]) -> Vec<CpuSample> {
    let mut out: Vec<CpuSample> = Vec::new();
    for (name, pid) in watch {
        let seconds = cpu::process_cpu_seconds(*pid);
        match out.iter_mut().find(|(n, _, _)| n == name) {
            Some((_, pids, total)) => {
                pids.push(*pid);
                *total = total.zip(seconds).map(|(a, b)| a + b);
            }
            None => out.push((name.clone(), vec![*pid], seconds)),
        }
    }
    out.push(("client".to_string(), Vec::new(), cpu::self_cpu_seconds()));
    out
}

fn needs_preload(cfg: &RunConfig) -> bool {
    cfg.preload && cfg.workload != Workload::Put
}

/// Writes every key over one connection to `addr`, before the measured
/// connections open (a cluster's followers may see the writes a little later;
/// the warmup covers that).
fn preload_over_one_conn(cfg: &RunConfig, addr: &str) -> Result<(), String> {
    let plan = Plan::new(cfg.target, cfg.workload, addr, &cfg.key_prefix, cfg.keys, cfg.value_size)
        .map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    rt.block_on(async {
        let mut conn = Conn::connect(cfg.target, addr, cfg.timeout).await?;
        for key in 0..cfg.keys {
            conn.exec(&plan, key, Op::Preload)
                .await
                .map_err(|f| format!("preload of key {key} via {addr} failed: {}", f.kind()))?;
        }
        Ok(())
    })
}

/// Opens this thread's connections and, for read workloads, writes each
/// connection's share of the keys so every read finds its key.
async fn setup_conns(cfg: &RunConfig, plans: &[Arc<Plan>], mine: &[usize]) -> Result<Vec<(usize, Conn)>, String> {
    let mut conns = Vec::with_capacity(mine.len());
    for &index in mine {
        let plan = &plans[index % plans.len()];
        let mut conn = Conn::connect(cfg.target, cfg.addr_of(index), cfg.timeout).await?;
        if needs_preload(cfg) && cfg.preload_addr.is_none() {
            for key in (index..cfg.keys).step_by(cfg.conns) {
                conn.exec(plan, key, Op::Preload)
                    .await
                    .map_err(|f| format!("preload of key {key} failed: {}", f.kind()))?;
            }
        }
        conns.push((index, conn));
    }
    Ok(conns)
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Back-to-back requests; counts those that start inside the measured window.
async fn closed_loop(mut conn: Conn, plan: Arc<Plan>, index: usize, conns: usize, win: Window) -> (Recorder, Instant) {
    let mut rec = Recorder::default();
    let mut key = index;
    let mut last_done = win.measure_start;
    loop {
        let sent = Instant::now();
        if sent >= win.end {
            break;
        }
        let result = conn.exec(&plan, key, Op::Measured).await;
        let done = Instant::now();
        if sent >= win.measure_start {
            match &result {
                Ok(()) => rec.success(micros(done - sent)),
                Err(f) => rec.failure(f),
            }
            last_done = done;
        }
        if result == Err(Failure::Connect) {
            tokio::time::sleep(RECONNECT_PAUSE).await;
        }
        key = key.wrapping_add(conns);
    }
    (rec, last_done)
}

/// Requests on a fixed schedule of `rate / conns` per second for this
/// connection, offset so the connections interleave evenly.
async fn open_loop(
    mut conn: Conn,
    plan: Arc<Plan>,
    index: usize,
    conns: usize,
    rate: f64,
    win: Window,
) -> (Recorder, Instant) {
    let mut rec = Recorder::default();
    let interval_s = conns as f64 / rate;
    let offset_s = interval_s * index as f64 / conns as f64;
    let mut key = index;
    let mut last_done = win.measure_start;
    for k in 0u64.. {
        let intended = win.start + Duration::from_secs_f64(offset_s + interval_s * k as f64);
        if intended >= win.end {
            break;
        }
        if Instant::now() < intended {
            tokio::time::sleep_until(intended.into()).await;
        }
        let sent = Instant::now();
        let result = conn.exec(&plan, key, Op::Measured).await;
        let done = Instant::now();
        if intended >= win.measure_start {
            match &result {
                Ok(()) => {
                    rec.success(micros(done - intended));
                    rec.service_time(micros(done - sent));
                }
                Err(f) => rec.failure(f),
            }
            last_done = done;
        }
        if result == Err(Failure::Connect) {
            tokio::time::sleep(RECONNECT_PAUSE).await;
        }
        key = key.wrapping_add(conns);
    }
    (rec, last_done)
}
