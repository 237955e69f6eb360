//! Snapshot files in `<dir>/snapshots/<index:020>-<term:020>.snap`, written and read with
//! std::fs: these run on a helper thread (writing) or at startup (loading), never on an
//! executor.
//!
//! File: `[magic 8][meta_len u32][meta_crc u32][payload_len u64][payload_crc u32]
//! [header_crc u32 of the previous 28 bytes][meta rkyv, zero padded to 16][payload]`.
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use ballast_raft::{ArchivedSnapshotMeta, SnapshotMeta};
use rkyv::rancor::BoxedError;
use rkyv::util::AlignedVec;

use crate::frame::{align16, FRAME_ALIGN};
use crate::StorageError;

const MAGIC: &[u8; 8] = b"BLSTSNP1";
const HEADER_LEN: usize = 32;
const SUFFIX: &str = ".snap";
const TMP_SUFFIX: &str = ".snap.tmp";
/// How many snapshots survive a new one (the newest is used; one older for safety).
pub const SNAPSHOTS_KEPT: usize = 2;

pub fn snapshot_dir(dir: &Path) -> PathBuf {
    dir.join("snapshots")
}

fn snapshot_name(index: u64, term: u64) -> String {
    format!("{index:020}-{term:020}{SUFFIX}")
}

/// `(index, term)` from a snapshot file name; `None` for other files.
fn parse_name(path: &Path) -> Option<Result<(u64, u64), StorageError>> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(SUFFIX)?;
    let parsed = stem.split_once('-').and_then(|(i, t)| {
        let digits = |s: &str| s.len() == 20 && s.bytes().all(|b| b.is_ascii_digit());
        if digits(i) && digits(t) {
            Some((i.parse().ok()?, t.parse().ok()?))
        } else {
            None
        }
    });
    Some(parsed.ok_or_else(|| {
        StorageError::corrupt(
            path,
            0,
            "snapshot file name is not <index:020>-<term:020>.snap",
        )
    }))
}

/// A snapshot file and the `(index, term)` its name says it covers.
type Listed = ((u64, u64), PathBuf);

/// Snapshot files, oldest first.
fn list(snap_dir: &Path) -> Result<Vec<Listed>, StorageError> {
    let rd = match fs::read_dir(snap_dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StorageError::io("listing directory", snap_dir, e)),
    };
    let mut out = Vec::new();
    for item in rd {
        let path = item
            .map_err(|e| StorageError::io("listing directory", snap_dir, e))?
            .path();
        if let Some(parsed) = parse_name(&path) {
            out.push((parsed?, path));
        }
    }
    out.sort();
    Ok(out)
}

fn fsync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::io("fsync directory", dir, e))
}

fn encode_header(meta_archive: &[u8], payload: &[u8]) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&(meta_archive.len() as u32).to_le_bytes());
    h[12..16].copy_from_slice(&crc32c::crc32c(meta_archive).to_le_bytes());
    h[16..24].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    h[24..28].copy_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    let hcrc = crc32c::crc32c(&h[..28]);
    h[28..32].copy_from_slice(&hcrc.to_le_bytes());
    h
}

