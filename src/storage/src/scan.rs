//! Pure classification of one segment's bytes at recovery: where the good frames are,
//! where (and why) decoding stopped, and whether any valid frame follows the damage.
//! Deciding "torn tail" versus "corrupt" from this is the caller's job.
use rkyv::util::AlignedVec;

use crate::frame::{decode_frame, Decoded, FrameInfo, FRAME_ALIGN, FRAME_HEADER_LEN};

/// Where decoding of a segment stopped early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    /// Byte offset of the first byte that is not part of a good frame.
    pub offset: usize,
    pub detail: String,
    /// A well-formed frame in the wrong place (index gap): corruption wherever it is.
    pub index_gap: bool,
    /// Offset of a CRC- and archive-valid frame somewhere after `offset`, if any. A torn
    /// final write leaves none; bit rot in the middle of the data does.
    pub valid_frame_after: Option<usize>,
}

#[derive(Debug)]
pub struct SegmentScan {
    /// Good frames in order, with offsets within the segment.
    pub frames: Vec<FrameInfo>,
    /// Byte offset just past the last good frame.
    pub end: usize,
    pub damage: Option<Damage>,
}

/// Scans `bytes` (a whole segment) whose first frame must carry `first_index`.
pub fn scan_segment(bytes: &[u8], first_index: u64) -> SegmentScan {
    let mut scratch = AlignedVec::new();
    let mut frames: Vec<FrameInfo> = Vec::new();
    let mut pos = 0usize;
    let mut expected = first_index;
    let damage = loop {
        match decode_frame(&bytes[pos..], &mut scratch) {
            Ok(Decoded::End) => {
                let rest = &bytes[pos..];
                match rest.iter().position(|&b| b != 0) {
                    None => break None,
                    Some(_) => {
                        break Some(Damage {
                            offset: pos,
                            detail: "non-zero bytes after the end-of-data marker".to_string(),
                            index_gap: false,
                            valid_frame_after: None,
                        })
                    }
                }
            }
            Ok(Decoded::Frame(mut info)) => {
                if info.index != expected {
                    break Some(Damage {
                        offset: pos,
                        detail: format!(
                            "index gap: expected index {expected}, found {}",
                            info.index
                        ),
                        index_gap: true,
                        valid_frame_after: None,
                    });
                }
                info.offset = pos;
                pos += info.len;
                expected = expected.wrapping_add(1);
                frames.push(info);
            }
            Err(kind) => {
                break Some(Damage {
                    offset: pos,
                    detail: kind.to_string(),
                    index_gap: false,
                    valid_frame_after: None,
                })
            }
        }
    };
    let damage = damage.map(|mut d| {
        if !d.index_gap {
            d.valid_frame_after = find_valid_frame(bytes, d.offset + FRAME_ALIGN, &mut scratch);
        }
        d
    });
    SegmentScan {
        frames,
        end: pos,
        damage,
    }
}

/// First offset at or after `from` (16-aligned) where a CRC- and archive-valid frame
/// starts. Cheap on zeros and garbage: most candidate lengths are 0 or out of range.
fn find_valid_frame(
    bytes: &[u8],
    from: usize,
    scratch: &mut AlignedVec<FRAME_ALIGN>,
) -> Option<usize> {
    let mut off = from;
    while off + FRAME_HEADER_LEN <= bytes.len() {
        let len = u32::from_le_bytes([bytes[off], bytes[off + 1], bytes[off + 2], bytes[off + 3]]);
        if len != 0 && (len as usize) <= bytes.len() - off - FRAME_HEADER_LEN {
            if let Ok(Decoded::Frame(_)) = decode_frame(&bytes[off..], scratch) {
                return Some(off);
            }
        }
        off += FRAME_ALIGN;
    }
    None
}
