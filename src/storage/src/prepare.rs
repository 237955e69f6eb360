//! Zero-filling segment space ahead of the appends, so that the steady-state append
//! overwrites blocks that were already written and synced.
//!
//! Why: an fdatasync after a write that extends a file also journals the new size and
//! extents (measured ~2x slower than after an overwrite). `fallocate` does not help:
//! it leaves "unwritten" extents whose conversion at fdatasync is again a metadata
//! change. Only blocks really written (with zeros) and synced beforehand are cheap.
//!
//! What: a glommio task on the log's own executor writes zeros in `CHUNK` pieces
//! 1. into the active segment, up to `AHEAD` bytes past the end of its data (never past
//!    the segment size), syncing each chunk at once (until it is synced, an append's
//!    fdatasync would have to commit the chunk's size change), then
//! 2. into `next.seg.tmp`, the next segment's file, up to the whole segment size, synced
//!    once at the end; a roll renames it to `<first_index>.seg` instead of creating an
//!    empty file. So after the first roll the active segment is already fully written
//!    and step 1 has nothing to do: no size change ever lands between appends. Step 1
//!    only serves the segment that was active at open (or a roll that came too early).
//!
//! Extra disk used: one segment ahead. The active segment is filled up to
//! `segment_bytes` (so a closed segment is never larger than `segment_bytes` unless its
//! own data is), and `next.seg.tmp` takes up to `segment_bytes` more.
//!
//! Safety: only zeros are ever written here, and only at or past `written`, which is
//! always at or past the block holding the end of the active segment's data. Recovery
//! reads zeros after the last frame as the end of data, so a crash mid-chunk leaves
//! nothing to repair; a leftover `next.seg.tmp` is not a segment name and is deleted at
//! open. Everything that writes past `written`, or that switches or truncates the
//! active file, holds the single `gate` permit, so a zero chunk never lands on data.
use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use glommio::channels::local_channel::{self, LocalReceiver, LocalSender};
use glommio::io::DmaFile;
use glommio::sync::{Semaphore, StaticPermit};
use glommio::Task;

use crate::dma;
use crate::StorageError;

/// Name of the next segment's file while it is being prepared.
pub(crate) const NEXT_SEGMENT_TMP: &str = "next.seg.tmp";
/// One zero write of the preparer. Small, so an append queued behind it on the device
/// waits little (256 KiB chunks measured a worse p99 for 4 KiB appends).
const CHUNK: u64 = 64 << 10;
/// How far ahead of its data the active segment is zero-filled.
const AHEAD: u64 = 4 << 20;

/// A file being zero-filled.
struct Target {
    file: Rc<DmaFile>,
    path: PathBuf,
    /// Block aligned; every block below this has been written (data or zeros), every
    /// block at or above is free for zero chunks.
    written: u64,
    /// Zero-fill stops here.
    cap: u64,
}

struct Shared {
    log_dir: PathBuf,
    block: u64,
    /// `segment_bytes` rounded up to a block: the active segment is never filled past it.
    segment_cap: u64,
    gate: Rc<Semaphore>,
    active: RefCell<Option<Target>>,
    /// End of the active segment's data, as last reported by the log.
    data_end: Cell<u64>,
    next: RefCell<Option<Target>>,
    /// Set on close, or after a failed zero write (then appends just extend files).
    stopped: Cell<bool>,
}

/// What one step of work is: zeros for `[at, at + len)` of `file`.
struct Work {
    file: Rc<DmaFile>,
    path: PathBuf,
    at: u64,
    len: u64,
    into_next: bool,
}

/// Handle owned by the log; dropping it (or `stop`) ends the task.
pub(crate) struct Preparer {
    shared: Rc<Shared>,
    kick: Option<LocalSender<()>>,
    task: Option<Task<()>>,
}

