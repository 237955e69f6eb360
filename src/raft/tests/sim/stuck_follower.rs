//! The "seed-000" scenarios: one follower is in trouble while the rest of the cluster is
//! healthy. It loses every message from the leader but can still send, or it is paused,
//! or a large share of its traffic is lost, for many election timeouts. The healthy
//! majority must see no leader change and no new term, and when the trouble ends the
//! follower must catch up with the leader without an election.
use crate::chaos::tuning;
use crate::world::{Ev, World, TICK_MS};
use ballast_raft::{NodeId, Role, Term};
use rand::seq::SliceRandom;
use rand::Rng;

#[derive(Clone, Copy, Debug)]
pub enum Trouble {
    /// Messages from the leader to the follower are lost; the other way works.
    LeaderToFollowerLost,
    /// The follower's process is stopped; messages to it wait (`hold`) or are lost.
    Paused { hold: bool },
    /// 30–60% of the messages to and from the follower are lost.
    PartialLoss,
}

/// Runs one seed; panics with the seed and what went wrong.
pub fn run(seed: u64, n: u64, trouble: Trouble) -> World {
    let ids: Vec<NodeId> = (1..=n).collect();
    let t = tuning(seed);
    let election_ms = u64::from((t.cfg)(1).election_tick) * TICK_MS;
    let mut w = World::new(seed, &ids, &ids, t);
    w.clock.at(5, Ev::Client);

    // A settled cluster: one leader every node follows, in one term.
    let mut settled = None;
    while settled.is_none() && w.clock.now < 10_000 {
        let t = w.clock.now + 50;
        w.run_until(t);
        settled = settled_leader(&w);
    }
    let (leader, term) = settled.unwrap_or_else(|| panic!("seed {seed}: no stable leader"));
    let followers: Vec<NodeId> = ids.iter().copied().filter(|&i| i != leader).collect();
    let victim = *followers.choose(&mut w.rng).expect("followers");
    let ctx = Ctx {
        seed,
        leader,
        term,
        victim,
        trouble,
    };

    // Half the seeds keep writing through the trouble, so the victim's log falls behind
    // and its pre-votes lose on log freshness alone; the other half are idle, so only
    // leader stickiness (CheckQuorum leases) stands between it and a new term.
    let idle = seed % 2 == 0;
    if idle {
        w.client_stop_at = w.clock.now;
    }
    let trouble_ms = match trouble {
        Trouble::PartialLoss => 20 * election_ms,
        _ => 10 * election_ms,
    };
    match trouble {
        Trouble::LeaderToFollowerLost => {
            w.net.blocked.insert((leader, victim));
        }
        Trouble::Paused { hold } => w.pause(victim, hold),
        Trouble::PartialLoss => {
            let pct = w.rng.gen_range(30..=60);
            w.net.lossy.insert(victim, pct);
        }
    }
    let end = w.clock.now + trouble_ms;
    step_checking(&mut w, &ctx, end, "in trouble");

    match trouble {
        Trouble::LeaderToFollowerLost | Trouble::PartialLoss => w.net.heal(),
        Trouble::Paused { .. } => {
            // Stale timers: the driver catches up on the ticks it missed before it reads
            // its socket, so the election timer may fire before any heartbeat arrives.
            let burst = w.rng.gen_range(0..=3 * (election_ms / TICK_MS) as u32);
            w.resume(victim, burst);
        }
    }
    let recovered_at = w.clock.now;
    w.client_stop_at = recovered_at + 10 * election_ms;
    if idle {
        w.clock.at(recovered_at + 1, Ev::Client);
    }
    let end = w.client_stop_at + 2 * election_ms;
    step_checking(&mut w, &ctx, end, "recovering");
    // Catch-up: the follower reaches the leader's commit and applied index.
    let deadline = w.clock.now + 30 * election_ms;
    while !caught_up(&w, &ctx) && w.clock.now < deadline {
        let t = w.clock.now + TICK_MS;
        step_checking(&mut w, &ctx, t, "catching up");
    }
    assert!(
        caught_up(&w, &ctx),
        "seed {seed} {trouble:?}: follower {victim} did not catch up with leader {leader}: \
         {:?} vs {:?} (replay with SIM_SEED={seed})",
        status_line(&w, victim),
        status_line(&w, leader)
    );
    w.stats.ops_checked += w.history.len() as u64;
    w.stats.search_states += w.history.check(seed);
    w
}

struct Ctx {
    seed: u64,
    leader: NodeId,
    term: Term,
    victim: NodeId,
    trouble: Trouble,
}

fn settled_leader(w: &World) -> Option<(NodeId, Term)> {
    let l = w.leader()?;
    let term = w.hosts[&l].raft.as_ref()?.current_term();
    let all_follow = w.hosts.values().all(|h| {
        h.raft
            .as_ref()
            .is_some_and(|r| r.current_term() == term && r.status_leader() == Some(l))
    });
    all_follow.then_some((l, term))
}

/// Runs to `end` in tick-sized steps; after each, the leader still leads in its term and
/// no node (the troubled one included) has moved to a newer term. Terms never go back,
/// so this sees every election, even one that came and went within a step.
fn step_checking(w: &mut World, c: &Ctx, end: u64, phase: &str) {
    while w.clock.now < end {
        let t = (w.clock.now + TICK_MS).min(end);
        w.run_until(t);
        for h in w.hosts.values() {
            let r = h.raft.as_ref().expect("no crashes here");
            assert!(
                r.current_term() <= c.term,
                "seed {} {:?} ({phase}, t={}): node {} moved to term {} while {} led term {} \
                 with follower {} in trouble (replay with SIM_SEED={})",
                c.seed,
                c.trouble,
                w.clock.now,
                h.id,
                r.current_term(),
                c.leader,
                c.term,
                c.victim,
                c.seed
            );
        }
        let l = w.hosts[&c.leader].raft.as_ref().expect("alive");
        assert!(
            l.role() == Role::Leader,
            "seed {} {:?} ({phase}, t={}): leader {} stepped down (replay with SIM_SEED={})",
            c.seed,
            c.trouble,
            w.clock.now,
            c.leader,
            c.seed
        );
    }
}

fn caught_up(w: &World, c: &Ctx) -> bool {
    let l = w.hosts[&c.leader].raft.as_ref().expect("alive").status();
    let v = &w.hosts[&c.victim];
    let Some(r) = v.raft.as_ref() else {
        return false;
    };
    let s = r.status();
    s.commit == l.commit && v.applied == w.hosts[&c.leader].applied && s.leader == Some(c.leader)
}

fn status_line(w: &World, id: NodeId) -> String {
    let h = &w.hosts[&id];
    format!(
        "node {id}: applied {} status {:?}",
        h.applied,
        h.raft.as_ref().map(|r| r.status())
    )
}
