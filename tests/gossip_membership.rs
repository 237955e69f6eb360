//! Gossip with real processes: 3 servers on 127.0.0.1-3 and 2 client agents on
//! 127.0.0.4-5. Member lists converge; a client agent forwards its HTTP API to a server
//! and keeps serving when that server dies; kill -9 of a client marks it failed
//! everywhere; `ballast force-leave -prune` removes it; `ballast leave` marks a client
//! left and stops it. Timings are printed, not asserted beyond generous bounds.
mod cluster_support;
mod common;

use std::net::Ipv4Addr;
use std::process::Command;
use std::time::{Duration, Instant};

use cluster_support::{Cluster, ClusterOpts};

const SERVERS: [usize; 3] = [0, 1, 2];

/// name -> Serf status (1 alive, 2 leaving, 3 left, 4 failed) as agent `i` lists it.
fn members(c: &Cluster, i: usize) -> Option<Vec<(String, u64)>> {
    let r = c.get(i, "/v1/agent/members").ok()?;
    if r.status != 200 {
        return None;
    }
    let j = r.json();
    Some(j.as_array()?.iter().map(|m| (m["Name"].as_str().unwrap_or("").to_string(), m["Status"].as_u64().unwrap_or(0))).collect())
}

fn status_of(c: &Cluster, i: usize, name: &str) -> Option<u64> {
    members(c, i)?.into_iter().find(|(n, _)| n == name).map(|(_, s)| s)
}

