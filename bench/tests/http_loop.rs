//! The load loops against a tiny scripted HTTP responder on 127.0.0.1: counts
//! must add up, failures must be counted by kind, preload must happen before
//! reads, and connections the server closes must be reopened.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ballast_bench::driver::{self, RunConfig};
use ballast_bench::report;
use ballast_bench::workload::{Target, Workload};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Keys written so far; a GET of an unwritten key answers 404, like Consul.
type Store = Arc<Mutex<HashSet<String>>>;

/// Answers Consul-style KV requests:
/// - PUT of a key containing "refuse" answers `false`, any other PUT `true`;
/// - keys containing "boom" answer 500;
/// - `?consistent` reads answer chunked;
/// - every 7th response on a connection says `Connection: close` and closes.
fn spawn_responder() -> (String, Store) {
    let store: Store = Arc::new(Mutex::new(HashSet::new()));
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_listener.local_addr().unwrap().to_string();
    std_listener.set_nonblocking(true).unwrap();
    let served = Arc::clone(&store);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = TcpListener::from_std(std_listener).unwrap();
            loop {
                let Ok((sock, _)) = listener.accept().await else { continue };
                tokio::spawn(serve(sock, Arc::clone(&served)));
            }
        });
    });
    (addr, store)
}

async fn serve(mut sock: tokio::net::TcpStream, store: Store) {
    let mut buf = Vec::new();
    let mut answered = 0u32;
    loop {
        // Read one request: head, then Content-Length bytes of body.
        let (head_end, body_len) = loop {
            if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..pos]).to_string();
                let len = head
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                if buf.len() >= pos + 4 + len {
                    break (pos, len);
                }
            }
            let mut chunk = [0u8; 4096];
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        buf.drain(..head_end + 4 + body_len);
        let request_line = head.lines().next().unwrap_or("").to_string();
        let mut parts = request_line.split(' ');
        let method = parts.next().unwrap_or("");
        let target = parts.next().unwrap_or("");
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let key = path.strip_prefix("/v1/kv/").unwrap_or("").to_string();
        answered += 1;
        let close = answered.is_multiple_of(7);
        let conn_header = if close { "Connection: close\r\n" } else { "" };
        let response = if key.contains("boom") {
            format!("HTTP/1.1 500 Internal Server Error\r\n{conn_header}Content-Length: 4\r\n\r\nboom")
        } else if method == "PUT" {
            let body = if key.contains("refuse") { "false" } else { "true" };
            store.lock().unwrap().insert(key);
            format!("HTTP/1.1 200 OK\r\n{conn_header}Content-Length: {}\r\n\r\n{body}", body.len())
        } else if !store.lock().unwrap().contains(&key) {
            format!("HTTP/1.1 404 Not Found\r\n{conn_header}Content-Length: 0\r\n\r\n")
        } else if query == "consistent" {
            format!("HTTP/1.1 200 OK\r\n{conn_header}Transfer-Encoding: chunked\r\n\r\n3\r\n[{{}}\r\n1\r\n]\r\n0\r\n\r\n")
        } else {
            format!("HTTP/1.1 200 OK\r\n{conn_header}Content-Length: 4\r\n\r\n[{{}}]")
        };
        if sock.write_all(response.as_bytes()).await.is_err() || close {
            return;
        }
    }
}

fn config(addr: &str, workload: Workload, prefix: &str) -> RunConfig {
    RunConfig {
        target: Target::Consul,
        addrs: vec![addr.to_string()],
        workload,
        conns: 4,
        threads: 2,
        duration: Duration::from_millis(300),
        warmup: Duration::from_millis(50),
        keys: 5,
        key_prefix: prefix.to_string(),
        value_size: 36,
        rate: None,
        timeout: Duration::from_secs(5),
        preload: true,
        preload_addr: None,
        watch: vec![],
    }
}

#[test]
fn closed_loop_puts_succeed_across_server_closes() {
    let (addr, store) = spawn_responder();
    let cfg = config(&addr, Workload::Put, "bench/k");
    let out = driver::run(&cfg).unwrap();
    assert!(out.recorder.ok > 0);
    assert_eq!(out.recorder.error_count(), 0, "{:?}", out.recorder.errors);
    assert_eq!(out.recorder.latency.len(), out.recorder.ok);
    // 4 connections round-robin over 5 keys reach them all.
    assert_eq!(store.lock().unwrap().len(), 5);
    let json = report::to_json(&cfg, &out, Some("x"));
    assert_eq!(json["requests"].as_u64(), Some(out.recorder.ok));
    assert_eq!(json["errors"].as_u64(), Some(0));
    assert_eq!(json["workload"], "put");
    assert_eq!(json["target"], "consul");
    assert_eq!(json["label"], "x");
    assert!(json["rps"].as_f64().unwrap() > 0.0);
    assert!(json["cpu"]["client"]["cpu_s"].is_number());
}

