//! A settable Raft configuration behind the operator endpoints of
//! [`super::TestBackend`]: removals and transfers change it the way a real
//! cluster would, failures carry the texts Consul's server gives.

use std::cell::{Cell, RefCell};

use ballast_store::go_quote;

use crate::backend::{BackendError, PeerSelector, RaftConfiguration, RaftServer};

/// The fake Raft state and a record of what was asked of it.
pub struct FakeRaft {
    config: RefCell<RaftConfiguration>,
    /// Error returned by the next operator call (then cleared).
    pub fail_next: RefCell<Option<BackendError>>,
    /// `raft_configuration` calls, by their `stale` argument.
    pub config_reads: RefCell<Vec<bool>>,
    /// `transfer_leader` targets, in order.
    pub transfers: RefCell<Vec<Option<String>>>,
    /// Peers removed, in order.
    pub removed: RefCell<Vec<PeerSelector>>,
    /// Whether a leader is known (operations that need one fail without).
    known_leader: Cell<bool>,
}

/// The single server a fresh [`super::TestBackend`] runs as.
pub fn default_server() -> RaftServer {
    RaftServer {
        id: "0b5f7c4e-0000-4000-8000-000000000001".to_string(),
        node: "node-1".to_string(),
        address: "127.0.0.1:8300".to_string(),
        leader: true,
        protocol_version: "3".to_string(),
        voter: true,
        last_index: 1,
    }
}

impl FakeRaft {
    pub(crate) fn new() -> FakeRaft {
        FakeRaft {
            config: RefCell::new(RaftConfiguration {
                servers: vec![default_server()],
                index: 1,
            }),
            fail_next: RefCell::new(None),
            config_reads: RefCell::new(Vec::new()),
            transfers: RefCell::new(Vec::new()),
            removed: RefCell::new(Vec::new()),
            known_leader: Cell::new(true),
        }
    }

    /// Replace the configuration.
    pub fn set_configuration(&self, config: RaftConfiguration) {
        *self.config.borrow_mut() = config;
    }

    /// The current configuration.
    pub fn configuration(&self) -> RaftConfiguration {
        self.config.borrow().clone()
    }

    pub(crate) fn set_known_leader(&self, known: bool) {
        self.known_leader.set(known);
    }

    fn take_failure(&self) -> Result<(), BackendError> {
        match self.fail_next.borrow_mut().take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn need_leader(&self) -> Result<(), BackendError> {
        if self.known_leader.get() {
            Ok(())
        } else {
            Err(BackendError::NoLeader)
        }
    }

    pub(crate) fn read(&self, stale: bool) -> Result<RaftConfiguration, BackendError> {
        self.config_reads.borrow_mut().push(stale);
        self.take_failure()?;
        if !stale {
            self.need_leader()?;
        }
        Ok(self.configuration())
    }

    /// Consul's `Operator.RaftRemovePeerBy{ID,Address}`: a peer that is not
    /// in the configuration is refused with its text.
    pub(crate) fn remove(&self, peer: PeerSelector) -> Result<(), BackendError> {
        self.take_failure()?;
        self.need_leader()?;
        let mut config = self.config.borrow_mut();
        let at = config.servers.iter().position(|s| match &peer {
            PeerSelector::Id(id) => s.id == *id,
            PeerSelector::Address(addr) => s.address == *addr,
        });
        let Some(at) = at else {
            return Err(BackendError::Internal(match &peer {
                PeerSelector::Id(id) => {
                    format!(
                        "id {} was not found in the Raft configuration",
                        go_quote(id)
                    )
                }
                PeerSelector::Address(addr) => format!(
                    "address {} was not found in the Raft configuration",
                    go_quote(addr)
                ),
            }));
        };
        config.servers.remove(at);
        config.index += 1;
        drop(config);
        self.removed.borrow_mut().push(peer);
        Ok(())
    }

    /// Leadership moves to `to`, or to the first other voter. Failures read
    /// as Consul's gRPC-wrapped errors (serverLookup, hashicorp/raft).
    pub(crate) fn transfer(&self, to: Option<String>) -> Result<(), BackendError> {
        self.take_failure()?;
        self.need_leader()?;
        self.transfers.borrow_mut().push(to.clone());
        let mut config = self.config.borrow_mut();
        let target = match &to {
            Some(id) => config
                .servers
                .iter()
                .position(|s| s.id == *id)
                .ok_or_else(|| {
                    BackendError::Internal(format!(
                    "rpc error: code = Unknown desc = Could not find address for server id {id}"
                ))
                })?,
            None => config
                .servers
                .iter()
                .position(|s| s.voter && !s.leader)
                .ok_or_else(|| {
                    BackendError::Internal(
                        "rpc error: code = Unknown desc = cannot find peer".to_string(),
                    )
                })?,
        };
        for (i, s) in config.servers.iter_mut().enumerate() {
            s.leader = i == target;
        }
        Ok(())
    }
}
