//! Cheap read-only accessors for the driver's hot path (`status()` clones the membership
//! and every peer's progress; these copy one field).
use crate::types::{NodeId, Term};
use crate::Role;

impl crate::RaftNode {
    pub fn status_leader(&self) -> Option<NodeId> {
        self.leader
    }

    pub fn current_term(&self) -> Term {
        self.term
    }

    /// Index of the Config entry (or snapshot) the membership in force comes from.
    pub fn conf_index(&self) -> crate::types::Index {
        self.conf_index
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// Ticks since the leader was last heard from (0 on the leader).
    pub fn ticks_since_leader_contact(&self) -> u32 {
        if self.role == Role::Leader {
            0
        } else {
            self.leader_contact
        }
    }
}
