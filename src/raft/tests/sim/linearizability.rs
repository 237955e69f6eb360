//! Linearizability of one register's client history (read / write / cas), by the
//! Wing–Gong search with Lowe's memoization: depth-first, linearize any operation that
//! no unlinearized operation precedes in real time, and remember every (set of
//! linearized operations, register value) already explored. Operations that never
//! completed may or may not have taken effect: they may be linearized anywhere after
//! their invocation, or never. Keys are independent (linearizability is local), so the
//! caller checks one key at a time.
use crate::kv::{Op, Outcome};
use std::collections::HashSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub id: u64,
    pub op: Op,
    pub invoke: u64,
    /// Completion time and what the client was told; `None`: never completed.
    pub done: Option<(u64, Outcome)>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum CheckError {
    /// No linearization exists. The deepest attempt linearized `linearized` completed
    /// operations leaving the register at `value`, then none of `stuck` could follow.
    Violation {
        linearized: usize,
        value: u64,
        stuck: Vec<Event>,
    },
    /// The search explored `budget` states without an answer.
    Exhausted { budget: u64 },
}

/// Returns how many search states were explored.
pub fn check_register(history: &[Event], budget: u64) -> Result<u64, CheckError> {
    // A read that never completed has no effect and observed nothing.
    let ops: Vec<Event> = history
        .iter()
        .copied()
        .filter(|e| e.done.is_some() || e.op != Op::Read)
        .collect();
    let n = ops.len();
    let ret = |e: &Event| e.done.map_or(u64::MAX, |d| d.0);
    let completed = ops.iter().filter(|e| e.done.is_some()).count();
    // Candidate order: completed operations by response time (the most urgent first),
    // then pending ones, which are only tried when needed.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (ops[i].done.is_none(), ret(&ops[i]), ops[i].invoke));

    let words = n.div_ceil(64).max(1);
    let mut seen: HashSet<(Vec<u64>, u64, bool)> = HashSet::new();
    let mut explored = 0u64;
    let mut deepest = (0usize, Vec::<usize>::new(), 0u64);
    // Each frame: linearized set, register value, completed count, next candidate slot,
    // and whether the last step was a pending operation setting the value. After one,
    // a plain write is pointless: it hides the pending op's effect, and the same state
    // without the pending op linearized is reachable and allows strictly more. Pruning
    // that keeps pending writes from being enumerated in every subset and order.
    let mut stack: Vec<(Vec<u64>, u64, usize, usize, bool)> =
        vec![(vec![0; words], 0, 0, 0, false)];
    let is_set = |set: &[u64], i: usize| set[i / 64] >> (i % 64) & 1 == 1;
    while let Some(frame) = stack.last_mut() {
        let (set, value, done_count, cursor) = (frame.0.clone(), frame.1, frame.2, frame.3);
        let after_pending_set = frame.4;
        if done_count == completed {
            return Ok(explored);
        }
        // No unlinearized operation may have returned before a candidate was invoked.
        let frontier = (0..n)
            .filter(|&i| !is_set(&set, i))
            .map(|i| ret(&ops[i]))
            .min()
            .unwrap_or(u64::MAX);
        let next = order.iter().enumerate().skip(cursor).find(|(_, &i)| {
            !is_set(&set, i)
                && ops[i].invoke <= frontier
                && !(after_pending_set && matches!(ops[i].op, Op::Write(_)))
        });
        let Some((slot, &i)) = next else {
            if done_count >= deepest.0 {
                let stuck: Vec<usize> = (0..n)
                    .filter(|&i| !is_set(&set, i) && ops[i].invoke <= frontier)
                    .collect();
                deepest = (done_count, stuck, value);
            }
            stack.pop();
            continue;
        };
        frame.3 = slot + 1;
        let Some(after) = step(&ops[i], value) else {
            continue;
        };
        let mut child = set;
        child[i / 64] |= 1 << (i % 64);
        let pending_set = ops[i].done.is_none();
        if !seen.insert((child.clone(), after, pending_set)) {
            continue;
        }
        explored += 1;
        if explored > budget {
            return Err(CheckError::Exhausted { budget });
        }
        let done_count = done_count + usize::from(!pending_set);
        stack.push((child, after, done_count, 0, pending_set));
    }
    let (linearized, stuck, value) = deepest;
    Err(CheckError::Violation {
        linearized,
        value,
        stuck: stuck.iter().map(|&i| ops[i]).collect(),
    })
}

