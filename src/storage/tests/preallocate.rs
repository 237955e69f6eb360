//! Segment preallocation: zero tails are the normal end of data, crash leftovers of a
//! prepared segment are never data, truncated entries never come back, and a roll
//! renames the prepared file.
mod common;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use ballast_storage::{LogOptions, RaftLog, Recovered, StorageError};
use common::*;
use rand::{Rng, SeedableRng};

const TMP: &str = "next.seg.tmp";

fn opts(segment_bytes: u64) -> LogOptions {
    LogOptions {
        segment_bytes,
        preallocate: true,
    }
}

fn tmp_path(dir: &Path) -> PathBuf {
    dir.join("log").join(TMP)
}

fn reopen(dir: &Path, o: LogOptions) -> Result<Recovered, StorageError> {
    run(async { RaftLog::open(dir, o).await.map(|(_, rec)| rec) })
}

fn data_end(path: &Path) -> u64 {
    frames_of(path)
        .last()
        .map_or(0, |f| (f.offset + f.len) as u64)
}

#[test]
fn restart_with_a_preallocated_zero_tail() {
    let tmp = TempDir::new("prealloc-tail");
    let o = opts(1 << 20);
    let written = entries(1, 40, 1, 36);
    run(async {
        let (mut log, _) = RaftLog::open(tmp.path(), o.clone()).await.unwrap();
        log.append(&written[..20]).await.unwrap();
        log.prepare_ahead().await.unwrap();
        log.append(&written[20..]).await.unwrap();
        log.prepare_ahead().await.unwrap();
        log.close().await.unwrap();
    });
    let seg = segment_files(tmp.path()).pop().unwrap();
    let len = std::fs::metadata(&seg).unwrap().len();
    let end = data_end(&seg);
    // The whole (1 MiB) segment is zero-filled past the data, and the next one started.
    assert_eq!(len, 1 << 20);
    assert!(end > 0 && end < 8192, "data end {end}");
    let bytes = std::fs::read(&seg).unwrap();
    assert!(bytes[end as usize..].iter().all(|&b| b == 0));
    assert!(std::fs::metadata(tmp_path(tmp.path())).unwrap().len() > 0);

    let rec = reopen(tmp.path(), o.clone()).unwrap();
    assert!(rec.torn_tail.is_none(), "{:?}", rec.torn_tail);
    assert_eq!(rec.entries, written);
    // Appending after recovery overwrites the zeros in place and stays readable.
    run(async {
        let (mut log, _) = RaftLog::open(tmp.path(), o.clone()).await.unwrap();
        log.append(&entries(41, 60, 2, 36)).await.unwrap();
        log.close().await.unwrap();
    });
    assert_eq!(std::fs::metadata(&seg).unwrap().len(), 1 << 20);
    let rec = reopen(tmp.path(), o).unwrap();
    let mut expect = written;
    expect.extend(entries(41, 60, 2, 36));
    assert_eq!(rec.entries, expect);
    assert!(rec.torn_tail.is_none());
}

