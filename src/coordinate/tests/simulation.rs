//! Deterministic convergence check. Nodes live in a known latency space: a point in a 2-D
//! plane (ms) plus a per-node access delay ("height"). The true RTT of a pair is the
//! plane distance plus both access delays; each probe measures it with a little jitter
//! and the occasional spike. Every round, each node probes random peers and updates from
//! the measured RTT and the peer's current coordinate, sent through the wire encoding as
//! a gossip ack would carry it. Afterwards every pair's estimate is scored against the
//! model's true RTT (never against the coordinates themselves).

use std::time::Duration;

use ballast_coordinate::{wire, Client, Config, SplitMix64};

struct Node {
    x_ms: f64,
    y_ms: f64,
    access_ms: f64,
}

struct Space {
    nodes: Vec<Node>,
}

impl Space {
    /// `n` nodes uniform over a `side_ms` square, access delays uniform in [0.5, 5) ms.
    fn random(n: usize, side_ms: f64, rng: &mut SplitMix64) -> Space {
        let nodes = (0..n)
            .map(|_| Node {
                x_ms: rng.next_f64() * side_ms,
                y_ms: rng.next_f64() * side_ms,
                access_ms: 0.5 + rng.next_f64() * 4.5,
            })
            .collect();
        Space { nodes }
    }

    fn true_rtt_ms(&self, i: usize, j: usize) -> f64 {
        let (a, b) = (&self.nodes[i], &self.nodes[j]);
        (a.x_ms - b.x_ms).hypot(a.y_ms - b.y_ms) + a.access_ms + b.access_ms
    }

    /// One probe: ±5% jitter, and 2% of probes hit a 2-5x spike (a busy peer).
    fn measure(&self, i: usize, j: usize, rng: &mut SplitMix64) -> Duration {
        let mut rtt = self.true_rtt_ms(i, j) * (1.0 + (rng.next_f64() - 0.5) * 0.10);
        if rng.below(50) == 0 {
            rtt *= 2.0 + rng.next_f64() * 3.0;
        }
        Duration::from_secs_f64(rtt / 1000.0)
    }
}

struct Outcome {
    within_20pct: f64,
    median_rel_err: f64,
    p90_rel_err: f64,
    resets: u64,
}

fn simulate(n: usize, rounds: usize, probes_per_round: usize, seed: u64) -> Outcome {
    let mut rng = SplitMix64::new(seed);
    let space = Space::random(n, 100.0, &mut rng);
    let mut clients: Vec<Client> = (0..n)
        .map(|i| Client::with_seed(Config::default(), seed ^ (i as u64 + 1)).unwrap())
        .collect();
    let names: Vec<String> = (0..n).map(|i| format!("node-{i}")).collect();

    for _ in 0..rounds {
        for i in 0..n {
            for _ in 0..probes_per_round {
                let j = (i + 1 + rng.below(n - 1)) % n;
                let ack = wire::encode(&clients[j].get_coordinate()).unwrap();
                let peer = wire::decode(&ack).unwrap();
                let rtt = space.measure(i, j, &mut rng);
                clients[i].update(&names[j], &peer, rtt).unwrap();
            }
        }
    }

    let coords: Vec<_> = clients.iter().map(Client::get_coordinate).collect();
    let mut errors = Vec::with_capacity(n * (n - 1) / 2);
    for i in 0..n {
        for j in i + 1..n {
            let truth = space.true_rtt_ms(i, j) / 1000.0;
            let estimate = coords[i].distance_seconds(&coords[j]);
            assert_eq!(estimate, coords[j].distance_seconds(&coords[i]), "symmetric");
            errors.push((estimate - truth).abs() / truth);
        }
    }
    errors.sort_by(f64::total_cmp);
    let within = errors.iter().filter(|e| **e <= 0.20).count();
    Outcome {
        within_20pct: within as f64 / errors.len() as f64,
        median_rel_err: errors[errors.len() / 2],
        p90_rel_err: errors[errors.len() * 9 / 10],
        resets: clients.iter().map(|c| c.stats().resets).sum(),
    }
}

fn run_and_check(n: usize, rounds: usize) {
    let out = simulate(n, rounds, 1, 0xC0FFEE + n as u64);
    println!(
        "vivaldi simulation: {n} nodes, {rounds} rounds x 1 probe: {:.1}% of {} pairs within 20% \
         of true RTT, median relative error {:.2}%, p90 {:.2}%, resets {}",
        out.within_20pct * 100.0,
        n * (n - 1) / 2,
        out.median_rel_err * 100.0,
        out.p90_rel_err * 100.0,
        out.resets
    );
    assert_eq!(out.resets, 0);
    assert!(out.within_20pct >= 0.90, "only {:.1}% within 20%", out.within_20pct * 100.0);
}

#[test]
fn fifty_nodes_converge() {
    run_and_check(50, 1_000);
}

#[test]
fn two_hundred_nodes_converge() {
    run_and_check(200, 1_000);
}

#[test]
fn before_any_probe_estimates_are_poor() {
    // Guards the scoring itself: with no updates every estimate is ~2 * height_min,
    // so almost no pair can be within 20%.
    let out = simulate(50, 0, 1, 7);
    assert!(out.within_20pct < 0.05, "{}", out.within_20pct);
}

#[test]
fn simulation_is_deterministic() {
    let a = simulate(30, 200, 1, 99);
    let b = simulate(30, 200, 1, 99);
    assert_eq!(a.median_rel_err.to_bits(), b.median_rel_err.to_bits());
    assert_eq!(a.within_20pct.to_bits(), b.within_20pct.to_bits());
}
