//! Log record framing: the exact bytes written to segment files and shipped to followers.
//!
//! A frame is a 16-byte header `[len u32 LE][crc32c u32 LE of payload][index u64 LE]`,
//! then `len` bytes of rkyv archive of an `Entry`, then zero padding to a multiple of 16.
//! Frames are position independent, so a follower can write the leader's bytes at any
//! offset of its own segments. A header of 16 zero bytes marks the end of data.
//!
//! Every byte is covered: the CRC covers the payload (and so, indirectly, `len`), the
//! header index must equal the archived index, and padding must be zero.
use std::fmt;

use ballast_raft::{ArchivedEntry, Entry};
use rkyv::rancor::{BoxedError, Failure};
use rkyv::util::AlignedVec;

/// Frames start at multiples of this in files, in read buffers and in shipped batches.
pub const FRAME_ALIGN: usize = 16;
pub const FRAME_HEADER_LEN: usize = 16;
/// Largest payload we frame; keeps `len` far from u32 overflow and rkyv's i32 offsets.
pub const MAX_FRAME_PAYLOAD: usize = 1 << 30;

/// Where one frame sits in a batch or file and what it carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    pub index: u64,
    pub term: u64,
    /// Byte offset of the frame header within the buffer that was decoded.
    pub offset: usize,
    /// Whole frame length: header + payload + padding.
    pub len: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameErrorKind {
    /// Fewer than 16 bytes left where a header should be, and they are not all zero.
    TruncatedHeader {
        available: usize,
    },
    /// Header says length 0 (end of data) but its other bytes are not zero.
    ZeroLengthNonZeroHeader,
    /// An all-zero header (the end-of-data marker of a file) inside a shipped batch.
    ZeroHeaderInBatch,
    /// Header length runs past the end of the buffer (or is absurdly large).
    LengthOutOfBounds {
        len: u32,
        available: usize,
    },
    CrcMismatch {
        stored: u32,
        computed: u32,
    },
    /// CRC matched but the rkyv archive does not validate; `detail` is bytecheck's
    /// explanation (always the detailed error type, even in release builds).
    InvalidArchive {
        detail: String,
    },
    /// Header index and archived `Entry::index` disagree.
    IndexMismatch {
        header: u64,
        archived: u64,
    },
    NonZeroPadding,
    /// A valid frame whose index does not follow the previous one.
    IndexGap {
        expected: u64,
        found: u64,
    },
}

/// A frame that failed to decode, with the byte offset of its header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameError {
    pub offset: usize,
    pub kind: FrameErrorKind,
}

impl fmt::Display for FrameErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameErrorKind::TruncatedHeader { available } => {
                write!(f, "truncated frame header ({available} bytes left)")
            }
            FrameErrorKind::ZeroLengthNonZeroHeader => {
                write!(f, "frame header has length 0 but non-zero crc/index bytes")
            }
            FrameErrorKind::ZeroHeaderInBatch => {
                write!(f, "zero frame header (end-of-data marker) inside a batch")
            }
            FrameErrorKind::LengthOutOfBounds { len, available } => write!(
                f,
                "frame length {len} does not fit in the {available} bytes left"
            ),
            FrameErrorKind::CrcMismatch { stored, computed } => write!(
                f,
                "crc mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
            FrameErrorKind::InvalidArchive { detail } => {
                write!(f, "crc ok but entry archive is invalid: {detail}")
            }
            FrameErrorKind::IndexMismatch { header, archived } => write!(
                f,
                "frame header says index {header} but the entry inside says {archived}"
            ),
            FrameErrorKind::NonZeroPadding => write!(f, "non-zero bytes in frame padding"),
            FrameErrorKind::IndexGap { expected, found } => {
                write!(f, "index gap: expected index {expected}, found {found}")
            }
        }
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "frame at offset {}: {}", self.offset, self.kind)
    }
}

impl std::error::Error for FrameError {}

