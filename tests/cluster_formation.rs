//! Three servers started with -bootstrap-expect=3 and -retry-join form one cluster: one
//! leader everyone agrees on, three voters, writes accepted on a follower and readable
//! everywhere.
mod cluster_support;
mod common;
use cluster_support::*;
use std::collections::BTreeSet;
use std::time::Duration;

#[test]
fn three_servers_form_one_cluster_and_serve_writes_from_a_follower() {
    let mut c = Cluster::start(3);
    let leader = c.wait_for_leader(Duration::from_secs(60));
    let leader_addr = c.servers[leader].raft_addr();
    eprintln!("leader: s{} ({leader_addr})", leader + 1);

    // every server names the same leader and is at the same term
    let views = c.views();
    for (i, v) in &views {
        assert_eq!(v.leader.as_deref(), Some(leader_addr.as_str()), "s{} sees another leader: {views:?}", i + 1);
        let want = if *i == leader { "Leader" } else { "Follower" };
        assert_eq!(v.state.as_deref(), Some(want), "s{} role: {views:?}", i + 1);
    }
    let terms: BTreeSet<_> = views.iter().map(|(_, v)| v.term).collect();
    assert_eq!(terms.len(), 1, "servers disagree on the term: {views:?}");
    assert!(views[0].1.term.unwrap_or(0) >= 1, "term not reported: {views:?}");

    // three voters, as Raft addresses of the three servers, on every server
    let want: BTreeSet<String> = c.servers.iter().map(|s| s.raft_addr()).collect();
    for i in 0..3 {
        let r = c.get(i, "/v1/status/peers").unwrap();
        assert_eq!(r.status, 200, "peers on s{}: {}", i + 1, r.text());
        let got: BTreeSet<String> = serde_json::from_slice::<Vec<String>>(&r.body)
            .unwrap_or_else(|e| panic!("peers on s{} not a list of strings ({e}): {}", i + 1, r.text()))
            .into_iter()
            .collect();
        assert_eq!(got, want, "peers on s{}", i + 1);
    }

    // the operator view: three voters with the node IDs the servers persisted, one leader
    let r = c.get(follower_of(leader), "/v1/operator/raft/configuration").unwrap();
    assert_eq!(r.status, 200, "raft configuration: {}", r.text());
    let conf = r.json();
    let mut seen = BTreeSet::new();
    for s in conf["Servers"].as_array().unwrap_or_else(|| panic!("no Servers: {conf}")) {
        let addr = s["Address"].as_str().unwrap_or_default();
        let i = c.index_of(addr).unwrap_or_else(|| panic!("unknown server address in {conf}"));
        assert_eq!(s["ID"].as_str(), Some(c.servers[i].node_id().as_str()), "ID of {addr}: {conf}");
        assert_eq!(s["Node"].as_str(), Some(c.servers[i].name.as_str()), "Node of {addr}: {conf}");
        assert_eq!(s["Voter"].as_bool(), Some(true), "Voter of {addr}: {conf}");
        assert_eq!(s["Leader"].as_bool(), Some(i == leader), "Leader flag of {addr}: {conf}");
        seen.insert(i);
    }
    assert_eq!(seen.len(), 3, "configuration lists {} servers: {conf}", seen.len());

    // a write sent to a follower is forwarded to the leader and acknowledged
    let follower = follower_of(leader);
    let r = c.put_kv(follower, "formation/k", b"written-on-a-follower").unwrap();
    assert_eq!((r.status, r.text().as_str()), (200, "true"), "PUT on follower s{}", follower + 1);

    // linearizable reads see it on every server, at once (no retry: it was acknowledged)
    for i in 0..3 {
        let r = c.get(i, "/v1/kv/formation/k?raw&consistent").unwrap();
        assert_eq!(r.status, 200, "consistent GET on s{}: {}", i + 1, r.text());
        assert_eq!(r.body, b"written-on-a-follower", "consistent GET on s{}", i + 1);
        assert_eq!(r.header("X-Consul-KnownLeader"), Some("true"), "consistent GET on s{}", i + 1);
        let index: u64 = r.header("X-Consul-Index").and_then(|v| v.parse().ok()).unwrap_or(0);
        assert!(index > 0, "consistent GET on s{}: X-Consul-Index {:?}", i + 1, r.header("X-Consul-Index"));
    }
    // the leader applied the write before acknowledging it: default mode sees it too
    let r = c.get(leader, "/v1/kv/formation/k?raw").unwrap();
    assert_eq!((r.status, r.body.as_slice()), (200, &b"written-on-a-follower"[..]), "default GET on leader");

    // followers catch up: stale reads eventually see it everywhere
    for i in 0..3 {
        let seen = c.eventually(Duration::from_secs(10), |c| {
            matches!(c.get(i, "/v1/kv/formation/k?raw&stale"), Ok(r) if r.body == b"written-on-a-follower")
        });
        assert!(seen, "s{} never applied the write (stale read)", i + 1);
    }
}

/// Consul dials peers from the bind address (RPCSrcAddr = RPCBindAddr's IP, for RPC and Raft
/// connections alike), so a server's traffic carries its own IP. With every server on its own
/// loopback IP, a connection from s2 that arrives from 127.0.0.1 is indistinguishable from s1's.
#[test]
fn outgoing_server_connections_come_from_the_bind_address() {
    let mut c = Cluster::start(3);
    c.wait_for_leader(Duration::from_secs(60));
    // a write makes the leader talk to both followers
    assert!(c.put_acked(0, "formation/src", b"x"), "write not acknowledged");
    let mut wrong = Vec::new();
    let mut seen = 0;
    for s in &c.servers {
        for (local, remote) in netstat::established(s.pid().unwrap()) {
            // outgoing connections to another server's RPC port
            if remote.port() == c.ports.server && *remote.ip() != s.ip {
                seen += 1;
                if *local.ip() != s.ip {
                    wrong.push(format!("{} ({}) -> {remote} from {local}", s.name, s.ip));
                }
            }
        }
    }
    assert!(seen > 0, "no outgoing server connection found at all");
    assert!(wrong.is_empty(), "outgoing server connections not from the bind address:\n{}", wrong.join("\n"));
}

fn follower_of(leader: usize) -> usize {
    (leader + 1) % 3
}
