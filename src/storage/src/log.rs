//! The durable Raft log: segment files on glommio DMA files, group commit (one write and
//! one fdatasync per batch), suffix truncation, compaction, read-back.
//!
//! Must be used from inside a glommio executor (the control shard). Every operation
//! after `open` goes through io_uring; nothing blocks the thread.
use std::path::{Path, PathBuf};
use std::rc::Rc;

use ballast_raft::Entry;
use glommio::io::{Directory, DmaFile};
use rkyv::util::AlignedVec;

use crate::dma;
use crate::frame::{encode_frames_with_info, entry_at, verify_frames, FrameInfo, FRAME_ALIGN};
use crate::prepare::Preparer;
use crate::recovery::{scan_log, Recovered};
use crate::segment::{segment_path, Segment};
use crate::StorageError;

pub const DEFAULT_SEGMENT_BYTES: u64 = 64 << 20;

#[derive(Clone, Debug)]
pub struct LogOptions {
    /// A batch that would take the active segment past this size starts a new segment
    /// (the whole batch goes there, so a batch is always one write).
    pub segment_bytes: u64,
    /// Zero-fill segment space ahead of the appends on a background task of the same
    /// executor, so an append overwrites already written blocks and its fdatasync
    /// journals no size or extent change (an extending write+fdatasync measured ~100 us,
    /// an overwrite ~70 us). Costs one segment of disk ahead (`next.seg.tmp`, plus the
    /// active segment filled to `segment_bytes`) and writes every log byte twice.
    /// See `prepare.rs`. Off by default: for small entries (36-byte KV writes) it measured
    /// no gain, and under heavy large-entry writes the zero-filling raised append p99
    /// (examples/append_latency). Turn on where large batches dominate, after measuring.
    pub preallocate: bool,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            preallocate: false,
        }
    }
}

/// Raw frames read back from the log, ready to ship to a follower.
#[derive(Debug)]
pub struct FrameBatch {
    /// Concatenated frames, 16-aligned in memory.
    pub bytes: AlignedVec<FRAME_ALIGN>,
    pub first: u64,
    /// `first - 1` when the batch is empty.
    pub last: u64,
}

pub struct RaftLog {
    log_dir: PathBuf,
    dir_handle: Directory,
    opts: LogOptions,
    /// Never empty; the last one is the active segment.
    segments: Vec<Segment>,
    /// The active segment's bytes from the last block boundary up to `end`: O_DIRECT
    /// writes whole blocks, so each append rewrites this partial block with new frames.
    tail: Vec<u8>,
    block: u64,
    /// Set when a write or fdatasync failed: what is on disk is no longer known.
    poisoned: bool,
    /// Zero-fills ahead of the appends (`LogOptions::preallocate`).
    prep: Option<Preparer>,
}

impl RaftLog {
    /// Opens (or creates) the log in `<dir>/log`, recovering what is there.
    /// A torn tail of the last segment is truncated and reported in `Recovered`;
    /// any other damage is `StorageError::Corrupt` naming the file and offset.
    pub async fn open(
        dir: impl AsRef<Path>,
        opts: LogOptions,
    ) -> Result<(RaftLog, Recovered), StorageError> {
        if opts.segment_bytes == 0 {
            return Err(StorageError::InvalidArgument(
                "segment_bytes must be above 0".into(),
            ));
        }
        let log_dir = dir.as_ref().join("log");
        // Startup only: create parents with a plain blocking call.
        std::fs::create_dir_all(&log_dir)
            .map_err(|e| StorageError::io("creating directory", &log_dir, e))?;
        dma::prime_dma(&log_dir).await?;
        let dir_handle = Directory::open(&log_dir)
            .await
            .map_err(|e| StorageError::io("opening directory", &log_dir, e))?;
        let scanned = scan_log(&log_dir).await?;
        // Whether or not we preallocate now, a half-prepared next segment is only zeros.
        Preparer::remove_leftover(&log_dir)?;
        let mut log = RaftLog {
            log_dir,
            dir_handle,
            opts,
            segments: scanned.segments,
            tail: scanned.tail,
            block: dma::MIN_BLOCK,
            poisoned: false,
            prep: None,
        };
        if log.segments.is_empty() {
            log.create_segment(1).await?;
            log.sync_dir().await?;
        }
        log.block = dma::block_size(&log.active().file);
        if log.opts.preallocate {
            let seg = log.active();
            let size = dma::file_size(&seg.file, &seg.path).await?;
            log.prep = Some(Preparer::start(
                &log.log_dir,
                log.block,
                log.opts.segment_bytes,
                (seg.file.clone(), seg.path.clone()),
                size,
                seg.end,
            ));
        }
        let recovered = Recovered {
            entries: scanned.entries,
            first_index: log.first_index(),
            last_index: log.last_index(),
            last_term: log.last_term(),
            torn_tail: scanned.torn_tail,
        };
        Ok((log, recovered))
    }

