//! Transactions: results, all-or-nothing, error strings and op indexes,
//! read-only path, limits and pre-checks.

use std::sync::Arc;

use super::support::{kv, op, with_index, with_session, with_value, Harness};
use crate::{
    txn_is_write, txn_precheck, txn_read_only, validate_txn, ApplyResult, Command, KvEntry,
    TxnError, TxnLimitError, TxnLimits, TxnOp, TxnResponse, TxnResult,
};

fn txn(h: &mut Harness, ops: Vec<TxnOp>) -> TxnResponse {
    match h.run(Command::Txn { ops }) {
        ApplyResult::Txn(r) => r,
        other => panic!("expected a txn result, got {other:?}"),
    }
}

fn entry(r: &TxnResult) -> &KvEntry {
    let TxnResult::Kv(e) = r;
    e
}

fn errors(r: &TxnResponse) -> Vec<(usize, &str)> {
    r.errors
        .iter()
        .map(|e| (e.op_index, e.what.as_str()))
        .collect()
}

#[test]
fn results_blank_values_except_for_get_verbs_and_deletes_add_none() {
    let mut h = Harness::new();
    h.set("old", b"o"); // 1
    h.set("t/1", b"a"); // 2
    h.set("t/2", b"b"); // 3
    let r = txn(
        &mut h,
        vec![
            op(with_value(kv("set", "k"), b"v")),
            op(kv("get", "k")),
            op(kv("delete", "old")),
            op(kv("check-not-exists", "old")),
            op(kv("get-tree", "t/")),
            op(with_index(kv("check-index", "k"), 4)),
        ],
    );
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(r.results.len(), 5);
    let set = entry(&r.results[0]);
    assert_eq!(
        (
            &*set.key,
            set.value.as_ref(),
            set.create_index,
            set.modify_index
        ),
        ("k", None, 4, 4)
    );
    let get = entry(&r.results[1]);
    assert_eq!(get.value.as_deref(), Some(&b"v"[..]));
    assert_eq!(entry(&r.results[2]).value_bytes(), b"a");
    assert_eq!(entry(&r.results[3]).value_bytes(), b"b");
    let check = entry(&r.results[4]);
    assert_eq!((&*check.key, check.value.as_ref()), ("k", None));
    assert!(h.state().kv_entry("old").is_none());
}

#[test]
fn failed_txn_applies_nothing_and_reports_the_op_index() {
    let mut h = Harness::new();
    h.set("b", b"orig"); // 1
    h.applier.publish();
    let r = txn(
        &mut h,
        vec![
            op(with_value(kv("set", "a"), b"1")),
            op(with_index(with_value(kv("cas", "b"), b"2"), 99)),
            op(with_value(kv("set", "c"), b"3")),
        ],
    );
    assert_eq!(
        errors(&r),
        vec![(1, "failed to set key \"b\", index is stale")]
    );
    assert!(r.results.is_empty(), "Results is null on rollback");
    assert!(h.state().kv_entry("a").is_none());
    assert!(h.state().kv_entry("c").is_none());
    assert_eq!(h.state().kv_entry("b").unwrap().value_bytes(), b"orig");
    assert_eq!(h.state().kv_max_index(), 1);
    assert_eq!(h.state().applied_index(), 2, "the entry is consumed anyway");
    let cs = h.applier.publish();
    assert!(
        cs.keys.is_empty(),
        "a rolled-back txn touches nothing: {cs:?}"
    );
}

#[test]
fn every_failing_op_is_reported_and_later_ops_see_earlier_writes() {
    let mut h = Harness::new();
    let r = txn(
        &mut h,
        vec![
            op(kv("get", "x")),
            op(with_value(kv("set", "y"), b"1")),
            op(with_index(kv("check-index", "y"), 1)),
            op(with_index(kv("check-index", "z"), 5)),
        ],
    );
    assert_eq!(
        errors(&r),
        vec![
            (0, "key \"x\" doesn't exist"),
            (3, "failed to check index, key \"z\" doesn't exist"),
        ]
    );
    assert!(h.state().kv_entry("y").is_none());
}

