//! Outage recovery with peers.json: three servers with data are all killed; server 1 gets a
//! `raft/peers.json` naming only itself and is started alone. It must become the leader of a
//! one-server cluster with all the data, and consume (remove) peers.json.
mod cluster_support;
mod common;
use cluster_support::*;
use std::time::Duration;

#[test]
fn peers_json_recovers_a_single_server_from_a_dead_cluster() {
    let mut c = Cluster::start(3);
    c.wait_for_leader(Duration::from_secs(60));
    let mut written = Vec::new();
    for n in 0..50 {
        let (k, v) = (format!("peers/{n:03}"), format!("value-{n}"));
        assert!(c.put_acked(n % 3, &k, v.as_bytes()), "write {k} not acknowledged");
        written.push((k, v));
    }
    // let every server apply everything (so which one we keep does not matter)
    let want = written.len();
    for i in 0..3 {
        let ok = c.eventually(Duration::from_secs(15), |c| {
            matches!(c.get(i, "/v1/kv/peers/?recurse&stale"), Ok(r) if r.status == 200 && kv_map(&r.json()).len() == want)
        });
        assert!(ok, "s{} never applied all writes", i + 1);
    }

    let node_id = c.servers[0].node_id();
    for i in 0..3 {
        c.kill9(i);
    }
    let raft_dir = c.servers[0].data_dir.join("raft");
    assert!(raft_dir.is_dir(), "no raft dir in {}", c.servers[0].data_dir.display());
    let peers_json = raft_dir.join("peers.json");
    let addr = c.servers[0].raft_addr();
    std::fs::write(&peers_json, format!(r#"[{{"id":"{node_id}","address":"{addr}","non_voter":false}}]"#)).unwrap();

    c.start_server(0);
    let leader = c.wait_for_leader_among(&[0], Duration::from_secs(60));
    assert_eq!(leader, 0);
    let r = c.get(0, "/v1/status/peers").unwrap();
    let peers: Vec<String> = serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("peers: {e}: {}", r.text()));
    assert_eq!(peers, vec![addr.clone()], "a one-server cluster");
    assert!(!peers_json.exists(), "peers.json was not removed after recovery");

    // all the data is there, linearizably
    let r = c.get(0, "/v1/kv/peers/?recurse&consistent").unwrap();
    assert_eq!(r.status, 200, "consistent recurse: {}", r.text());
    let stored = kv_map(&r.json());
    for (k, v) in &written {
        assert_eq!(stored.get(k), Some(v), "key {k} after peers.json recovery");
    }
    // and it takes writes alone
    assert!(c.put_acked(0, "peers/after", b"alone"), "write after recovery not acknowledged");
    let r = c.get(0, "/v1/kv/peers/after?raw&consistent").unwrap();
    assert_eq!((r.status, r.body.as_slice()), (200, &b"alone"[..]));
    c.assert_alive();
}
