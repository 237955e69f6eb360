//! Done-when: a blocking GET on a key returns promptly after a change to that key and does not
//! return for changes to other keys; 10,000 parked blocking queries cost < 100 MB of extra
//! resident memory and no CPU while idle. Latencies are printed, not asserted (noisy machine).
mod common;
use common::*;
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn index_of(r: &Response) -> u64 {
    r.header("X-Consul-Index").expect("X-Consul-Index").parse().unwrap()
}

#[test]
fn blocking_get_wakes_on_its_key_only() {
    let dir = TempDir::new("block");
    let mut a = start_server(dir.path(), free_port(), &[]);
    a.wait_ready(Duration::from_secs(30));
    let r = http(a.http, "PUT", "/v1/kv/watched", b"v1").unwrap();
    assert_eq!(r.body, b"true");
    let r = http(a.http, "GET", "/v1/kv/watched", b"").unwrap();
    let mut idx = index_of(&r);

    let mut lat = Vec::new();
    for round in 0..5 {
        let addr = a.http;
        let waiter = std::thread::spawn(move || {
            let r = http(addr, "GET", &format!("/v1/kv/watched?index={idx}&wait=30s"), b"").unwrap();
            (Instant::now(), r)
        });
        std::thread::sleep(Duration::from_millis(300));
        // writes to other keys (including a key that shares the prefix) must not wake it
        for other in ["watchedx", "other", "watched/child"] {
            assert_eq!(http(a.http, "PUT", &format!("/v1/kv/{other}"), b"o").unwrap().body, b"true");
        }
        std::thread::sleep(Duration::from_millis(300));
        assert!(!waiter.is_finished(), "round {round}: woke for a change to another key");
        let changed_at = Instant::now();
        let v = format!("v{}", round + 2);
        assert_eq!(http(a.http, "PUT", "/v1/kv/watched", v.as_bytes()).unwrap().body, b"true");
        let (woke_at, r) = waiter.join().unwrap();
        assert_eq!(r.status, 200);
        let new_idx = index_of(&r);
        assert!(new_idx > idx, "index must move forward: {new_idx} <= {idx}");
        let body = r.json();
        assert_eq!(body[0]["ModifyIndex"].as_u64().unwrap(), new_idx, "single-key index is its ModifyIndex");
        lat.push(woke_at.saturating_duration_since(changed_at));
        idx = new_idx;
    }
    lat.sort();
    eprintln!("blocking GET wake latency after the PUT returned (incl. the PUT itself): {lat:?}");

    // an unchanged key times out after ?wait and returns the same index
    let r = http(a.http, "GET", "/v1/kv/watched", b"").unwrap();
    let idx = index_of(&r);
    let t = Instant::now();
    let r = http(a.http, "GET", &format!("/v1/kv/watched?index={idx}&wait=1s"), b"").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(index_of(&r), idx);
    assert!(t.elapsed() >= Duration::from_secs(1), "returned before wait elapsed");
}

#[test]
fn ten_thousand_parked_queries_cost_little_memory_and_no_cpu() {
    let target = raise_nofile();
    let n: usize = if target >= 21_000 { 10_000 } else { ((target as usize).saturating_sub(1_000)).min(10_000) };
    assert!(n >= 5_000, "open-file limit too low for this test: {target}");
    let dir = TempDir::new("parked");
    let mut a = start_server(dir.path(), free_port(), &[]);
    a.wait_ready(Duration::from_secs(30));
    assert_eq!(http(a.http, "PUT", "/v1/kv/p/0", b"x").unwrap().body, b"true");
    let idx = index_of(&http(a.http, "GET", "/v1/kv/p/0", b"").unwrap());
    std::thread::sleep(Duration::from_millis(500));
    let rss_before = rss_kib(a.pid());

    let mut conns = Vec::with_capacity(n);
    for i in 0..n {
        let mut s = TcpStream::connect(a.http).unwrap();
        // each query watches its own key so that no write below wakes them
        let req = format!(
            "GET /v1/kv/p/{}?index={}&wait=10m HTTP/1.1\r\nHost: x\r\n\r\n",
            i % 1000,
            idx + 1_000_000
        );
        s.write_all(req.as_bytes()).unwrap();
        conns.push(s);
    }
    std::thread::sleep(Duration::from_secs(2));
    let rss_parked = rss_kib(a.pid());
    let cpu0 = cpu_ticks(a.pid());
    std::thread::sleep(Duration::from_secs(3));
    let cpu1 = cpu_ticks(a.pid());
    let extra_mb = rss_parked.saturating_sub(rss_before) as f64 / 1024.0;
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let idle_cpu = (cpu1 - cpu0) as f64 / hz;
    eprintln!(
        "{n} parked blocking queries: RSS {rss_before} KiB -> {rss_parked} KiB (+{extra_mb:.1} MB), CPU while idle over 3 s: {idle_cpu:.3} s"
    );
    assert!(extra_mb < 100.0 * n as f64 / 10_000.0, "parked queries cost {extra_mb:.1} MB");
    // "no CPU while idle": a few timer ticks at most, not work proportional to the parked count
    assert!(idle_cpu < 0.15, "agent used {idle_cpu:.3} s CPU in 3 s idle with {n} parked queries");

    // and they are all still served: the agent answers other requests meanwhile
    let r = http(a.http, "GET", "/v1/kv/p/0", b"").unwrap();
    assert_eq!(r.status, 200);
    drop(conns);
}
