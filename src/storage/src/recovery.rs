//! Startup scan of the segment files: validate every frame, truncate a torn tail of the
//! last segment, refuse to start on anything else.
use std::path::{Path, PathBuf};

use ballast_raft::Entry;
use rkyv::util::AlignedVec;

use crate::dma;
use crate::frame::entry_at;
use crate::scan::scan_segment;
use crate::segment::{parse_segment_name, Segment};
use crate::StorageError;

/// The damaged end of the last segment that recovery cut off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TornTail {
    pub file: PathBuf,
    /// The file now ends here (the first byte that was not part of a valid frame).
    pub offset: u64,
    /// Bytes removed from the end of the file.
    pub bytes_discarded: u64,
    /// Why decoding stopped at `offset`.
    pub detail: String,
}

/// What `RaftLog::open` found.
#[derive(Debug)]
pub struct Recovered {
    /// Every entry in the log after recovery, in index order.
    pub entries: Vec<Entry>,
    /// Index of the first entry kept (the next index to write when the log is empty).
    pub first_index: u64,
    /// Index of the last entry; `first_index - 1` when the log is empty.
    pub last_index: u64,
    /// Term of the last entry; 0 when the log is empty.
    pub last_term: u64,
    pub torn_tail: Option<TornTail>,
}

pub(crate) struct Scanned {
    pub segments: Vec<Segment>,
    pub entries: Vec<Entry>,
    /// Bytes of the last segment's final partial block (what the next append rewrites).
    pub tail: Vec<u8>,
    pub torn_tail: Option<TornTail>,
}

/// Segment files in `log_dir`, sorted by first index. Directory listing is a startup-only
/// blocking call.
fn list_segments(log_dir: &Path) -> Result<Vec<(u64, PathBuf)>, StorageError> {
    let rd = std::fs::read_dir(log_dir)
        .map_err(|e| StorageError::io("listing directory", log_dir, e))?;
    let mut found = Vec::new();
    for item in rd {
        let item = item.map_err(|e| StorageError::io("listing directory", log_dir, e))?;
        let path = item.path();
        if let Some(parsed) = parse_segment_name(&path) {
            found.push((parsed?, path));
        }
    }
    found.sort();
    Ok(found)
}

pub(crate) async fn scan_log(log_dir: &Path) -> Result<Scanned, StorageError> {
    let listed = list_segments(log_dir)?;
    let count = listed.len();
    let mut segments: Vec<Segment> = Vec::with_capacity(count);
    let mut entries = Vec::new();
    let mut tail = Vec::new();
    let mut torn_tail = None;
    let mut scratch = AlignedVec::new();

    for (i, (first_index, path)) in listed.into_iter().enumerate() {
        let is_last = i + 1 == count;
        if let Some(prev) = segments.last() {
            if prev.offsets.is_empty() {
                return Err(StorageError::corrupt(
                    &prev.path,
                    0,
                    "segment holds no entries but is not the last segment",
                ));
            }
            if first_index != prev.last_index() + 1 {
                return Err(StorageError::corrupt(
                    &path,
                    0,
                    format!(
                        "index gap: segment starts at index {first_index} but the previous \
                         segment {} ends at index {}",
                        prev.path.display(),
                        prev.last_index()
                    ),
                ));
            }
        }
        let file = dma::open_rw(&path, false).await?;
        let size = dma::file_size(&file, &path).await?;
        let bytes = dma::read_range(&file, &path, 0, size as usize).await?;
        let scan = scan_segment(&bytes, first_index);
        if let Some(damage) = scan.damage {
            let torn = is_last && !damage.index_gap && damage.valid_frame_after.is_none();
            if !torn {
                let mut detail = damage.detail;
                if let Some(after) = damage.valid_frame_after {
                    detail.push_str(&format!(
                        "; a valid frame follows at offset {after}, so this is not a torn write"
                    ));
                } else if !is_last && !damage.index_gap {
                    detail.push_str("; only the last segment may have a torn tail");
                }
                return Err(StorageError::corrupt(&path, damage.offset as u64, detail));
            }
            let offset = damage.offset as u64;
            tracing::warn!(
                file = %path.display(),
                offset,
                bytes_discarded = size - offset,
                detail = %damage.detail,
                "raft log: torn tail in the last segment; truncating it"
            );
            file.truncate(offset)
                .await
                .map_err(|e| StorageError::io("truncating", &path, e))?;
            dma::fdatasync(&file, &path).await?;
            torn_tail = Some(TornTail {
                file: path.clone(),
                offset,
                bytes_discarded: size - offset,
                detail: damage.detail,
            });
        }
        let mut offsets = Vec::with_capacity(scan.frames.len());
        let mut terms = Vec::with_capacity(scan.frames.len());
        for info in &scan.frames {
            let entry = entry_at(&bytes, info, &mut scratch).map_err(|e| {
                StorageError::corrupt(&path, info.offset as u64, e.kind.to_string())
            })?;
            offsets.push(info.offset as u64);
            terms.push(info.term);
            entries.push(entry);
        }
        let end = scan.end as u64;
        if is_last {
            let block = dma::block_size(&file);
            let block_start = (end / block * block) as usize;
            tail = bytes[block_start..scan.end].to_vec();
        }
        segments.push(Segment {
            first_index,
            path,
            file: std::rc::Rc::new(file),
            offsets,
            terms,
            end,
        });
    }
    Ok(Scanned {
        segments,
        entries,
        tail,
        torn_tail,
    })
}
