//! Anti-entropy as a pure planner (agent/local/state.go updateSyncState +
//! SyncChanges): compare the local state with the catalog's view of this
//! node, then produce the catalog writes that make them agree. The agent
//! sends each op with its token and reports back with `mark_synced` (or
//! `mark_blocked` when the servers refused it for ACL reasons).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use ballast_store::catalog::{DeregisterRequest, HealthCheck, Node, NodeService, RegisterRequest, SERF_CHECK_ID};

use crate::state::{CheckState, LocalState, ServiceState};

/// The service every server registers for itself; never deregistered by AE.
pub const CONSUL_SERVICE_ID: &str = "consul";

/// One catalog write. (A plan holds a handful of these; boxing the
/// register request would buy nothing.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncAction {
    Register(RegisterRequest),
    Deregister(DeregisterRequest),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Service { id: String, version: u64, checks: Vec<(String, u64)> },
    Check { id: String, version: u64 },
    Node,
    DeleteService { id: String },
    DeleteCheck { id: String },
}

/// A planned catalog write and what it settles locally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOp {
    pub action: SyncAction,
    /// ACL token for the write; `""` = the agent's default token (for node
    /// info: the agent token).
    pub token: String,
    target: Target,
}

/// `NodeService.IsSame` (Raft indexes ignored).
pub fn service_is_same(a: &NodeService, b: &NodeService) -> bool {
    a.id == b.id
        && a.service == b.service
        && a.tags == b.tags
        && a.address == b.address
        && a.port == b.port
        && a.socket_path == b.socket_path
        && a.tagged_addresses == b.tagged_addresses
        && a.weights == b.weights
        && a.meta == b.meta
        && a.enable_tag_override == b.enable_tag_override
        && a.kind == b.kind
}

/// `HealthCheck.IsSame` (Type, Interval, Timeout and indexes ignored).
pub fn check_is_same(a: &HealthCheck, b: &HealthCheck) -> bool {
    a.node.eq_ignore_ascii_case(&b.node)
        && a.check_id == b.check_id
        && a.name == b.name
        && a.status == b.status
        && a.notes == b.notes
        && a.output == b.output
        && a.service_id == b.service_id
        && a.service_name == b.service_name
        && a.service_tags == b.service_tags
        && a.definition == b.definition
}

impl LocalState {
    /// `updateSyncState`: mark what differs from the catalog's view of this
    /// node. Catalog-only services/checks become tombstones to deregister
    /// (except `serfHealth` and the `consul` service, which the servers own);
    /// with EnableTagOverride the catalog's tags are copied into the local
    /// service before comparing.
    pub fn update_sync_state(
        &mut self,
        remote_node: Option<&Node>,
        remote_services: &[NodeService],
        remote_checks: &[HealthCheck],
        now: Instant,
    ) {
        self.fire_deferred(now);
        match remote_node {
            Some(n)
                if n.id == self.node.node_id
                    && n.tagged_addresses == self.node.tagged_addresses
                    && n.meta == self.node.meta => {}
            _ => self.node_info_in_sync = false,
        }

        let remote_svcs: BTreeMap<&str, &NodeService> = remote_services.iter().map(|s| (s.id.as_str(), s)).collect();
        for (id, s) in self.services.iter_mut() {
            if !remote_svcs.contains_key(id.as_str()) {
                s.in_sync = false;
            }
        }
        let mut tags_changed = false;
        for (id, rs) in &remote_svcs {
            match self.services.get_mut(*id) {
                None => {
                    if *id == CONSUL_SERVICE_ID {
                        continue;
                    }
                    self.services.insert(
                        id.to_string(),
                        ServiceState {
                            service: (*rs).clone(),
                            token: String::new(),
                            in_sync: false,
                            deleted: true,
                            version: 0,
                        },
                    );
                }
                Some(ls) if ls.deleted => {}
                Some(ls) => {
                    if ls.service.enable_tag_override && ls.service.tags != rs.tags {
                        ls.service.tags = rs.tags.clone();
                        tags_changed = true;
                    }
                    ls.in_sync = service_is_same(&ls.service, rs);
                }
            }
        }
        if tags_changed {
            self.bump();
        }

        let remote_chks: BTreeMap<&str, &HealthCheck> =
            remote_checks.iter().map(|c| (c.check_id.as_str(), c)).collect();
        for (id, c) in self.checks.iter_mut() {
            if !remote_chks.contains_key(id.as_str()) {
                c.in_sync = false;
            }
        }
        let defer_output = !self.config.check_update_interval.is_zero();
        for (id, rc) in &remote_chks {
            match self.checks.get_mut(*id) {
                None => {
                    if *id == SERF_CHECK_ID {
                        continue;
                    }
                    let mut tomb = CheckState::new((*rc).clone(), None, String::new(), now);
                    tomb.deleted = true;
                    self.checks.insert(id.to_string(), tomb);
                }
                Some(lc) if lc.deleted => {}
                Some(lc) => {
                    // While an output-only write-back is pending, output
                    // differences do not count (the timer will sync them).
                    lc.in_sync = if defer_output && lc.deferred_until.is_some() {
                        let mut a = lc.check.clone();
                        let mut b = (*rc).clone();
                        a.output.clear();
                        b.output.clear();
                        check_is_same(&a, &b)
                    } else {
                        check_is_same(&lc.check, rc)
                    };
                }
            }
        }
    }

