//! Start-up on the control shard: state-store snapshot, term/vote, and the log, in that
//! order, then the Raft core built from them. Any corruption is fatal with a message that
//! names the file (the storage layer's errors carry file and offset).
use std::path::{Path, PathBuf};

use ballast_raft::{Bootstrap, ConfState, Config, RaftNode, SnapshotMeta};
use ballast_storage::{load_hard_state, load_latest_snapshot, LogOptions, RaftLog};
use ballast_store::{decode_snapshot, Applier, Store};

pub struct Recovered {
    pub raft: RaftNode,
    pub log: RaftLog,
    pub applier: Applier,
    pub snapshot: Option<SnapshotMeta>,
    /// The snapshot's bytes, kept to ship to followers that fall behind.
    pub snapshot_bytes: Option<Vec<u8>>,
    /// The membership as of the snapshot (or the initial one).
    pub conf_applied: ConfState,
}

/// Term/vote, `log/` and `snapshots/` (the storage layer's names) live under here.
pub fn raft_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("raft")
}

pub async fn recover(
    data_dir: &Path,
    raft_cfg: Config,
    initial: ConfState,
    store: Store,
) -> Result<Recovered, String> {
    let dir = raft_dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;

    let mut applier = Applier::new(store);
    let mut snapshot_bytes = None;
    let mut snapshot = match load_latest_snapshot(&dir).map_err(|e| e.to_string())? {
        Some((meta, payload)) => {
            let state = decode_snapshot(&payload)
                .map_err(|e| format!("state-store snapshot at index {} does not decode: {e}", meta.index))?;
            applier.restore(state);
            applier.publish();
            tracing::info!(index = meta.index, term = meta.term, "restored state-store snapshot");
            snapshot_bytes = Some(payload);
            Some(meta)
        }
        None => None,
    };

    let hard_state = load_hard_state(&dir).await.map_err(|e| e.to_string())?.unwrap_or_default();
    let (mut log, recovered) = RaftLog::open(&dir, LogOptions::default()).await.map_err(|e| e.to_string())?;
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
    let mut entries: Vec<_> = recovered.entries.into_iter().filter(|e| e.index > after).collect();
    if let (Some(first), Some(s)) = (entries.first(), snapshot.as_ref()) {
        if first.index != s.index + 1 {
            return Err(format!(
                "the log starts at index {} but the newest snapshot ends at {}: entries are missing",
                first.index, s.index
            ));
        }
    }
    if let Some(forced) = super::peers_json::load(&dir)? {
        let (meta, bytes) = force_membership(&dir, &mut applier, snapshot.as_ref(), &entries, forced)?;
        log.reset(meta.index + 1).await.map_err(|e| format!("resetting the log after peers.json recovery: {e}"))?;
        std::fs::remove_file(super::peers_json::path(&dir)).map_err(|e| format!("removing peers.json: {e}"))?;
        tracing::warn!(index = meta.index, "recovered the cluster membership from peers.json (file removed)");
        entries.clear();
        snapshot = Some(meta);
        snapshot_bytes = Some(bytes);
    }
    let conf = match &snapshot {
        Some(s) => s.conf.clone(),
        // First start: a single server (bootstrap, dev) is its own voter; a server
        // waiting for -bootstrap-expect or to be added starts with no membership.
        None => initial,
    };
    tracing::info!(
        term = hard_state.term,
        entries = entries.len(),
        snapshot_index = after,
        "recovered raft state"
    );
    let conf_applied = conf.clone();
    let boot = Bootstrap { hard_state, conf, snapshot: snapshot.clone(), entries };
    let raft = RaftNode::new(raft_cfg, boot, rand::random()).map_err(|e| e.to_string())?;
    Ok(Recovered { raft, log, applier, snapshot, snapshot_bytes, conf_applied })
}

/// hashicorp/raft's RecoverCluster: everything in the log is applied (committed or not,
/// the documented price of this escape hatch) and saved as a snapshot whose membership
/// is the one peers.json names.
fn force_membership(
    dir: &Path,
    applier: &mut Applier,
    snapshot: Option<&SnapshotMeta>,
    entries: &[ballast_raft::Entry],
    conf: ConfState,
) -> Result<(SnapshotMeta, Vec<u8>), String> {
    let (mut index, mut term) = snapshot.map_or((0, 0), |s| (s.index, s.term));
    for e in entries {
        match e.kind {
            ballast_raft::EntryKind::Normal => {
                applier.apply(e.index, &e.data);
            }
            _ => applier.apply_noop(e.index),
        }
        (index, term) = (e.index, e.term);
    }
    applier.publish();
    let meta = SnapshotMeta { index, term, conf };
    let bytes = ballast_store::encode_snapshot(&applier.store().load());
    ballast_storage::write_snapshot(dir, &meta, &bytes).map_err(|e| format!("writing the recovery snapshot: {e}"))?;
    Ok((meta, bytes))
}
