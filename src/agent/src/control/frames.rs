//! The exact log-record bytes of recent entries, by index. The leader keeps the frames it
//! wrote so it ships them to followers without re-encoding; a follower keeps the frames it
//! received so it writes the leader's bytes as they are. Bounded by bytes: an entry that
//! fell out is re-encoded (same bytes: encoding is deterministic), never lost.
use std::collections::BTreeMap;
use std::rc::Rc;

use ballast_raft::{Entry, Index, Term};
use ballast_storage::{encode_frames, FRAME_HEADER_LEN};

pub struct FrameCache {
    frames: BTreeMap<Index, (Term, Rc<[u8]>)>,
    bytes: usize,
    cap: usize,
}

/// Lengths of each frame in a batch of frames (header says the payload length; frames
/// are padded to 16). Stops at anything that does not parse; callers verified the batch.
pub fn split_frames(batch: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + FRAME_HEADER_LEN <= batch.len() {
        let len = u32::from_le_bytes([batch[pos], batch[pos + 1], batch[pos + 2], batch[pos + 3]]) as usize;
        let total = FRAME_HEADER_LEN + ((len + 15) & !15);
        if len == 0 || pos + total > batch.len() {
            break;
        }
        out.push(&batch[pos..pos + total]);
        pos += total;
    }
    out
}

impl FrameCache {
    pub fn new(cap: usize) -> Self {
        FrameCache { frames: BTreeMap::new(), bytes: 0, cap }
    }

    pub fn insert(&mut self, index: Index, term: Term, frame: Rc<[u8]>) {
        self.bytes += frame.len();
        if let Some((_, old)) = self.frames.insert(index, (term, frame)) {
            self.bytes -= old.len();
        }
        while self.bytes > self.cap {
            let Some((_, (_, f))) = self.frames.pop_first() else { break };
            self.bytes -= f.len();
        }
    }

    /// Caches a received batch (already verified by the transport) for `entries`.
    pub fn insert_batch(&mut self, entries: &[Entry], batch: &[u8]) {
        let pieces = split_frames(batch);
        if pieces.len() != entries.len() {
            return;
        }
        for (e, f) in entries.iter().zip(pieces) {
            self.insert(e.index, e.term, Rc::from(f));
        }
    }

    /// The frames of `entries`, concatenated: cached bytes where the term matches, freshly
    /// encoded otherwise. New encodings are cached.
    pub fn frames_for(&mut self, entries: &[Entry]) -> Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(entries.iter().map(|e| e.data.len() + 48).sum());
        for e in entries {
            match self.frames.get(&e.index) {
                Some((t, f)) if *t == e.term => out.extend_from_slice(f),
                _ => {
                    let f: Rc<[u8]> = Rc::from(encode_frames(std::slice::from_ref(e)).map_err(|e| e.to_string())?);
                    out.extend_from_slice(&f);
                    self.insert(e.index, e.term, f);
                }
            }
        }
        Ok(out)
    }

    pub fn clear(&mut self) {
        self.frames.clear();
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ballast_raft::EntryKind;

    fn entry(i: u64, t: u64, n: usize) -> Entry {
        Entry { term: t, index: i, kind: EntryKind::Normal, data: vec![i as u8; n] }
    }

    #[test]
    fn cached_bytes_equal_fresh_encoding_and_split_round_trips() {
        let ents: Vec<Entry> = (1..=5).map(|i| entry(i, 2, 10 * i as usize)).collect();
        let batch = encode_frames(&ents).unwrap();
        assert_eq!(split_frames(&batch).len(), 5);
        let mut c = FrameCache::new(1 << 20);
        c.insert_batch(&ents, &batch);
        assert_eq!(c.frames_for(&ents).unwrap(), batch);
        // A different term at the same index is re-encoded, not served from the cache.
        let other = vec![entry(3, 3, 30)];
        assert_eq!(c.frames_for(&other).unwrap(), encode_frames(&other).unwrap());
    }

    #[test]
    fn bounded_by_bytes() {
        let mut c = FrameCache::new(1000);
        for i in 1..=100 {
            let e = entry(i, 1, 100);
            let _ = c.frames_for(std::slice::from_ref(&e)).unwrap();
        }
        assert!(c.bytes <= 1000);
        c.clear();
        assert_eq!(c.bytes, 0);
    }
}