pub(crate) const fn align16(n: usize) -> usize {
    (n + (FRAME_ALIGN - 1)) & !(FRAME_ALIGN - 1)
}

/// Appends one frame for `entry` to `out` (whose length must be a multiple of 16).
pub(crate) fn encode_frame_into(entry: &Entry, out: &mut Vec<u8>) -> Result<FrameInfo, String> {
    if entry.data.len() > MAX_FRAME_PAYLOAD - 256 {
        return Err(format!(
            "entry {} carries {} bytes, more than the {} a frame can hold",
            entry.index,
            entry.data.len(),
            MAX_FRAME_PAYLOAD - 256
        ));
    }
    debug_assert_eq!(out.len() % FRAME_ALIGN, 0);
    let start = out.len();
    out.extend_from_slice(&[0u8; FRAME_HEADER_LEN]);
    let payload_start = out.len();
    // Serializing in place keeps one allocation per batch; offsets inside an rkyv
    // archive are relative, and `payload_start` is 16-aligned, so the archive is
    // byte-identical to one serialized on its own.
    let taken = std::mem::take(out);
    match rkyv::api::high::to_bytes_in::<_, BoxedError>(entry, taken) {
        Ok(v) => *out = v,
        Err(e) => return Err(format!("cannot serialize entry {}: {e}", entry.index)),
    }
    let payload_len = out.len() - payload_start;
    let crc = crc32c::crc32c(&out[payload_start..]);
    out[start..start + 4].copy_from_slice(&(payload_len as u32).to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    out[start + 8..start + 16].copy_from_slice(&entry.index.to_le_bytes());
    out.resize(start + FRAME_HEADER_LEN + align16(payload_len), 0);
    Ok(FrameInfo {
        index: entry.index,
        term: entry.term,
        offset: start,
        len: out.len() - start,
    })
}

/// The frames of `entries`, concatenated: the bytes `RaftLog::append` writes and the
/// leader ships. Fails only for an entry too large to frame.
pub fn encode_frames(entries: &[Entry]) -> Result<Vec<u8>, crate::StorageError> {
    encode_frames_with_info(entries).map(|(bytes, _)| bytes)
}

pub(crate) fn encode_frames_with_info(
    entries: &[Entry],
) -> Result<(Vec<u8>, Vec<FrameInfo>), crate::StorageError> {
    let estimate: usize = entries.iter().map(|e| e.data.len() + 64).sum();
    let mut out = Vec::with_capacity(estimate);
    let mut infos = Vec::with_capacity(entries.len());
    for entry in entries {
        let info =
            encode_frame_into(entry, &mut out).map_err(crate::StorageError::InvalidArgument)?;
        infos.push(info);
    }
    Ok((out, infos))
}

/// Result of decoding at one position.
pub(crate) enum Decoded {
    /// 16 zero bytes (or only zero bytes left): no more frames.
    End,
    Frame(FrameInfo),
}

/// Validates an entry archive. rkyv needs the archive aligned; network buffers
/// (`Vec<u8>`) are not, so a misaligned payload is copied into `scratch` first.
pub(crate) fn access_entry<'a>(
    payload: &'a [u8],
    scratch: &'a mut AlignedVec<FRAME_ALIGN>,
) -> Result<&'a ArchivedEntry, FrameErrorKind> {
    let bytes: &'a [u8] = if (payload.as_ptr() as usize).is_multiple_of(FRAME_ALIGN) {
        payload
    } else {
        scratch.clear();
        scratch.extend_from_slice(payload);
        &scratch[..]
    };
    match rkyv::access::<ArchivedEntry, Failure>(bytes) {
        Ok(archived) => Ok(archived),
        // Slow path only on failure: the detailed error type says *what* failed
        // (pitfall 6: `rancor::Error` is opaque in release builds).
        Err(_) => Err(FrameErrorKind::InvalidArchive {
            detail: match rkyv::access::<ArchivedEntry, BoxedError>(bytes) {
                Err(e) => e.to_string(),
                Ok(_) => "validation failed once and passed on retry".to_string(),
            },
        }),
    }
}

