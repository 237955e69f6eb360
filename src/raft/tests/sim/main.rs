//! Deterministic simulation of ballast-raft clusters: seeded RNG, virtual clock,
//! lossy reordering network with partitions, disks that lose unpersisted writes on a
//! crash. Every seed is checked for Raft's safety properties and, after healing, for
//! liveness. `SIM_SEEDS=n` changes the number of seeds per scenario (default 500);
//! `SIM_SEED=s` replays one seed; `SIM_DUMP_HISTORY=1` prints a key's client history when
//! the linearizability search gives up.
mod chaos;
mod checker;
mod client;
mod clock;
mod disk;
mod kv;
mod linearizability;
mod net;
mod stuck_follower;
mod world;

use chaos::Scenario;

fn seeds() -> Vec<u64> {
    if let Ok(s) = std::env::var("SIM_SEED") {
        return vec![s.parse().expect("SIM_SEED is a number")];
    }
    let n: u64 = std::env::var("SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    (1..=n).collect()
}

fn scenario(n: u64, crashes: bool) -> Scenario {
    let ids: Vec<u64> = (1..=n).collect();
    Scenario {
        initial_voters: ids.clone(),
        ids,
        chaos_ms: 3_000,
        heal_ms: 3_000,
        crashes,
        membership: false,
    }
}

fn run_all(sc: &Scenario) -> (u64, u64) {
    let (mut acked, mut reads) = (0, 0);
    let mut stats = world::Stats::default();
    for seed in seeds() {
        let w = chaos::run(seed, sc);
        acked += w.acked.len() as u64;
        reads += w.reads_done;
        stats += w.stats;
    }
    eprintln!("{} nodes: {stats:?}", sc.ids.len());
    if sc.ids.len() > 1 && seeds().len() >= 50 {
        // The faults must actually reach the paths that matter.
        assert!(
            stats.snapshots_installed > 0 && stats.truncations > 0 && stats.crashes_mid_write > 0,
            "{stats:?}"
        );
    }
    // Guard against a simulator that checks nothing because nothing happens.
    assert!(
        acked > seeds().len() as u64 * 10,
        "too few committed proposals: {acked}"
    );
    (acked, reads)
}

#[test]
fn one_node_with_crashes() {
    let (acked, reads) = run_all(&scenario(1, true));
    assert!(reads > 0);
    eprintln!("1 node: {acked} proposals acknowledged, {reads} linearizable reads");
}

#[test]
fn three_nodes_with_partitions_loss_and_crashes() {
    let (acked, reads) = run_all(&scenario(3, true));
    assert!(reads > 0);
    eprintln!("3 nodes: {acked} proposals acknowledged, {reads} linearizable reads");
}

#[test]
fn five_nodes_with_partitions_loss_and_crashes() {
    let (acked, reads) = run_all(&scenario(5, true));
    assert!(reads > 0);
    eprintln!("5 nodes: {acked} proposals acknowledged, {reads} linearizable reads");
}

#[test]
fn membership_changes_under_faults() {
    let mut sc = scenario(5, true);
    sc.initial_voters = vec![1, 2, 3];
    sc.membership = true;
    let (acked, _) = run_all(&sc);
    eprintln!("membership: {acked} proposals acknowledged");
}

/// Seeds per stuck-follower scenario: fewer than the chaos runs (each is long), scaled
/// with SIM_SEEDS.
fn stuck_seeds() -> Vec<u64> {
    let s = seeds();
    if std::env::var("SIM_SEED").is_ok() {
        return s;
    }
    let n = (s.len() as u64 * 2 / 5).max(1);
    (1..=n).collect()
}

fn run_stuck(n: u64, trouble: stuck_follower::Trouble) {
    let mut stats = world::Stats::default();
    for seed in stuck_seeds() {
        stats += stuck_follower::run(seed, n, trouble).stats;
    }
    eprintln!("{n} nodes, {trouble:?}: {stats:?}");
}

#[test]
fn follower_losing_every_leader_message_causes_no_election_3_nodes() {
    run_stuck(3, stuck_follower::Trouble::LeaderToFollowerLost);
}

#[test]
fn follower_losing_every_leader_message_causes_no_election_5_nodes() {
    run_stuck(5, stuck_follower::Trouble::LeaderToFollowerLost);
}

#[test]
fn paused_follower_causes_no_election_3_nodes() {
    run_stuck(3, stuck_follower::Trouble::Paused { hold: true });
    run_stuck(3, stuck_follower::Trouble::Paused { hold: false });
}

#[test]
fn paused_follower_causes_no_election_5_nodes() {
    run_stuck(5, stuck_follower::Trouble::Paused { hold: true });
    run_stuck(5, stuck_follower::Trouble::Paused { hold: false });
}

#[test]
fn follower_with_heavy_partial_loss_causes_no_election_3_nodes() {
    run_stuck(3, stuck_follower::Trouble::PartialLoss);
}

#[test]
fn follower_with_heavy_partial_loss_causes_no_election_5_nodes() {
    run_stuck(5, stuck_follower::Trouble::PartialLoss);
}