    /// Index of the first entry held (the next index to write when the log is empty).
    pub fn first_index(&self) -> u64 {
        // No segment only after a failed `reset` (then the log is poisoned).
        self.segments.first().map_or(1, |s| s.first_index)
    }

    /// Index of the last entry; `first_index() - 1` when the log is empty.
    pub fn last_index(&self) -> u64 {
        self.segments.last().map_or(0, |s| s.last_index())
    }

    /// Term of the last entry; 0 when the log is empty.
    pub fn last_term(&self) -> u64 {
        self.term(self.last_index()).unwrap_or(0)
    }

    /// Term of entry `index` if the log holds it.
    pub fn term(&self, index: u64) -> Option<u64> {
        self.segment_for(index)
            .and_then(|s| self.segments[s].term(index))
    }

    /// Number of segment files (for metrics and tests).
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    pub fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    /// Does the pending zero-filling of segment space now, in the caller, instead of
    /// waiting for the background task (tests and benchmarks use it to reach the steady
    /// state). A no-op without `LogOptions::preallocate`.
    pub async fn prepare_ahead(&self) -> Result<(), StorageError> {
        match &self.prep {
            Some(p) => p.catch_up().await,
            None => Ok(()),
        }
    }

    /// Appends `entries` (consecutive indexes) durably: one write (plus a segment roll
    /// when the active segment is full) and one fdatasync; returns after both.
    /// If `entries[0].index <= last_index()`, the conflicting suffix is removed first.
    pub async fn append(&mut self, entries: &[Entry]) -> Result<(), StorageError> {
        if entries.is_empty() {
            return Ok(());
        }
        for pair in entries.windows(2) {
            if pair[1].index != pair[0].index.wrapping_add(1) {
                return Err(StorageError::InvalidArgument(format!(
                    "entries not consecutive: {} then {}",
                    pair[0].index, pair[1].index
                )));
            }
        }
        let (bytes, infos) = encode_frames_with_info(entries)?;
        self.append_encoded(&bytes, &infos).await
    }

    /// Appends pre-encoded frames (as produced by `encode_frames` or shipped by the
    /// leader) after verifying them: CRC, archive, consecutive indexes `first..=last`.
    /// The bytes are written as they are, without re-encoding.
    pub async fn append_frames(
        &mut self,
        frames: &[u8],
        first: u64,
        last: u64,
    ) -> Result<(), StorageError> {
        let infos = verify_frames(frames)
            .map_err(|e| StorageError::InvalidArgument(format!("received frames: {e}")))?;
        let (got_first, got_last) = match (infos.first(), infos.last()) {
            (Some(a), Some(b)) => (a.index, b.index),
            _ if last < first => return Ok(()),
            _ => (0, 0),
        };
        if infos.is_empty() || got_first != first || got_last != last {
            return Err(StorageError::InvalidArgument(format!(
                "frames hold indexes {got_first}..={got_last} ({} frames), caller said {first}..={last}",
                infos.len()
            )));
        }
        self.append_encoded(frames, &infos).await
    }

    async fn append_encoded(
        &mut self,
        bytes: &[u8],
        infos: &[FrameInfo],
    ) -> Result<(), StorageError> {
        if self.poisoned {
            return Err(StorageError::Poisoned);
        }
        let Some(first) = infos.first().map(|i| i.index) else {
            return Ok(());
        };
        if first < self.first_index() {
            return Err(StorageError::InvalidArgument(format!(
                "cannot write index {first}: the log starts at {}",
                self.first_index()
            )));
        }
        if first <= self.last_index() {
            self.truncate_suffix(first).await?;
        } else if first != self.last_index() + 1 {
            return Err(StorageError::InvalidArgument(format!(
                "index gap: log ends at {}, batch starts at {first}",
                self.last_index()
            )));
        }
        let mut new_segment = false;
        let active_end = self.active().end;
        // A batch never splits across segments: it goes whole into a fresh segment when
        // it would overflow this one, so it stays one write.
        if active_end > 0 && active_end + bytes.len() as u64 > self.opts.segment_bytes {
            let gate = match &self.prep {
                Some(p) => Some(p.lock().await?),
                None => None,
            };
            self.create_segment(first).await?;
            drop(gate);
            new_segment = true;
        }
        self.write_tail(bytes, infos).await?;
        if new_segment {
            // The new file's directory entry must be durable before we acknowledge.
            self.sync_dir().await?;
        }
        Ok(())
    }

