//! One segment file of the log: `<dir>/log/<first_index:020>.seg`, frames back to back
//! from offset 0, zeros (or end of file) after the last frame.
use std::path::{Path, PathBuf};
use std::rc::Rc;

use glommio::io::DmaFile;

use crate::StorageError;

pub(crate) const SEGMENT_SUFFIX: &str = ".seg";

pub(crate) fn segment_path(log_dir: &Path, first_index: u64) -> PathBuf {
    log_dir.join(format!("{first_index:020}{SEGMENT_SUFFIX}"))
}

/// Parses a segment file name; `None` for files that are not segments at all.
/// A `.seg` file whose name is not 20 digits is reported, not skipped: a typo'd or
/// half-renamed segment must not silently shorten the log.
pub(crate) fn parse_segment_name(path: &Path) -> Option<Result<u64, StorageError>> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(SEGMENT_SUFFIX)?;
    let parsed = if stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit()) {
        stem.parse::<u64>().ok().filter(|&i| i > 0)
    } else {
        None
    };
    Some(parsed.ok_or_else(|| {
        StorageError::corrupt(path, 0, "segment file name is not a 20-digit index above 0")
    }))
}

/// An open segment and where each of its entries is.
pub(crate) struct Segment {
    pub first_index: u64,
    pub path: PathBuf,
    /// Shared with the preparer while this is the active segment.
    pub file: Rc<DmaFile>,
    /// Byte offset of entry `first_index + i`.
    pub offsets: Vec<u64>,
    /// Term of entry `first_index + i` (Raft asks for terms of recent entries often).
    pub terms: Vec<u64>,
    /// Byte offset just past the last frame.
    pub end: u64,
}

impl Segment {
    pub fn len(&self) -> u64 {
        self.offsets.len() as u64
    }

    /// Index of the last entry; `first_index - 1` when empty.
    pub fn last_index(&self) -> u64 {
        self.first_index + self.len() - 1
    }

    pub fn contains(&self, index: u64) -> bool {
        index >= self.first_index && index < self.first_index + self.len()
    }

    /// Byte range `[start, end)` of entries `lo..hi` (both inside this segment).
    pub fn byte_range(&self, lo: u64, hi: u64) -> (u64, u64) {
        let a = (lo - self.first_index) as usize;
        let b = (hi - self.first_index) as usize;
        let start = self.offsets[a];
        let end = self.offsets.get(b).copied().unwrap_or(self.end);
        (start, end)
    }

    pub fn term(&self, index: u64) -> Option<u64> {
        if self.contains(index) {
            self.terms.get((index - self.first_index) as usize).copied()
        } else {
            None
        }
    }
}