#[test]
fn torn_write_into_a_zero_tail_is_cut_and_a_frame_after_a_zero_gap_is_corrupt() {
    let tmp = TempDir::new("prealloc-torn");
    let o = opts(1 << 20);
    run(async {
        let (mut log, _) = RaftLog::open(tmp.path(), o.clone()).await.unwrap();
        log.append(&entries(1, 30, 1, 36)).await.unwrap();
        log.prepare_ahead().await.unwrap();
        log.close().await.unwrap();
    });
    let seg = segment_files(tmp.path()).pop().unwrap();
    let end = data_end(&seg);
    let pristine = std::fs::read(&seg).unwrap();

    // A torn write: half a frame's garbage after the data, zeros after it.
    patch(&seg, end, &[0xabu8; 40]);
    let rec = reopen(tmp.path(), o.clone()).unwrap();
    let torn = rec.torn_tail.expect("torn tail reported");
    assert_eq!((torn.file.as_path(), torn.offset), (seg.as_path(), end));
    assert_eq!(rec.entries, entries(1, 30, 1, 36));

    // A valid next frame behind a zero gap (the first block of a multi-block write
    // lost): not a torn tail that can be dropped, the log refuses to start.
    std::fs::write(&seg, &pristine).unwrap();
    let frame = ballast_storage::encode_frames(&[entry(31, 1, 36)]).unwrap();
    let gap_at = end.div_ceil(4096) * 4096 + 4096;
    patch(&seg, gap_at, &frame);
    match reopen(tmp.path(), o.clone()) {
        Err(StorageError::Corrupt {
            file,
            offset,
            detail,
        }) => {
            assert_eq!((file.as_path(), offset), (seg.as_path(), end));
            assert!(detail.contains("valid frame follows"), "{detail}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    std::fs::write(&seg, &pristine).unwrap();
    assert_eq!(reopen(tmp.path(), o).unwrap().last_index, 30);
}

#[test]
fn crash_leftovers_of_a_prepared_segment() {
    let tmp = TempDir::new("prealloc-leftover");
    let o = opts(64 * 1024);
    run(async {
        let (mut log, _) = RaftLog::open(tmp.path(), o.clone()).await.unwrap();
        log.append(&entries(1, 50, 1, 36)).await.unwrap();
        log.close().await.unwrap();
    });
    let tmp_file = tmp_path(tmp.path());

    // 1. Crash while zero-filling next.seg.tmp (even with odd bytes in it: it is never
    //    read, only deleted). Also with preallocation off.
    for (content, pre) in [(vec![0u8; 12 * 1024], true), (vec![0x77u8; 5000], false)] {
        std::fs::write(&tmp_file, &content).unwrap();
        let o = LogOptions {
            preallocate: pre,
            ..o.clone()
        };
        run(async {
            let (log, rec) = RaftLog::open(tmp.path(), o).await.unwrap();
            assert!(rec.torn_tail.is_none());
            assert_eq!(rec.entries, entries(1, 50, 1, 36));
            if !pre {
                assert!(!tmp_file.exists(), "leftover removed at open");
            }
            log.prepare_ahead().await.unwrap();
            log.close().await.unwrap();
        });
        // With preallocation the tmp file was recreated, zero-filled from scratch.
        if pre {
            let bytes = std::fs::read(&tmp_file).unwrap();
            assert!(!bytes.is_empty() && bytes.iter().all(|&b| b == 0));
        }
    }

    // 2. Crash right after a roll renamed the prepared file, before the first frame
    //    reached it: an all-zero last segment, which is an empty active segment.
    let segs = segment_files(tmp.path());
    let next = segs[0].with_file_name(format!("{:020}.seg", 51));
    std::fs::write(&next, vec![0u8; 64 * 1024]).unwrap();
    run(async {
        let (mut log, rec) = RaftLog::open(tmp.path(), o.clone()).await.unwrap();
        assert!(rec.torn_tail.is_none());
        assert_eq!((rec.first_index, rec.last_index), (1, 50));
        assert_eq!(log.segment_count(), 2);
        log.append(&entries(51, 60, 2, 36)).await.unwrap();
        log.close().await.unwrap();
    });
    let rec = reopen(tmp.path(), o.clone()).unwrap();
    let mut expect = entries(1, 50, 1, 36);
    expect.extend(entries(51, 60, 2, 36));
    assert_eq!(rec.entries, expect);

    // 3. Crash mid-chunk in the active segment: a zero extension of odd length.
    let last = segment_files(tmp.path()).pop().unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&last).unwrap();
    f.set_len(64 * 1024 + 1000).unwrap();
    drop(f);
    let rec = reopen(tmp.path(), o).unwrap();
    assert!(rec.torn_tail.is_none());
    assert_eq!(rec.entries, expect);
}

#[test]
fn truncated_entries_do_not_come_back_after_restart() {
    let tmp = TempDir::new("prealloc-truncate");
    let o = opts(16 * 1024);
    run(async {
        let (mut log, _) = RaftLog::open(tmp.path(), o.clone()).await.unwrap();
        for lo in (1..=200).step_by(10) {
            log.append(&entries(lo, lo + 9, 1, 100)).await.unwrap();
        }
        log.prepare_ahead().await.unwrap();
        // Inside the active segment, then across segments; the zero tails are prepared
        // again in between.
        let active_first = log.last_index() - 3;
        log.truncate_suffix(active_first).await.unwrap();
        log.prepare_ahead().await.unwrap();
        log.truncate_suffix(105).await.unwrap();
        assert_eq!(log.last_index(), 104);
        log.prepare_ahead().await.unwrap();
        // Drop without close: like a crash after truncate_suffix returned.
    });
    let rec = reopen(tmp.path(), o.clone()).unwrap();
    assert!(rec.torn_tail.is_none());
    assert_eq!(rec.entries, entries(1, 104, 1, 100));
    for seg in segment_files(tmp.path()) {
        assert!(frames_of(&seg).iter().all(|f| f.index <= 104), "{seg:?}");
    }

    // New, shorter entries over the truncated range: only they are there afterwards.
    run(async {
        let (mut log, _) = RaftLog::open(tmp.path(), o.clone()).await.unwrap();
        log.prepare_ahead().await.unwrap();
        log.append(&entries(100, 102, 2, 10)).await.unwrap();
    });
    let rec = reopen(tmp.path(), o).unwrap();
    let mut expect = entries(1, 99, 1, 100);
    expect.extend(entries(100, 102, 2, 10));
    assert_eq!(rec.entries, expect);
    assert!(rec.torn_tail.is_none());
}

#[test]
fn roll_into_the_prepared_segment() {
    let tmp = TempDir::new("prealloc-roll");
    let o = opts(16 * 1024);
    let tmp_file = tmp_path(tmp.path());
    run(async {
        let (mut log, _) = RaftLog::open(tmp.path(), o.clone()).await.unwrap();
        log.append(&entries(1, 5, 1, 100)).await.unwrap();
        log.prepare_ahead().await.unwrap();
        let prepared = std::fs::metadata(&tmp_file).unwrap();
        assert_eq!(prepared.len(), 16 * 1024);
        let mut next = 6;
        while log.segment_count() == 1 {
            log.append(&entries(next, next + 4, 1, 100)).await.unwrap();
            next += 5;
        }
        let rolled = segment_files(tmp.path()).pop().unwrap();
        assert_eq!(
            std::fs::metadata(&rolled).unwrap().ino(),
            prepared.ino(),
            "the new segment is the prepared file, renamed"
        );
        assert_eq!(std::fs::metadata(&rolled).unwrap().len(), 16 * 1024);
        // A fresh next segment is prepared for the following roll.
        log.prepare_ahead().await.unwrap();
        assert_ne!(std::fs::metadata(&tmp_file).unwrap().ino(), prepared.ino());
        log.append(&entries(next, next + 4, 2, 100)).await.unwrap();
        log.close().await.unwrap();
    });
    let rec = reopen(tmp.path(), o).unwrap();
    assert!(rec.torn_tail.is_none());
    let last = rec.last_index;
    assert_eq!(rec.entries.len() as u64, last);
    assert_eq!(rec.last_term, 2);
}

#[test]
fn reset_uses_the_prepared_segment_and_compaction_keeps_working() {
    let tmp = TempDir::new("prealloc-reset");
    let o = opts(16 * 1024);
    run(async {
        let (mut log, _) = RaftLog::open(tmp.path(), o.clone()).await.unwrap();
        log.append(&entries(1, 300, 1, 100)).await.unwrap();
        for lo in (301..=600).step_by(20) {
            log.append(&entries(lo, lo + 19, 1, 100)).await.unwrap();
        }
        let before = log.segment_count();
        assert!(before > 3);
        assert!(log.compact(400).await.unwrap() > 0);
        log.prepare_ahead().await.unwrap();
        log.reset(5000).await.unwrap();
        assert_eq!(segment_files(tmp.path()).len(), 1);
        log.append(&entries(5000, 5010, 3, 36)).await.unwrap();
        log.close().await.unwrap();
    });
    let rec = reopen(tmp.path(), o).unwrap();
    assert_eq!(rec.entries, entries(5000, 5010, 3, 36));
}

/// Random appends, conflicts, compactions and resets with the preparer running in the
/// background, checked against a model after every restart.
#[test]
fn random_operations_match_a_model_across_restarts() {
    let tmp = TempDir::new("prealloc-model");
    let mut rng = rand::rngs::StdRng::seed_from_u64(99);
    let mut model: Vec<ballast_raft::Entry> = Vec::new();
    let mut first = 1u64;
    for round in 0..6 {
        let o = opts(if round % 2 == 0 { 16 * 1024 } else { 40 * 1024 });
        let ops: Vec<u32> = (0..60).map(|_| rng.gen_range(0..100)).collect();
        let lens: Vec<usize> = (0..60).map(|_| rng.gen_range(0..400)).collect();
        let (m, f) = run(async {
            let (mut log, rec) = RaftLog::open(tmp.path(), o).await.unwrap();
            assert!(rec.torn_tail.is_none());
            assert_eq!(rec.entries, model);
            assert_eq!(rec.first_index, first);
            let mut model = model.clone();
            let mut first = first;
            for (op, len) in ops.into_iter().zip(lens) {
                let last = first + model.len() as u64 - 1;
                match op {
                    0..=69 => {
                        let n = 1 + (len as u64 % 12);
                        let b: Vec<_> = (last + 1..=last + n)
                            .map(|i| entry(i, round + 1, len))
                            .collect();
                        log.append(&b).await.unwrap();
                        model.extend(b);
                    }
                    70..=84 if !model.is_empty() => {
                        let from = first + (len as u64 % model.len() as u64);
                        let b = entries(from, from + 2, round + 10, len / 2);
                        log.append(&b).await.unwrap();
                        model.truncate((from - first) as usize);
                        model.extend(b);
                    }
                    85..=94 if !model.is_empty() => {
                        let upto = first + (len as u64 % model.len() as u64);
                        log.compact(upto).await.unwrap();
                        let new_first = log.first_index();
                        model.drain(..(new_first - first) as usize);
                        first = new_first;
                    }
                    95..=96 => {
                        first = first + model.len() as u64 + 7;
                        log.reset(first).await.unwrap();
                        model.clear();
                    }
                    _ => log.prepare_ahead().await.unwrap(),
                }
                assert_eq!(log.last_index(), first + model.len() as u64 - 1);
            }
            if !model.is_empty() {
                let got = log
                    .entries(first, first + model.len() as u64)
                    .await
                    .unwrap();
                assert_eq!(got, model);
            }
            // Every other round ends like a crash: no close.
            if round % 2 == 0 {
                log.close().await.unwrap();
            }
            (model, first)
        });
        model = m;
        first = f;
    }
}
