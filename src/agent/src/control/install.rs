//! A follower installs the state-store snapshot its leader streamed to it: the file is
//! written on a helper thread (plain file I/O with fsync), the log restarts after the
//! snapshot, and the store is replaced before the core's Ready is acknowledged.
use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use ballast_raft::SnapshotMeta;
use ballast_storage::{write_snapshot, RaftLog};
use ballast_store::decode_snapshot;

use super::state::Control;

pub async fn install_snapshot(ctl: &Rc<RefCell<Control>>, log: &mut RaftLog, raft_dir: &Path, meta: SnapshotMeta) -> Result<(), String> {
    let data = match ctl.borrow_mut().received_snapshot.take() {
        Some((index, data)) if index == meta.index => data,
        _ => return Err(format!("raft asked to install snapshot {} whose data never arrived", meta.index)),
    };
    let state = decode_snapshot(&data).map_err(|e| format!("the leader's snapshot at index {} does not decode: {e}", meta.index))?;
    let (dir, m) = (raft_dir.to_path_buf(), meta.clone());
    let data = glommio::executor()
        .spawn_blocking(move || write_snapshot(&dir, &m, &data).map(|_| data))
        .await
        .map_err(|e| format!("writing the received snapshot: {e}"))?;
    log.reset(meta.index + 1).await.map_err(|e| format!("resetting the log after a snapshot: {e}"))?;
    let mut c = ctl.borrow_mut();
    c.applier.restore(state);
    c.frames.clear();
    c.snapshot_bytes = Some((meta.index, Rc::new(data)));
    tracing::info!(index = meta.index, term = meta.term, "installed a snapshot from the leader");
    Ok(())
}
