//! Durable storage for a ballast server: the segmented Raft log (glommio DMA files,
//! io_uring, O_DIRECT, group commit), the term/vote file, and snapshot files.
//!
//! The log and the hard-state file must be used from inside a glommio executor (the
//! control shard); snapshot files are plain blocking std::fs for a helper thread.
//! Call [`raise_memlock_limit`] before starting any glommio executor.
mod dma;
mod error;
mod frame;
mod hard_state;
mod log;
mod memlock;
mod prepare;
mod recovery;
mod scan;
mod segment;
mod snapshot;

pub use error::StorageError;
pub use frame::{
    decode_entries, encode_frames, verify_frames, FrameError, FrameErrorKind, FrameInfo,
    FRAME_ALIGN, FRAME_HEADER_LEN, MAX_FRAME_PAYLOAD,
};
pub use hard_state::{hard_state_path, load_hard_state, save_hard_state, HARD_STATE_FILE};
pub use log::{FrameBatch, LogOptions, RaftLog, DEFAULT_SEGMENT_BYTES};
pub use memlock::raise_memlock_limit;
pub use recovery::{Recovered, TornTail};
pub use snapshot::{load_latest_snapshot, snapshot_dir, write_snapshot, SNAPSHOTS_KEPT};

/// Pure decoder entry point for fuzzing and tools: classifies a segment's bytes the way
/// recovery does, without touching files.
pub mod inspect {
    pub use crate::scan::{scan_segment, Damage, SegmentScan};
}
