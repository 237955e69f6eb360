//! Start-up on the control shard: state-store snapshot, term/vote, and the log, in that
//! order, then the Raft core built from them. Any corruption is fatal with a message that
//! names the file (the storage layer's errors carry file and offset).
use std::path::{Path, PathBuf};

use ballast_raft::{Bootstrap, ConfState, Config, NodeId, RaftNode, SnapshotMeta};
use ballast_storage::{load_hard_state, load_latest_snapshot, LogOptions, RaftLog};
use ballast_store::{decode_snapshot, Applier, Store};

pub struct Recovered {
    pub raft: RaftNode,
    pub log: RaftLog,
    pub applier: Applier,
    pub snapshot: Option<SnapshotMeta>,
}

/// Term/vote, `log/` and `snapshots/` (the storage layer's names) live under here.
pub fn raft_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("raft")
}

pub async fn recover(
    data_dir: &Path,
    raft_cfg: Config,
    self_id: NodeId,
    store: Store,
) -> Result<Recovered, String> {
    let dir = raft_dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;

    let mut applier = Applier::new(store);
    let snapshot = match load_latest_snapshot(&dir).map_err(|e| e.to_string())? {
        Some((meta, payload)) => {
            let state = decode_snapshot(&payload)
                .map_err(|e| format!("state-store snapshot at index {} does not decode: {e}", meta.index))?;
            applier.restore(state);
            applier.publish();
            tracing::info!(index = meta.index, term = meta.term, "restored state-store snapshot");
            Some(meta)
        }
        None => None,
    };

    let hard_state = load_hard_state(&dir).await.map_err(|e| e.to_string())?.unwrap_or_default();
    let (log, recovered) = RaftLog::open(&dir, LogOptions::default()).await.map_err(|e| e.to_string())?;
    if let Some(t) = &recovered.torn_tail {
        tracing::warn!(
            "truncated a torn tail of the log: {} at offset {} ({} bytes discarded: {})",
            t.file.display(),
            t.offset,
            t.bytes_discarded,
            t.detail
        );
    }
    // Entries already inside the snapshot are not replayed.
    let after = snapshot.as_ref().map_or(0, |s| s.index);
    let entries: Vec<_> = recovered.entries.into_iter().filter(|e| e.index > after).collect();
    if let (Some(first), Some(s)) = (entries.first(), snapshot.as_ref()) {
        if first.index != s.index + 1 {
            return Err(format!(
                "the log starts at index {} but the newest snapshot ends at {}: entries are missing",
                first.index, s.index
            ));
        }
    }
    let conf = match &snapshot {
        Some(s) => s.conf.clone(),
        // First start of a bootstrapping single server: it is the only voter.
        None => ConfState { voters: vec![self_id], learners: vec![] },
    };
    tracing::info!(
        term = hard_state.term,
        entries = entries.len(),
        snapshot_index = after,
        "recovered raft state"
    );
    let boot = Bootstrap { hard_state, conf, snapshot: snapshot.clone(), entries };
    let raft = RaftNode::new(raft_cfg, boot, rand::random()).map_err(|e| e.to_string())?;
    Ok(Recovered { raft, log, applier, snapshot })
}