#[test]
fn error_strings_match_consul() {
    let mut h = Harness::new();
    h.add_session("s1");
    h.set("k", b"v"); // 1
    h.run(Command::KvAcquire {
        key: "locked".into(),
        value: None,
        flags: 0,
        session: "s1".into(),
    }); // 2
    let cases: Vec<(TxnOp, String)> = vec![
        (
            op(with_index(kv("delete-cas", "k"), 9)),
            "failed to delete key \"k\", index is stale".into(),
        ),
        (
            op(with_index(kv("cas", "k"), 0)),
            "failed to set key \"k\", index is stale".into(),
        ),
        (
            op(with_session(kv("lock", "locked"), "s2")),
            "invalid session \"s2\"".into(),
        ),
        (op(kv("lock", "k")), "missing session".into()),
        (
            op(with_session(kv("unlock", "k"), "s1")),
            "failed to unlock key \"k\", lock isn't held, or is held by another session".into(),
        ),
        (op(kv("unlock", "k")), "missing session".into()),
        (op(kv("get", "nope")), "key \"nope\" doesn't exist".into()),
        (
            op(with_session(kv("check-session", "k"), "s1")),
            "failed session check for key \"k\", current session \"\" != \"s1\"".into(),
        ),
        (
            op(with_session(kv("check-session", "gone"), "s1")),
            "failed to check session, key \"gone\" doesn't exist".into(),
        ),
        (
            op(with_index(kv("check-index", "k"), 7)),
            "failed index check for key \"k\", current modify index 1 != 7".into(),
        ),
        (op(kv("check-not-exists", "k")), "key \"k\" exists".into()),
        (
            op(kv("frobnicate", "k")),
            "unknown KV verb \"frobnicate\"".into(),
        ),
    ];
    for (o, want) in cases {
        let r = txn(
            &mut h,
            vec![op(with_value(kv("set", "pad"), b"p")), o.clone()],
        );
        assert_eq!(
            r.errors,
            vec![TxnError {
                op_index: 1,
                what: want
            }],
            "op {o:?}"
        );
    }
    // "lock is already held" needs a second, existing session.
    h.add_session("s2");
    let r = txn(&mut h, vec![op(with_session(kv("lock", "locked"), "s2"))]);
    assert_eq!(
        errors(&r),
        vec![(0, "failed to lock key \"locked\", lock is already held")]
    );
}

#[test]
fn lock_and_unlock_in_a_txn() {
    let mut h = Harness::new();
    h.add_session("s1");
    let r = txn(
        &mut h,
        vec![op(with_session(with_value(kv("lock", "l"), b"v"), "s1"))],
    );
    assert!(r.is_ok());
    let e = entry(&r.results[0]);
    assert_eq!(
        (e.lock_index, e.session.as_deref(), e.value.as_ref()),
        (1, Some("s1"), None)
    );
    let r = txn(
        &mut h,
        vec![
            op(with_session(kv("check-session", "l"), "s1")),
            op(with_session(kv("unlock", "l"), "s1")),
        ],
    );
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(entry(&r.results[1]).session, None);
    assert_eq!(h.state().kv_entry("l").unwrap().lock_index, 1);
}

#[test]
fn get_or_empty_returns_the_request_entry_with_null_value_when_missing() {
    let mut h = Harness::new();
    h.set("k", b"v");
    let mut missing = kv("get-or-empty", "nope");
    missing.flags = 5;
    missing.index = 9;
    missing.value = Some(b"ignored".to_vec());
    let r = txn(
        &mut h,
        vec![
            op(kv("get-or-empty", "k")),
            op(missing),
            op(with_value(kv("set", "w"), b"")),
        ],
    );
    assert!(r.is_ok());
    assert_eq!(entry(&r.results[0]).value_bytes(), b"v");
    let e = entry(&r.results[1]);
    assert_eq!(
        (
            &*e.key,
            e.value.as_ref(),
            e.flags,
            e.modify_index,
            e.create_index
        ),
        ("nope", None, 5, 9, 0)
    );
}

#[test]
fn txn_set_on_unchanged_entry_reports_existing_indexes() {
    let mut h = Harness::new();
    h.set("k", b"v"); // 1
    let r = txn(&mut h, vec![op(with_value(kv("set", "k"), b"v"))]);
    let e = entry(&r.results[0]);
    assert_eq!((e.create_index, e.modify_index), (1, 1));
}

