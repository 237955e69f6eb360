//! A background writer: PUTs of unique keys (`<prefix>/<n>` = `v<n>`) to randomly chosen
//! servers, one at a time. Only a 200 `true` counts as acknowledged; any other outcome is
//! counted as an error and the next write uses a new key (never a retry of an ambiguous one).
use super::{http_req, pick};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct Ack {
    pub key: String,
    pub value: String,
    pub server: usize,
    /// When the acknowledgement arrived, from the writer's start.
    pub at: Duration,
}

#[derive(Default)]
struct Log {
    acked: Vec<Ack>,
    errors: Vec<String>,
}

pub struct Writer {
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Log>>,
    thread: Option<JoinHandle<()>>,
    pub started: Instant,
}

impl Writer {
    /// Writes to a random one of `targets` (server index, HTTP address) until stopped; sleeps
    /// `pause` between writes (zero: back to back).
    pub fn start(prefix: &str, targets: Vec<(usize, SocketAddr)>, pause: Duration) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let log: Arc<Mutex<Log>> = Arc::default();
        let started = Instant::now();
        let (stop2, log2, prefix) = (stop.clone(), log.clone(), prefix.to_string());
        let thread = std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop2.load(Ordering::Relaxed) {
                n += 1;
                let (server, addr) = targets[pick(targets.len())];
                let key = format!("{prefix}/{n:08}");
                let value = format!("v{n}");
                match http_req(addr, "PUT", &format!("/v1/kv/{key}"), value.as_bytes(), Duration::from_secs(30)) {
                    Ok(r) if r.status == 200 && r.body == b"true" => {
                        log2.lock().unwrap().acked.push(Ack { key, value, server, at: started.elapsed() });
                    }
                    Ok(r) => log2.lock().unwrap().errors.push(format!("s{}: {} {}", server + 1, r.status, r.text())),
                    Err(e) => {
                        log2.lock().unwrap().errors.push(format!("s{}: {e}", server + 1));
                        std::thread::sleep(Duration::from_millis(50)); // refused: do not spin
                    }
                }
                if !pause.is_zero() {
                    std::thread::sleep(pause);
                }
            }
        });
        Writer { stop, log, thread: Some(thread), started }
    }

    pub fn acked_count(&self) -> usize {
        self.log.lock().unwrap().acked.len()
    }
    /// Acknowledgements that arrived between `from` and `to` (from the writer's start).
    pub fn acked_between(&self, from: Duration, to: Duration) -> usize {
        self.log.lock().unwrap().acked.iter().filter(|a| a.at >= from && a.at <= to).count()
    }
    pub fn last_ack(&self) -> Option<Duration> {
        self.log.lock().unwrap().acked.last().map(|a| a.at)
    }

    /// Stops the writer and returns (acknowledged writes, error descriptions).
    pub fn stop(mut self) -> (Vec<Ack>, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let mut log = self.log.lock().unwrap();
        (std::mem::take(&mut log.acked), std::mem::take(&mut log.errors))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
