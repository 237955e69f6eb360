//! Thin glommio adapters: DMA (O_DIRECT, io_uring) file opening, whole-buffer aligned
//! writes and reads, directory sync. Everything glommio-specific in the log lives here.
use std::cell::RefCell;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use glommio::io::{BufferedFile, Directory, DmaFile, OpenOptions};
use rkyv::util::AlignedVec;

use crate::frame::FRAME_ALIGN;
use crate::StorageError;

/// Name of the DMA priming file kept in the log directory.
pub(crate) const PROBE_FILE: &str = ".probe";
const PROBE_LEN: usize = 4096;
/// Every O_DIRECT write covers whole blocks of this size (a multiple of any logical
/// block size we meet; raised to the device's if larger).
pub(crate) const MIN_BLOCK: u64 = 4096;
/// Recovery reads segments in pieces of this size, so one DMA buffer stays modest.
const READ_CHUNK: usize = 8 << 20;

thread_local! {
    /// Probe files already opened by this thread's executor.
    static PRIMED: RefCell<HashSet<PathBuf>> = RefCell::new(HashSet::new());
}

/// Pitfall 1: glommio decides, once per thread and device, whether polled I/O works by
/// reading the first DMA file opened. An empty file fools it (later reads fail with
/// EOPNOTSUPP) and a write-only file fails the probe with EBADF. So, before any other DMA
/// file, open an existing file of at least 4 KiB for reading. The probe file is written
/// with buffered I/O, which glommio does not probe.
pub(crate) async fn prime_dma(log_dir: &Path) -> Result<(), StorageError> {
    let probe = log_dir.join(PROBE_FILE);
    if PRIMED.with(|p| p.borrow().contains(&probe)) {
        return Ok(());
    }
    Directory::create(log_dir)
        .await
        .map_err(|e| StorageError::io("creating directory", log_dir, e))?
        .close()
        .await
        .map_err(|e| StorageError::io("closing directory", log_dir, e))?;
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .buffered_open(&probe)
        .await
        .map_err(|e| StorageError::io("opening", &probe, e))?;
    let size = file
        .file_size()
        .await
        .map_err(|e| StorageError::io("stat", &probe, e))?;
    if size < PROBE_LEN as u64 {
        file.write_at(vec![0xA5u8; PROBE_LEN], 0)
            .await
            .map_err(|e| StorageError::io("writing", &probe, e))?;
        file.fdatasync()
            .await
            .map_err(|e| StorageError::io("fdatasync", &probe, e))?;
    }
    close_buffered(file, &probe).await?;
    let dma = DmaFile::open(&probe)
        .await
        .map_err(|e| StorageError::io("opening (DMA probe)", &probe, e))?;
    dma.close()
        .await
        .map_err(|e| StorageError::io("closing", &probe, e))?;
    PRIMED.with(|p| p.borrow_mut().insert(probe));
    Ok(())
}

async fn close_buffered(file: BufferedFile, path: &Path) -> Result<(), StorageError> {
    file.close()
        .await
        .map_err(|e| StorageError::io("closing", path, e))
}

/// Opens a DMA file for reading and writing (never `DmaFile::create`, which is write-only).
pub(crate) async fn open_rw(path: &Path, create: bool) -> Result<DmaFile, StorageError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(create)
        .dma_open(path)
        .await
        .map_err(|e| StorageError::io("opening", path, e))
}

/// Block size for writes to `file`.
pub(crate) fn block_size(file: &DmaFile) -> u64 {
    file.alignment().max(MIN_BLOCK)
}

/// Writes `data` at `pos` (both block aligned), retrying short writes.
pub(crate) async fn write_all_at(
    file: &DmaFile,
    path: &Path,
    data: &[u8],
    pos: u64,
) -> Result<(), StorageError> {
    let mut done = 0usize;
    while done < data.len() {
        let mut buf = file.alloc_dma_buffer(data.len() - done);
        buf.as_bytes_mut().copy_from_slice(&data[done..]);
        let n = file
            .write_at(buf, pos + done as u64)
            .await
            .map_err(|e| StorageError::io("writing", path, e))?;
        // A short O_DIRECT write must still end on a block boundary to be resumable.
        if n == 0 || (!(n as u64).is_multiple_of(file.alignment()) && done + n < data.len()) {
            return Err(StorageError::io(
                "writing",
                path,
                std::io::Error::new(
                    std::io::ErrorKind::WriteZero,
                    format!("short O_DIRECT write of {n} bytes at {}", pos + done as u64),
                ),
            ));
        }
        done += n;
    }
    Ok(())
}

/// Reads `[pos, pos + len)` of `file` into a 16-aligned buffer (shorter if the file
/// ends first). Frame offsets are 16-aligned, so frames stay aligned in the result.
pub(crate) async fn read_range(
    file: &DmaFile,
    path: &Path,
    pos: u64,
    len: usize,
) -> Result<AlignedVec<FRAME_ALIGN>, StorageError> {
    let mut out = AlignedVec::<FRAME_ALIGN>::with_capacity(len);
    while out.len() < len {
        let at = pos + out.len() as u64;
        let want = (len - out.len()).min(READ_CHUNK);
        let got = file
            .read_at(at, want)
            .await
            .map_err(|e| StorageError::io("reading", path, e))?;
        if got.is_empty() {
            break;
        }
        out.extend_from_slice(&got);
    }
    Ok(out)
}

pub(crate) async fn file_size(file: &DmaFile, path: &Path) -> Result<u64, StorageError> {
    file.file_size()
        .await
        .map_err(|e| StorageError::io("stat", path, e))
}

pub(crate) async fn fdatasync(file: &DmaFile, path: &Path) -> Result<(), StorageError> {
    file.fdatasync()
        .await
        .map_err(|e| StorageError::io("fdatasync", path, e))
}

/// Makes creations, renames and removals in an open directory durable.
pub(crate) async fn sync_dir_handle(d: &Directory, dir: &Path) -> Result<(), StorageError> {
    d.sync()
        .await
        .map_err(|e| StorageError::io("fsync directory", dir, e))
}

/// Makes creations, renames and removals in `dir` durable.
pub(crate) async fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    let d = Directory::open(dir)
        .await
        .map_err(|e| StorageError::io("opening directory", dir, e))?;
    let synced = d
        .sync()
        .await
        .map_err(|e| StorageError::io("fsync directory", dir, e));
    let closed = d
        .close()
        .await
        .map_err(|e| StorageError::io("closing directory", dir, e));
    synced.and(closed)
}
