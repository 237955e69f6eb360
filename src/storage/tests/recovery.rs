//! Recovery on damaged files: torn tails are cut, anything else is `Corrupt` naming the
//! file and the byte offset.
mod common;

use std::path::Path;

use ballast_storage::{LogOptions, RaftLog, Recovered, StorageError};
use common::*;

fn opts() -> LogOptions {
    LogOptions {
        segment_bytes: 16 * 1024,
        ..LogOptions::default()
    }
}

/// Writes entries 1..=n in batches of 10 and closes the log.
fn build_log(dir: &Path, n: u64) {
    run(async {
        let (mut log, _) = RaftLog::open(dir, opts()).await.unwrap();
        for lo in (1..=n).step_by(10) {
            log.append(&entries(lo, (lo + 9).min(n), 1, 150))
                .await
                .unwrap();
        }
        log.close().await.unwrap();
    });
}

fn reopen(dir: &Path) -> Result<Recovered, StorageError> {
    run(async { RaftLog::open(dir, opts()).await.map(|(_, rec)| rec) })
}

fn expect_corrupt(dir: &Path, file: &Path, offset: u64) -> String {
    let err = reopen(dir).expect_err("damaged log must not open");
    match &err {
        StorageError::Corrupt {
            file: f, offset: o, ..
        } => {
            assert_eq!((f.as_path(), *o), (file, offset), "{err}");
        }
        other => panic!("expected Corrupt, got {other}"),
    }
    let msg = err.to_string();
    assert!(msg.contains(&file.display().to_string()), "{msg}");
    assert!(msg.contains(&format!("offset {offset}")), "{msg}");
    assert!(msg.starts_with("log segment "), "{msg}");
    msg
}

#[test]
fn torn_tail_cut_mid_frame_is_truncated() {
    let tmp = TempDir::new("torn-cut");
    build_log(tmp.path(), 200);
    let last = segment_files(tmp.path()).pop().unwrap();
    let frames = frames_of(&last);
    let victim = *frames.last().unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&last).unwrap();
    f.set_len(victim.offset as u64 + 20).unwrap();
    drop(f);

    let rec = reopen(tmp.path()).unwrap();
    let torn = rec.torn_tail.expect("torn tail reported");
    assert_eq!(
        (torn.file.as_path(), torn.offset),
        (last.as_path(), victim.offset as u64)
    );
    assert_eq!(torn.bytes_discarded, 20);
    assert_eq!(rec.last_index, 199);
    assert_eq!(rec.entries, entries(1, 199, 1, 150));
    assert_eq!(
        std::fs::metadata(&last).unwrap().len(),
        victim.offset as u64
    );

    // The log keeps working after the cut, and the next open is clean.
    run(async {
        let (mut log, rec) = RaftLog::open(tmp.path(), opts()).await.unwrap();
        assert!(rec.torn_tail.is_none());
        log.append(&entries(200, 210, 2, 30)).await.unwrap();
        log.close().await.unwrap();
    });
    let rec = reopen(tmp.path()).unwrap();
    assert!(rec.torn_tail.is_none());
    assert_eq!(rec.last_index, 210);
}

#[test]
fn torn_tail_garbage_or_zeroed_last_frame() {
    for garbage in [true, false] {
        let tmp = TempDir::new("torn-garbage");
        build_log(tmp.path(), 95);
        let last = segment_files(tmp.path()).pop().unwrap();
        let victim = *frames_of(&last).last().unwrap();
        let fill: Vec<u8> = (0..victim.len)
            .map(|i| if garbage { (i * 37 + 11) as u8 | 1 } else { 0 })
            .collect();
        patch(&last, victim.offset as u64, &fill);
        let rec = reopen(tmp.path()).unwrap();
        assert_eq!(rec.last_index, 94, "garbage={garbage}");
        assert_eq!(rec.entries, entries(1, 94, 1, 150));
        if garbage {
            let torn = rec.torn_tail.expect("garbage tail reported");
            assert_eq!(torn.offset, victim.offset as u64);
        }
        // Whatever was cut, the log reopens cleanly with the earlier entries.
        let again = reopen(tmp.path()).unwrap();
        assert!(again.torn_tail.is_none());
        assert_eq!(again.last_index, 94);
    }
}

#[test]
fn flipped_byte_in_an_early_frame_of_the_last_segment_is_corrupt() {
    // Flip one byte in each part of the frame: length, crc, index, payload, padding.
    let tmp = TempDir::new("flip-last");
    build_log(tmp.path(), 230);
    let last = segment_files(tmp.path()).pop().unwrap();
    let frames = frames_of(&last);
    assert!(frames.len() >= 4);
    let victim = frames[1];
    let pristine = std::fs::read(&last).unwrap();
    for delta in [0usize, 5, 9, 30, victim.len - 1] {
        std::fs::write(&last, &pristine).unwrap();
        flip(&last, (victim.offset + delta) as u64);
        let msg = expect_corrupt(tmp.path(), &last, victim.offset as u64);
        assert!(msg.contains("valid frame follows"), "{msg}");
    }
    // Untouched, the same files open fine.
    std::fs::write(&last, &pristine).unwrap();
    assert_eq!(reopen(tmp.path()).unwrap().last_index, 230);
}

#[test]
fn flipped_byte_in_a_non_last_segment_is_corrupt() {
    let tmp = TempDir::new("flip-middle");
    build_log(tmp.path(), 300);
    let files = segment_files(tmp.path());
    assert!(files.len() >= 3);
    // Even the last frame of an older segment: it was acknowledged, so not a torn tail.
    let victim = *frames_of(&files[1]).last().unwrap();
    flip(&files[1], victim.offset as u64 + 40);
    let msg = expect_corrupt(tmp.path(), &files[1], victim.offset as u64);
    assert!(msg.contains("crc mismatch"), "{msg}");
}

#[test]
fn missing_middle_segment_is_an_index_gap() {
    let tmp = TempDir::new("gap");
    build_log(tmp.path(), 300);
    let files = segment_files(tmp.path());
    std::fs::remove_file(&files[1]).unwrap();
    let msg = expect_corrupt(tmp.path(), &files[2], 0);
    assert!(msg.contains("index gap"), "{msg}");
}

#[test]
fn frame_with_wrong_index_is_corrupt_even_at_the_tail() {
    // Replace the last segment's last frame by a valid frame for another index.
    let tmp = TempDir::new("wrong-index");
    build_log(tmp.path(), 95);
    let last = segment_files(tmp.path()).pop().unwrap();
    let victim = *frames_of(&last).last().unwrap();
    let other = ballast_storage::encode_frames(&[entry(500, 1, 150)]).unwrap();
    assert_eq!(other.len(), victim.len);
    patch(&last, victim.offset as u64, &other);
    let msg = expect_corrupt(tmp.path(), &last, victim.offset as u64);
    assert!(msg.contains("index gap"), "{msg}");
}
