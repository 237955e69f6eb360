//! A stable leader stays the leader through faults that must not cost an election: a follower
//! frozen (SIGSTOP) for 10 election timeouts, every CPU busy for 10 election timeouts, and a
//! follower that stops receiving Raft traffic (one-way loss) for 10 election timeouts.
//!
//! Throughout each fault and for a few seconds after it, every server is polled every ~200 ms:
//! the servers not under the fault must keep the same leader, the same term and their roles;
//! afterwards the victim must be a follower of that same leader at that same term (it came
//! back without an election) and have caught up with the writes made meanwhile.
//!
//! The three cases build their own cluster and run one at a time (a CPU hog would disturb
//! the others).
mod cluster_support;
mod common;
use cluster_support::faults::{nft_ready, BusyLoops, NftDrop};
use cluster_support::monitor::Monitor;
use cluster_support::writer::Writer;
use cluster_support::*;
use std::sync::Mutex;
use std::time::{Duration, Instant};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// How long each fault lasts: 10x the largest election timeout.
fn fault_window() -> Duration {
    let secs = std::env::var("CLUSTER_FAULT_SECS").ok().and_then(|v| v.parse().ok());
    secs.map(Duration::from_secs).unwrap_or(MAX_ELECTION_TIMEOUT * 10)
}
/// How long the cluster is watched after the fault is lifted and the victim has caught up.
const AFTER: Duration = Duration::from_secs(5);

enum Fault {
    Pause,
    BusyCpus,
    OneWayLoss,
}

#[test]
fn frozen_follower_rejoins_without_an_election() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    run_case(Fault::Pause);
}

#[test]
fn busy_cpus_cost_no_election() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    run_case(Fault::BusyCpus);
}

#[test]
fn one_way_loss_to_a_follower_costs_no_election() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if let Err(why) = nft_ready() {
        eprintln!("SKIPPING the one-way loss case (only this case): {why}");
        return;
    }
    run_case(Fault::OneWayLoss);
}

