//! The in-memory Raft log: entries after the last compaction point, plus the
//! stable/committed/applied cursors. Entries past `stable` are handed to the driver in
//! `Ready::entries` and become stable on `advance`.
use crate::types::{Entry, Index, Term};
use std::collections::VecDeque;

#[derive(Debug)]
pub(crate) struct RaftLog {
    /// Compaction point: index and term of the last entry folded into a snapshot.
    snap_index: Index,
    snap_term: Term,
    /// Entries `snap_index+1 ..= last_index()`.
    entries: VecDeque<Entry>,
    /// Highest index known durable on this node's disk.
    pub(crate) stable: Index,
    pub(crate) committed: Index,
    pub(crate) applied: Index,
    /// Highest index already handed out in `committed_entries`.
    pub(crate) apply_emitted: Index,
}

impl RaftLog {
    pub(crate) fn new(
        snap_index: Index,
        snap_term: Term,
        entries: Vec<Entry>,
        committed: Index,
    ) -> Self {
        let last = snap_index + entries.len() as u64;
        Self {
            snap_index,
            snap_term,
            entries: entries.into(),
            stable: last,
            committed,
            applied: snap_index,
            apply_emitted: snap_index,
        }
    }

    pub(crate) fn snap_index(&self) -> Index {
        self.snap_index
    }
    pub(crate) fn snap_term(&self) -> Term {
        self.snap_term
    }
    pub(crate) fn first_index(&self) -> Index {
        self.snap_index + 1
    }
    pub(crate) fn last_index(&self) -> Index {
        self.snap_index + self.entries.len() as u64
    }
    pub(crate) fn last_term(&self) -> Term {
        self.entries.back().map_or(self.snap_term, |e| e.term)
    }

    /// Term of `index`, `None` if compacted away or beyond the log.
    pub(crate) fn term(&self, index: Index) -> Option<Term> {
        if index == self.snap_index {
            return Some(self.snap_term);
        }
        self.get(index).map(|e| e.term)
    }

    pub(crate) fn get(&self, index: Index) -> Option<&Entry> {
        if index <= self.snap_index {
            return None;
        }
        self.entries.get((index - self.snap_index - 1) as usize)
    }

    pub(crate) fn match_term(&self, index: Index, term: Term) -> bool {
        self.term(index) == Some(term)
    }

    /// §5.4.1: a candidate's log is at least as up to date as ours.
    pub(crate) fn is_up_to_date(&self, last_index: Index, last_term: Term) -> bool {
        last_term > self.last_term()
            || (last_term == self.last_term() && last_index >= self.last_index())
    }

    /// First index in `ents` that is missing here or has another term; 0 when all match.
    pub(crate) fn find_conflict(&self, ents: &[Entry]) -> Index {
        ents.iter()
            .find(|e| !self.match_term(e.index, e.term))
            .map_or(0, |e| e.index)
    }

    /// Largest index `<= index` whose term is `<= term` (fast backtracking). Stops at the
    /// compaction point, where the term is known too.
    pub(crate) fn find_conflict_by_term(&self, index: Index, term: Term) -> (Index, Term) {
        let mut i = index.min(self.last_index());
        loop {
            match self.term(i) {
                Some(t) if t > term && i > self.snap_index => i -= 1,
                Some(t) => return (i, t),
                None => return (i, 0),
            }
        }
    }

    /// Appends entries that follow on (possibly after truncating a conflicting tail).
    /// `ents[0].index` must be in `first_index ..= last_index+1`. Returns the truncation
    /// point when entries were dropped.
    pub(crate) fn append(&mut self, ents: &[Entry]) -> Option<Index> {
        let first = ents.first()?;
        let mut truncated = None;
        if first.index <= self.last_index() {
            let keep = (first.index - self.snap_index - 1) as usize;
            self.entries.truncate(keep);
            self.stable = self.stable.min(first.index - 1);
            truncated = Some(first.index);
        }
        self.entries.extend(ents.iter().cloned());
        truncated
    }

    pub(crate) fn push(&mut self, e: Entry) {
        self.entries.push_back(e);
    }

    /// Entries from `lo` bounded by count and bytes (at least one when any exists).
    /// `None` when `lo` is compacted away.
    pub(crate) fn entries_from(
        &self,
        lo: Index,
        max_count: usize,
        max_bytes: usize,
    ) -> Option<Vec<Entry>> {
        if lo <= self.snap_index {
            return None;
        }
        let mut out = Vec::new();
        let mut bytes = 0usize;
        let mut i = lo;
        while let Some(e) = self.get(i) {
            if !out.is_empty() && (out.len() >= max_count || bytes + e.data.len() > max_bytes) {
                break;
            }
            bytes += e.data.len();
            out.push(e.clone());
            i += 1;
        }
        Some(out)
    }

