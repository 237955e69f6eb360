//! Same command stream -> same state, whatever the path or publish cadence.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::support::Harness;
use crate::{encode_command, encode_snapshot, Applier, Command, KvVerb, Store, TxnKvOp, TxnOp};

const KEYS: [&str; 8] = ["a", "a/b", "a/c", "b", "b/x/y", "c", "", "a/"];
const SESSIONS: [&str; 3] = ["s0", "s1", ""];

fn pick<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[rng.gen_range(0..from.len())]
}

fn value(rng: &mut StdRng) -> Option<Vec<u8>> {
    match rng.gen_range(0..4) {
        0 => None,
        1 => Some(vec![]),
        _ => Some(vec![rng.gen_range(0..3u8)]),
    }
}

pub fn random_command(rng: &mut StdRng) -> Command {
    let key = pick(rng, &KEYS).to_string();
    match rng.gen_range(0..10) {
        0 | 1 => Command::KvSet {
            key,
            value: value(rng),
            flags: rng.gen_range(0..2),
        },
        2 => Command::KvCas {
            key,
            value: value(rng),
            flags: 0,
            index: rng.gen_range(0..20),
        },
        3 => Command::KvAcquire {
            key,
            value: value(rng),
            flags: 0,
            session: pick(rng, &SESSIONS).into(),
        },
        4 => Command::KvRelease {
            key,
            value: value(rng),
            flags: 0,
            session: pick(rng, &SESSIONS).into(),
        },
        5 => Command::KvDelete { key },
        6 => Command::KvDeleteCas {
            key,
            index: rng.gen_range(0..20),
        },
        7 => Command::KvDeleteTree { prefix: key },
        8 => Command::ReapTombstones {
            upto: rng.gen_range(0..40),
        },
        _ => {
            let verbs = [
                "set",
                "cas",
                "lock",
                "unlock",
                "get",
                "get-or-empty",
                "get-tree",
                "check-index",
                "check-session",
                "check-not-exists",
                "delete",
                "delete-tree",
                "delete-cas",
            ];
            let ops = (0..rng.gen_range(1..5))
                .map(|_| {
                    TxnOp::Kv(TxnKvOp {
                        verb: KvVerb::parse(pick(rng, &verbs)),
                        key: pick(rng, &KEYS).into(),
                        value: value(rng),
                        flags: 0,
                        index: rng.gen_range(0..20),
                        session: pick(rng, &SESSIONS).into(),
                    })
                })
                .collect();
            Command::Txn { ops }
        }
    }
}

#[test]
fn two_appliers_fed_the_same_stream_agree() {
    for seed in 0..20u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut bytes_path = Harness::new();
        let mut owned_path = Applier::new(Store::new());
        bytes_path.add_session("s0");
        owned_path
            .working_mut_for_test()
            .sessions
            .insert("s0".into());
        for i in 1..=300u64 {
            let cmd = random_command(&mut rng);
            let a = bytes_path.applier.apply(i, &encode_command(&cmd));
            let b = owned_path.apply_command(i, &cmd);
            assert_eq!(a, b, "seed {seed} index {i} {cmd:?}");
            if rng.gen_range(0..5) == 0 {
                bytes_path.applier.publish();
            }
            if i % 7 == 0 {
                owned_path.publish();
            }
        }
        bytes_path.next = 301;
        assert_eq!(bytes_path.state(), owned_path.working(), "seed {seed}");
        assert_eq!(
            encode_snapshot(bytes_path.state()),
            encode_snapshot(owned_path.working())
        );
        bytes_path.applier.publish();
        owned_path.publish();
        assert_eq!(
            *bytes_path.applier.store().load(),
            *owned_path.store().load()
        );
    }
}

#[test]
fn random_streams_keep_indexes_sane() {
    // Invariants Consul's rules imply: create <= modify <= table index;
    // list/get indexes never 0; get on present key == its modify index.
    let mut rng = StdRng::seed_from_u64(99);
    let mut h = Harness::new();
    h.add_session("s0");
    h.add_session("s1");
    let mut last_table = 0;
    for _ in 0..2_000 {
        let cmd = random_command(&mut rng);
        h.run(cmd);
        let s = h.state();
        assert!(s.kv_max_index() >= last_table, "table index went backwards");
        last_table = s.kv_max_index();
        for (_, e) in s.kv_range("") {
            assert!(e.create_index <= e.modify_index);
            assert!(e.modify_index <= s.kv_max_index());
            assert_eq!(s.kv_get(&e.key).1, e.modify_index);
            assert!(e.session.as_deref() != Some(""));
        }
        for p in KEYS {
            assert!(s.kv_list(p).1 >= 1);
            assert!(s.kv_list(p).1 <= s.kv_max_index().max(1));
            assert_eq!(s.kv_list(p).1, s.kv_list_index(p));
        }
    }
}