    /// Writes `tail + bytes` (zero padded to whole blocks) at the active segment's last
    /// block boundary, then fdatasyncs.
    async fn write_tail(&mut self, bytes: &[u8], infos: &[FrameInfo]) -> Result<(), StorageError> {
        let block = self.block;
        let seg = self
            .segments
            .last()
            .expect("log always has an active segment");
        let block_start = seg.end / block * block;
        let new_end = seg.end + bytes.len() as u64;
        let padded = (new_end - block_start).div_ceil(block) * block;
        let mut data = Vec::with_capacity(padded as usize);
        data.extend_from_slice(&self.tail);
        data.extend_from_slice(bytes);
        data.resize(padded as usize, 0);
        let write_end = block_start + padded;
        // Past the zero-filled blocks the preparer may be writing: keep it out meanwhile.
        let gate = match &self.prep {
            Some(p) if !p.is_written(write_end) => Some(p.lock().await?),
            _ => None,
        };
        let written = dma::write_all_at(&seg.file, &seg.path, &data, block_start).await;
        let synced = match written {
            Ok(()) => dma::fdatasync(&seg.file, &seg.path).await,
            Err(e) => Err(e),
        };
        if let Err(e) = synced {
            self.poisoned = true;
            return Err(e);
        }
        let seg = self
            .segments
            .last_mut()
            .expect("log always has an active segment");
        for info in infos {
            seg.offsets.push(seg.end + info.offset as u64);
            seg.terms.push(info.term);
        }
        seg.end = new_end;
        if let Some(p) = &self.prep {
            p.note_append(write_end, new_end);
        }
        drop(gate);
        let new_tail_start = (new_end / block * block - block_start) as usize;
        self.tail = data[new_tail_start..(new_end - block_start) as usize].to_vec();
        Ok(())
    }

    /// Removes entries `from..` durably (followers' conflict resolution; `append` calls it).
    pub async fn truncate_suffix(&mut self, from: u64) -> Result<(), StorageError> {
        if self.poisoned {
            return Err(StorageError::Poisoned);
        }
        if from > self.last_index() {
            return Ok(());
        }
        if from < self.first_index() {
            return Err(StorageError::InvalidArgument(format!(
                "cannot truncate from {from}: the log starts at {}",
                self.first_index()
            )));
        }
        // No zero chunk may land while the active file changes or shrinks.
        let _gate = match &self.prep {
            Some(p) => Some(p.lock().await?),
            None => None,
        };
        // Newest first, each removal durable before the next, so a crash never leaves
        // a gap in the middle of the log.
        while self.segments.len() > 1 && self.active().first_index > from {
            let seg = self.segments.pop().expect("checked len");
            self.remove_segment_file(seg).await?;
        }
        let block = self.block;
        let seg = self
            .segments
            .last_mut()
            .expect("log always has an active segment");
        let keep = (from - seg.first_index) as usize;
        let new_end = seg.offsets[keep];
        // Truncate (and make it durable) before new frames are written: otherwise a crash
        // could keep the new frames with stale old ones after them. Cutting the file (not
        // zeroing the first removed header) matters with preallocation too: removed
        // frames left behind a zero gap would make the next recovery refuse to start.
        let truncated = match seg.file.truncate(new_end).await {
            Ok(()) => dma::fdatasync(&seg.file, &seg.path).await,
            Err(e) => Err(StorageError::io("truncating", &seg.path, e)),
        };
        if let Err(e) = truncated {
            self.poisoned = true;
            return Err(e);
        }
        seg.offsets.truncate(keep);
        seg.terms.truncate(keep);
        seg.end = new_end;
        if let Some(p) = &self.prep {
            p.set_active(seg.file.clone(), seg.path.clone(), new_end, new_end);
        }
        let block_start = new_end / block * block;
        // The partial block the next append rewrites; without it the log cannot go on.
        let want = (new_end - block_start) as usize;
        let tail = match dma::read_range(&seg.file, &seg.path, block_start, want).await {
            Ok(t) if t.len() == want => t,
            Ok(_) => {
                self.poisoned = true;
                return Err(StorageError::corrupt(
                    &seg.path,
                    block_start,
                    "segment shorter than its frames after truncation",
                ));
            }
            Err(e) => {
                self.poisoned = true;
                return Err(e);
            }
        };
        self.tail = tail.to_vec();
        Ok(())
    }