/// Decodes the frame at the start of `buf`. Never panics, whatever the bytes.
pub(crate) fn decode_frame(
    buf: &[u8],
    scratch: &mut AlignedVec<FRAME_ALIGN>,
) -> Result<Decoded, FrameErrorKind> {
    if buf.len() < FRAME_HEADER_LEN {
        return if buf.iter().all(|&b| b == 0) {
            Ok(Decoded::End)
        } else {
            Err(FrameErrorKind::TruncatedHeader {
                available: buf.len(),
            })
        };
    }
    let len = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
    let stored_crc = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]);
    let mut index_bytes = [0u8; 8];
    index_bytes.copy_from_slice(&buf[8..16]);
    let header_index = u64::from_le_bytes(index_bytes);
    if len == 0 {
        return if stored_crc == 0 && header_index == 0 {
            Ok(Decoded::End)
        } else {
            Err(FrameErrorKind::ZeroLengthNonZeroHeader)
        };
    }
    let available = buf.len() - FRAME_HEADER_LEN;
    let payload_len = len as usize;
    if payload_len > MAX_FRAME_PAYLOAD || align16(payload_len) > available {
        return Err(FrameErrorKind::LengthOutOfBounds { len, available });
    }
    let payload = &buf[FRAME_HEADER_LEN..FRAME_HEADER_LEN + payload_len];
    let computed = crc32c::crc32c(payload);
    if computed != stored_crc {
        return Err(FrameErrorKind::CrcMismatch {
            stored: stored_crc,
            computed,
        });
    }
    let padding = &buf[FRAME_HEADER_LEN + payload_len..FRAME_HEADER_LEN + align16(payload_len)];
    if padding.iter().any(|&b| b != 0) {
        return Err(FrameErrorKind::NonZeroPadding);
    }
    let archived = access_entry(payload, scratch)?;
    let archived_index = archived.index.to_native();
    if archived_index != header_index {
        return Err(FrameErrorKind::IndexMismatch {
            header: header_index,
            archived: archived_index,
        });
    }
    Ok(Decoded::Frame(FrameInfo {
        index: header_index,
        term: archived.term.to_native(),
        offset: 0,
        len: FRAME_HEADER_LEN + align16(payload_len),
    }))
}

/// Checks a batch of frames as received from a leader: every frame valid, indexes
/// consecutive, no trailing bytes. Returns where each frame is. An empty input is an
/// empty batch.
pub fn verify_frames(bytes: &[u8]) -> Result<Vec<FrameInfo>, FrameError> {
    let mut scratch = AlignedVec::new();
    let mut infos: Vec<FrameInfo> = Vec::new();
    let mut pos = 0usize;
    while pos < bytes.len() {
        let err = |kind| FrameError { offset: pos, kind };
        match decode_frame(&bytes[pos..], &mut scratch).map_err(err)? {
            // A batch has no end marker: zeros inside it are an error, not the end.
            Decoded::End => return Err(err(FrameErrorKind::ZeroHeaderInBatch)),
            Decoded::Frame(mut info) => {
                if let Some(prev) = infos.last() {
                    if info.index != prev.index.wrapping_add(1) {
                        return Err(err(FrameErrorKind::IndexGap {
                            expected: prev.index.wrapping_add(1),
                            found: info.index,
                        }));
                    }
                }
                info.offset = pos;
                pos += info.len;
                infos.push(info);
            }
        }
    }
    Ok(infos)
}

/// Verifies `bytes` like [`verify_frames`] and returns the entries they carry.
pub fn decode_entries(bytes: &[u8]) -> Result<Vec<Entry>, FrameError> {
    let infos = verify_frames(bytes)?;
    let mut scratch = AlignedVec::new();
    let mut entries = Vec::with_capacity(infos.len());
    for info in infos {
        entries.push(entry_at(bytes, &info, &mut scratch)?);
    }
    Ok(entries)
}