/// Exclusive right to write past `written` or to switch the active file.
pub(crate) struct Gate(#[allow(dead_code)] StaticPermit);

fn align_up(n: u64, block: u64) -> u64 {
    n.div_ceil(block) * block
}

impl Preparer {
    /// Deletes a `next.seg.tmp` left by a crash: it holds only zeros and was never a
    /// segment (a roll renames it before writing a frame into it). Startup only, so a
    /// plain blocking call.
    pub fn remove_leftover(log_dir: &Path) -> Result<(), StorageError> {
        let tmp = log_dir.join(NEXT_SEGMENT_TMP);
        match std::fs::remove_file(&tmp) {
            Ok(()) => {
                tracing::info!(file = %tmp.display(), "raft log: removed a half-prepared next segment");
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StorageError::io("removing", &tmp, e)),
        }
    }

    /// Starts preparing on the current executor. `file_size` and `data_end` describe
    /// the active segment as it is now.
    pub fn start(
        log_dir: &Path,
        block: u64,
        segment_bytes: u64,
        active: (Rc<DmaFile>, PathBuf),
        file_size: u64,
        data_end: u64,
    ) -> Preparer {
        let shared = Rc::new(Shared {
            log_dir: log_dir.to_path_buf(),
            block,
            segment_cap: align_up(segment_bytes, block),
            gate: Rc::new(Semaphore::new(1)),
            active: RefCell::new(None),
            data_end: Cell::new(data_end),
            next: RefCell::new(None),
            stopped: Cell::new(false),
        });
        let mut prep = Preparer {
            shared: shared.clone(),
            kick: None,
            task: None,
        };
        prep.set_active(active.0, active.1, file_size, data_end);
        let (tx, rx) = local_channel::new_bounded(1);
        prep.task = Some(glommio::spawn_local(run(shared, rx)));
        prep.kick = Some(tx);
        prep.kick();
        prep
    }

    /// Waits for any zero chunk in flight, then keeps zero chunks away until dropped.
    pub async fn lock(&self) -> Result<Gate, StorageError> {
        lock_gate(&self.shared).await.map(Gate)
    }

    /// True when `[.., end)` of the active segment is already written, so a write there
    /// is an overwrite that needs no `lock`.
    pub fn is_written(&self, end: u64) -> bool {
        self.shared
            .active
            .borrow()
            .as_ref()
            .is_some_and(|t| end <= t.written)
    }

    /// After a write to the active segment that ended at `write_end` (block aligned;
    /// the caller held the gate if it was past `written`) leaving data up to `data_end`.
    pub fn note_append(&self, write_end: u64, data_end: u64) {
        if let Some(t) = self.shared.active.borrow_mut().as_mut() {
            t.written = t.written.max(write_end);
        }
        self.shared.data_end.set(data_end);
        // Waking the task after every append costs a few microseconds for nothing.
        if self.shared.work_due() {
            self.kick();
        }
    }

    /// Makes `file` the active segment (after a roll, reset or suffix truncation; the
    /// caller holds the gate). Its data ends at `data_end` and the file at `file_size`.
    pub fn set_active(&self, file: Rc<DmaFile>, path: PathBuf, file_size: u64, data_end: u64) {
        let block = self.shared.block;
        let written = align_up(file_size.max(data_end), block);
        *self.shared.active.borrow_mut() = Some(Target {
            file,
            path,
            written,
            cap: self.shared.segment_cap,
        });
        self.shared.data_end.set(data_end);
        self.kick();
    }

    /// The prepared next segment, if any: its file (still named `next.seg.tmp`) and how
    /// many bytes of zeros it holds. The caller holds the gate and renames it.
    pub fn take_next(&self) -> Option<(Rc<DmaFile>, PathBuf, u64)> {
        self.shared
            .next
            .borrow_mut()
            .take()
            .map(|t| (t.file, t.path, t.written))
    }

    /// Does all pending preparation now, in the caller (tests and benches use it to
    /// reach the steady state deterministically).
    pub async fn catch_up(&self) -> Result<(), StorageError> {
        while step(&self.shared).await? {}
        Ok(())
    }

    /// Ends the task after its current chunk and releases its files.
    pub async fn stop(mut self) {
        self.shared.stopped.set(true);
        self.kick = None;
        if let Some(task) = self.task.take() {
            task.await;
        }
        self.shared.active.borrow_mut().take();
        if let Some(next) = self.shared.next.borrow_mut().take() {
            // Not closing explicitly: dropping the last Rc closes the fd.
            drop(next);
        }
    }

    fn kick(&self) {
        if let Some(tx) = &self.kick {
            // Full means a kick is already pending: nothing to add.
            let _ = tx.try_send(());
        }
    }
}

impl Drop for Preparer {
    fn drop(&mut self) {
        // Dropped without `stop`: let the task finish its chunk (a cancelled task would
        // release the gate with its zero write still in flight) and then end.
        self.shared.stopped.set(true);
        if let Some(task) = self.task.take() {
            task.detach();
        }
    }
}

impl Shared {
    /// The active segment's `(at, len)` chunk due now, if any.
    fn active_chunk(&self) -> Option<(u64, u64)> {
        let active = self.active.borrow();
        let t = active.as_ref()?;
        let want = (align_up(self.data_end.get(), self.block) + AHEAD).min(t.cap);
        let deficit = want.saturating_sub(t.written);
        // Top up in whole chunks, not one block per append.
        (deficit >= CHUNK || (deficit > 0 && want == t.cap))
            .then(|| (t.written, deficit.min(CHUNK)))
    }

    fn work_due(&self) -> bool {
        !self.stopped.get()
            && (self.active_chunk().is_some()
                || self
                    .next
                    .borrow()
                    .as_ref()
                    .is_none_or(|t| t.written < t.cap))
    }
}

async fn lock_gate(shared: &Shared) -> Result<StaticPermit, StorageError> {
    // Fails only if the semaphore were closed, which nothing does.
    shared.gate.acquire_static_permit(1).await.map_err(|e| {
        StorageError::io(
            "locking segment preparation",
            &shared.log_dir,
            std::io::Error::other(e.to_string()),
        )
    })
}

async fn run(shared: Rc<Shared>, kicks: LocalReceiver<()>) {
    while kicks.recv().await.is_some() {
        loop {
            if shared.stopped.get() {
                return;
            }
            match step(&shared).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    // Appends stay correct without preparation (they extend files).
                    tracing::warn!(error = %e, "raft log: segment preparation failed; disabled");
                    shared.stopped.set(true);
                    return;
                }
            }
        }
    }
}