    /// A deferred output write-back whose time has come marks its check
    /// out of sync (Consul's DeferCheck timer firing).
    fn fire_deferred(&mut self, now: Instant) {
        for c in self.checks.values_mut() {
            if c.deferred_until.is_some_and(|t| t <= now) {
                c.deferred_until = None;
                if !c.deleted {
                    c.in_sync = false;
                    c.version += 1;
                }
            }
        }
    }

    fn register_base(&self) -> RegisterRequest {
        RegisterRequest {
            id: self.node.node_id.clone(),
            node: self.node.node_name.clone(),
            address: self.node.address.clone(),
            datacenter: self.node.datacenter.clone(),
            tagged_addresses: self.node.tagged_addresses.clone(),
            node_meta: self.node.meta.clone(),
            service: None,
            checks: Vec::new(),
            skip_node_update: false,
        }
    }

    /// `SyncChanges`: the writes for everything out of sync or deleted.
    /// Services first (their out-of-sync checks with the same token ride
    /// along), then the remaining checks, then node info if nothing else
    /// carries it. Pending output write-backs that are due are included.
    pub fn plan_changes(&mut self, now: Instant) -> Vec<SyncOp> {
        self.fire_deferred(now);
        let mut ops = Vec::new();
        let mut piggybacked: BTreeSet<String> = BTreeSet::new();

        for (id, s) in &self.services {
            if s.deleted {
                ops.push(SyncOp {
                    action: SyncAction::Deregister(DeregisterRequest {
                        node: self.node.node_name.clone(),
                        service_id: Some(id.clone()),
                        check_id: None,
                    }),
                    token: s.token.clone(),
                    target: Target::DeleteService { id: id.clone() },
                });
                continue;
            }
            if s.in_sync {
                continue;
            }
            let riders: Vec<&CheckState> = self
                .checks
                .values()
                .filter(|c| !c.deleted && !c.in_sync && c.check.service_id == *id && c.token == s.token)
                .collect();
            let mut req = self.register_base();
            req.service = Some(s.service.clone());
            req.checks = riders.iter().map(|c| c.check.clone()).collect();
            let check_versions = riders.iter().map(|c| (c.check.check_id.clone(), c.version)).collect();
            piggybacked.extend(riders.iter().map(|c| c.check.check_id.clone()));
            ops.push(SyncOp {
                action: SyncAction::Register(req),
                token: s.token.clone(),
                target: Target::Service { id: id.clone(), version: s.version, checks: check_versions },
            });
        }

        for (id, c) in &self.checks {
            if c.deleted {
                ops.push(SyncOp {
                    action: SyncAction::Deregister(DeregisterRequest {
                        node: self.node.node_name.clone(),
                        service_id: None,
                        check_id: Some(id.clone()),
                    }),
                    token: c.token.clone(),
                    target: Target::DeleteCheck { id: id.clone() },
                });
                continue;
            }
            if c.in_sync || piggybacked.contains(id) {
                continue;
            }
            let mut req = self.register_base();
            req.service = self
                .services
                .get(&c.check.service_id)
                .filter(|s| !s.deleted)
                .map(|s| s.service.clone());
            req.checks = vec![c.check.clone()];
            ops.push(SyncOp {
                action: SyncAction::Register(req),
                token: c.token.clone(),
                target: Target::Check { id: id.clone(), version: c.version },
            });
        }

        // The checks about to be written no longer wait for a deferred sync.
        for op in &ops {
            let ids: Vec<&str> = match &op.target {
                Target::Service { checks, .. } => checks.iter().map(|(id, _)| id.as_str()).collect(),
                Target::Check { id, .. } => vec![id.as_str()],
                _ => Vec::new(),
            };
            for id in ids {
                if let Some(c) = self.checks.get_mut(id) {
                    c.deferred_until = None;
                }
            }
        }

        let registers = ops.iter().any(|o| matches!(o.action, SyncAction::Register(_)));
        if !self.node_info_in_sync && !registers {
            ops.push(SyncOp {
                action: SyncAction::Register(self.register_base()),
                token: String::new(),
                target: Target::Node,
            });
        }
        ops
    }

