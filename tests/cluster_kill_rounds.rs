//! Rounds of kill -9 and restart of a random server (sometimes the leader) under a stream of
//! writes sent to random servers: every acknowledged write is readable at the end, with
//! `?consistent` from the leader and with `?stale` from every server once they caught up.
mod cluster_support;
mod common;
use cluster_support::monitor::Monitor;
use cluster_support::writer::Writer;
use cluster_support::*;
use std::time::{Duration, Instant};

/// CI runs 10 rounds; `CLUSTER_ROUNDS=100` runs a longer soak.
fn rounds() -> usize {
    std::env::var("CLUSTER_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(10)
}

#[test]
fn acknowledged_writes_survive_rounds_of_kill9() {
    let mut c = Cluster::start(3);
    let first = c.wait_for_leader(Duration::from_secs(60));
    let first_term = c.term(first).unwrap_or(0);
    let all: Vec<_> = (0..3).map(|i| (i, c.addr(i))).collect();
    let monitor = Monitor::start(&all, Duration::from_millis(200));
    let writer = Writer::start("rounds", all.clone(), Duration::from_millis(2));

    let mut leader_kills = 0;
    for round in 0..rounds() {
        // the current leader as the live servers see it (kill it about one round in three)
        let leader = c.live().into_iter().find_map(|i| c.leader_seen_by(i)).and_then(|l| c.index_of(&l));
        let victim = match leader {
            Some(l) if common::rand_u64() % 3 == 0 => l,
            _ => pick(3),
        };
        if Some(victim) == leader {
            leader_kills += 1;
        }
        let before = writer.acked_count();
        c.kill9(victim);
        std::thread::sleep(Duration::from_millis(common::rand_u64() % 2000));
        c.restart(victim);
        // all three agree on a leader again before the next round (the victim rejoined)
        let l = c.wait_for_leader(Duration::from_secs(60));
        c.assert_alive();
        eprintln!(
            "round {round}: killed s{}{}, leader now s{}, {} writes acknowledged this round",
            victim + 1,
            if Some(victim) == leader { " (the leader)" } else { "" },
            l + 1,
            writer.acked_count() - before
        );
    }
    // let writes flow once more with everyone up, then stop
    let settle = writer.acked_count();
    assert!(
        c.eventually(Duration::from_secs(15), |_| writer.acked_count() > settle),
        "writes did not resume after the last round"
    );
    let (acked, errors) = writer.stop();
    let samples = monitor.stop();
    let leader = c.wait_for_leader(Duration::from_secs(60));

    // with ?consistent from the leader
    let r = c.req(leader, "GET", "/v1/kv/rounds/?recurse&consistent", b"", Duration::from_secs(30)).unwrap();
    assert_eq!(r.status, 200, "recurse on leader: {}", r.text());
    let stored = kv_map(&r.json());
    let lost: Vec<_> = acked.iter().filter(|a| stored.get(&a.key) != Some(&a.value)).collect();
    let leaderships = samples.leaderships();
    let last_term = c.term(leader).unwrap_or(0);
    eprintln!(
        "rounds {}: {} writes acknowledged, {} lost, {} failed attempts, {} leader kills, \
         {} leader changes seen by the poller (term, server): {:?}; term {first_term} -> {last_term}",
        rounds(),
        acked.len(),
        lost.len(),
        errors.len(),
        leader_kills,
        leaderships.len().saturating_sub(1),
        leaderships
    );
    // what the failed attempts were (refused connections to a dead server are expected)
    let mut kinds: std::collections::BTreeMap<String, usize> = Default::default();
    for e in &errors {
        let kind: String = e.split(':').skip(1).collect::<Vec<_>>().join(":").chars().take(60).collect();
        *kinds.entry(kind).or_default() += 1;
    }
    eprintln!("failed attempts by kind: {kinds:#?}");
    assert!(lost.is_empty(), "acknowledged writes lost: {:?}", &lost[..lost.len().min(10)]);
    assert!(acked.len() >= rounds(), "too few writes acknowledged to mean anything: {}", acked.len());

    // with ?stale from every server, once it caught up
    for i in 0..3 {
        let deadline = Instant::now() + Duration::from_secs(30);
        let missing = loop {
            let got = c
                .req(i, "GET", "/v1/kv/rounds/?recurse&stale", b"", Duration::from_secs(30))
                .ok()
                .filter(|r| r.status == 200)
                .map(|r| kv_map(&r.json()))
                .unwrap_or_default();
            let missing = acked.iter().filter(|a| got.get(&a.key) != Some(&a.value)).count();
            if missing == 0 || Instant::now() > deadline {
                break missing;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        assert_eq!(missing, 0, "s{} misses {missing} acknowledged writes in stale reads", i + 1);
    }
}
