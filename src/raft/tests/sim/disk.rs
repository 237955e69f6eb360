//! Simulated disk: only what a finished persist wrote survives a crash.
use crate::kv::Sm;
use ballast_raft::{Bootstrap, ConfState, Entry, HardState, Index, SnapshotMeta};

#[derive(Clone, Debug, Default)]
pub struct Disk {
    pub hard: HardState,
    /// Snapshot metadata plus the state machine it captures.
    pub snapshot: Option<(SnapshotMeta, Sm)>,
    /// Log entries after the snapshot.
    pub entries: Vec<Entry>,
    pub initial_conf: ConfState,
}

impl Disk {
    pub fn snap_index(&self) -> Index {
        self.snapshot.as_ref().map_or(0, |s| s.0.index)
    }

    pub fn last_index(&self) -> Index {
        self.snap_index() + self.entries.len() as u64
    }

    pub fn entry(&self, i: Index) -> Option<&Entry> {
        let s = self.snap_index();
        if i <= s {
            return None;
        }
        self.entries.get((i - s - 1) as usize)
    }

    /// Truncates from `ents[0].index` and appends; panics on a gap (a core bug).
    pub fn write_entries(&mut self, ents: &[Entry]) {
        let Some(first) = ents.first() else { return };
        assert!(
            first.index <= self.last_index() + 1 && first.index > self.snap_index(),
            "Ready entries start at {} but disk holds ({}, {}]",
            first.index,
            self.snap_index(),
            self.last_index()
        );
        let keep = (first.index - self.snap_index() - 1) as usize;
        self.entries.truncate(keep);
        for (k, e) in ents.iter().enumerate() {
            assert_eq!(
                e.index,
                first.index + k as u64,
                "Ready entries not contiguous"
            );
        }
        self.entries.extend_from_slice(ents);
    }

    pub fn install_snapshot(&mut self, meta: SnapshotMeta, sm: Sm) {
        self.entries.clear();
        self.snapshot = Some((meta, sm));
    }

    /// Drops entries covered by a local snapshot at `meta.index`.
    pub fn compact(&mut self, meta: SnapshotMeta, sm: Sm) {
        let drop = (meta.index - self.snap_index()) as usize;
        self.entries.drain(..drop.min(self.entries.len()));
        self.snapshot = Some((meta, sm));
    }

    pub fn bootstrap(&self) -> Bootstrap {
        Bootstrap {
            hard_state: self.hard,
            conf: self
                .snapshot
                .as_ref()
                .map_or_else(|| self.initial_conf.clone(), |s| s.0.conf.clone()),
            snapshot: self.snapshot.as_ref().map(|s| s.0.clone()),
            entries: self.entries.clone(),
        }
    }
}