    /// `SyncFull`: [`update_sync_state`](Self::update_sync_state) then
    /// [`plan_changes`](Self::plan_changes).
    pub fn plan_full_sync(
        &mut self,
        remote_node: Option<&Node>,
        remote_services: &[NodeService],
        remote_checks: &[HealthCheck],
        now: Instant,
    ) -> Vec<SyncOp> {
        self.update_sync_state(remote_node, remote_services, remote_checks, now);
        self.plan_changes(now)
    }

    /// The servers accepted `op` (or answered `Unknown service`/`Unknown
    /// check` to a deregistration). Entries changed since the plan stay out
    /// of sync.
    pub fn mark_synced(&mut self, op: &SyncOp) {
        match &op.target {
            Target::Service { id, version, checks } => {
                if let Some(s) = self.services.get_mut(id) {
                    s.in_sync = !s.deleted && s.version == *version;
                }
                for (cid, cv) in checks {
                    if let Some(c) = self.checks.get_mut(cid) {
                        c.in_sync = !c.deleted && c.version == *cv;
                    }
                }
                self.node_info_in_sync = true;
            }
            Target::Check { id, version } => {
                if let Some(c) = self.checks.get_mut(id) {
                    c.in_sync = !c.deleted && c.version == *version;
                }
                self.node_info_in_sync = true;
            }
            Target::Node => self.node_info_in_sync = true,
            Target::DeleteService { id } => {
                if self.services.get(id).is_some_and(|s| s.deleted) {
                    self.services.remove(id);
                }
            }
            Target::DeleteCheck { id } => {
                if self.checks.get(id).is_some_and(|c| c.deleted) {
                    self.checks.remove(id);
                }
            }
        }
    }

    /// The servers refused `op` for ACL reasons: like Consul, stop retrying
    /// it until the next full sync.
    pub fn mark_blocked(&mut self, op: &SyncOp) {
        match &op.target {
            Target::Service { id, checks, .. } => {
                if let Some(s) = self.services.get_mut(id) {
                    s.in_sync = true;
                }
                for (cid, _) in checks {
                    if let Some(c) = self.checks.get_mut(cid) {
                        c.in_sync = true;
                    }
                }
            }
            Target::Check { id, .. } | Target::DeleteCheck { id } => {
                if let Some(c) = self.checks.get_mut(id) {
                    c.in_sync = true;
                }
            }
            Target::DeleteService { id } => {
                if let Some(s) = self.services.get_mut(id) {
                    s.in_sync = true;
                }
            }
            Target::Node => self.node_info_in_sync = true,
        }
    }

    /// Whether `plan_changes(now)` would produce anything.
    pub fn needs_sync(&self, now: Instant) -> bool {
        !self.node_info_in_sync
            || self.services.values().any(|s| s.deleted || !s.in_sync)
            || self
                .checks
                .values()
                .any(|c| c.deleted || !c.in_sync || c.deferred_until.is_some_and(|t| t <= now))
    }

    /// The earliest pending output write-back (when to wake for it).
    pub fn next_deferred_sync(&self) -> Option<Instant> {
        self.checks.values().filter_map(|c| c.deferred_until).min()
    }
}
