//! Shared test helpers: a temp directory removed on drop, and a glommio executor on the
//! test's own thread (a fresh thread per test, like a fresh shard).
#![allow(dead_code)]
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use ballast_raft::{Entry, EntryKind};
use glommio::{LocalExecutorBuilder, Placement};

pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let p = PathBuf::from(format!(
            "/tmp/ballast-storage-test-{name}-{}-{}-{nanos}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `fut` on a glommio executor on this thread.
pub fn run<T>(fut: impl Future<Output = T>) -> T {
    ballast_storage::raise_memlock_limit().expect("raise RLIMIT_MEMLOCK");
    let ex = LocalExecutorBuilder::new(Placement::Unbound)
        .io_memory(1 << 20)
        .make()
        .expect("glommio executor");
    ex.run(fut)
}

pub fn entry(index: u64, term: u64, len: usize) -> Entry {
    Entry {
        term,
        index,
        kind: if index.is_multiple_of(7) {
            EntryKind::Noop
        } else {
            EntryKind::Normal
        },
        data: (0..len)
            .map(|i| (i as u64 ^ index.wrapping_mul(31)) as u8)
            .collect(),
    }
}

pub fn entries(lo: u64, hi_inclusive: u64, term: u64, len: usize) -> Vec<Entry> {
    (lo..=hi_inclusive).map(|i| entry(i, term, len)).collect()
}

/// Segment files in `<dir>/log`, sorted.
pub fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir.join("log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .collect();
    v.sort();
    v
}

/// Frames of a segment file as recovery sees them (offsets, indexes).
pub fn frames_of(path: &Path) -> Vec<ballast_storage::FrameInfo> {
    let bytes = std::fs::read(path).unwrap();
    let mut aligned = rkyv::util::AlignedVec::<16>::new();
    aligned.extend_from_slice(&bytes);
    let first: u64 = path.file_stem().unwrap().to_str().unwrap().parse().unwrap();
    ballast_storage::inspect::scan_segment(&aligned, first).frames
}

/// Overwrites bytes of a file in place (test-side corruption, plain std I/O).
pub fn patch(path: &Path, offset: u64, bytes: &[u8]) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.write_all(bytes).unwrap();
    f.sync_all().unwrap();
}

pub fn flip(path: &Path, offset: u64) {
    let b = std::fs::read(path).unwrap()[offset as usize];
    patch(path, offset, &[b ^ 0x5a]);
}
