//! The agent's local services and checks (Consul's agent/local/state.go
//! plus the parts of agent/agent.go that shape what goes in: AddService,
//! AddCheck, RemoveService, RemoveCheck, UpdateCheck).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ballast_store::catalog::{HealthCheck, NodeService, HEALTH_CRITICAL};

use crate::definition::CheckType;

/// Who this agent is in the catalog (fixed at construction).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeInfo {
    pub node_name: String,
    pub node_id: String,
    pub datacenter: String,
    /// Advertise address (`Address` of the node record).
    pub address: String,
    pub tagged_addresses: BTreeMap<String, String>,
    pub meta: BTreeMap<String, String>,
}

/// Agent settings the local state obeys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalConfig {
    /// `check_update_interval`: output-only check changes are written back
    /// at most this often (0 = immediately). Consul's default is 5 minutes.
    pub check_update_interval: Duration,
    /// `discard_check_output`.
    pub discard_check_output: bool,
    /// `enable_script_checks` (script checks registered over HTTP).
    pub enable_remote_script_checks: bool,
    /// Data dir for persistence; `None` = nothing is written (dev mode).
    pub data_dir: Option<PathBuf>,
}

impl Default for LocalConfig {
    fn default() -> Self {
        LocalConfig {
            check_update_interval: Duration::from_secs(5 * 60),
            discard_check_output: false,
            enable_remote_script_checks: false,
            data_dir: None,
        }
    }
}

/// One local service and its sync flags (`local.ServiceState`).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceState {
    pub service: NodeService,
    /// ACL token for its catalog writes (`""` = the agent's default token).
    pub token: String,
    pub in_sync: bool,
    /// Removed locally, deregistration not yet accepted by the servers.
    pub deleted: bool,
    pub(crate) version: u64,
}

/// One local check (`local.CheckState`) with how it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckState {
    pub check: HealthCheck,
    /// `None` for checks without a runner (maintenance checks, catalog
    /// tombstones).
    pub check_type: Option<CheckType>,
    pub token: String,
    /// When the status last went from non-critical to critical.
    pub critical_since: Option<Instant>,
    pub in_sync: bool,
    pub deleted: bool,
    /// An output-only change is waiting for this moment to be written back
    /// (Consul's `DeferCheck` timer).
    pub deferred_until: Option<Instant>,
    /// A TTL check's last pass/warn/fail/update (or its registration): its TTL runs
    /// from here, even when an update repeats the same status and output.
    pub ttl_touched: Instant,
    pub(crate) version: u64,
}

impl CheckState {
    pub(crate) fn new(check: HealthCheck, check_type: Option<CheckType>, token: String, now: Instant) -> Self {
        let critical_since = (check.status == HEALTH_CRITICAL).then_some(now);
        CheckState {
            check,
            check_type,
            token,
            critical_since,
            in_sync: false,
            deleted: false,
            deferred_until: None,
            ttl_touched: now,
            version: 0,
        }
    }

    /// How long the check has been critical (`None` when it is not).
    pub fn critical_for(&self, now: Instant) -> Option<Duration> {
        self.critical_since.map(|t| now.saturating_duration_since(t))
    }
}

/// The agent-local state: services, checks and their sync status.
#[derive(Debug, Clone)]
pub struct LocalState {
    pub(crate) node: NodeInfo,
    pub(crate) config: LocalConfig,
    pub(crate) services: BTreeMap<String, ServiceState>,
    pub(crate) checks: BTreeMap<String, CheckState>,
    pub(crate) node_info_in_sync: bool,
    pub(crate) generation: u64,
}

impl LocalState {
    pub fn new(node: NodeInfo, config: LocalConfig) -> LocalState {
        LocalState {
            node,
            config,
            services: BTreeMap::new(),
            checks: BTreeMap::new(),
            node_info_in_sync: false,
            generation: 0,
        }
    }

    pub fn node(&self) -> &NodeInfo {
        &self.node
    }

    pub fn config(&self) -> &LocalConfig {
        &self.config
    }

