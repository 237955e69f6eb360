//! Small simulator scenarios: join, leave, force-leave, restart/refute,
//! partition heal, queries.

mod sim;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use ballast_gossip::{Config, Event, Status};
use sim::{addr_of, name_of, seed, start_pool, Net, Sim};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn lan(i: usize) -> Config {
    Config::lan(&name_of(i), addr_of(i))
}

fn status_everywhere(sim: &Sim, of: usize) -> BTreeMap<String, Option<Status>> {
    (0..sim.nodes.len())
        .filter(|&i| i != of && sim.is_up(i))
        .map(|i| (name_of(i), sim.gossip(i).unwrap().member(&name_of(of)).map(|m| m.status)))
        .collect()
}

#[test]
fn join_converges() {
    let s = seed("join_converges", 11);
    let mut sim = Sim::new(s, Net::lan());
    // Joins 10 ms apart race the gossip of earlier joins; the periodic
    // push-pull (30-60 s first, then every 60 s at this size) closes the gaps.
    start_pool(&mut sim, 64, lan, secs(120));
    let un = sim.unconverged();
    println!("64 members after 120s: {un} not converged");
    assert_eq!(un, 0);
    for i in 0..64 {
        assert_eq!(sim.gossip(i).unwrap().num_alive(), 64);
    }
}

fn pool(test: &str, default_seed: u64, n: usize) -> Sim {
    let s = seed(test, default_seed);
    let mut sim = Sim::new(s, Net::lan());
    start_pool(&mut sim, n, lan, secs(120));
    assert_eq!(sim.unconverged(), 0, "pool converged");
    sim
}

#[test]
fn graceful_leave_is_left_everywhere() {
    let mut sim = pool("graceful_leave", 21, 32);
    let leaver = 5;
    sim.with_node(leaver, |g, now| g.leave(now));
    let mut failed = BTreeSet::new();
    let end = sim.now + secs(10);
    sim.run_until(end, |_, _, e| {
        if let Event::Failed(m) = e {
            failed.insert(m.name.clone());
        }
    });
    assert!(sim.gossip(leaver).unwrap().leave_done(), "leave broadcast drained");
    assert_eq!(sim.gossip(leaver).unwrap().member(&name_of(leaver)).unwrap().status, Status::Left);
    sim.crash(leaver); // the process exits after leave_done
    let end = sim.now + secs(60);
    sim.run_until(end, |_, _, e| {
        if let Event::Failed(m) = e {
            failed.insert(m.name.clone());
        }
    });
    let seen = status_everywhere(&sim, leaver);
    let not_left: Vec<_> = seen.iter().filter(|(_, s)| **s != Some(Status::Left)).collect();
    println!("[graceful_leave] {} members see the leaver; not Left: {}", seen.len(), not_left.len());
    assert!(not_left.is_empty(), "{not_left:?}");
    assert!(failed.is_empty(), "a graceful leave is never a failure: {failed:?}");
}

#[test]
fn force_leave_prune_forgets_everywhere() {
    let mut sim = pool("force_leave_prune", 22, 32);
    let dead = 9;
    sim.crash(dead);
    let end = sim.now + secs(60);
    sim.run_until(end, |_, _, _| {});
    let seen = status_everywhere(&sim, dead);
    assert!(seen.values().all(|s| *s == Some(Status::Failed)), "crashed member failed everywhere: {seen:?}");
    let r = sim.with_node(0, |g, now| g.force_leave(&name_of(dead), true, now)).unwrap();
    assert!(r.is_ok());
    let err = sim.with_node(0, |g, now| g.force_leave("no-such-node", false, now)).unwrap();
    assert!(err.is_err(), "unknown name is an error");
    let mut reaped = BTreeSet::new();
    let end = sim.now + secs(30);
    sim.run_until(end, |i, _, e| {
        if let Event::Reap(m) = e {
            if m.name == name_of(dead) {
                reaped.insert(i);
            }
        }
    });
    let seen = status_everywhere(&sim, dead);
    let remembered: Vec<_> = seen.iter().filter(|(_, s)| s.is_some()).collect();
    println!("[force_leave_prune] reaped on {} of {} live members", reaped.len() + 1, seen.len());
    assert!(remembered.is_empty(), "pruned member still known: {remembered:?}");
}