    pub(crate) fn unstable_entries(&self) -> Vec<Entry> {
        let from = (self.stable.max(self.snap_index) - self.snap_index) as usize;
        self.entries.iter().skip(from).cloned().collect()
    }

    pub(crate) fn has_unstable(&self) -> bool {
        self.stable < self.last_index()
    }

    /// Marks durable up to `index` if the entry there still has `term` (an entry
    /// replaced while the driver was writing must be written again).
    pub(crate) fn stable_to(&mut self, index: Index, term: Term) {
        if index > self.stable && self.match_term(index, term) {
            self.stable = index;
        }
    }

    pub(crate) fn commit_to(&mut self, index: Index) -> bool {
        let index = index.min(self.last_index());
        if index > self.committed {
            self.committed = index;
            true
        } else {
            false
        }
    }

    pub(crate) fn has_next_committed(&self) -> bool {
        self.committed > self.apply_emitted.max(self.applied)
    }

    pub(crate) fn take_committed(&mut self, max_bytes: usize) -> Vec<Entry> {
        let lo = self.apply_emitted.max(self.applied) + 1;
        let mut out = Vec::new();
        let mut bytes = 0usize;
        let mut i = lo;
        while i <= self.committed {
            let Some(e) = self.get(i) else { break };
            if !out.is_empty() && bytes + e.data.len() > max_bytes {
                break;
            }
            bytes += e.data.len();
            out.push(e.clone());
            i += 1;
        }
        if let Some(e) = out.last() {
            self.apply_emitted = e.index;
        }
        out
    }

    /// Drops entries up to `index` (which must be applied and stable).
    pub(crate) fn compact_to(&mut self, index: Index) -> bool {
        if index <= self.snap_index || index > self.applied || index > self.stable {
            return false;
        }
        let Some(term) = self.term(index) else {
            return false;
        };
        let n = (index - self.snap_index) as usize;
        self.entries.drain(..n);
        self.snap_index = index;
        self.snap_term = term;
        true
    }

    /// Replaces the whole log with a snapshot received from the leader.
    pub(crate) fn restore(&mut self, index: Index, term: Term) {
        self.entries.clear();
        self.snap_index = index;
        self.snap_term = term;
        self.stable = index;
        self.committed = index;
        self.apply_emitted = index;
    }

    pub(crate) fn iter_rev(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().rev()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::EntryKind;

    fn e(index: Index, term: Term) -> Entry {
        Entry {
            index,
            term,
            kind: EntryKind::Normal,
            data: vec![index as u8],
        }
    }

    #[test]
    fn append_truncates_conflicting_tail_and_lowers_stable() {
        let mut log = RaftLog::new(0, 0, vec![e(1, 1), e(2, 1), e(3, 1)], 1);
        assert_eq!(log.stable, 3);
        assert_eq!(log.find_conflict(&[e(2, 1), e(3, 2), e(4, 2)]), 3);
        assert_eq!(log.append(&[e(3, 2), e(4, 2)]), Some(3));
        assert_eq!(log.stable, 2);
        assert_eq!(log.last_index(), 4);
        assert_eq!(log.term(3), Some(2));
        assert_eq!(
            log.unstable_entries()
                .iter()
                .map(|e| e.index)
                .collect::<Vec<_>>(),
            vec![3, 4]
        );
    }

    #[test]
    fn stable_to_ignores_replaced_entries() {
        let mut log = RaftLog::new(0, 0, vec![], 0);
        log.append(&[e(1, 1), e(2, 1)]);
        log.append(&[e(2, 2)]);
        log.stable_to(2, 1);
        assert_eq!(log.stable, 0);
        log.stable_to(2, 2);
        assert_eq!(log.stable, 2);
    }

    #[test]
    fn compaction_keeps_terms_and_backtracking_stops_there() {
        let mut log = RaftLog::new(0, 0, vec![e(1, 1), e(2, 1), e(3, 2), e(4, 3)], 4);
        log.applied = 4;
        assert!(!log.compact_to(5));
        assert!(log.compact_to(2));
        assert_eq!(log.first_index(), 3);
        assert_eq!(log.term(2), Some(1));
        assert_eq!(log.term(1), None);
        assert_eq!(log.entries_from(2, 10, 100), None);
        assert_eq!(log.find_conflict_by_term(4, 2), (3, 2));
        assert_eq!(log.find_conflict_by_term(4, 0), (2, 1));
    }

    #[test]
    fn committed_entries_respect_byte_limit_but_make_progress() {
        let mut log = RaftLog::new(0, 0, vec![e(1, 1), e(2, 1), e(3, 1)], 3);
        assert_eq!(log.take_committed(0).len(), 1);
        assert_eq!(log.take_committed(1).len(), 1);
        assert_eq!(log.take_committed(100).len(), 1);
        assert!(!log.has_next_committed());
    }
}
