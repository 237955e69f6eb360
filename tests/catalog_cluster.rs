//! The catalog on a real cluster (3 servers on 127.0.0.1-3, a client agent on 127.0.0.4):
//! - every gossip member becomes a catalog node with a `serfHealth` check, servers also
//!   carry the `consul` service; a client agent's own services reach the catalog through a
//!   server (anti-entropy over the forwarding path); kill -9 of the client turns its
//!   serfHealth critical, which takes its services out of `?passing`; force-leave -prune
//!   removes the node;
//! - a thousand checks running on the leader do not disturb Raft: no election, same term.
mod cluster_support;
mod common;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use cluster_support::{Cluster, ClusterOpts};

const SERVERS: [usize; 3] = [0, 1, 2];

/// The two clusters here would share 2 cores with 1,000 probes a second: one at a time.
static ONE_CLUSTER_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    ONE_CLUSTER_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

fn wait(c: &Cluster, what: &str, timeout: Duration, f: impl FnMut(&Cluster) -> bool) {
    let t0 = Instant::now();
    assert!(c.eventually(timeout, f), "{what}: not within {timeout:?}");
    eprintln!("{what}: {:.2?}", t0.elapsed());
}

fn json(c: &Cluster, i: usize, path: &str) -> Option<serde_json::Value> {
    let r = c.get(i, path).ok()?;
    (r.status == 200).then(|| r.json())
}

fn serf_health(c: &Cluster, i: usize, node: &str) -> Option<(String, String)> {
    let checks = json(c, i, &format!("/v1/health/node/{node}"))?;
    let serf = checks.as_array()?.iter().find(|c| c["CheckID"] == "serfHealth")?.clone();
    Some((serf["Status"].as_str()?.to_string(), serf["Output"].as_str()?.to_string()))
}

fn passing_nodes(c: &Cluster, i: usize, service: &str) -> Option<Vec<String>> {
    let v = json(c, i, &format!("/v1/health/service/{service}?passing"))?;
    Some(v.as_array()?.iter().map(|e| e["Node"]["Node"].as_str().unwrap_or("").to_string()).collect())
}

#[test]
fn members_become_nodes_and_a_client_syncs_its_services() {
    let _one = exclusive();
    let mut c = Cluster::start_with(ClusterOpts::new(3));
    c.wait_for_leader_among(&SERVERS, Duration::from_secs(30));
    let cl = c.add_client("c1", Ipv4Addr::new(127, 0, 0, 4), &[]);
    let names = ["s1", "s2", "s3", "c1"];

    wait(&c, "every member is a catalog node with serfHealth passing", Duration::from_secs(30), |c| {
        names.iter().all(|n| serf_health(c, 1, n).is_some_and(|(s, o)| s == "passing" && o == "Agent alive and reachable"))
    });
    let consul = json(&c, 2, "/v1/catalog/service/consul").unwrap();
    let mut servers: Vec<&str> = consul.as_array().unwrap().iter().map(|e| e["Node"].as_str().unwrap()).collect();
    servers.sort();
    assert_eq!(servers, ["s1", "s2", "s3"], "{consul}");

    // The client's own registration, through its own HTTP API.
    let r = c
        .req(cl, "PUT", "/v1/agent/service/register", br#"{"Name":"api","Port":9000,"Check":{"TTL":"60s","Status":"passing"}}"#, Duration::from_secs(10))
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    wait(&c, "the client's service is passing in the catalog", Duration::from_secs(20), |c| {
        passing_nodes(c, 0, "api").is_some_and(|n| n == ["c1"])
    });
    // The node carries the client's tagged addresses (its own sync) and the leader's serfHealth.
    let node = json(&c, 0, "/v1/catalog/node/c1").unwrap();
    assert_eq!(node["Node"]["TaggedAddresses"]["lan"], "127.0.0.4", "{node}");
    // A TTL failure on the client shows on every server.
    let r = c.req(cl, "PUT", "/v1/agent/check/fail/service:api", b"", Duration::from_secs(10)).unwrap();
    assert_eq!(r.status, 200);
    wait(&c, "the failed TTL check reached the catalog", Duration::from_secs(20), |c| {
        passing_nodes(c, 2, "api").is_some_and(|n| n.is_empty())
    });
    let r = c.req(cl, "PUT", "/v1/agent/check/pass/service:api", b"", Duration::from_secs(10)).unwrap();
    assert_eq!(r.status, 200);
    wait(&c, "passing again", Duration::from_secs(20), |c| passing_nodes(c, 2, "api").is_some_and(|n| n == ["c1"]));

    // kill -9: gossip marks it failed, the leader marks serfHealth critical.
    c.kill9(cl);
    wait(&c, "serfHealth critical after kill -9", Duration::from_secs(60), |c| {
        serf_health(c, 0, "c1").is_some_and(|(s, o)| s == "critical" && o == "Agent not live or unreachable")
    });
    assert_eq!(passing_nodes(&c, 1, "api").unwrap(), Vec::<String>::new(), "a failed node's services are not passing");
    let all = json(&c, 1, "/v1/health/service/api").unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1, "still registered, only unhealthy");

    // force-leave -prune: the member is gone, and so is its node.
    let r = c.req(0, "PUT", "/v1/agent/force-leave/c1?prune=1", b"", Duration::from_secs(10)).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    wait(&c, "the pruned node left the catalog", Duration::from_secs(60), |c| {
        json(c, 0, "/v1/catalog/node/c1").is_some_and(|v| v.is_null())
    });
    assert!(json(&c, 0, "/v1/health/service/api").unwrap().as_array().unwrap().is_empty());
}

#[test]
fn a_thousand_checks_on_the_leader_do_not_disturb_raft() {
    let _one = exclusive();
    let mut c = Cluster::start_with(ClusterOpts::new(3));
    let leader = c.wait_for_leader_among(&SERVERS, Duration::from_secs(30));
    let term = c.term(leader).expect("leader's term");
    // 100 services x 10 TCP checks at 1s against the leader's own HTTP port: ~1,000 probes a
    // second on its service shards, and their first results as 1,000 catalog writes.
    let target = c.addr(leader);
    for s in 0..100 {
        let checks: Vec<String> = (0..10)
            .map(|k| format!(r#"{{"CheckID":"svc{s}-tcp{k}","Name":"tcp {k}","TCP":"{target}","Interval":"1s","Timeout":"1s"}}"#))
            .collect();
        let body = format!(r#"{{"Name":"load{s}","Port":{},"Checks":[{}]}}"#, 10000 + s, checks.join(","));
        let r = c.req(leader, "PUT", "/v1/agent/service/register", body.as_bytes(), Duration::from_secs(10)).unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
    }
    wait(&c, "all 1,000 checks passing in the catalog", Duration::from_secs(60), |c| {
        json(c, 1, "/v1/health/state/passing").is_some_and(|v| {
            v.as_array().unwrap().iter().filter(|ch| ch["CheckID"].as_str().is_some_and(|id| id.contains("-tcp"))).count() == 1000
        })
    });
    // Twenty more seconds of probing: nobody starts an election.
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        for i in SERVERS {
            // No answer within the view's timeout is slowness, not an election: skip it.
            if let Some(t) = c.view(i).term {
                assert_eq!(t, term, "server {i}: term moved while the checks ran");
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let ran = json(&c, leader, "/v1/agent/checks").unwrap();
    assert_eq!(ran.as_object().unwrap().len(), 1000);
}
