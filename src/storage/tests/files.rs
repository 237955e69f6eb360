//! Term/vote file and snapshot files.
mod common;

use ballast_raft::{ConfState, HardState, SnapshotMeta};
use ballast_storage::{
    hard_state_path, load_hard_state, load_latest_snapshot, save_hard_state, snapshot_dir,
    write_snapshot, StorageError,
};
use common::*;

#[test]
fn hard_state_round_trip_and_torn_tmp_ignored() {
    let tmp = TempDir::new("hardstate");
    run(async {
        assert_eq!(load_hard_state(tmp.path()).await.unwrap(), None);
        let a = HardState {
            term: 3,
            vote: 2,
            commit: 10,
        };
        save_hard_state(tmp.path(), &a).await.unwrap();
        assert_eq!(load_hard_state(tmp.path()).await.unwrap(), Some(a));
        let b = HardState {
            term: 4,
            vote: 0,
            commit: 12,
        };
        save_hard_state(tmp.path(), &b).await.unwrap();
        assert_eq!(load_hard_state(tmp.path()).await.unwrap(), Some(b));
        assert!(!tmp.path().join("raft-state.tmp").exists());
    });
    // A save cut short leaves a partial tmp file: ignored, the last good state stands.
    std::fs::write(
        tmp.path().join("raft-state.tmp"),
        b"BLSTHS01\x10\0\0\0garbage",
    )
    .unwrap();
    run(async {
        let got = load_hard_state(tmp.path()).await.unwrap().unwrap();
        assert_eq!(
            got,
            HardState {
                term: 4,
                vote: 0,
                commit: 12
            }
        );
        // And the next save overwrites the leftover.
        let c = HardState {
            term: 5,
            vote: 1,
            commit: 12,
        };
        save_hard_state(tmp.path(), &c).await.unwrap();
        assert_eq!(load_hard_state(tmp.path()).await.unwrap(), Some(c));
    });
}

#[test]
fn corrupt_hard_state_names_the_file() {
    let tmp = TempDir::new("hardstate-corrupt");
    run(async {
        save_hard_state(
            tmp.path(),
            &HardState {
                term: 9,
                vote: 1,
                commit: 3,
            },
        )
        .await
        .unwrap();
    });
    let path = hard_state_path(tmp.path());
    flip(&path, 20);
    let err = run(async { load_hard_state(tmp.path()).await.unwrap_err() });
    assert!(err.is_corrupt(), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("crc mismatch"),
        "{msg}"
    );
    std::fs::write(&path, b"").unwrap();
    let err = run(async { load_hard_state(tmp.path()).await.unwrap_err() });
    assert!(err.is_corrupt(), "{err}");
}

fn meta(index: u64, term: u64) -> SnapshotMeta {
    SnapshotMeta {
        index,
        term,
        conf: ConfState {
            voters: vec![1, 2, 3],
            learners: vec![9],
            servers: Vec::new(),
        },
    }
}

#[test]
fn snapshots_round_trip_and_keep_the_newest_two() {
    let tmp = TempDir::new("snap");
    assert!(load_latest_snapshot(tmp.path()).unwrap().is_none());
    let payload = |n: u64| -> Vec<u8> { (0..10_000u64 + n).map(|i| (i * n) as u8).collect() };
    let mut paths = Vec::new();
    for (i, idx) in [100u64, 200, 300, 400].iter().enumerate() {
        paths.push(write_snapshot(tmp.path(), &meta(*idx, 1 + i as u64), &payload(*idx)).unwrap());
        let (m, p) = load_latest_snapshot(tmp.path()).unwrap().unwrap();
        assert_eq!(m, meta(*idx, 1 + i as u64));
        assert_eq!(p, payload(*idx));
    }
    let mut left: Vec<_> = std::fs::read_dir(snapshot_dir(tmp.path()))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    left.sort();
    assert_eq!(left, paths[2..].to_vec());
    // Empty payload is fine too.
    write_snapshot(tmp.path(), &meta(500, 5), &[]).unwrap();
    assert_eq!(
        load_latest_snapshot(tmp.path()).unwrap().unwrap().1,
        Vec::<u8>::new()
    );
}

#[test]
fn corrupt_newest_snapshot_is_an_error_not_a_fallback() {
    let tmp = TempDir::new("snap-corrupt");
    write_snapshot(tmp.path(), &meta(10, 1), b"older").unwrap();
    let newest = write_snapshot(tmp.path(), &meta(20, 2), &vec![7u8; 5000]).unwrap();
    let pristine = std::fs::read(&newest).unwrap();
    let len = pristine.len() as u64;
    for at in [0u64, 10, 20, 29, 40, len - 1] {
        std::fs::write(&newest, &pristine).unwrap();
        flip(&newest, at);
        let err = load_latest_snapshot(tmp.path()).unwrap_err();
        assert!(
            matches!(err, StorageError::Corrupt { .. }),
            "flip at {at}: {err}"
        );
        let msg = err.to_string();
        assert!(
            msg.starts_with("snapshot ") && msg.contains(&newest.display().to_string()),
            "{msg}"
        );
    }
    // Truncated payload.
    std::fs::write(&newest, &pristine[..pristine.len() - 3]).unwrap();
    assert!(load_latest_snapshot(tmp.path()).unwrap_err().is_corrupt());
    // A file whose name disagrees with its meta.
    std::fs::write(&newest, &pristine).unwrap();
    let renamed = newest.with_file_name(format!("{:020}-{:020}.snap", 30, 2));
    std::fs::rename(&newest, &renamed).unwrap();
    let msg = load_latest_snapshot(tmp.path()).unwrap_err().to_string();
    assert!(msg.contains("file name says index 30"), "{msg}");
}