#[test]
fn restarted_node_refutes_with_higher_incarnation() {
    let mut sim = pool("restart_refutes", 23, 32);
    let node = 4;
    sim.crash(node);
    let end = sim.now + secs(60);
    sim.run_until(end, |_, _, _| {});
    let before = sim.gossip(0).unwrap().member(&name_of(node)).unwrap().clone();
    assert_eq!(before.status, Status::Failed);
    sim.restart(node, lan(node));
    sim.join(node, 0);
    let mut rejoined = BTreeSet::new();
    let end = sim.now + secs(30);
    sim.run_until(end, |i, _, e| {
        if let Event::Join(m) = e {
            if m.name == name_of(node) {
                rejoined.insert(i);
            }
        }
    });
    let seen = status_everywhere(&sim, node);
    assert!(seen.values().all(|s| *s == Some(Status::Alive)), "{seen:?}");
    let inc = sim.gossip(node).unwrap().member(&name_of(node)).unwrap().incarnation;
    println!(
        "[restart_refutes] dead at incarnation {}, came back at {inc}; {} members saw it rejoin",
        before.incarnation,
        rejoined.len()
    );
    assert!(ballast_gossip::incarnation_newer(inc, before.incarnation));
    for i in 0..32 {
        if i != node {
            assert_eq!(sim.gossip(i).unwrap().member(&name_of(node)).unwrap().incarnation, inc);
        }
    }
}

#[test]
fn partition_then_heal_converges() {
    let mut sim = pool("partition_heal", 24, 40);
    let groups: Vec<u32> = (0..40).map(|i| (i % 2) as u32).collect();
    sim.partition(groups);
    let end = sim.now + secs(120);
    sim.run_until(end, |_, _, _| {});
    let g0 = sim.gossip(0).unwrap();
    let failed_other_side = (0..40).filter(|i| i % 2 == 1).filter(|&i| g0.member(&name_of(i)).map(|m| m.status) == Some(Status::Failed)).count();
    assert_eq!(failed_other_side, 20, "during the partition each side sees the other failed");
    sim.heal();
    // Failed members are not probed; the periodic push-pull (every 60 s at
    // this size, plus the per-node stagger) and refutation reunite the pool.
    let end = sim.now + secs(300);
    sim.run_until(end, |_, _, _| {});
    let un = sim.unconverged();
    println!("[partition_heal] after heal + 300s: {un} of 40 members not converged");
    assert_eq!(un, 0);
}

#[test]
fn queries_reach_everyone_and_answers_return() {
    let mut sim = pool("queries", 25, 48);
    sim.auto_respond = true;
    let origin = 3;
    let id = sim.with_node(origin, |g, now| g.query("ping", b"hello".to_vec(), Duration::ZERO, now)).unwrap();
    let mut asked = BTreeSet::new();
    let mut answered = BTreeSet::new();
    let mut dup = 0;
    let mut done = false;
    let end = sim.now + secs(30);
    sim.run_until(end, |i, _, e| match e {
        Event::Query { id: q, .. } if *q == id => {
            if !asked.insert(i) {
                dup += 1;
            }
        }
        Event::QueryResponse { id: q, from, payload } if *q == id && i == origin => {
            assert_eq!(payload, b"ping");
            if !answered.insert(from.clone()) {
                dup += 1;
            }
        }
        Event::QueryDone { id: q } if *q == id => done = true,
        _ => {}
    });
    // The originator's own Query event and self-answer happen inside
    // `with_node`, before the run; count the 47 others here.
    println!("[queries] 48 members: {} others got the query, {} of their answers reached the originator", asked.len(), answered.len());
    assert_eq!(asked.len(), 47);
    assert!(!asked.contains(&origin));
    assert_eq!(answered.len(), 47);
    assert_eq!(dup, 0, "queries and answers are delivered once");
    assert!(done, "QueryDone at the timeout");
}