fn cli(c: &Cluster, i: usize, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(common::bin())
        .args(args)
        .env("CONSUL_HTTP_ADDR", format!("http://{}", c.addr(i)))
        .output()
        .expect("run ballast cli");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn wait(c: &Cluster, what: &str, timeout: Duration, f: impl FnMut(&Cluster) -> bool) -> Duration {
    let t0 = Instant::now();
    assert!(c.eventually(timeout, f), "{what}: not within {timeout:?}");
    let took = t0.elapsed();
    eprintln!("{what}: {took:.2?}");
    took
}

#[test]
fn members_converge_fail_leave_prune_and_clients_forward() {
    let mut c = Cluster::start_with(ClusterOpts::new(3));
    c.wait_for_leader_among(&SERVERS, Duration::from_secs(30));
    let c1 = c.add_client("c1", Ipv4Addr::new(127, 0, 0, 4), &[]);
    let c2 = c.add_client("c2", Ipv4Addr::new(127, 0, 0, 5), &[]);
    let all = [0, 1, 2, c1, c2];
    let names = ["s1", "s2", "s3", "c1", "c2"];

    // Every agent lists all five, alive, with Consul's roles.
    wait(&c, "members converged on all 5 agents", Duration::from_secs(30), |c| {
        all.iter().all(|&i| members(c, i).is_some_and(|m| m.len() == 5 && m.iter().all(|(_, s)| *s == 1)))
    });
    let j = c.get(c1, "/v1/agent/members").unwrap().json();
    for m in j.as_array().unwrap() {
        let role = m["Tags"]["role"].as_str().unwrap();
        let name = m["Name"].as_str().unwrap();
        assert_eq!(role, if name.starts_with('s') { "consul" } else { "node" }, "{m}");
        assert_eq!(m["Tags"]["dc"], "dc1");
        assert!(m["Port"].as_u64().unwrap() > 0);
    }
    // WAN pool: the three servers, named node.dc.
    let wan = c.get(0, "/v1/agent/members?wan=1").unwrap().json();
    wait(&c, "WAN pool has the 3 servers", Duration::from_secs(30), |c| {
        c.get(0, "/v1/agent/members?wan=1").ok().map(|r| r.json().as_array().map_or(0, |a| a.len())) == Some(3)
    });
    let _ = wan;

    // `ballast members` on a client prints Consul's columns.
    let (code, out, err) = cli(&c, c1, &["members"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.lines().next().unwrap().split_whitespace().collect::<Vec<_>>() == ["Node", "Address", "Status", "Type", "Build", "Protocol", "DC", "Partition", "Segment"], "{out}");
    for n in names {
        assert!(out.contains(n), "{n} missing from:\n{out}");
    }

    // Coordinates from probe round trips: `ballast rtt` between two servers, asked through
    // a client (which forwards /v1/coordinate/nodes to a server).
    wait(&c, "coordinates of s2 and s3 known to a server", Duration::from_secs(30), |c| {
        let (code, out, _) = cli(c, c1, &["rtt", "s2", "s3"]);
        code == 0 && out.starts_with("Estimated s2 <-> s3 rtt: ") && out.contains("(using LAN coordinates)")
    });
    let (_, out, _) = cli(&c, c1, &["rtt", "s2", "s3"]);
    eprintln!("{}", out.trim());

    // A client forwards reads and writes to a server.
    let r = c.req(c1, "PUT", "/v1/kv/gossip/through-client", b"v1", Duration::from_secs(30)).unwrap();
    assert_eq!((r.status, r.text()), (200, "true".to_string()), "write through a client");
    let r = c.get(c2, "/v1/kv/gossip/through-client?raw").unwrap();
    assert_eq!((r.status, r.text()), (200, "v1".to_string()));
    assert!(r.header("X-Consul-Index").is_some(), "query meta relayed");
    let r = c.get(c1, "/v1/status/leader").unwrap();
    assert!(r.text().contains(':'), "leader through a client: {}", r.text());

    // The client keeps serving when the server it uses dies: kill each server in turn
    // (one of them is the one c1 talks to), read and write through c1 meanwhile.
    for s in SERVERS {
        c.kill9(s);
        let rest: Vec<usize> = SERVERS.iter().copied().filter(|&x| x != s).collect();
        c.wait_for_leader_among(&rest, Duration::from_secs(30));
        let key = format!("gossip/after-kill-{s}");
        let r = c.req(c1, "PUT", &format!("/v1/kv/{key}"), b"ok", Duration::from_secs(30)).unwrap();
        assert_eq!((r.status, r.text()), (200, "true".to_string()), "write through c1 with s{} dead", s + 1);
        let r = c.get(c1, &format!("/v1/kv/{key}?raw")).unwrap();
        assert_eq!((r.status, r.text()), (200, "ok".to_string()), "read through c1 with s{} dead", s + 1);
        let r = c.get(c1, "/v1/kv/gossip/through-client?raw&stale").unwrap();
        assert_eq!(r.status, 200);
        c.start_server(s);
        c.wait_for_leader_among(&SERVERS, Duration::from_secs(30));
        wait(&c, "restarted server alive again in c1's list", Duration::from_secs(30), |c| status_of(c, c1, names[s]) == Some(1));
    }

    // kill -9 of a client: failed everywhere.
    c.kill9(c2);
    let others = [0, 1, 2, c1];
    wait(&c, "killed client c2 marked failed on every agent", Duration::from_secs(60), |c| {
        others.iter().all(|&i| status_of(c, i, "c2") == Some(4))
    });

    // force-leave -prune removes the failed node.
    let (code, out, err) = cli(&c, 0, &["force-leave", "-prune", "c2"]);
    assert_eq!(code, 0, "force-leave: {out}{err}");
    wait(&c, "pruned c2 gone from every member list", Duration::from_secs(30), |c| {
        others.iter().all(|&i| members(c, i).is_some_and(|m| !m.iter().any(|(n, _)| n == "c2")))
    });
    let (code, _, err) = cli(&c, 0, &["force-leave", "no-such-node"]);
    assert_ne!(code, 0);
    assert!(err.contains("No node found with name 'no-such-node'"), "{err}");

    // `ballast leave` on c1: it stops, and the others see it left.
    let (code, out, err) = cli(&c, c1, &["leave"]);
    assert_eq!(code, 0, "leave: {out}{err}");
    assert!(out.contains("Graceful leave complete"), "{out}");
    assert!(c.wait_exit(c1, Duration::from_secs(30)).is_some(), "c1 did not stop after leave");
    wait(&c, "c1 marked left on every server", Duration::from_secs(30), |c| SERVERS.iter().all(|&i| status_of(c, i, "c1") == Some(3)));
}

/// The leader reconciles Raft with gossip as Consul's does: a live server removed with
/// remove-peer comes back (it is still a member), and a server that leaves gracefully is
/// taken out of the Raft configuration.
#[test]
fn raft_membership_follows_gossip() {
    let mut c = Cluster::start_with(ClusterOpts::new(3));
    let leader = c.wait_for_leader_among(&SERVERS, Duration::from_secs(30));
    let victim = (leader + 1) % 3;
    let id = c.servers[victim].node_id();
    let voters = |c: &Cluster, i: usize| -> Option<Vec<String>> {
        let j = c.get(i, "/v1/operator/raft/configuration").ok()?.json();
        Some(j["Servers"].as_array()?.iter().filter(|s| s["Voter"] == true).map(|s| s["ID"].as_str().unwrap_or("").to_string()).collect())
    };
    let r = c.req(leader, "DELETE", &format!("/v1/operator/raft/peer?id={id}"), b"", Duration::from_secs(10)).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    wait(&c, "removed live server is a voter again", Duration::from_secs(30), |c| {
        voters(c, leader).is_some_and(|v| v.len() == 3 && v.contains(&id))
    });

    let (code, out, err) = cli(&c, victim, &["leave"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(c.wait_exit(victim, Duration::from_secs(30)).is_some(), "server did not stop after leave");
    let rest: Vec<usize> = SERVERS.iter().copied().filter(|&x| x != victim).collect();
    let leader = c.wait_for_leader_among(&rest, Duration::from_secs(30));
    wait(&c, "server that left is out of the Raft configuration", Duration::from_secs(30), |c| {
        voters(c, leader).is_some_and(|v| v.len() == 2 && !v.contains(&id))
    });
    assert_eq!(status_of(&c, leader, &c.servers[victim].name.clone()), Some(3), "left in gossip");
    // Still a working cluster of two.
    let r = c.req(leader, "PUT", "/v1/kv/after-leave", b"x", Duration::from_secs(30)).unwrap();
    assert_eq!((r.status, r.text()), (200, "true".to_string()));
}