#[test]
fn delete_verbs_in_txn() {
    let mut h = Harness::new();
    for k in ["d/1", "d/2", "e", "f"] {
        h.set(k, b"x");
    }
    h.applier.publish();
    let r = txn(
        &mut h,
        vec![
            op(kv("delete-tree", "d/")),
            op(kv("delete", "e")),
            op(with_index(kv("delete-cas", "f"), 4)),
            op(with_index(kv("delete-cas", "never"), 4)),
        ],
    );
    assert!(r.is_ok(), "{r:?}");
    assert!(r.results.is_empty());
    assert_eq!(h.state().kv_len(), 0);
    assert_eq!(h.state().tombstone_index("d/"), Some(5));
    let cs = h.applier.publish();
    assert_eq!(cs.prefixes, vec![Arc::<str>::from("d/")]);
    assert_eq!(cs.keys, vec![Arc::<str>::from("e"), Arc::<str>::from("f")]);
}

#[test]
fn read_only_txn_from_a_snapshot() {
    let mut h = Harness::new();
    h.set("a", b"1");
    h.set("t/x", b"2");
    let snap = h.state().clone();
    let r = txn_read_only(
        &snap,
        &[
            op(kv("get", "a")),
            op(kv("get-tree", "t/")),
            op(kv("check-not-exists", "b")),
        ],
    );
    assert!(r.is_ok());
    assert_eq!(r.results.len(), 2);
    let r = txn_read_only(&snap, &[op(kv("get", "a")), op(kv("get", "zz"))]);
    assert_eq!(errors(&r), vec![(1, "key \"zz\" doesn't exist")]);
    assert!(r.results.is_empty());
    let r = txn_read_only(&snap, &[op(with_value(kv("set", "a"), b"9"))]);
    assert_eq!(r.errors.len(), 1);
    assert_eq!(snap.kv_entry("a").unwrap().value_bytes(), b"1");
}

#[test]
fn precheck_requires_keys_except_for_delete_tree() {
    let ops = vec![
        op(kv("get", "")),
        op(kv("delete-tree", "")),
        op(kv("set", "")),
        op(kv("get", "k")),
    ];
    assert_eq!(
        txn_precheck(&ops),
        vec![
            TxnError {
                op_index: 0,
                what: "Must provide key".into()
            },
            TxnError {
                op_index: 2,
                what: "Must provide key".into()
            },
        ]
    );
    let r = txn_read_only(&crate::StateSnapshot::new(), &[op(kv("get", ""))]);
    assert_eq!(errors(&r), vec![(0, "Must provide key")]);
}

#[test]
fn write_detection_follows_consul_is_write() {
    assert!(!txn_is_write(&[
        op(kv("get", "a")),
        op(kv("get-tree", "a")),
        op(kv("check-index", "a"))
    ]));
    assert!(!txn_is_write(&[
        op(kv("get-or-empty", "a")),
        op(kv("check-session", "a")),
        op(kv("bogus", "a"))
    ]));
    for verb in [
        "set",
        "cas",
        "lock",
        "unlock",
        "delete",
        "delete-tree",
        "delete-cas",
    ] {
        assert!(
            txn_is_write(&[op(kv("get", "a")), op(kv(verb, "a"))]),
            "{verb}"
        );
    }
}

#[test]
fn limits_match_consul_messages() {
    let limits = TxnLimits::default();
    assert_eq!(limits.max_ops, 128);
    assert_eq!(limits.kv_max_value_size, 524_288);
    let ok: Vec<TxnOp> = (0..128).map(|i| op(kv("get", &format!("k{i}")))).collect();
    assert_eq!(validate_txn(&ok, &limits), Ok(()));
    let too_many: Vec<TxnOp> = (0..129).map(|i| op(kv("get", &format!("k{i}")))).collect();
    let err = validate_txn(&too_many, &limits).unwrap_err();
    assert_eq!(
        err,
        TxnLimitError::TooManyOps {
            count: 129,
            max: 128
        }
    );
    assert_eq!(
        err.to_string(),
        "Transaction contains too many operations (129 > 128)"
    );
    let big = vec![
        op(kv("get", "a")),
        op(with_value(kv("set", "big"), &vec![0u8; 524_289])),
    ];
    assert_eq!(
        validate_txn(&big, &limits).unwrap_err().to_string(),
        "Value for key \"big\" is too large (524289 > 524288 bytes)"
    );
    let edge = vec![op(with_value(kv("set", "edge"), &vec![0u8; 524_288]))];
    assert_eq!(validate_txn(&edge, &limits), Ok(()));
}

#[test]
fn verbs_round_trip_through_their_strings() {
    for v in [
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
        "weird",
    ] {
        assert_eq!(crate::KvVerb::parse(v).as_str(), v);
    }
    assert_eq!(
        crate::KvVerb::parse("SET"),
        crate::KvVerb::Unknown("SET".into())
    );
}
