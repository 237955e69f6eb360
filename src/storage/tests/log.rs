//! The segmented log on real files: group commit, rolls, reopen, truncation, compaction,
//! shipping pre-encoded frames.
mod common;

use ballast_storage::{decode_entries, encode_frames, LogOptions, RaftLog, StorageError};
use common::*;
use rand::{Rng, SeedableRng};

fn small_segments() -> LogOptions {
    LogOptions {
        segment_bytes: 16 * 1024,
        ..LogOptions::default()
    }
}

#[test]
fn append_and_reopen_many_batches_across_rolls() {
    let tmp = TempDir::new("rolls");
    run(async {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let (mut log, rec) = RaftLog::open(tmp.path(), small_segments()).await.unwrap();
        assert!(rec.entries.is_empty());
        assert_eq!((rec.first_index, rec.last_index, rec.last_term), (1, 0, 0));
        let mut all = Vec::new();
        let mut next = 1u64;
        for batch in 0..200u64 {
            let n = rng.gen_range(1..=20u64);
            let term = 1 + batch / 50;
            let b: Vec<_> = (next..next + n)
                .map(|i| entry(i, term, rng.gen_range(0..300)))
                .collect();
            log.append(&b).await.unwrap();
            next += n;
            all.extend(b);
            assert_eq!(log.last_index(), next - 1);
            assert_eq!(log.last_term(), term);
        }
        assert!(
            log.segment_count() > 3,
            "only {} segments",
            log.segment_count()
        );
        assert_eq!(segment_files(tmp.path()).len(), log.segment_count());
        // Read back ranges that cross segment boundaries.
        for _ in 0..50 {
            let lo = rng.gen_range(1..next);
            let hi = rng.gen_range(lo..=next);
            let got = log.entries(lo, hi).await.unwrap();
            assert_eq!(got, all[(lo - 1) as usize..(hi - 1) as usize]);
            let frames = log.read_frames(lo, hi, usize::MAX).await.unwrap();
            assert_eq!(decode_entries(&frames.bytes).unwrap(), got);
        }
        log.close().await.unwrap();

        let (mut log, rec) = RaftLog::open(tmp.path(), small_segments()).await.unwrap();
        assert!(rec.torn_tail.is_none());
        assert_eq!(rec.entries, all);
        assert_eq!((rec.first_index, rec.last_index), (1, next - 1));
        assert_eq!(rec.last_term, 4);
        assert_eq!(log.term(1), Some(1));
        assert_eq!(log.term(next), None);
        // Keep appending after recovery (the partial tail block is rewritten correctly).
        let more = entries(next, next + 9, 5, 100);
        log.append(&more).await.unwrap();
        all.extend(more);
        log.close().await.unwrap();
        let (_log, rec) = RaftLog::open(tmp.path(), small_segments()).await.unwrap();
        assert_eq!(rec.entries, all);
    });
}

#[test]
fn read_frames_respects_max_bytes_and_range_checks() {
    let tmp = TempDir::new("readframes");
    run(async {
        let (mut log, _) = RaftLog::open(tmp.path(), small_segments()).await.unwrap();
        log.append(&entries(1, 100, 1, 200)).await.unwrap();
        let b = log.read_frames(10, 100, 1000).await.unwrap();
        assert_eq!(b.first, 10);
        assert!(b.last >= 10 && b.last < 99, "last {}", b.last);
        assert!(b.bytes.len() <= 1000);
        assert_eq!(
            decode_entries(&b.bytes).unwrap(),
            entries(10, b.last, 1, 200)
        );
        // At least one frame even when it alone exceeds the budget.
        let one = log.read_frames(5, 100, 1).await.unwrap();
        assert_eq!((one.first, one.last), (5, 5));
        assert!(log.entries(0, 5).await.is_err());
        assert!(log.entries(5, 102).await.is_err());
        assert!(log.entries(50, 40).await.is_err());
        assert!(log.entries(101, 101).await.unwrap().is_empty());
        // Gaps and non-consecutive batches are refused.
        assert!(matches!(
            log.append(&entries(105, 106, 1, 1)).await,
            Err(StorageError::InvalidArgument(_))
        ));
        let bad = vec![entry(101, 1, 1), entry(103, 1, 1)];
        assert!(log.append(&bad).await.is_err());
        assert_eq!(log.last_index(), 100);
    });
}