#[test]
fn failures_are_counted_by_kind_not_ignored() {
    let (addr, _) = spawn_responder();
    let out = driver::run(&config(&addr, Workload::Put, "bench/refuse")).unwrap();
    assert_eq!(out.recorder.ok, 0);
    assert!(out.recorder.errors["put_not_true"] > 0);

    let out = driver::run(&config(&addr, Workload::Put, "bench/boom")).unwrap();
    assert_eq!(out.recorder.ok, 0);
    assert!(out.recorder.errors["http_500"] > 0);
}

#[test]
fn reads_are_preloaded_and_chunked_answers_parse() {
    let (addr, store) = spawn_responder();
    for workload in [Workload::Get, Workload::GetStale, Workload::GetConsistent] {
        let out = driver::run(&config(&addr, workload, "bench/r")).unwrap();
        assert!(out.recorder.ok > 0, "{workload:?}");
        assert_eq!(out.recorder.error_count(), 0, "{workload:?}: {:?}", out.recorder.errors);
    }
    assert_eq!(store.lock().unwrap().len(), 5);
}

#[test]
fn reads_without_preload_see_missing_keys_as_errors() {
    let (addr, _) = spawn_responder();
    let mut cfg = config(&addr, Workload::GetStale, "bench/never");
    cfg.preload = false;
    let out = driver::run(&cfg).unwrap();
    assert_eq!(out.recorder.ok, 0);
    assert!(out.recorder.errors["http_404"] > 0);
}

#[test]
fn open_loop_never_exceeds_its_schedule() {
    let (addr, _) = spawn_responder();
    let mut cfg = config(&addr, Workload::Put, "bench/o");
    cfg.rate = Some(200.0);
    let out = driver::run(&cfg).unwrap();
    // The schedule has rate * duration starts in the measured window (+1 per
    // connection for the boundary); a late client can only send fewer.
    let scheduled = (200.0 * 0.3) as u64 + cfg.conns as u64;
    let total = out.recorder.ok + out.recorder.error_count();
    assert!(total > 0 && total <= scheduled, "total {total}, scheduled {scheduled}");
    assert_eq!(out.recorder.service.len(), out.recorder.ok);
    let json = report::to_json(&cfg, &out, None);
    assert_eq!(json["loop"], "open");
    assert!(json["service_us"]["p99"].is_u64());
}

#[test]
fn unreachable_server_fails_setup_with_a_message() {
    // Bind then drop to get a port with nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cfg = config(&format!("127.0.0.1:{port}"), Workload::Put, "bench/k");
    let err = driver::run(&cfg).err().expect("setup must fail");
    assert!(err.contains("connect"), "{err}");
}

#[test]
fn connections_spread_over_several_addresses() {
    let (a, store_a) = spawn_responder();
    let (b, store_b) = spawn_responder();
    let mut cfg = config(&a, Workload::Put, "bench/s");
    cfg.addrs = vec![a.clone(), b.clone()];
    let out = driver::run(&cfg).unwrap();
    assert_eq!(out.recorder.error_count(), 0, "{:?}", out.recorder.errors);
    // Connections 0 and 2 write to a, 1 and 3 to b; each cycles over keys.
    assert!(!store_a.lock().unwrap().is_empty());
    assert!(!store_b.lock().unwrap().is_empty());
    let json = report::to_json(&cfg, &out, None);
    assert_eq!(json["spread"], 2);
    assert_eq!(json["addr"], format!("{a},{b}"));
}

#[test]
fn preload_address_takes_the_preload_instead_of_the_measured_connections() {
    let (leader, leader_store) = spawn_responder();
    let (follower, follower_store) = spawn_responder();
    let mut cfg = config(&follower, Workload::GetStale, "bench/p");
    cfg.preload_addr = Some(leader);
    let out = driver::run(&cfg).unwrap();
    assert_eq!(leader_store.lock().unwrap().len(), 5);
    // The scripted servers do not replicate, so the follower never has the keys.
    assert!(follower_store.lock().unwrap().is_empty());
    assert_eq!(out.recorder.ok, 0);
    assert!(out.recorder.errors["http_404"] > 0);
}