/// The register's value after linearizing `e` at a point where it holds `value`, or
/// `None` when `e`'s outcome contradicts that.
fn step(e: &Event, value: u64) -> Option<u64> {
    let outcome = e.done.map(|d| d.1);
    match (e.op, outcome) {
        (Op::Read, Some(Outcome::Value(v))) => (v == value).then_some(value),
        (Op::Write(v), None | Some(Outcome::Written)) => Some(v),
        (Op::Cas { expect, new }, Some(Outcome::Swapped(true))) => (value == expect).then_some(new),
        (Op::Cas { expect, .. }, Some(Outcome::Swapped(false))) => {
            (value != expect).then_some(value)
        }
        // A pending cas only matters where it succeeds; failing, it changes nothing.
        (Op::Cas { expect, new }, None) => (value == expect).then_some(new),
        _ => None, // an outcome of the wrong kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: u64, op: Op, invoke: u64, done: Option<(u64, Outcome)>) -> Event {
        Event {
            id,
            op,
            invoke,
            done,
        }
    }
    fn read(id: u64, at: (u64, u64), v: u64) -> Event {
        ev(id, Op::Read, at.0, Some((at.1, Outcome::Value(v))))
    }
    fn write(id: u64, at: (u64, u64), v: u64) -> Event {
        ev(id, Op::Write(v), at.0, Some((at.1, Outcome::Written)))
    }
    fn cas(id: u64, at: (u64, u64), expect: u64, new: u64, ok: bool) -> Event {
        ev(
            id,
            Op::Cas { expect, new },
            at.0,
            Some((at.1, Outcome::Swapped(ok))),
        )
    }
    const BUDGET: u64 = 100_000;

    fn violates(h: &[Event]) -> bool {
        matches!(check_register(h, BUDGET), Err(CheckError::Violation { .. }))
    }

    #[test]
    fn a_stale_read_is_caught() {
        let h = [
            write(1, (0, 10), 1),
            write(2, (20, 30), 2),
            read(3, (40, 50), 1),
        ];
        assert!(violates(&h));
        let ok = [
            write(1, (0, 10), 1),
            write(2, (20, 30), 2),
            read(3, (40, 50), 2),
        ];
        assert_eq!(check_register(&ok, BUDGET).map(|_| ()), Ok(()));
    }

    #[test]
    fn concurrent_operations_may_take_effect_in_either_order() {
        // The read overlaps the write, so it may see the old or the new value; two reads
        // in sequence may not see new-then-old.
        let h = [
            write(1, (0, 100), 1),
            read(2, (10, 20), 0),
            read(3, (30, 40), 1),
        ];
        assert_eq!(check_register(&h, BUDGET).map(|_| ()), Ok(()));
        let h = [
            write(1, (0, 100), 1),
            read(2, (10, 20), 1),
            read(3, (30, 40), 0),
        ];
        assert!(violates(&h));
        // A read of a value nobody wrote.
        assert!(violates(&[read(1, (0, 5), 42)]));
    }

    #[test]
    fn pending_writes_may_or_may_not_have_taken_effect() {
        let pending = ev(1, Op::Write(5), 0, None);
        for reads in [vec![0u64], vec![5], vec![0, 5], vec![0, 0]] {
            let mut h = vec![pending];
            for (k, v) in reads.iter().enumerate() {
                h.push(read(
                    10 + k as u64,
                    (10 + 20 * k as u64, 20 + 20 * k as u64),
                    *v,
                ));
            }
            assert_eq!(
                check_register(&h, BUDGET).map(|_| ()),
                Ok(()),
                "reads {reads:?}"
            );
        }
        // Once seen, the write cannot be undone by nothing.
        let h = [pending, read(2, (10, 20), 5), read(3, (30, 40), 0)];
        assert!(violates(&h));
        // A pending write cannot take effect before it was invoked.
        let h = [read(2, (10, 20), 5), ev(1, Op::Write(5), 30, None)];
        assert!(violates(&h));
    }

    #[test]
    fn cas_results_must_match_the_register() {
        let h = [cas(1, (0, 10), 0, 7, true), cas(2, (20, 30), 0, 8, true)];
        assert!(violates(&h), "the second cas must have failed");
        let h = [cas(1, (0, 10), 0, 7, false)];
        assert!(
            violates(&h),
            "a cas on the matching initial value cannot fail"
        );
        let h = [
            cas(1, (0, 10), 0, 7, true),
            cas(2, (20, 30), 0, 8, false),
            read(3, (40, 50), 7),
        ];
        assert_eq!(check_register(&h, BUDGET).map(|_| ()), Ok(()));
        // A pending cas that succeeded is visible; one that failed changed nothing.
        let h = [
            ev(1, Op::Cas { expect: 0, new: 9 }, 0, None),
            read(2, (10, 20), 9),
        ];
        assert_eq!(check_register(&h, BUDGET).map(|_| ()), Ok(()));
    }

    #[test]
    fn many_pending_writes_still_finish_within_the_budget() {
        // 40 writes that never returned, then reads that each name one of them: the
        // search must order them, not enumerate their subsets.
        let mut h: Vec<Event> = (1..=40).map(|v| ev(v, Op::Write(v), v, None)).collect();
        for (k, v) in [7u64, 3, 40, 12].iter().enumerate() {
            let t = 100 + 10 * k as u64;
            h.push(read(100 + k as u64, (t, t + 5), *v));
        }
        let explored = check_register(&h, 1_000_000).expect("linearizable");
        assert!(explored < 1_000_000);
    }
}
