//! Raft snapshots of the state store: a 16-byte header (magic, format
//! version) and an rkyv archive, validated before use.
//!
//! Version 1: KV, tombstones, sessions. Version 2 (written now): version 1's
//! archive plus the catalog. Version 1 files still load (empty catalog).

use std::sync::Arc;

use imbl::{OrdMap, OrdSet};
use rkyv::rancor;
use rkyv::util::AlignedVec;
use rkyv::{Archive, Deserialize, Serialize};

use crate::catalog::archive::{self, ArchivedCatalogArchive, CatalogArchive};
use crate::catalog::tables::CatalogTables;
use crate::error::DecodeError;
use crate::kv::KvEntry;
use crate::state::StateSnapshot;

const MAGIC: &[u8; 8] = b"BLSTSNAP";
const FORMAT_VERSION_1: u32 = 1;
const FORMAT_VERSION: u32 = 2;
const HEADER_LEN: usize = 16;

#[derive(Archive, Serialize, Deserialize)]
struct SnapshotArchive {
    applied_index: u64,
    kvs_index: u64,
    tombstones_index: u64,
    sessions_index: u64,
    kv: Vec<KvRecord>,
    tombstones: Vec<TombstoneRecord>,
    sessions: Vec<String>,
}

/// Version 2: the version 1 archive unchanged, then the catalog.
#[derive(Archive, Serialize, Deserialize)]
struct SnapshotArchiveV2 {
    base: SnapshotArchive,
    catalog: CatalogArchive,
}

#[derive(Archive, Serialize, Deserialize)]
struct KvRecord {
    key: String,
    value: Option<Vec<u8>>,
    flags: u64,
    create_index: u64,
    modify_index: u64,
    lock_index: u64,
    session: Option<String>,
}

#[derive(Archive, Serialize, Deserialize)]
struct TombstoneRecord {
    key: String,
    index: u64,
}

/// Serialize the whole state for a Raft snapshot.
pub fn encode_snapshot(state: &StateSnapshot) -> Vec<u8> {
    let archive = SnapshotArchiveV2 {
        base: base_archive(state),
        catalog: archive::to_archive(&state.catalog),
    };
    let body = rkyv::to_bytes::<rancor::Error>(&archive).map(|b| b.into_vec());
    with_header(FORMAT_VERSION, body)
}

/// A version 1 snapshot (no catalog), to test that old files still load.
#[cfg(test)]
pub(crate) fn encode_snapshot_v1(state: &StateSnapshot) -> Vec<u8> {
    let body = rkyv::to_bytes::<rancor::Error>(&base_archive(state)).map(|b| b.into_vec());
    with_header(FORMAT_VERSION_1, body)
}

fn with_header(version: u32, body: Result<Vec<u8>, rancor::Error>) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    // Serializing owned data into a growable buffer cannot fail; if it ever
    // did, the header alone is rejected by the decoder.
    if let Ok(body) = body {
        out.extend_from_slice(&body);
    }
    out
}

fn base_archive(state: &StateSnapshot) -> SnapshotArchive {
    SnapshotArchive {
        applied_index: state.applied_index,
        kvs_index: state.kvs_index,
        tombstones_index: state.tombstones_index,
        sessions_index: state.sessions_index,
        kv: state
            .kv
            .values()
            .map(|e| KvRecord {
                key: e.key.to_string(),
                value: e.value.as_deref().map(<[u8]>::to_vec),
                flags: e.flags,
                create_index: e.create_index,
                modify_index: e.modify_index,
                lock_index: e.lock_index,
                session: e.session.as_deref().map(str::to_string),
            })
            .collect(),
        tombstones: state
            .tombstones
            .iter()
            .map(|(k, i)| TombstoneRecord {
                key: k.to_string(),
                index: *i,
            })
            .collect(),
        sessions: state.sessions.iter().map(|s| s.to_string()).collect(),
    }
}

/// Validate and load a Raft snapshot (any alignment). Rejects bad magic,
/// unknown versions, invalid archives and inconsistent contents (unsorted
/// or duplicate keys).
pub fn decode_snapshot(bytes: &[u8]) -> Result<StateSnapshot, DecodeError> {
    if bytes.len() < HEADER_LEN {
        return Err(DecodeError::new("snapshot: shorter than its header"));
    }
    if &bytes[..8] != MAGIC {
        return Err(DecodeError::new("snapshot: bad magic"));
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    let mut aligned = AlignedVec::<16>::with_capacity(bytes.len() - HEADER_LEN);
    aligned.extend_from_slice(&bytes[HEADER_LEN..]);
    match version {
        FORMAT_VERSION_1 => {
            let a = rkyv::access::<ArchivedSnapshotArchive, rancor::Error>(&aligned)
                .map_err(|e| DecodeError::new(format!("snapshot: {e}")))?;
            build(a, CatalogTables::default())
        }
        FORMAT_VERSION => {
            let a = rkyv::access::<ArchivedSnapshotArchiveV2, rancor::Error>(&aligned)
                .map_err(|e| DecodeError::new(format!("snapshot: {e}")))?;
            let catalog = build_catalog(&a.catalog)?;
            build(&a.base, catalog)
        }
        _ => Err(DecodeError::new(format!(
            "snapshot: unknown format version {version}"
        ))),
    }
}

fn build_catalog(a: &ArchivedCatalogArchive) -> Result<CatalogTables, DecodeError> {
    archive::from_archive(a)
}

fn build(
    a: &ArchivedSnapshotArchive,
    catalog: CatalogTables,
) -> Result<StateSnapshot, DecodeError> {
    let mut kv = OrdMap::new();
    let mut last: Option<&str> = None;
    for r in a.kv.iter() {
        let key = r.key.as_str();
        if last.is_some_and(|l| l >= key) {
            return Err(DecodeError::new("snapshot: kv keys not strictly ascending"));
        }
        last = Some(key);
        let key: Arc<str> = Arc::from(key);
        let entry = KvEntry {
            key: key.clone(),
            value: r.value.as_ref().map(|v| Arc::from(v.as_slice())),
            flags: r.flags.to_native(),
            create_index: r.create_index.to_native(),
            modify_index: r.modify_index.to_native(),
            lock_index: r.lock_index.to_native(),
            session: r
                .session
                .as_ref()
                .map(|s| s.as_str())
                .filter(|s| !s.is_empty())
                .map(Arc::from),
        };
        kv.insert(key, Arc::new(entry));
    }
    let mut tombstones = OrdMap::new();
    let mut last: Option<&str> = None;
    for t in a.tombstones.iter() {
        let key = t.key.as_str();
        if last.is_some_and(|l| l >= key) {
            return Err(DecodeError::new(
                "snapshot: tombstones not strictly ascending",
            ));
        }
        last = Some(key);
        tombstones.insert(Arc::from(key), t.index.to_native());
    }
    let sessions: OrdSet<Arc<str>> = a.sessions.iter().map(|s| Arc::from(s.as_str())).collect();
    Ok(StateSnapshot {
        kv,
        tombstones,
        kvs_index: a.kvs_index.to_native(),
        tombstones_index: a.tombstones_index.to_native(),
        sessions,
        sessions_index: a.sessions_index.to_native(),
        applied_index: a.applied_index.to_native(),
        catalog,
    })
}