    /// Deletes whole segments whose entries are all `<= upto`, oldest first; the active
    /// segment is always kept. Returns how many segment files were removed.
    pub async fn compact(&mut self, upto: u64) -> Result<usize, StorageError> {
        if self.poisoned {
            return Err(StorageError::Poisoned);
        }
        let mut removed = 0;
        while self.segments.len() > 1 && self.segments[0].last_index() <= upto {
            let seg = self.segments.remove(0);
            self.remove_segment_file(seg).await?;
            removed += 1;
        }
        Ok(removed)
    }

    /// Drops the whole log and starts it again empty at `next_index` (after a follower
    /// installs a snapshot that covers everything it had). If a crash interrupts this,
    /// recovery finds a shorter log or an empty one; the snapshot covers both.
    pub async fn reset(&mut self, next_index: u64) -> Result<(), StorageError> {
        if self.poisoned {
            return Err(StorageError::Poisoned);
        }
        if next_index == 0 {
            return Err(StorageError::InvalidArgument(
                "log indexes start at 1".into(),
            ));
        }
        let _gate = match &self.prep {
            Some(p) => Some(p.lock().await?),
            None => None,
        };
        while let Some(seg) = self.segments.pop() {
            if let Err(e) = self.remove_segment_file(seg).await {
                self.poisoned = true;
                return Err(e);
            }
        }
        if let Err(e) = self.create_segment(next_index).await {
            self.poisoned = true;
            return Err(e);
        }
        self.sync_dir().await
    }

    /// Entries `lo..hi` (half-open), read back from disk and verified.
    pub async fn entries(&self, lo: u64, hi: u64) -> Result<Vec<Entry>, StorageError> {
        self.check_range(lo, hi)?;
        let mut out = Vec::with_capacity((hi - lo) as usize);
        let mut scratch = AlignedVec::new();
        for (seg, a, b) in self.pieces(lo, hi) {
            let (bytes, base) = self.read_verified(seg, a, b).await?;
            let infos = verify_frames(&bytes).map_err(|e| {
                StorageError::corrupt(&seg.path, base + e.offset as u64, e.kind.to_string())
            })?;
            for info in &infos {
                out.push(entry_at(&bytes, info, &mut scratch).map_err(|e| {
                    StorageError::corrupt(&seg.path, base + e.offset as u64, e.kind.to_string())
                })?);
            }
        }
        Ok(out)
    }

    /// The frames of entries `lo..hi` (half-open) exactly as written, verified, stopping
    /// before the frame that would take the batch past `max_bytes` (at least one frame
    /// is returned when `lo < hi`).
    pub async fn read_frames(
        &self,
        lo: u64,
        hi: u64,
        max_bytes: usize,
    ) -> Result<FrameBatch, StorageError> {
        self.check_range(lo, hi)?;
        let hi = self.clip_to_bytes(lo, hi, max_bytes);
        let mut bytes = AlignedVec::<FRAME_ALIGN>::new();
        for (seg, a, b) in self.pieces(lo, hi) {
            let (piece, base) = self.read_verified(seg, a, b).await?;
            verify_frames(&piece).map_err(|e| {
                StorageError::corrupt(&seg.path, base + e.offset as u64, e.kind.to_string())
            })?;
            bytes.extend_from_slice(&piece);
        }
        Ok(FrameBatch {
            bytes,
            first: lo,
            last: hi - 1,
        })
    }

    /// Stops the background preparation and closes every file.
    pub async fn close(mut self) -> Result<(), StorageError> {
        if let Some(p) = self.prep.take() {
            p.stop().await;
        }
        for seg in self.segments {
            seg.file
                .close_rc()
                .await
                .map_err(|e| StorageError::io("closing", &seg.path, e))?;
        }
        self.dir_handle
            .close()
            .await
            .map_err(|e| StorageError::io("closing directory", &self.log_dir, e))
    }

    /// Only called where the log is not poisoned, which guarantees a segment.
    fn active(&self) -> &Segment {
        self.segments
            .last()
            .expect("log always has an active segment")
    }

