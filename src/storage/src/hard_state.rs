//! Term, vote and commit in `<dir>/raft-state`, replaced atomically through glommio:
//! write `raft-state.tmp`, fdatasync, rename over `raft-state`, fsync the directory.
//!
//! File: one 4 KiB block = `[magic 8][len u32 LE][crc32c u32 LE][rkyv HardState][zeros]`.
use std::io;
use std::path::{Path, PathBuf};

use ballast_raft::{ArchivedHardState, HardState};
use glommio::io::{DmaFile, OpenOptions};
use rkyv::rancor::BoxedError;
use rkyv::util::AlignedVec;

use crate::dma;
use crate::frame::FRAME_ALIGN;
use crate::StorageError;

const MAGIC: &[u8; 8] = b"BLSTHS01";
const HEADER_LEN: usize = 16;
pub const HARD_STATE_FILE: &str = "raft-state";
const HARD_STATE_TMP: &str = "raft-state.tmp";

pub fn hard_state_path(dir: &Path) -> PathBuf {
    dir.join(HARD_STATE_FILE)
}

fn encode(hs: &HardState, block: usize) -> Result<Vec<u8>, StorageError> {
    let archive = rkyv::to_bytes::<BoxedError>(hs)
        .map_err(|e| StorageError::InvalidArgument(format!("cannot serialize hard state: {e}")))?;
    let mut out = Vec::with_capacity(block);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(archive.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(&archive).to_le_bytes());
    out.extend_from_slice(&archive);
    let padded = out.len().div_ceil(block) * block;
    out.resize(padded, 0);
    Ok(out)
}

fn decode(bytes: &[u8], path: &Path) -> Result<HardState, StorageError> {
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
    let len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
    let stored = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
    let Some(payload) = bytes.get(HEADER_LEN..HEADER_LEN.saturating_add(len)) else {
        return Err(corrupt(
            8,
            format!("length {len} runs past the end of the file"),
        ));
    };
    let computed = crc32c::crc32c(payload);
    if computed != stored {
        return Err(corrupt(
            HEADER_LEN,
            format!("crc mismatch (stored {stored:#010x}, computed {computed:#010x})"),
        ));
    }
    let mut aligned = AlignedVec::<FRAME_ALIGN>::with_capacity(payload.len());
    aligned.extend_from_slice(payload);
    let archived = rkyv::access::<ArchivedHardState, BoxedError>(&aligned)
        .map_err(|e| corrupt(HEADER_LEN, format!("crc ok but archive is invalid: {e}")))?;
    rkyv::deserialize::<HardState, BoxedError>(archived)
        .map_err(|e| corrupt(HEADER_LEN, format!("cannot deserialize: {e}")))
}

/// Durably replaces the hard state in `dir` (which must exist). Runs on a glommio
/// executor; no blocking calls. Costs two journal commits (file, then directory), so save
/// on term/vote changes, not on every commit-index advance.
pub async fn save_hard_state(dir: impl AsRef<Path>, hs: &HardState) -> Result<(), StorageError> {
    let dir = dir.as_ref();
    dma::prime_dma(&dir.join("log")).await?;
    let tmp = dir.join(HARD_STATE_TMP);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .dma_open(&tmp)
        .await
        .map_err(|e| StorageError::io("creating", &tmp, e))?;
    let data = encode(hs, dma::block_size(&file) as usize)?;
    let written = match dma::write_all_at(&file, &tmp, &data, 0).await {
        Ok(()) => dma::fdatasync(&file, &tmp).await,
        Err(e) => Err(e),
    };
    let closed = file
        .close()
        .await
        .map_err(|e| StorageError::io("closing", &tmp, e));
    written.and(closed)?;
    let path = hard_state_path(dir);
    glommio::io::rename(&tmp, &path)
        .await
        .map_err(|e| StorageError::io("renaming to", &path, e))?;
    dma::sync_dir(dir).await
}

/// The hard state saved in `dir`, `None` if none was ever saved. A leftover
/// `raft-state.tmp` (a save cut short) is ignored. A damaged `raft-state` is `Corrupt`.
pub async fn load_hard_state(dir: impl AsRef<Path>) -> Result<Option<HardState>, StorageError> {
    let dir = dir.as_ref();
    dma::prime_dma(&dir.join("log")).await?;
    let path = hard_state_path(dir);
    let file = match DmaFile::open(&path).await {
        Ok(f) => f,
        Err(e) => {
            let e: io::Error = e.into();
            if e.kind() == io::ErrorKind::NotFound {
                return Ok(None);
            }
            return Err(StorageError::io("opening", &path, e));
        }
    };
    let read = async {
        let size = dma::file_size(&file, &path).await?;
        dma::read_range(&file, &path, 0, size as usize).await
    }
    .await;
    let closed = file
        .close()
        .await
        .map_err(|e| StorageError::io("closing", &path, e));
    let bytes = read?;
    closed?;
    decode(&bytes, &path).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip_and_every_byte_flip_is_caught() {
        let hs = HardState {
            term: 7,
            vote: 3,
            commit: 42,
        };
        let bytes = encode(&hs, 4096).unwrap();
        let p = Path::new("/x/raft-state");
        assert_eq!(decode(&bytes, p).unwrap(), hs);
        let used =
            HEADER_LEN + u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
        for i in 0..used {
            let mut b = bytes.clone();
            b[i] ^= 0x40;
            let err = decode(&b, p).unwrap_err();
            assert!(err.is_corrupt(), "flip at {i}: {err}");
            assert!(err.to_string().contains("/x/raft-state"));
        }
        assert!(decode(&bytes[..10], p).unwrap_err().is_corrupt());
    }
}