#[test]
fn suffix_truncation_within_and_across_segments() {
    let tmp = TempDir::new("truncate");
    run(async {
        let (mut log, _) = RaftLog::open(tmp.path(), small_segments()).await.unwrap();
        for lo in (1..=400).step_by(10) {
            log.append(&entries(lo, lo + 9, 1, 150)).await.unwrap();
        }
        let before = log.segment_count();
        assert!(before >= 4);
        // Conflict inside the active segment.
        log.append(&entries(395, 397, 2, 10)).await.unwrap();
        assert_eq!(log.last_index(), 397);
        assert_eq!((log.term(394), log.term(395)), (Some(1), Some(2)));
        // Conflict far back: later segments must go, on disk too.
        log.append(&entries(120, 125, 3, 10)).await.unwrap();
        assert_eq!(log.last_index(), 125);
        assert!(log.segment_count() < before);
        assert_eq!(segment_files(tmp.path()).len(), log.segment_count());
        let mut expect = entries(1, 119, 1, 150);
        expect.extend(entries(120, 125, 3, 10));
        assert_eq!(log.entries(1, 126).await.unwrap(), expect);
        // Truncating exactly at a segment's first index keeps that (now empty) file.
        let files = segment_files(tmp.path());
        let last_first: u64 = files
            .last()
            .unwrap()
            .file_stem()
            .unwrap()
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        log.truncate_suffix(last_first).await.unwrap();
        assert_eq!(log.last_index(), last_first - 1);
        expect.truncate((last_first - 1) as usize);
        let tail = entries(last_first, last_first + 30, 4, 50);
        log.append(&tail).await.unwrap();
        expect.extend(tail);
        // Truncating below the first index is refused.
        assert!(log.truncate_suffix(0).await.is_err());
        log.close().await.unwrap();

        let (log, rec) = RaftLog::open(tmp.path(), small_segments()).await.unwrap();
        assert!(rec.torn_tail.is_none());
        assert_eq!(rec.entries, expect);
        assert_eq!(rec.last_term, 4);
        assert_eq!(log.last_index(), expect.len() as u64);
    });
}

#[test]
fn compaction_removes_old_segments_and_reopens() {
    let tmp = TempDir::new("compact");
    run(async {
        let (mut log, _) = RaftLog::open(tmp.path(), small_segments()).await.unwrap();
        for lo in (1..=500).step_by(20) {
            log.append(&entries(lo, lo + 19, 1, 200)).await.unwrap();
        }
        let files = segment_files(tmp.path());
        assert!(files.len() >= 5);
        let firsts: Vec<u64> = files
            .iter()
            .map(|p| p.file_stem().unwrap().to_str().unwrap().parse().unwrap())
            .collect();
        // Up to one entry before the 4th segment: the first three go, nothing else.
        assert_eq!(log.compact(firsts[3] - 1).await.unwrap(), 3);
        assert_eq!(log.first_index(), firsts[3]);
        assert_eq!(segment_files(tmp.path()), files[3..].to_vec());
        // An `upto` inside a segment does not remove that segment.
        assert_eq!(log.compact(firsts[4] - 2).await.unwrap(), 0);
        assert!(log.entries(firsts[3] - 1, firsts[3] + 1).await.is_err());
        log.close().await.unwrap();

        let (mut log, rec) = RaftLog::open(tmp.path(), small_segments()).await.unwrap();
        assert_eq!(rec.first_index, firsts[3]);
        assert_eq!(rec.last_index, 500);
        assert_eq!(rec.entries, entries(firsts[3], 500, 1, 200));
        // Compacting past the end keeps the active segment.
        log.compact(u64::MAX).await.unwrap();
        assert_eq!(log.segment_count(), 1);
        assert_eq!(log.last_index(), 500);
        log.append(&entries(501, 510, 2, 10)).await.unwrap();
        log.close().await.unwrap();
        let (_log, rec) = RaftLog::open(tmp.path(), small_segments()).await.unwrap();
        assert_eq!(rec.last_index, 510);
        assert_eq!(rec.first_index, *firsts.last().unwrap());
    });
}

