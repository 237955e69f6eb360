//! Latency of a durable single-entry append (36-byte value by default), with and without segment
//! preallocation, in one run; then the raw cost of write+fdatasync on a file that is
//! extended, fallocated, or already zero-written and synced.
//!
//! `cargo run --release -p ballast-storage --example append_latency -- [N] [DIR] [VALUE_BYTES]`
//! N defaults to 20000, DIR to /tmp (use the filesystem the log will live on),
//! VALUE_BYTES to 36. On a machine busy with other work, run it under `chrt -f 10`:
//! otherwise waits for a CPU (this thread's, or the jbd2 thread's) dominate the tail.
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ballast_raft::{Entry, EntryKind};
use ballast_storage::{LogOptions, RaftLog};
use glommio::io::{DmaFile, OpenOptions};
use glommio::{LocalExecutorBuilder, Placement};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(label: &str, mut lat: Vec<Duration>) {
    lat.sort();
    let mean = lat.iter().sum::<Duration>() / lat.len() as u32;
    // Slow outliers as a share: on a loaded machine they are mostly waits for a CPU
    // (the jbd2 commit thread, or this thread), which an extending write adds to.
    let slow = lat
        .iter()
        .filter(|d| **d > Duration::from_millis(1))
        .count();
    println!(
        "{label:<36} n={:<6} p50={:>6.1}us p90={:>6.1}us p99={:>6.1}us p99.9={:>7.1}us mean={:>6.1}us >1ms={:.2}%",
        lat.len(),
        percentile(&lat, 0.50).as_secs_f64() * 1e6,
        percentile(&lat, 0.90).as_secs_f64() * 1e6,
        percentile(&lat, 0.99).as_secs_f64() * 1e6,
        percentile(&lat, 0.999).as_secs_f64() * 1e6,
        mean.as_secs_f64() * 1e6,
        slow as f64 * 100.0 / lat.len() as f64,
    );
}

async fn log_run(
    dir: &Path,
    n: u64,
    value_len: usize,
    segment_bytes: u64,
    preallocate: bool,
) -> Vec<Duration> {
    let _ = std::fs::remove_dir_all(dir);
    let opts = LogOptions {
        segment_bytes,
        preallocate,
    };
    let (mut log, _) = RaftLog::open(dir, opts).await.expect("open log");
    // Steady state: what a long-running server sees between rolls.
    log.prepare_ahead().await.expect("prepare");
    let mut lat = Vec::with_capacity(n as usize);
    for index in 1..=n {
        let entry = Entry {
            term: 1,
            index,
            kind: EntryKind::Normal,
            data: vec![0x5a; value_len],
        };
        let t = Instant::now();
        log.append(std::slice::from_ref(&entry))
            .await
            .expect("append");
        lat.push(t.elapsed());
    }
    log.close().await.expect("close");
    let _ = std::fs::remove_dir_all(dir);
    lat
}

#[derive(Clone, Copy, Debug)]
enum Raw {
    /// Every write lands past the end of the file.
    Extend,
    /// `fallocate` first: blocks allocated but "unwritten".
    Fallocated,
    /// Zeros written and fdatasynced first.
    ZeroWritten,
}

/// `n` 4 KiB writes, each to a new block, each followed by fdatasync.
async fn raw_run(path: &Path, n: usize, mode: Raw) -> Vec<Duration> {
    let _ = std::fs::remove_file(path);
    let file: DmaFile = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .dma_open(path)
        .await
        .expect("create");
    let total = n * 4096;
    match mode {
        Raw::Extend => {}
        Raw::Fallocated => file
            .pre_allocate(total as u64, false)
            .await
            .expect("fallocate"),
        Raw::ZeroWritten => {
            let mut at = 0;
            while at < total {
                let len = (total - at).min(1 << 20);
                let mut z = file.alloc_dma_buffer(len);
                z.as_bytes_mut().fill(0);
                file.write_at(z, at as u64).await.expect("zero");
                at += len;
            }
        }
    }
    file.fdatasync().await.expect("sync");
    let mut lat = Vec::with_capacity(n);
    for i in 0..n {
        let mut b = file.alloc_dma_buffer(4096);
        b.as_bytes_mut().fill(0xa5);
        let t = Instant::now();
        file.write_at(b, (i * 4096) as u64).await.expect("write");
        file.fdatasync().await.expect("fdatasync");
        lat.push(t.elapsed());
    }
    file.close().await.expect("close");
    let _ = std::fs::remove_file(path);
    lat
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().map_or(20_000, |a| a.parse().expect("N"));
    let dir = args.next().unwrap_or_else(|| "/tmp".into());
    let value_len: usize = args.next().map_or(36, |a| a.parse().expect("VALUE_BYTES"));
    let base = PathBuf::from(dir).join(format!("ballast-append-latency-{}", std::process::id()));
    ballast_storage::raise_memlock_limit().expect("memlock");
    let ex = LocalExecutorBuilder::new(Placement::Unbound)
        .make()
        .expect("executor");
    ex.run(async move {
        println!(
            "dir {} ; {n} single-entry appends ({value_len}-byte value) per run",
            base.display()
        );
        // 64 MiB (the default): every append lands in the segment that was active at
        // open, zero-filled 4 MiB ahead of the data in place. 1 MiB: rolls happen (about
        // every 9,000 appends), into segments prepared whole as next.seg.tmp.
        for segment_bytes in [64u64 << 20, 1 << 20] {
            // Alternate, so drift in the machine's load hits both sides alike.
            let (mut off, mut on) = (Vec::new(), Vec::new());
            for round in 0..2 {
                let dir = base.join(format!("r{round}"));
                off.extend(log_run(&dir, n / 2, value_len, segment_bytes, false).await);
                on.extend(log_run(&dir, n / 2, value_len, segment_bytes, true).await);
            }
            let mib = segment_bytes >> 20;
            report(&format!("{mib:>2} MiB segments, preallocate=false"), off);
            report(&format!("{mib:>2} MiB segments, preallocate=true"), on);
        }

        // The log opened above primed glommio's DMA probe on this thread.
        std::fs::create_dir_all(&base).expect("dir");
        let raw_n = (n as usize / 4).max(100);
        for mode in [Raw::Extend, Raw::Fallocated, Raw::ZeroWritten] {
            let lat = raw_run(&base.join("raw.bin"), raw_n, mode).await;
            report(&format!("raw 4KiB write+fdatasync {mode:?}"), lat);
        }
        let _ = std::fs::remove_dir_all(&base);
    });
}