    /// Moves on every change of services or checks (wakes hash-blocking
    /// readers and tells the agent a sync may be due).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub(crate) fn bump(&mut self) {
        self.generation = self.generation.wrapping_add(1);
    }

    /// A live (not deleted) service.
    pub fn service(&self, id: &str) -> Option<&NodeService> {
        self.services.get(id).filter(|s| !s.deleted).map(|s| &s.service)
    }

    pub fn service_state(&self, id: &str) -> Option<&ServiceState> {
        self.services.get(id).filter(|s| !s.deleted)
    }

    /// Live services, sorted by ID.
    pub fn services(&self) -> impl Iterator<Item = &NodeService> {
        self.services.values().filter(|s| !s.deleted).map(|s| &s.service)
    }

    /// Live services with the given name, sorted by ID.
    pub fn services_by_name<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a NodeService> + 'a {
        self.services().filter(move |s| s.service == name)
    }

    pub fn check(&self, id: &str) -> Option<&HealthCheck> {
        self.checks.get(id).filter(|c| !c.deleted).map(|c| &c.check)
    }

    pub fn check_state(&self, id: &str) -> Option<&CheckState> {
        self.checks.get(id).filter(|c| !c.deleted)
    }

    /// Live checks, sorted by ID.
    pub fn checks(&self) -> impl Iterator<Item = &HealthCheck> {
        self.checks.values().filter(|c| !c.deleted).map(|c| &c.check)
    }

    pub fn check_states(&self) -> impl Iterator<Item = &CheckState> {
        self.checks.values().filter(|c| !c.deleted)
    }

    /// `ChecksForService`: the service's checks, plus node-level checks when
    /// `include_node_checks`.
    pub fn checks_for_service<'a>(
        &'a self,
        service_id: &'a str,
        include_node_checks: bool,
    ) -> impl Iterator<Item = &'a HealthCheck> + 'a {
        self.checks()
            .filter(move |c| c.service_id == service_id || (include_node_checks && c.service_id.is_empty()))
    }

    /// Token for a service's catalog writes (`""` = agent default).
    pub fn service_token(&self, id: &str) -> &str {
        self.services.get(id).map(|s| s.token.as_str()).unwrap_or("")
    }

    pub fn check_token(&self, id: &str) -> &str {
        self.checks.get(id).map(|c| c.token.as_str()).unwrap_or("")
    }

    /// `State.AddService`: insert or replace (the version carries over so a
    /// sync in flight does not mark the new definition synced).
    pub(crate) fn set_service(&mut self, service: NodeService, token: String) {
        let version = self.services.get(&service.id).map(|s| s.version).unwrap_or(0) + 1;
        let id = service.id.clone();
        self.services.insert(id, ServiceState { service, token, in_sync: false, deleted: false, version });
        self.bump();
    }

    /// `State.AddCheck`: insert or replace; node name forced to ours.
    pub(crate) fn set_check(&mut self, mut state: CheckState) {
        if self.config.discard_check_output {
            state.check.output.clear();
        }
        state.check.node = self.node.node_name.clone();
        state.version = self.checks.get(&state.check.check_id).map(|c| c.version).unwrap_or(0) + 1;
        state.in_sync = false;
        state.deleted = false;
        self.checks.insert(state.check.check_id.clone(), state);
        self.bump();
    }

    /// `State.RemoveService`: keep a tombstone until the servers accept the
    /// deregistration (it carries the token). False if not there.
    pub(crate) fn mark_service_deleted(&mut self, id: &str) -> bool {
        match self.services.get_mut(id) {
            Some(s) if !s.deleted => {
                s.deleted = true;
                s.in_sync = false;
                s.version += 1;
                self.bump();
                true
            }
            _ => false,
        }
    }

    pub(crate) fn mark_check_deleted(&mut self, id: &str) -> bool {
        match self.checks.get_mut(id) {
            Some(c) if !c.deleted => {
                c.deleted = true;
                c.in_sync = false;
                c.deferred_until = None;
                c.version += 1;
                self.bump();
                true
            }
            _ => false,
        }
    }

    /// `State.UpdateCheck` at time `now`. Returns whether anything visible
    /// changed. A status change marks the check out of sync at once; an
    /// output-only change is kept locally and written back after
    /// `check_update_interval/2 + random(check_update_interval)`.
    pub fn update_check_at(&mut self, id: &str, status: &str, output: &str, now: Instant) -> bool {
        let discard = self.config.discard_check_output;
        let interval = self.config.check_update_interval;
        let Some(c) = self.checks.get_mut(id).filter(|c| !c.deleted) else { return false };
        let output = if discard { "" } else { output };
        if status == HEALTH_CRITICAL {
            if c.critical_since.is_none() {
                c.critical_since = Some(now);
            }
        } else {
            c.critical_since = None;
        }
        if c.check.status == status && c.check.output == output {
            return false;
        }
        if !interval.is_zero() && c.check.status == status {
            c.check.output = output.to_string();
            if c.deferred_until.is_none() {
                c.deferred_until = Some(now + interval / 2 + crate::ae::random_stagger(interval));
            }
            self.bump();
            return true;
        }
        c.check.status = status.to_string();
        c.check.output = output.to_string();
        c.in_sync = false;
        c.version += 1;
        self.bump();
        true
    }

    /// [`update_check_at`](Self::update_check_at) now.
    pub fn update_check(&mut self, id: &str, status: &str, output: &str) -> bool {
        self.update_check_at(id, status, output, Instant::now())
    }

    /// Checks critical for longer than their `DeregisterCriticalServiceAfter`
    /// (Consul's reaper): `(check id, service id)` pairs, the agent removes
    /// those services.
    /// `min` is Consul's check_deregister_interval_min (1 minute by default): no service
    /// is reaped sooner, whatever its check asks.
    pub fn critical_services_to_reap(&self, now: Instant, min: Duration) -> Vec<(String, String)> {
        self.check_states()
            .filter_map(|c| {
                let after = c.check_type.as_ref()?.deregister_critical_service_after_ns;
                if after <= 0 || c.check.service_id.is_empty() {
                    return None;
                }
                let after = Duration::from_nanos(after as u64).max(min);
                (c.critical_for(now)? > after).then(|| (c.check.check_id.clone(), c.check.service_id.clone()))
            })
            .collect()
    }
}
