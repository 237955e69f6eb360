//! State-store snapshots and log compaction, so restart time does not grow with history.
//! Encoding and writing run on a helper thread (the snapshot is an immutable, structurally
//! shared copy, so the control shard keeps applying meanwhile); the control shard only
//! polls for the result on its tick.
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};
use std::sync::Arc;

use ballast_raft::SnapshotMeta;
use ballast_store::{encode_snapshot, StateSnapshot};

pub struct Snapshotter {
    dir: PathBuf,
    threshold: u64,
    in_progress: bool,
    tx: SyncSender<Result<(SnapshotMeta, Vec<u8>), String>>,
    rx: Receiver<Result<(SnapshotMeta, Vec<u8>), String>>,
}

impl Snapshotter {
    pub fn new(dir: PathBuf, threshold: u64) -> Self {
        let (tx, rx) = sync_channel(1);
        Snapshotter { dir, threshold: threshold.max(1), in_progress: false, tx, rx }
    }

    /// Whether a snapshot should start now (cheap: checked after every batch).
    pub fn due(&self, last_snapshot: u64, applied: u64) -> bool {
        !self.in_progress && applied >= last_snapshot + self.threshold
    }

    /// Starts a snapshot when `threshold` entries were applied since the last one.
    pub fn maybe_start(&mut self, last_snapshot: u64, meta: SnapshotMeta, state: Arc<StateSnapshot>) {
        if self.in_progress || meta.index < last_snapshot + self.threshold || state.applied_index() < meta.index {
            return;
        }
        self.in_progress = true;
        let (dir, tx) = (self.dir.clone(), self.tx.clone());
        let spawned = std::thread::Builder::new().name("ballast-snapshot".into()).spawn(move || {
            let bytes = encode_snapshot(&state);
            let result = ballast_storage::write_snapshot(&dir, &meta, &bytes)
                .map(|_| (meta, bytes))
                .map_err(|e| e.to_string());
            let _ = tx.send(result);
        });
        if let Err(e) = spawned {
            tracing::warn!("could not start the snapshot thread: {e}");
            self.in_progress = false;
        }
    }

    /// A finished snapshot and its bytes (shipped to followers that fall behind), if one
    /// completed since the last poll.
    pub fn poll(&mut self) -> Option<(SnapshotMeta, Vec<u8>)> {
        match self.rx.try_recv() {
            Ok(Ok((meta, bytes))) => {
                self.in_progress = false;
                tracing::info!(index = meta.index, "state-store snapshot written");
                Some((meta, bytes))
            }
            Ok(Err(e)) => {
                self.in_progress = false;
                tracing::error!("snapshot failed: {e}");
                None
            }
            Err(TryRecvError::Empty) | Err(TryRecvError::Disconnected) => None,
        }
    }
}