/// Writes a snapshot durably (tmp file, fsync, rename, fsync dir) and prunes all but the
/// newest `SNAPSHOTS_KEPT`. Blocking: call from a helper thread. Returns the file path.
pub fn write_snapshot(
    dir: impl AsRef<Path>,
    meta: &SnapshotMeta,
    payload: &[u8],
) -> Result<PathBuf, StorageError> {
    let snap_dir = snapshot_dir(dir.as_ref());
    fs::create_dir_all(&snap_dir)
        .map_err(|e| StorageError::io("creating directory", &snap_dir, e))?;
    let meta_archive = rkyv::to_bytes::<BoxedError>(meta).map_err(|e| {
        StorageError::InvalidArgument(format!("cannot serialize snapshot meta: {e}"))
    })?;
    let header = encode_header(&meta_archive, payload);
    let pad = align16(meta_archive.len()) - meta_archive.len();

    let name = snapshot_name(meta.index, meta.term);
    let path = snap_dir.join(&name);
    let tmp = snap_dir.join(format!("{name}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(&header)?;
        f.write_all(&meta_archive)?;
        f.write_all(&[0u8; FRAME_ALIGN][..pad])?;
        f.write_all(payload)?;
        f.sync_all()
    };
    write().map_err(|e| StorageError::io("writing", &tmp, e))?;
    fs::rename(&tmp, &path).map_err(|e| StorageError::io("renaming to", &path, e))?;
    fsync_dir(&snap_dir)?;
    prune(&snap_dir)?;
    Ok(path)
}

/// Removes all but the newest `SNAPSHOTS_KEPT` snapshots and leftover tmp files.
fn prune(snap_dir: &Path) -> Result<(), StorageError> {
    let all = list(snap_dir)?;
    let excess = all.len().saturating_sub(SNAPSHOTS_KEPT);
    for (_, path) in &all[..excess] {
        fs::remove_file(path).map_err(|e| StorageError::io("removing", path, e))?;
    }
    let rd =
        fs::read_dir(snap_dir).map_err(|e| StorageError::io("listing directory", snap_dir, e))?;
    for item in rd.flatten() {
        let p = item.path();
        if p.to_str().is_some_and(|s| s.ends_with(TMP_SUFFIX)) {
            fs::remove_file(&p).map_err(|e| StorageError::io("removing", &p, e))?;
        }
    }
    Ok(())
}

/// Parses and verifies a whole snapshot file.
/// Returns the meta and where the payload starts.
fn decode(bytes: &[u8], path: &Path) -> Result<(SnapshotMeta, usize), StorageError> {
    let corrupt =
        |offset: usize, detail: String| StorageError::corrupt(path, offset as u64, detail);
    if bytes.len() < HEADER_LEN {
        return Err(corrupt(
            0,
            format!("file is {} bytes, shorter than its header", bytes.len()),
        ));
    }
    if &bytes[..8] != MAGIC {
        return Err(corrupt(0, "bad magic".into()));
    }
    let u32_at =
        |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let stored_hcrc = u32_at(28);
    let hcrc = crc32c::crc32c(&bytes[..28]);
    if hcrc != stored_hcrc {
        return Err(corrupt(
            0,
            format!("header crc mismatch (stored {stored_hcrc:#010x}, computed {hcrc:#010x})"),
        ));
    }
    let meta_len = u32_at(8) as usize;
    let meta_crc = u32_at(12);
    let mut len_bytes = [0u8; 8];
    len_bytes.copy_from_slice(&bytes[16..24]);
    let payload_len = u64::from_le_bytes(len_bytes);
    let payload_crc = u32_at(24);
    let payload_start = HEADER_LEN + align16(meta_len);
    let expected_size = (payload_start as u64).checked_add(payload_len);
    if expected_size != Some(bytes.len() as u64) {
        return Err(corrupt(
            bytes.len().min(payload_start),
            format!(
                "file is {} bytes but its header describes {} (meta {meta_len}, payload {payload_len})",
                bytes.len(),
                expected_size.map_or("more than 2^64".to_string(), |s| s.to_string())
            ),
        ));
    }
    let meta_bytes = &bytes[HEADER_LEN..HEADER_LEN + meta_len];
    let computed = crc32c::crc32c(meta_bytes);
    if computed != meta_crc {
        return Err(corrupt(
            HEADER_LEN,
            format!("meta crc mismatch (stored {meta_crc:#010x}, computed {computed:#010x})"),
        ));
    }
    if bytes[HEADER_LEN + meta_len..payload_start]
        .iter()
        .any(|&b| b != 0)
    {
        return Err(corrupt(
            HEADER_LEN + meta_len,
            "non-zero bytes in meta padding".into(),
        ));
    }
    let mut aligned = AlignedVec::<FRAME_ALIGN>::with_capacity(meta_len);
    aligned.extend_from_slice(meta_bytes);
    let archived = rkyv::access::<ArchivedSnapshotMeta, BoxedError>(&aligned).map_err(|e| {
        corrupt(
            HEADER_LEN,
            format!("meta crc ok but archive is invalid: {e}"),
        )
    })?;
    let meta = rkyv::deserialize::<SnapshotMeta, BoxedError>(archived)
        .map_err(|e| corrupt(HEADER_LEN, format!("cannot deserialize meta: {e}")))?;
    let payload = &bytes[payload_start..];
    let computed = crc32c::crc32c(payload);
    if computed != payload_crc {
        return Err(corrupt(
            payload_start,
            format!("payload crc mismatch (stored {payload_crc:#010x}, computed {computed:#010x})"),
        ));
    }
    Ok((meta, payload_start))
}

/// The newest snapshot in `dir`, verified; `None` if there is none. A damaged newest
/// snapshot is `Corrupt` naming it: we never fall back to an older one silently.
/// Blocking: call at startup or from a helper thread.
pub fn load_latest_snapshot(
    dir: impl AsRef<Path>,
) -> Result<Option<(SnapshotMeta, Vec<u8>)>, StorageError> {
    let snap_dir = snapshot_dir(dir.as_ref());
    let Some(((index, term), path)) = list(&snap_dir)?.pop() else {
        return Ok(None);
    };
    let mut bytes = fs::read(&path).map_err(|e| StorageError::io("reading", &path, e))?;
    let (meta, payload_start) = decode(&bytes, &path)?;
    if (meta.index, meta.term) != (index, term) {
        return Err(StorageError::corrupt(
            &path,
            HEADER_LEN as u64,
            format!(
                "file name says index {index} term {term} but its meta says index {} term {}",
                meta.index, meta.term
            ),
        ));
    }
    bytes.drain(..payload_start);
    Ok(Some((meta, bytes)))
}
