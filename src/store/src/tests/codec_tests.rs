//! Raft snapshot codec and command codec round trips.

use super::support::Harness;
use crate::{
    decode_command, decode_snapshot, encode_command, encode_snapshot, Command, KvVerb, TxnKvOp,
    TxnOp,
};

fn sample_state() -> crate::StateSnapshot {
    let mut h = Harness::new();
    h.add_session("s1");
    h.set("a", b"1");
    h.run(Command::KvSet {
        key: "nil".into(),
        value: None,
        flags: 7,
    });
    h.run(Command::KvSet {
        key: "empty".into(),
        value: Some(vec![]),
        flags: 0,
    });
    h.run(Command::KvAcquire {
        key: "lock".into(),
        value: Some(b"x".to_vec()),
        flags: 0,
        session: "s1".into(),
    });
    h.set("gone", b"1");
    h.delete("gone");
    h.set("t/1", b"1");
    h.run(Command::KvDeleteTree {
        prefix: "t/".into(),
    });
    h.set("日本/キー", "値".as_bytes());
    h.applier.apply_noop(20);
    h.state().clone()
}

#[test]
fn snapshot_round_trips_exactly() {
    let state = sample_state();
    let bytes = encode_snapshot(&state);
    let back = decode_snapshot(&bytes).unwrap();
    assert_eq!(back, state);
    assert_eq!(back.applied_index(), 20);
    assert!(back.session_exists("s1"));
    assert_eq!(back.kv_entry("nil").unwrap().value, None);
    assert_eq!(
        back.kv_entry("empty").unwrap().value.as_deref(),
        Some(&[][..])
    );
    assert_eq!(back.tombstone_index("t/"), state.tombstone_index("t/"));
    assert_eq!(back.kv_list("t/").1, state.kv_list("t/").1);
    assert_eq!(encode_snapshot(&back), bytes, "encoding is deterministic");
}

#[test]
fn snapshot_decodes_from_unaligned_buffers() {
    let bytes = encode_snapshot(&sample_state());
    for off in 1..16 {
        let mut buf = vec![0u8; off];
        buf.extend_from_slice(&bytes);
        assert!(decode_snapshot(&buf[off..]).is_ok());
    }
}

#[test]
fn snapshot_rejects_bad_headers() {
    let bytes = encode_snapshot(&sample_state());
    assert!(decode_snapshot(&[]).is_err());
    assert!(decode_snapshot(&bytes[..15]).is_err());
    let mut bad = bytes.clone();
    bad[0] ^= 1;
    assert!(decode_snapshot(&bad).unwrap_err().what().contains("magic"));
    let mut bad = bytes.clone();
    bad[8] = 9;
    assert!(decode_snapshot(&bad)
        .unwrap_err()
        .what()
        .contains("version"));
    assert!(decode_snapshot(&bytes[..bytes.len() - 1]).is_err());
}

#[test]
fn empty_state_round_trips() {
    let s = crate::StateSnapshot::new();
    assert_eq!(decode_snapshot(&encode_snapshot(&s)).unwrap(), s);
}

#[test]
fn every_command_round_trips() {
    let cmds = vec![
        Command::KvSet {
            key: "k".into(),
            value: None,
            flags: u64::MAX,
        },
        Command::KvCas {
            key: "k".into(),
            value: Some(vec![1, 2]),
            flags: 1,
            index: 9,
        },
        Command::KvAcquire {
            key: "k".into(),
            value: Some(vec![]),
            flags: 0,
            session: "s".into(),
        },
        Command::KvRelease {
            key: "k".into(),
            value: None,
            flags: 0,
            session: "s".into(),
        },
        Command::KvDelete { key: "k".into() },
        Command::KvDeleteCas {
            key: "k".into(),
            index: 3,
        },
        Command::KvDeleteTree { prefix: "".into() },
        Command::Txn {
            ops: vec![
                TxnOp::Kv(TxnKvOp {
                    verb: KvVerb::GetTree,
                    key: "p".into(),
                    value: None,
                    flags: 0,
                    index: 0,
                    session: "".into(),
                }),
                TxnOp::Kv(TxnKvOp {
                    verb: KvVerb::Unknown("x".into()),
                    key: "p".into(),
                    value: Some(vec![0; 300]),
                    flags: 2,
                    index: 4,
                    session: "s".into(),
                }),
            ],
        },
        Command::ReapTombstones { upto: 77 },
    ];
    for c in cmds {
        let bytes = encode_command(&c);
        assert_eq!(decode_command(&bytes).unwrap(), c);
        let mut shifted = vec![0u8; 3];
        shifted.extend_from_slice(&bytes);
        assert_eq!(decode_command(&shifted[3..]).unwrap(), c);
    }
}