/// Writes and syncs one chunk of zeros if any is due; `Ok(false)` when nothing is.
async fn step(shared: &Shared) -> Result<bool, StorageError> {
    if shared.stopped.get() {
        return Ok(false);
    }
    let permit = lock_gate(shared).await?;
    let Some(work) = next_work(shared).await? else {
        return Ok(false);
    };
    let mut zeros = work.file.alloc_dma_buffer(work.len as usize);
    zeros.as_bytes_mut().fill(0);
    let n = work
        .file
        .write_at(zeros, work.at)
        .await
        .map_err(|e| StorageError::io("zero-filling", &work.path, e))?;
    if n as u64 != work.len {
        return Err(StorageError::io(
            "zero-filling",
            &work.path,
            std::io::Error::new(
                std::io::ErrorKind::WriteZero,
                format!("short write of {n} bytes at {}", work.at),
            ),
        ));
    }
    let target = if work.into_next {
        &shared.next
    } else {
        &shared.active
    };
    let mut complete = true;
    if let Some(t) = target.borrow_mut().as_mut() {
        // Under the gate the target cannot have been switched since `next_work`.
        t.written = t.written.max(work.at + work.len);
        complete = t.written >= t.cap;
    }
    drop(permit);
    // Outside the gate: appends may go on while the zeros become durable. Nobody
    // appends to `next.seg.tmp` yet, so one sync when it is complete is enough.
    if !work.into_next || complete {
        dma::fdatasync(&work.file, &work.path).await?;
    }
    Ok(true)
}

/// The next chunk due (the caller holds the gate). Creates `next.seg.tmp` when the
/// active segment is far enough ahead and no next segment exists.
async fn next_work(shared: &Shared) -> Result<Option<Work>, StorageError> {
    if let Some((at, len)) = shared.active_chunk() {
        let active = shared.active.borrow();
        let t = active.as_ref().expect("active_chunk found it");
        return Ok(Some(Work {
            file: t.file.clone(),
            path: t.path.clone(),
            at,
            len,
            into_next: false,
        }));
    }
    if shared.next.borrow().is_none() {
        let path = shared.log_dir.join(NEXT_SEGMENT_TMP);
        // The name is ours alone: one left by a failed rename is only zeros, start over.
        let file = glommio::io::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .dma_open(&path)
            .await
            .map_err(|e| StorageError::io("creating", &path, e))?;
        *shared.next.borrow_mut() = Some(Target {
            file: Rc::new(file),
            path,
            written: 0,
            cap: shared.segment_cap,
        });
    }
    let next = shared.next.borrow();
    let t = next.as_ref().expect("set just above");
    if t.written < t.cap {
        return Ok(Some(Work {
            file: t.file.clone(),
            path: t.path.clone(),
            at: t.written,
            len: (t.cap - t.written).min(CHUNK),
            into_next: true,
        }));
    }
    Ok(None)
}