fn run_case(fault: Fault) {
    let mut c = Cluster::start(3);
    let (leader, leader_addr, term) = settled_leader(&mut c);
    let victim = (leader + 1) % 3;
    let others: Vec<usize> = (0..3).filter(|&i| i != victim).collect();
    eprintln!("leader s{} at term {term}; victim s{}", leader + 1, victim + 1);

    let targets: Vec<_> = (0..3).map(|i| (i, c.addr(i))).collect();
    let monitor = Monitor::start(&targets, Duration::from_millis(200));
    // writes keep flowing through the servers not under the fault
    let writer = Writer::start("stability", others.iter().map(|&i| (i, c.addr(i))).collect(), Duration::from_millis(20));

    let fault_start = writer.started.elapsed();
    let mut nft_guard = None;
    let mut busy = None;
    match fault {
        Fault::Pause => c.pause(victim),
        Fault::BusyCpus => busy = Some(BusyLoops::start()),
        Fault::OneWayLoss => {
            // Everything sent to the victim's server (Raft/RPC) port is dropped; what the
            // victim sends still arrives. Matched on the destination only: the servers' own
            // outgoing connections do not come from their bind address (see
            // cluster_formation.rs), so a source-address match would not select the leader.
            let rule = format!("ip daddr {} tcp dport {}", c.servers[victim].ip, c.ports.server);
            nft_guard = Some(NftDrop::install(&rule).unwrap_or_else(|e| panic!("nft rule: {e}")));
        }
    }
    std::thread::sleep(fault_window());
    let fault_end = writer.started.elapsed();
    if matches!(fault, Fault::OneWayLoss) {
        // The victim has heard nothing from the leader for the whole window: a stale read
        // there must either know no leader or admit a long X-Consul-LastContact.
        let r = c.get(victim, "/v1/kv/stability/?stale&keys").unwrap();
        let known = r.header("X-Consul-KnownLeader").map(str::to_string);
        let lc: Option<u64> = r.header("X-Consul-LastContact").and_then(|v| v.parse().ok());
        eprintln!("victim after {:?} without leader traffic: KnownLeader {known:?}, LastContact {lc:?} ms", fault_window());
        let window_ms = fault_window().as_millis() as u64;
        assert!(
            known.as_deref() == Some("false") || lc.is_some_and(|ms| ms >= window_ms / 2),
            "cut-off victim claims a known leader heard {lc:?} ms ago"
        );
    }
    if let Some(g) = nft_guard.take() {
        let dropped = g.dropped_packets();
        drop(g);
        eprintln!("nft rule `{}` dropped {dropped} packets", "daddr victim:server-port");
        assert!(dropped > 0, "the one-way loss rule dropped nothing: the fault was not applied");
    }
    drop(busy.take());
    if matches!(fault, Fault::Pause) {
        c.resume(victim);
    }

    // the victim comes back as a follower of the same leader at the same term and catches up
    let caught_up_by = Instant::now() + Duration::from_secs(30);
    let want_applied = c.view(leader).applied_index.unwrap_or(0);
    let mut last: View;
    let back = loop {
        last = c.view(victim);
        if last.leader.as_deref() == Some(leader_addr.as_str())
            && last.state.as_deref() == Some("Follower")
            && last.term == Some(term)
            && last.applied_index.unwrap_or(0) >= want_applied
        {
            break true;
        }
        if Instant::now() > caught_up_by || last.term.is_some_and(|t| t != term) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let recovered_at = writer.started.elapsed();
    std::thread::sleep(AFTER);
    let (acked, errors) = writer.stop();
    let samples = monitor.stop();
    c.assert_alive();

    let during = acked.iter().filter(|a| a.at >= fault_start && a.at <= fault_end).count();
    eprintln!(
        "fault {:.1}s: {during} writes acknowledged during the fault, {} in all, {} errors; victim back after {:.1}s",
        (fault_end - fault_start).as_secs_f64(),
        acked.len(),
        errors.len(),
        (recovered_at - fault_end).as_secs_f64()
    );
    for i in 0..3 {
        eprintln!("s{}: {} answered polls, max term {:?}", i + 1, samples.answered(i), samples.max_term(i));
    }

    // no leader change, no term increase, no role change on the servers not under the fault
    // (a CPU hog hits every server alike: all three are held to it)
    let watched: Vec<usize> = if matches!(fault, Fault::BusyCpus) { vec![0, 1, 2] } else { others.clone() };
    let bad = samples.violations(&watched, leader, &leader_addr, term);
    assert!(bad.is_empty(), "the fault disturbed the healthy servers ({} samples):\n{}", bad.len(), first(&bad));
    for &i in &watched {
        assert!(samples.answered(i) >= 10, "s{} answered too few polls to judge stability", i + 1);
    }
    assert!(back, "victim s{} did not come back as a follower of {leader_addr} at term {term}: {last:?}", victim + 1);
    // and nothing moved after it came back either, the victim included
    let after = cluster_support::monitor::Samples(samples.0.iter().filter(|s| s.at > recovered_at).cloned().collect());
    let bad = after.violations(&[0, 1, 2], leader, &leader_addr, term);
    assert!(bad.is_empty(), "disturbance after the victim came back ({} samples):\n{}", bad.len(), first(&bad));
    assert!(during > 0, "no write was acknowledged during the fault ({} errors): {:?}", errors.len(), errors.first());

    // the last acknowledged write is visible on the victim (it replicated everything)
    let last_ack = acked.last().expect("no write acknowledged");
    let r = c.get(victim, &format!("/v1/kv/{}?raw&consistent", last_ack.key)).unwrap();
    assert_eq!((r.status, r.text()), (200, last_ack.value.clone()), "last write read on the victim");
}

/// Waits for a leader, then for a quiet period with the same leader and term on every server:
/// returns (leader index, its Raft address, the term).
fn settled_leader(c: &mut Cluster) -> (usize, String, u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let l = c.wait_for_leader(Duration::from_secs(60));
        let t = c.term(l);
        std::thread::sleep(MAX_ELECTION_TIMEOUT);
        let l2 = c.wait_for_leader(Duration::from_secs(30));
        let views = c.views();
        if l == l2 && t.is_some() && views.iter().all(|(_, v)| v.term == t) {
            return (l, c.servers[l].raft_addr(), t.unwrap());
        }
        assert!(Instant::now() < deadline, "the leader never settled: {views:?}");
    }
}

/// The first samples of a list of violations (the rest say the same).
fn first(bad: &[String]) -> String {
    bad.iter().take(12).cloned().collect::<Vec<_>>().join("\n")
}
