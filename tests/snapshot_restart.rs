//! State-store snapshots and log compaction end to end: with a small snapshot threshold the
//! agent writes snapshots while serving, and a restart comes back from the newest snapshot
//! plus the log after it, with every acknowledged write present.
mod common;
use common::*;
use std::time::Duration;

fn snapshots(data: &std::path::Path) -> Vec<std::path::PathBuf> {
    let dir = data.join("raft").join("snapshots");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "snap")).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn restart_from_snapshot_and_log_tail() {
    let dir = TempDir::new("snap");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let extra = ["-hcl=raft_snapshot_threshold = 100", "-hcl=raft_trailing_logs = 10"];
    let mut a = start_server(&data, free_port(), &extra);
    a.wait_ready(Duration::from_secs(30));
    for i in 0..450 {
        let r = http(a.http, "PUT", &format!("/v1/kv/s/k{i:04}"), format!("v{i}").as_bytes()).unwrap();
        assert_eq!(r.body, b"true");
    }
    // deletes go through snapshots too (tombstones keep the prefix index moving)
    assert_eq!(http(a.http, "DELETE", "/v1/kv/s/k0000", b"").unwrap().body, b"true");
    let before = http(a.http, "GET", "/v1/kv/s/?keys", b"").unwrap();
    let index_before: u64 = before.header("X-Consul-Index").unwrap().parse().unwrap();
    // the snapshot thread runs beside the control shard: give it a moment
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while snapshots(&data).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!snapshots(&data).is_empty(), "no snapshot was written; stderr: {}", a.stderr());
    assert!(snapshots(&data).len() <= 2, "at most two snapshots are kept: {:?}", snapshots(&data));
    assert_eq!(a.terminate(), Some(0));

    let mut a = start_server(&data, free_port(), &extra);
    a.wait_ready(Duration::from_secs(30));
    let after = http(a.http, "GET", "/v1/kv/s/?keys", b"").unwrap();
    assert_eq!(after.json(), before.json(), "same keys after restart from snapshot");
    let index_after: u64 = after.header("X-Consul-Index").unwrap().parse().unwrap();
    assert!(index_after >= index_before, "index went back: {index_before} -> {index_after}");
    for i in [1, 99, 100, 101, 250, 449] {
        let r = http(a.http, "GET", &format!("/v1/kv/s/k{i:04}?raw"), b"").unwrap();
        assert_eq!(r.text(), format!("v{i}"));
    }
    assert_eq!(http(a.http, "GET", "/v1/kv/s/k0000", b"").unwrap().status, 404);
}
