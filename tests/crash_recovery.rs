//! Done-when: kill -9 the agent during a stream of acknowledged PUTs, restart it, and every
//! acknowledged write is there; many rounds, real processes, real disk.
mod common;
use common::*;
use std::collections::BTreeMap;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// CI runs 8 rounds; `CRASH_ROUNDS=100` runs a longer soak.
fn rounds() -> usize {
    std::env::var("CRASH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(8)
}
const WRITERS: usize = 8;

#[test]
fn acknowledged_writes_survive_kill9() {
    let dir = TempDir::new("crash");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // key -> last acknowledged value (each writer owns its keys, so the order is known)
    let acked: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
    let writes_acked = Arc::new(AtomicUsize::new(0));

    for round in 0..rounds() {
        let port = free_port();
        let mut agent = start_server(&data, port, &[]);
        agent.wait_ready(Duration::from_secs(30));
        verify(&agent, &acked.lock().unwrap(), round);

        let stop = Arc::new(AtomicBool::new(false));
        let mut handles = Vec::new();
        for w in 0..WRITERS {
            let (stop, acked, addr, count) = (stop.clone(), acked.clone(), agent.http, writes_acked.clone());
            handles.push(std::thread::spawn(move || {
                let mut n = 0u64;
                let mut conn: Option<TcpStream> = None;
                while !stop.load(Ordering::Relaxed) {
                    // a few keys per writer, overwritten again and again, plus fresh keys
                    let key = format!("crash/w{w}/k{}", n % 16);
                    let value = format!("r{round}-w{w}-n{n}");
                    n += 1;
                    let s = match conn.as_mut() {
                        Some(s) => s,
                        None => match TcpStream::connect(addr) {
                            Ok(s) => conn.insert(s),
                            Err(_) => return,
                        },
                    };
                    match request_on(s, "PUT", &format!("/v1/kv/{key}"), value.as_bytes(), false) {
                        Ok(r) if r.status == 200 && r.body == b"true" => {
                            acked.lock().unwrap().insert(key, value);
                            count.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(r) => panic!("unexpected answer {} {}", r.status, r.text()),
                        // the agent died under us: this write was never acknowledged
                        Err(_) => return,
                    }
                }
            }));
        }
        // let the stream run, then kill without warning at a varying moment
        std::thread::sleep(Duration::from_millis(300 + (rand_u64() % 700)));
        agent.kill9();
        stop.store(true, Ordering::Relaxed);
        for h in handles {
            h.join().unwrap();
        }
        eprintln!(
            "round {round}: {} writes acknowledged so far, over {} keys",
            writes_acked.load(Ordering::Relaxed),
            acked.lock().unwrap().len()
        );
    }

    let port = free_port();
    let mut agent = start_server(&data, port, &[]);
    agent.wait_ready(Duration::from_secs(30));
    verify(&agent, &acked.lock().unwrap(), rounds());
    let total = writes_acked.load(Ordering::Relaxed);
    eprintln!("{total} acknowledged writes over {} rounds, every one found after kill -9 and restart", rounds());
    assert!(total > 0, "no write was acknowledged at all");
}

fn verify(agent: &Agent, acked: &BTreeMap<String, String>, round: usize) {
    if acked.is_empty() {
        return;
    }
    let r = http(agent.http, "GET", "/v1/kv/crash/?recurse", b"").unwrap();
    assert_eq!(r.status, 200, "recurse GET after restart {round}: {}", r.text());
    let got: BTreeMap<String, String> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let k = e["Key"].as_str().unwrap().to_string();
            let v = e["Value"].as_str().map(b64).unwrap_or_default();
            (k, v)
        })
        .collect();
    for (k, v) in acked {
        let have = got.get(k).unwrap_or_else(|| panic!("round {round}: acknowledged key {k} lost"));
        // a later, unacknowledged write of the same key may have landed: it must be newer
        if have != v {
            assert!(
                order(have) > order(v),
                "round {round}: key {k} went back from acknowledged {v} to {have}"
            );
        }
    }
}

/// (round, sequence) of a value "r<round>-w<writer>-n<seq>": writes of one key are totally ordered.
fn order(v: &str) -> (u64, u64) {
    let round = v.split('-').next().unwrap().trim_start_matches('r').parse().unwrap();
    let seq = v.rsplit('n').next().unwrap().parse().unwrap();
    (round, seq)
}

fn b64(s: &str) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = T.iter().position(|&t| t == c).unwrap() as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    String::from_utf8(out).unwrap()
}
