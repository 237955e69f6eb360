//! Randomized fault schedules and the end-of-run checks.
use crate::checker::check_log_matching;
use crate::kv::Command;
use crate::world::{Ev, Tuning, World};
use ballast_raft::{Config, NodeId, Role};
use rand::seq::SliceRandom;
use rand::Rng;

pub struct Scenario {
    pub ids: Vec<NodeId>,
    pub initial_voters: Vec<NodeId>,
    pub chaos_ms: u64,
    pub heal_ms: u64,
    pub crashes: bool,
    pub membership: bool,
}

/// Different seeds exercise different flow-control limits.
pub fn tuning(seed: u64) -> Tuning {
    let cfgs: [fn(NodeId) -> Config; 3] = [
        Config::new,
        |id| Config {
            max_inflight_msgs: 2,
            max_entries_per_msg: 3,
            ..Config::new(id)
        },
        |id| Config {
            max_inflight_msgs: 1,
            max_entries_per_msg: 4,
            max_committed_bytes_per_ready: 1,
            ..Config::new(id)
        },
    ];
    Tuning {
        cfg: cfgs[(seed % 3) as usize],
        compact_every: [0, 7, 25][(seed / 3 % 3) as usize],
    }
}

pub fn run(seed: u64, sc: &Scenario) -> World {
    let mut w = World::new(seed, &sc.ids, &sc.initial_voters, tuning(seed));
    w.membership = sc.membership;
    w.crashes = sc.crashes;
    w.client_stop_at = sc.chaos_ms + sc.heal_ms - 1_000;
    if sc.initial_voters.len() == 1 {
        // A single server starts itself, as the agent does with -bootstrap.
        let id = sc.initial_voters[0];
        w.hosts
            .get_mut(&id)
            .and_then(|h| h.raft.as_mut())
            .expect("alive")
            .campaign();
    }
    w.clock.at(5, Ev::Client);
    w.clock.at(50, Ev::Fault);
    w.run_until(sc.chaos_ms);
    heal(&mut w);
    let heal_at = w.clock.now;
    w.run_until(sc.chaos_ms + sc.heal_ms);
    // Liveness: after healing, a fresh proposal commits and every member applies
    // everything acknowledged, within a bounded (virtual) time.
    let deadline = w.clock.now + 30_000;
    let mut probe_acked = false;
    while !(probe_acked && converged(&w)) && w.clock.now < deadline {
        if !probe_acked {
            w.propose_probe();
        }
        let t = w.clock.now + 100;
        w.run_until(t);
        probe_acked = w.acked.iter().any(|a| a.2 >= heal_at);
    }
    assert!(probe_acked, "seed {seed}: nothing committed after healing");
    final_checks(&mut w, seed);
    w
}

/// One random fault; reschedules itself while the chaos phase lasts.
pub fn fault(w: &mut World) {
    let delay = w.rng.gen_range(50..400);
    w.clock.after(delay, Ev::Fault);
    if w.healed {
        return;
    }
    let ids = w.ids.clone();
    // Leaders are the interesting victims: half the faults aim at the current one.
    let pick = match w.leader() {
        Some(l) if w.rng.gen_bool(0.5) => l,
        _ => *ids.choose(&mut w.rng).expect("nodes"),
    };
    match w.rng.gen_range(0..15) {
        0 | 1 if w.crashes => w.crash(pick),
        2 | 3 => {
            if let Some(&c) = w.crashed().choose(&mut w.rng) {
                w.restart(c);
            }
        }
        4 => w.net.isolate(pick, &ids),
        5 => {
            // One-way loss: the node stops hearing the leader, the leader still hears it.
            if let Some(l) = w.leader().filter(|l| *l != pick) {
                w.net.blocked.insert((l, pick));
            }
        }
        6 => {
            let mut side = ids.clone();
            side.shuffle(&mut w.rng);
            side.truncate(ids.len() / 2);
            w.net.split(&side, &ids);
        }
        7 => w.net.heal(),
        8 => {
            w.net.drop_pct = *[0, 1, 5, 20].choose(&mut w.rng).expect("non-empty");
            w.net.dup_pct = *[0, 5].choose(&mut w.rng).expect("non-empty");
            w.net.max_delay = *[6, 15, 40].choose(&mut w.rng).expect("non-empty");
        }
        9 | 10 if w.membership => membership_change(w),
        11 => {
            // A flaky link: part of the traffic to and from one node is lost.
            let pct = w.rng.gen_range(20..=60);
            w.net.lossy.insert(pick, pct);
        }
        12 => {
            // One-way loss on any link, not only from the leader.
            let other = *ids.choose(&mut w.rng).expect("nodes");
            if other != pick {
                w.net.blocked.insert((pick, other));
            }
        }
        13 => {
            // A stopped process (GC pause, SIGSTOP, a VM migration).
            let hold = w.rng.gen_bool(0.5);
            w.pause(pick, hold);
        }
        14 => {
            let paused: Vec<NodeId> = w.paused.keys().copied().collect();
            if let Some(&p) = paused.choose(&mut w.rng) {
                let burst = w.rng.gen_range(0..=30);
                w.resume(p, burst);
            }
        }
        _ => {}
    }
}