    fn segment_for(&self, index: u64) -> Option<usize> {
        let i = self.segments.partition_point(|s| s.first_index <= index);
        i.checked_sub(1)
            .filter(|&i| self.segments[i].contains(index))
    }

    fn check_range(&self, lo: u64, hi: u64) -> Result<(), StorageError> {
        if lo > hi || lo < self.first_index() || hi > self.last_index() + 1 {
            return Err(StorageError::InvalidArgument(format!(
                "range {lo}..{hi} is outside the log ({}..={})",
                self.first_index(),
                self.last_index()
            )));
        }
        Ok(())
    }

    /// `(segment, lo, hi)` pieces of `lo..hi`, one per segment touched.
    fn pieces(&self, lo: u64, hi: u64) -> Vec<(&Segment, u64, u64)> {
        let mut out = Vec::new();
        let mut at = lo;
        while at < hi {
            let Some(i) = self.segment_for(at) else { break };
            let seg = &self.segments[i];
            let end = hi.min(seg.last_index() + 1);
            out.push((seg, at, end));
            at = end;
        }
        out
    }

    /// Largest `h <= hi` such that frames `lo..h` fit in `max_bytes` (at least `lo + 1`).
    fn clip_to_bytes(&self, lo: u64, hi: u64, max_bytes: usize) -> u64 {
        let mut total = 0u64;
        let mut at = lo;
        while at < hi {
            let Some(i) = self.segment_for(at) else { break };
            let (a, b) = self.segments[i].byte_range(at, at + 1);
            total += b - a;
            if total > max_bytes as u64 && at > lo {
                return at;
            }
            at += 1;
        }
        hi
    }

    /// Reads entries `a..b` of `seg`; returns the bytes and their file offset.
    async fn read_verified(
        &self,
        seg: &Segment,
        a: u64,
        b: u64,
    ) -> Result<(AlignedVec<FRAME_ALIGN>, u64), StorageError> {
        let (start, end) = seg.byte_range(a, b);
        let bytes = dma::read_range(&seg.file, &seg.path, start, (end - start) as usize).await?;
        if bytes.len() as u64 != end - start {
            return Err(StorageError::corrupt(
                &seg.path,
                start + bytes.len() as u64,
                "segment file is shorter than the frames recorded in it",
            ));
        }
        Ok((bytes, start))
    }

    /// Starts segment `first_index`: the prepared `next.seg.tmp` renamed, or a new empty
    /// file. With preallocation the caller holds the gate. The caller syncs the directory.
    async fn create_segment(&mut self, first_index: u64) -> Result<(), StorageError> {
        let path = segment_path(&self.log_dir, first_index);
        let prepared = self.prep.as_ref().and_then(|p| p.take_next());
        let (file, size) = match prepared {
            // Only zeros in it: a crash after the rename leaves an empty last segment.
            Some((file, tmp, size)) => {
                file.rename(&path)
                    .await
                    .map_err(|e| StorageError::io("renaming", &tmp, e))?;
                (file, size)
            }
            None => (Rc::new(create_new(&path).await?), 0),
        };
        if let Some(p) = &self.prep {
            p.set_active(file.clone(), path.clone(), size, 0);
        }
        self.segments.push(Segment {
            first_index,
            path,
            file,
            offsets: Vec::new(),
            terms: Vec::new(),
            end: 0,
        });
        self.tail.clear();
        Ok(())
    }

    async fn remove_segment_file(&mut self, seg: Segment) -> Result<(), StorageError> {
        let removed = seg
            .file
            .remove()
            .await
            .map_err(|e| StorageError::io("removing", &seg.path, e));
        // Close even when removal failed; the fd is useless either way.
        // The preparer may still hold the file for a moment; the last holder closes it.
        let closed = seg
            .file
            .close_rc()
            .await
            .map(drop)
            .map_err(|e| StorageError::io("closing", &seg.path, e));
        let synced = match removed.and(closed) {
            Ok(()) => self.sync_dir().await,
            Err(e) => Err(e),
        };
        if synced.is_err() {
            // The in-memory view no longer matches the directory.
            self.poisoned = true;
        }
        synced
    }

    async fn sync_dir(&mut self) -> Result<(), StorageError> {
        let r = dma::sync_dir_handle(&self.dir_handle, &self.log_dir).await;
        if r.is_err() {
            self.poisoned = true;
        }
        r
    }
}

async fn create_new(path: &Path) -> Result<DmaFile, StorageError> {
    glommio::io::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .dma_open(path)
        .await
        .map_err(|e| StorageError::io("creating", path, e))
}