#[test]
fn reset_starts_an_empty_log_at_a_new_index() {
    let tmp = TempDir::new("reset");
    run(async {
        let (mut log, _) = RaftLog::open(tmp.path(), small_segments()).await.unwrap();
        log.append(&entries(1, 300, 1, 100)).await.unwrap();
        log.reset(1001).await.unwrap();
        assert_eq!(
            (log.first_index(), log.last_index(), log.last_term()),
            (1001, 1000, 0)
        );
        assert_eq!(segment_files(tmp.path()).len(), 1);
        log.append(&entries(1001, 1010, 3, 10)).await.unwrap();
        log.close().await.unwrap();
        let (_log, rec) = RaftLog::open(tmp.path(), small_segments()).await.unwrap();
        assert_eq!(rec.entries, entries(1001, 1010, 3, 10));
        assert_eq!(rec.first_index, 1001);
    });
}

#[test]
fn follower_writes_the_leaders_bytes_unchanged() {
    let leader_dir = TempDir::new("leader");
    let follower_dir = TempDir::new("follower");
    run(async {
        let (mut leader, _) = RaftLog::open(leader_dir.path(), small_segments())
            .await
            .unwrap();
        let (mut follower, _) = RaftLog::open(follower_dir.path(), small_segments())
            .await
            .unwrap();
        for lo in (1..=300).step_by(15) {
            let batch = entries(lo, lo + 14, 1, 120);
            leader.append(&batch).await.unwrap();
            let shipped = leader.read_frames(lo, lo + 15, usize::MAX).await.unwrap();
            assert_eq!(&shipped.bytes[..], &encode_frames(&batch).unwrap()[..]);
            // A network buffer is not aligned: verify and write from an odd address.
            let mut wire = vec![0u8; shipped.bytes.len() + 1];
            wire[1..].copy_from_slice(&shipped.bytes);
            follower
                .append_frames(&wire[1..], shipped.first, shipped.last)
                .await
                .unwrap();
        }
        assert_eq!(
            segment_files(leader_dir.path()).len(),
            segment_files(follower_dir.path()).len()
        );
        for (a, b) in segment_files(leader_dir.path())
            .iter()
            .zip(segment_files(follower_dir.path()).iter())
        {
            assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
        }
        // Mismatched claims and damaged bytes are refused without writing anything.
        let mut bytes = encode_frames(&entries(301, 302, 1, 10)).unwrap();
        assert!(follower.append_frames(&bytes, 301, 303).await.is_err());
        assert!(follower.append_frames(&bytes, 300, 302).await.is_err());
        bytes[20] ^= 1;
        assert!(follower.append_frames(&bytes, 301, 302).await.is_err());
        assert_eq!(follower.last_index(), 300);
        follower.append_frames(&[], 301, 300).await.unwrap();
    });
}

/// Prints (never asserts) the cost of one durable append: one write + one fdatasync.
#[test]
fn measure_append_latency() {
    let tmp = TempDir::new("latency");
    run(async {
        let (mut log, _) = RaftLog::open(tmp.path(), LogOptions::default())
            .await
            .unwrap();
        let mut next = 1u64;
        for batch in [1u64, 64] {
            let rounds = 100u32;
            let start = std::time::Instant::now();
            for _ in 0..rounds {
                log.append(&entries(next, next + batch - 1, 1, 100))
                    .await
                    .unwrap();
                next += batch;
            }
            let per = start.elapsed() / rounds;
            println!(
                "append batch of {batch:>2} x 100-byte entries: {per:?} per batch ({:?} per entry)",
                per / batch as u32
            );
        }
        let rounds = 50u32;
        let start = std::time::Instant::now();
        for t in 0..rounds {
            let hs = ballast_raft::HardState {
                term: t as u64 + 1,
                vote: 1,
                commit: 0,
            };
            ballast_storage::save_hard_state(tmp.path(), &hs)
                .await
                .unwrap();
        }
        println!(
            "save_hard_state (tmp write + fdatasync + rename + dir fsync): {:?} per save",
            start.elapsed() / rounds
        );
    });
}