/// Deserializes the entry of an already verified frame.
pub(crate) fn entry_at(
    bytes: &[u8],
    info: &FrameInfo,
    scratch: &mut AlignedVec<FRAME_ALIGN>,
) -> Result<Entry, FrameError> {
    let err = |kind| FrameError {
        offset: info.offset,
        kind,
    };
    let header = bytes
        .get(info.offset..info.offset + FRAME_HEADER_LEN)
        .ok_or_else(|| {
            err(FrameErrorKind::TruncatedHeader {
                available: bytes.len().saturating_sub(info.offset),
            })
        })?;
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let start = info.offset + FRAME_HEADER_LEN;
    let payload = bytes.get(start..start + len).ok_or_else(|| {
        err(FrameErrorKind::LengthOutOfBounds {
            len: len as u32,
            available: bytes.len().saturating_sub(start),
        })
    })?;
    let archived = access_entry(payload, scratch).map_err(err)?;
    rkyv::deserialize::<Entry, BoxedError>(archived).map_err(|e| {
        err(FrameErrorKind::InvalidArchive {
            detail: e.to_string(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ballast_raft::EntryKind;

    fn sample(index: u64, len: usize) -> Entry {
        Entry {
            term: 3,
            index,
            kind: EntryKind::Config,
            data: (0..len).map(|i| i as u8).collect(),
        }
    }

    #[test]
    fn round_trip_and_layout() {
        let entries: Vec<_> = (5..9).map(|i| sample(i, i as usize * 3)).collect();
        let bytes = encode_frames(&entries).unwrap();
        assert_eq!(bytes.len() % FRAME_ALIGN, 0);
        let infos = verify_frames(&bytes).unwrap();
        assert_eq!(
            infos.iter().map(|i| i.index).collect::<Vec<_>>(),
            vec![5, 6, 7, 8]
        );
        assert!(infos
            .iter()
            .all(|i| i.offset % FRAME_ALIGN == 0 && i.term == 3));
        assert_eq!(decode_entries(&bytes).unwrap(), entries);
        assert!(verify_frames(&[]).unwrap().is_empty());
    }

    #[test]
    fn every_single_byte_flip_in_a_frame_is_detected() {
        let bytes = encode_frames(&[sample(42, 21)]).unwrap();
        for i in 0..bytes.len() {
            for bit in [0x01u8, 0x80] {
                let mut b = bytes.clone();
                b[i] ^= bit;
                let err = verify_frames(&b).expect_err("flip must be caught");
                assert_eq!(err.offset, 0, "byte {i}");
            }
        }
    }

    #[test]
    fn invalid_archive_reports_what_failed() {
        // Valid CRC over a payload that is not an Entry archive: bytecheck explains.
        let payload = [0xffu8; 48];
        let mut frame = Vec::new();
        frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        frame.extend_from_slice(&crc32c::crc32c(&payload).to_le_bytes());
        frame.extend_from_slice(&1u64.to_le_bytes());
        frame.extend_from_slice(&payload);
        let err = verify_frames(&frame).unwrap_err();
        match err.kind {
            FrameErrorKind::InvalidArchive { ref detail } => {
                assert!(
                    !detail.is_empty() && !detail.contains("enable debug assertions"),
                    "{detail}"
                )
            }
            other => panic!("expected InvalidArchive, got {other}"),
        }
    }

    #[test]
    fn batches_must_be_consecutive_and_have_no_zeros() {
        let mut bytes = encode_frames(&[sample(1, 3)]).unwrap();
        bytes.extend(encode_frames(&[sample(3, 3)]).unwrap());
        let err = verify_frames(&bytes).unwrap_err();
        assert_eq!(
            err.kind,
            FrameErrorKind::IndexGap {
                expected: 2,
                found: 3
            }
        );
        let mut zeros = encode_frames(&[sample(1, 3)]).unwrap();
        zeros.extend([0u8; 16]);
        assert!(verify_frames(&zeros).is_err());
    }
}