/// Adds or removes one voter or learner among the node ids.
fn membership_change(w: &mut World) {
    let Some(l) = w.leader() else { return };
    let cur = w.hosts[&l].raft.as_ref().expect("alive").status().conf;
    let pick = *w.ids.choose(&mut w.rng).expect("nodes");
    let mut next = cur.clone();
    if cur.voters.contains(&pick) {
        next.voters.retain(|v| *v != pick);
        if w.rng.gen_bool(0.5) {
            next.learners.push(pick); // demote
        }
    } else if cur.learners.contains(&pick) {
        next.learners.retain(|v| *v != pick);
        if w.rng.gen_bool(0.7) {
            next.voters.push(pick); // promote
        }
    } else if w.rng.gen_bool(0.5) {
        next.learners.push(pick);
    } else {
        next.voters.push(pick);
    }
    if next.voters.is_empty() {
        return;
    }
    w.propose_conf(next);
}

fn heal(w: &mut World) {
    w.healed = true;
    let paused: Vec<NodeId> = w.paused.keys().copied().collect();
    for p in paused {
        w.resume(p, 0);
    }
    w.net.heal();
    w.net.drop_pct = 0;
    w.net.dup_pct = 0;
    w.net.max_delay = 6;
    for c in w.crashed() {
        w.restart(c);
    }
}

fn converged(w: &World) -> bool {
    let Some(l) = w.leader() else { return false };
    let st = w.hosts[&l].raft.as_ref().expect("alive").status();
    let max_acked = w.acked.iter().map(|a| a.0).max().unwrap_or(0);
    st.conf
        .voters
        .iter()
        .chain(&st.conf.learners)
        .all(|m| w.hosts[m].applied >= max_acked)
}

fn final_checks(w: &mut World, seed: u64) {
    let logs: Vec<_> = w
        .hosts
        .values()
        .map(|h| (h.id, h.disk.entries.clone()))
        .collect();
    check_log_matching(&logs);
    let leader = w
        .leader()
        .unwrap_or_else(|| panic!("seed {seed}: no leader after healing"));
    let st = w.hosts[&leader].raft.as_ref().expect("alive").status();
    assert_eq!(st.role, Role::Leader);
    let members: Vec<NodeId> = st
        .conf
        .voters
        .iter()
        .chain(&st.conf.learners)
        .copied()
        .collect();
    let max_acked = w.acked.iter().map(|a| a.0).max().unwrap_or(0);
    for (idx, op_id, _) in &w.acked {
        let e = &w.check.applied[idx];
        assert_eq!(
            Command::decode(&e.data).map(|c| c.op_id),
            Some(*op_id),
            "seed {seed}: acknowledged entry {idx} was replaced"
        );
    }
    w.stats.ops_checked += w.history.len() as u64;
    w.stats.search_states += w.history.check(seed);
    for m in members {
        let applied = w.hosts[&m].applied;
        if applied < max_acked {
            for h in w.hosts.values() {
                eprintln!(
                    "host {} applied {} disk_last {} inflight {} blocked {:?} status {:?}",
                    h.id,
                    h.applied,
                    h.disk.last_index(),
                    h.inflight_desc(),
                    w.net.blocked,
                    h.raft.as_ref().map(|r| r.status())
                );
            }
        }
        assert!(
            applied >= max_acked,
            "seed {seed}: member {m} applied only {applied} of {max_acked} acknowledged (leader {leader}, conf {:?})",
            st.conf
        );
    }
}
