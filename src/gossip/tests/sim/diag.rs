//! Diagnosis of false failures of watched (slow) members: where their time
//! went, how often they were accused, how fast their refutations spread, and
//! their state at the moment someone declared them failed.

use std::time::Duration;

use super::{name_of, Sim};

/// Refutation spread times of one watched member, sampled as the run goes.
#[derive(Clone, Default)]
pub struct Spread {
    /// The latest refutation not yet known everywhere.
    pending: Option<Duration>,
    /// The latest refutation taken up.
    seen: Option<Duration>,
    /// Refutation to everyone-knows-it times (sampling resolution).
    pub done: Vec<Duration>,
    /// Refutations overtaken by the next one before they had spread.
    pub overtaken: u32,
}

/// Call every sampling period during the run.
pub fn sample_spread(sim: &Sim, watched: &[usize], spreads: &mut [Spread]) {
    for (k, &i) in watched.iter().enumerate() {
        let sp = &mut spreads[k];
        let last = sim.nodes[i].stats.refuted_at.last().copied();
        if let Some(r) = last {
            if sp.seen.is_none_or(|p| p < r) {
                if sp.pending.is_some() {
                    sp.overtaken += 1;
                }
                sp.pending = Some(r);
                sp.seen = Some(r);
            }
        }
        if let Some(p) = sp.pending {
            if sim.stale_views(i) == 0 {
                sp.done.push(sim.now - p);
                sp.pending = None;
            }
        }
    }
}

fn pct(d: Duration, of: Duration) -> f64 {
    100.0 * d.as_secs_f64() / of.as_secs_f64().max(1e-9)
}

/// Print a summary of the failure notes, and with GOSSIP_DIAG=1 one line
/// per watched member.
pub fn report(tag: &str, sim: &Sim, watched: &[usize], spreads: &[Spread], elapsed: Duration) {
    let per_member = std::env::var("GOSSIP_DIAG").map(|v| v == "1").unwrap_or(false);
    let mut stall_pct = Vec::new();
    let mut waits = Vec::new();
    let mut spread_all = Vec::new();
    let (mut dropped, mut refutes) = (0, 0);
    for (k, &i) in watched.iter().enumerate() {
        let n = &sim.nodes[i];
        let st = &n.stats;
        let g = sim.gossip(i).expect("watched nodes stay up");
        let m = g.metrics();
        let notes: Vec<_> = sim.failure_notes.iter().filter(|f| f.subject == i).collect();
        let sp = &spreads[k];
        let max_spread = sp.done.iter().max().copied().unwrap_or_default();
        let mut sorted = sp.done.clone();
        sorted.sort();
        let med = sorted.get(sorted.len() / 2).copied().unwrap_or_default();
        stall_pct.push(pct(st.stalled, elapsed));
        waits.push(st.longest_wait);
        spread_all.extend_from_slice(&sp.done);
        dropped += n.dropped;
        refutes += m.refutations;
        if !per_member {
            continue;
        }
        println!(
            "[{tag}] {}: refuted {}x, declared failed by {} observers; stalled {:.1}% ({} stalls, longest {:?}), \
             busy {:.1}%, inputs {}, dropped {}, max queue {}, mean wait {:?}, longest wait {:?}; \
             refutation spread median {:?} max {:?} ({} spread, {} overtaken); own probes failed {}/{}, health {}",
            name_of(i),
            m.refutations,
            notes.len(),
            pct(st.stalled, elapsed),
            st.stalls,
            st.longest_stall,
            pct(st.busy, elapsed),
            st.inputs,
            n.dropped,
            st.max_queue,
            st.waited.checked_div(st.inputs.max(1) as u32).unwrap_or_default(),
            st.longest_wait,
            med,
            max_spread,
            sp.done.len(),
            sp.overtaken,
            m.probes_failed,
            m.probes,
            g.local_health(),
        );
        if let Some(f) = notes.first() {
            println!(
                "[{tag}]   first failure of {} at {:?} by {}: declared inc {}, own inc {} ({}), last refute {:?} ago, \
                 queue {} (oldest waited {:?}), stalled {}",
                name_of(i),
                f.at,
                name_of(f.observer),
                f.declared_inc,
                f.own_inc,
                if f.own_inc > f.declared_inc { "had refuted, not spread yet" } else { "had not refuted" },
                f.since_last_refute,
                f.queue_len,
                f.oldest_wait,
                f.stalled
            );
        }
    }
    let notes = &sim.failure_notes;
    // Episodes: one per (subject, declared incarnation); its first note is
    // the member whose suspicion timer ran out (or the first to hear of it).
    let mut episodes: std::collections::BTreeMap<(usize, u32), Vec<&super::FailureNote>> = Default::default();
    for f in notes {
        episodes.entry((f.subject, f.declared_inc)).or_default().push(f);
    }
    let mut kinds: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    for v in episodes.values() {
        let f = v[0];
        let who = if sim.nodes[f.observer].slow > 1 { "slow" } else { "healthy" };
        let refuted = if f.own_inc > f.declared_inc { "after refuting" } else { "not refuted" };
        let k = kinds.entry(format!("by {who} observer, {refuted}")).or_default();
        k.0 += 1;
        k.1 += v.len();
    }
    for (k, (eps, obs)) in &kinds {
        println!("[{tag}] episodes {k}: {eps} ({obs} observer declarations)");
    }
    let refuted = notes.iter().filter(|f| f.own_inc > f.declared_inc).count();
    for f in &sim.other_failures {
        println!(
            "[{tag}] unwatched {} declared failed at {:?} by {} ({}, local health {}, {} inputs queued); declared inc {}, own inc {}",
            name_of(f.subject),
            f.at,
            name_of(f.observer),
            if f.observer_slow { "slow" } else { "healthy-speed" },
            f.observer_health,
            f.observer_queue,
            f.declared_inc,
            f.own_inc
        );
    }
    stall_pct.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    waits.sort();
    spread_all.sort();
    let q = |v: &[Duration], f: f64| v.get(((v.len() as f64 - 1.0) * f) as usize).copied().unwrap_or_default();
    println!(
        "[{tag}] watched members: stalled time min {:.1}% median {:.1}% max {:.1}%; longest input wait median {:?} max {:?}; \
         receive-buffer drops {dropped}; refutations {refutes}, spread to every healthy-speed member median {:?} p99 {:?} max {:?}",
        stall_pct.first().copied().unwrap_or(0.0),
        stall_pct.get(stall_pct.len() / 2).copied().unwrap_or(0.0),
        stall_pct.last().copied().unwrap_or(0.0),
        q(&waits, 0.5),
        q(&waits, 1.0),
        q(&spread_all, 0.5),
        q(&spread_all, 0.99),
        q(&spread_all, 1.0),
    );
    println!(
        "[{tag}] {} failure declarations about watched members: {} after the member had refuted, {} before",
        notes.len(),
        refuted,
        notes.len() - refuted,
    );
}
