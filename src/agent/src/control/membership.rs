//! Membership changes on the leader, one server at a time through the log: servers join
//! as non-voters and are promoted once caught up (unless they are read replicas);
//! operators remove servers and hand leadership over.
use ballast_http::BackendError;
use ballast_raft::{encode_conf, ConfState, EntryKind, Index, NodeId, ServerInfo};

use super::proto::Response;
use super::state::Control;
use crate::gossip::KnownServer;
use crate::messages::OperatorOp;

impl Control {
    /// Carries out an operator request on the leader. `Some(index)`: answer once the
    /// Config entry at `index` is applied.
    pub fn operate(&mut self, op: &OperatorOp) -> Result<Option<Index>, BackendError> {
        match op {
            OperatorOp::RemovePeer { by_id, key } => {
                let conf = self.raft.status().conf;
                let found = conf.servers.iter().find(|s| if *by_id { &s.node_id == key } else { &s.address == key });
                let Some(target) = found.map(|s| s.id) else {
                    let what = if *by_id { "id" } else { "address" };
                    return Err(BackendError::Internal(format!("{what} {key:?} was not found in the Raft configuration")));
                };
                let mut next = conf.clone();
                next.voters.retain(|v| *v != target);
                next.learners.retain(|v| *v != target);
                next.servers.retain(|s| s.id != target);
                self.propose_conf(next).map(Some)
            }
            // Answered from the cluster view before it gets here.
            OperatorOp::Configuration => Ok(None),
            OperatorOp::TransferLeader { to } => {
                let st = self.raft.status();
                let target = if to.is_empty() {
                    // The most caught-up other voter, as hashicorp/raft picks.
                    st.peers
                        .iter()
                        .filter(|p| p.id != self.me.id && st.conf.voters.contains(&p.id))
                        .max_by_key(|p| p.match_index)
                        .map(|p| p.id)
                } else {
                    st.conf.servers.iter().find(|s| &s.node_id == to).map(|s| s.id)
                };
                let Some(target) = target else {
                    return Err(BackendError::Internal(if to.is_empty() {
                        "cannot find peer".into()
                    } else {
                        format!("cannot find peer {to}")
                    }));
                };
                if !st.conf.voters.contains(&target) {
                    return Err(BackendError::Internal(format!("cannot transfer leadership to {to}: not a voter")));
                }
                self.raft.transfer_leader(target);
                Ok(None)
            }
        }
    }

    /// A server asks to be in the configuration (or, as a caught-up non-voter, to vote).
    pub fn join(&mut self, me: ServerInfo, read_replica: bool) -> Response {
        if !self.is_leader() {
            return Response::NotLeader { leader: self.leader_info() };
        }
        let st = self.raft.status();
        let mut next = st.conf.clone();
        let known = next.servers.iter().position(|s| s.id == me.id);
        let in_conf = next.voters.contains(&me.id) || next.learners.contains(&me.id);
        if in_conf && known.is_some_and(|i| next.servers[i] == me) {
            let is_learner = next.learners.contains(&me.id);
            let caught_up = st.peers.iter().any(|p| p.id == me.id && p.match_index >= st.commit);
            if !(is_learner && !read_replica && caught_up) {
                return Response::Done;
            }
            next.learners.retain(|l| *l != me.id);
            next.voters.push(me.id);
            tracing::info!(node = %me.node, "promoting a caught-up server to voter");
        } else {
            match known {
                Some(i) => next.servers[i] = me.clone(),
                None => next.servers.push(me.clone()),
            }
            if !in_conf {
                next.learners.push(me.id);
                tracing::info!(node = %me.node, address = %me.address, "adding a server as a non-voter");
            }
        }
        match self.propose_conf(next) {
            Ok(_) => Response::Done,
            Err(e) => Response::Error { code: e.status(), message: e.to_string() },
        }
    }

    /// Consul's leader reconciliation with Serf, one change per call: a live server of this
    /// datacenter that is missing from the configuration (say, removed with `remove-peer`
    /// while it ran) is added back as a non-voter and promoted once caught up; a server
    /// that left the LAN pool (graceful leave, or force-leave of a failed one) is removed.
    pub fn reconcile(&mut self, alive: &[KnownServer], left: &[NodeId]) {
        if !self.is_leader() {
            return;
        }
        let conf = self.raft.status().conf;
        let in_conf = |id: NodeId| conf.voters.contains(&id) || conf.learners.contains(&id);
        if let Some(gone) = left.iter().copied().find(|id| *id != self.me.id && in_conf(*id)) {
            let key = conf.servers.iter().find(|s| s.id == gone).map(|s| s.node_id.clone()).unwrap_or_default();
            tracing::info!(node_id = %key, "removing a server that left the cluster from the Raft configuration");
            let _ = self.operate(&OperatorOp::RemovePeer { by_id: true, key });
            return;
        }
        if let Some(missing) = alive.iter().find(|s| s.info.id != self.me.id && !in_conf(s.info.id)) {
            tracing::info!(node = %missing.info.node, "adding a live server that is missing from the Raft configuration");
            let _ = self.join(missing.info.clone(), missing.read_replica);
        }
    }

    fn propose_conf(&mut self, next: ConfState) -> Result<Index, BackendError> {
        self.raft.propose(EntryKind::Config, encode_conf(&next)).map_err(|e| BackendError::Internal(e.to_string()))
    }
}
