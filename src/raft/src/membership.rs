//! Membership: `Config` entries carry an rkyv `ConfState`; the newest one in the log is
//! in force from the moment it is appended (Raft thesis §4.1), one change at a time.
use crate::config::ProposeError;
use crate::types::{ConfState, Index, NodeId};

pub fn encode_conf(conf: &ConfState) -> Vec<u8> {
    // Serializing a plain struct of Vecs into memory cannot fail short of OOM.
    rkyv::to_bytes::<rkyv::rancor::Error>(conf)
        .map(|b| b.to_vec())
        .unwrap_or_default()
}

/// Decodes and validates a `Config` entry payload (copied to aligned memory first:
/// entry payloads carry no alignment guarantee).
pub fn decode_conf(data: &[u8]) -> Option<ConfState> {
    let mut aligned = rkyv::util::AlignedVec::<16>::with_capacity(data.len());
    aligned.extend_from_slice(data);
    rkyv::from_bytes::<ConfState, rkyv::rancor::Error>(&aligned).ok()
}

pub(crate) fn quorum(voters: usize) -> usize {
    voters / 2 + 1
}

/// Accepts `next` only if it differs from `cur` by at most one voter and is well formed.
pub(crate) fn check_single_change(cur: &ConfState, next: &ConfState) -> Result<(), ProposeError> {
    if next.voters.is_empty() {
        return Err(ProposeError::InvalidConfChange("no voters left"));
    }
    if next.voters.contains(&0) || next.learners.contains(&0) {
        return Err(ProposeError::InvalidConfChange("node id 0 is reserved"));
    }
    let dup = |v: &Vec<NodeId>| (1..v.len()).any(|i| v[..i].contains(&v[i]));
    if dup(&next.voters) || dup(&next.learners) {
        return Err(ProposeError::InvalidConfChange("duplicate node id"));
    }
    if next.voters.iter().any(|v| next.learners.contains(v)) {
        return Err(ProposeError::InvalidConfChange(
            "a node cannot be voter and learner",
        ));
    }
    let added = next
        .voters
        .iter()
        .filter(|v| !cur.voters.contains(v))
        .count();
    let removed = cur
        .voters
        .iter()
        .filter(|v| !next.voters.contains(v))
        .count();
    if added + removed > 1 {
        return Err(ProposeError::InvalidConfChange(
            "more than one voter changes at once",
        ));
    }
    Ok(())
}

/// Newest config in `entries` (iterated newest first), or `None`.
pub(crate) fn latest_in<'a>(
    mut newest_first: impl Iterator<Item = &'a crate::types::Entry>,
) -> Option<(Index, ConfState)> {
    newest_first
        .find(|e| e.kind == crate::types::EntryKind::Config)
        .and_then(|e| decode_conf(&e.data).map(|c| (e.index, c)))
}

impl crate::RaftNode {
    /// A Config entry at `index` was appended: it is in force from now on.
    pub(crate) fn set_conf(&mut self, index: Index, conf: ConfState) {
        self.conf = conf;
        self.conf_index = index;
        if self.role == crate::ready::Role::Leader {
            self.sync_progress();
        }
    }

    /// After a truncation removed the entry that set the membership.
    pub(crate) fn recompute_conf(&mut self) {
        let (index, conf) = latest_in(self.log.iter_rev())
            .unwrap_or_else(|| (self.log.snap_index(), self.base_conf.clone()));
        self.set_conf(index, conf);
    }

    /// Membership in force right after `index` was appended.
    pub(crate) fn conf_at(&self, index: Index) -> ConfState {
        latest_in(self.log.iter_rev().skip_while(|e| e.index > index))
            .map_or_else(|| self.base_conf.clone(), |(_, c)| c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cs(v: &[NodeId], l: &[NodeId]) -> ConfState {
        ConfState {
            voters: v.to_vec(),
            learners: l.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn conf_round_trips_and_garbage_is_rejected() {
        let c = cs(&[1, 2, 3], &[9]);
        assert_eq!(decode_conf(&encode_conf(&c)), Some(c));
        let with_servers = ConfState {
            servers: vec![
                crate::types::ServerInfo {
                    id: 1,
                    address: "10.0.0.1:8300".into(),
                    node: "alpha".into(),
                    node_id: "0b7c5e1a-0000-4000-8000-000000000001".into(),
                },
                crate::types::ServerInfo {
                    id: 9,
                    address: "[::1]:8300".into(),
                    node: "ñode-9".into(),
                    node_id: String::new(),
                },
            ],
            ..cs(&[1, 2, 3], &[9])
        };
        let back = decode_conf(&encode_conf(&with_servers)).expect("decodes");
        assert_eq!(back, with_servers);
        assert_eq!(
            back.server(9).map(|s| s.address.as_str()),
            Some("[::1]:8300")
        );
        assert_eq!(back.server(2), None);
        assert_eq!(decode_conf(&[1, 2, 3]), None);
    }

    #[test]
    fn only_single_voter_changes_pass() {
        let cur = cs(&[1, 2, 3], &[4]);
        assert!(check_single_change(&cur, &cs(&[1, 2, 3, 4], &[])).is_ok());
        assert!(check_single_change(&cur, &cs(&[1, 2], &[4, 3])).is_ok());
        assert!(check_single_change(&cur, &cs(&[1, 2, 3], &[4, 5])).is_ok());
        assert!(check_single_change(&cur, &cs(&[1, 4, 5], &[])).is_err());
        assert!(check_single_change(&cur, &cs(&[1, 2, 3], &[3])).is_err());
        assert!(check_single_change(&cur, &cs(&[], &[1])).is_err());
    }
}
