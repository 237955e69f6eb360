//! What the agent endpoints do with a decoded request: validation with
//! Consul's messages and statuses, defaults, persistence, then the change
//! to the local state (agent_endpoint.go + agent.go AddService/AddCheck/
//! RemoveService/RemoveCheck/updateTTLCheck).

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ballast_store::catalog::{HealthCheck, NodeService, Weights, HEALTH_CRITICAL};

use crate::definition::{CheckDefinition, CheckType, ServiceDefinition};
use crate::duration::{format_go_duration, format_nonzero};
use crate::error::LocalError;
use crate::persist;
use crate::state::{CheckState, LocalState};
use crate::validate::{
    default_tagged_addresses, is_any_address, node_service_of, valid_status, validate_node_service,
    validate_service_meta, validate_tagged_addresses, validate_weights,
};

/// `checks.DefaultBufSize`: TTL check output cap when none is configured.
pub const DEFAULT_CHECK_OUTPUT_MAX_SIZE: usize = 4096;

const SCRIPTS_DISABLED: &str =
    "Scripts are disabled on this agent from remote calls; to enable, configure 'enable_script_checks' to true";

pub(crate) fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Go's `%q` for IDs in messages (`ServiceID "x" does not exist`).
pub(crate) fn go_q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

impl LocalState {
    /// `PUT /v1/agent/service/register` after decoding. `token` is the
    /// request's ACL token (Consul ignores the body's `Token` here).
    pub fn register_service(
        &mut self,
        def: &ServiceDefinition,
        token: &str,
        replace_existing_checks: bool,
    ) -> Result<(), LocalError> {
        if def.name.is_empty() {
            return Err(LocalError::BadRequest("Missing service name".into()));
        }
        if is_any_address(&def.address) {
            return Err(LocalError::BadRequest("Invalid service address".into()));
        }
        let ns = node_service_of(def);
        if let Some(w) = &ns.weights {
            validate_weights(w).map_err(|e| LocalError::BadRequest(format!("Invalid Weights: {e}")))?;
        }
        validate_service_meta(&ns.kind, &ns.meta)
            .map_err(|e| LocalError::BadRequest(format!("Invalid Service Meta: {e}")))?;
        if let Some(e) = validate_node_service(def) {
            return Err(LocalError::BadRequest(format!("Validation failed: {e}")));
        }
        let chk_types = def.check_types();
        for ct in &chk_types {
            ct.validate().map_err(|e| LocalError::BadRequest(format!("Invalid check: {e}")))?;
        }
        if chk_types.iter().any(|ct| !ct.status.is_empty() && !valid_status(&ct.status)) {
            return Err(LocalError::BadRequest("Status for checks must 'passing', 'warning', 'critical'".into()));
        }
        self.add_service(ns, chk_types, token, replace_existing_checks)
    }

    /// `Agent.AddService`: defaults, the service's checks
    /// (`service:<id>` / `service:<id>:<n>`), persistence, and with
    /// `replace_existing_checks` removal of its checks not in `chk_types`.
    pub fn add_service(
        &mut self,
        mut service: NodeService,
        chk_types: Vec<CheckType>,
        token: &str,
        replace_existing_checks: bool,
    ) -> Result<(), LocalError> {
        if service.service.is_empty() {
            return Err(LocalError::Internal("Service name missing".into()));
        }
        if service.id.is_empty() {
            service.id = service.service.clone();
        }
        for ct in &chk_types {
            ct.validate().map_err(|e| LocalError::Internal(format!("Check is not valid: {e}")))?;
        }
        // Default weights so anti-entropy does not see a nil/1-1 difference.
        if service.weights.is_none() {
            service.weights = Some(Weights::default());
        }
        validate_tagged_addresses(&service.tagged_addresses).map_err(LocalError::Internal)?;
        default_tagged_addresses(&mut service);
        if chk_types.iter().any(CheckType::is_script) && !self.config.enable_remote_script_checks {
            return Err(LocalError::Internal(SCRIPTS_DISABLED.into()));
        }

        let now = Instant::now();
        let many = chk_types.len() > 1;
        let mut new_checks = Vec::with_capacity(chk_types.len());
        for (i, ct) in chk_types.into_iter().enumerate() {
            let mut check_id = ct.check_id.clone();
            if check_id.is_empty() {
                check_id = format!("service:{}", service.id);
                if many {
                    check_id.push_str(&format!(":{}", i + 1));
                }
            }
            let name = if ct.name.is_empty() { format!("Service '{}' check", service.service) } else { ct.name.clone() };
            let mut check = HealthCheck {
                node: self.node.node_name.clone(),
                check_id,
                name,
                status: if ct.status.is_empty() { HEALTH_CRITICAL.into() } else { ct.status.clone() },
                notes: ct.notes.clone(),
                service_id: service.id.clone(),
                service_name: service.service.clone(),
                service_tags: service.tags.clone(),
                check_type: ct.check_type().into(),
                interval: format_nonzero(ct.interval_ns),
                timeout: format_nonzero(ct.timeout_ns),
                ..HealthCheck::default()
            };
            // A re-registered check keeps its current status and output.
            if let Some(prev) = self.check(&check.check_id) {
                check.status = prev.status.clone();
                check.output = prev.output.clone();
            }
            self.restore_ttl_state(&mut check, &ct);
            new_checks.push((check, ct));
        }

        if let Some(dir) = self.config.data_dir.clone() {
            for (check, ct) in &new_checks {
                persist::write_check(&dir, check, Some(ct), token).map_err(LocalError::Internal)?;
            }
            persist::write_service(&dir, &service, token).map_err(LocalError::Internal)?;
        }

        let previous: Vec<String> =
            self.checks_for_service(&service.id, false).map(|c| c.check_id.clone()).collect();
        self.set_service(service, token.to_string());
        let mut kept = Vec::with_capacity(new_checks.len());
        for (check, ct) in new_checks {
            kept.push(check.check_id.clone());
            let state = self.fresh_check_state(check, Some(ct), token, now);
            self.set_check(state);
        }
        if replace_existing_checks {
            for id in previous.iter().filter(|id| !kept.contains(id)) {
                self.remove_check_persisted(id)?;
            }
        }
        Ok(())
    }

    /// `PUT /v1/agent/check/register` after decoding.
    pub fn register_check(&mut self, def: &CheckDefinition, token: &str) -> Result<(), LocalError> {
        if def.name.is_empty() {
            return Err(LocalError::BadRequest("Missing check name".into()));
        }
        if !def.status.is_empty() && !valid_status(&def.status) {
            return Err(LocalError::BadRequest("Bad check status".into()));
        }
        let ct = def.check_type.clone();
        // CheckDefinition.HealthCheck renders durations even when zero.
        let mut health = HealthCheck {
            node: self.node.node_name.clone(),
            check_id: if def.id.is_empty() { def.name.clone() } else { def.id.clone() },
            name: def.name.clone(),
            status: if def.status.is_empty() { HEALTH_CRITICAL.into() } else { def.status.clone() },
            notes: def.notes.clone(),
            service_id: def.service_id.clone(),
            interval: format_go_duration(ct.interval_ns),
            timeout: format_go_duration(ct.timeout_ns),
            ..HealthCheck::default()
        };
        ct.validate().map_err(|e| LocalError::BadRequest(format!("Invalid check: {e}")))?;
        health.check_type = ct.check_type().into();
        if !health.service_id.is_empty() {
            match self.service(&health.service_id) {
                Some(s) => health.service_name = s.service.clone(),
                None => {
                    return Err(LocalError::NotFound(format!("ServiceID {} does not exist", go_q(&health.service_id))))
                }
            }
        }
        self.add_check(health, Some(ct), token)
    }

    /// `Agent.AddCheck`: bind to its service, keep the current status of a
    /// re-registered check, restore TTL state, persist, insert.
    pub fn add_check(&mut self, mut check: HealthCheck, chk_type: Option<CheckType>, token: &str) -> Result<(), LocalError> {
        if !check.service_id.is_empty() {
            match self.service(&check.service_id) {
                Some(s) => {
                    check.service_name = s.service.clone();
                    check.service_tags = s.tags.clone();
                }
                None => {
                    return Err(LocalError::NotFound(format!("ServiceID {} does not exist", go_q(&check.service_id))))
                }
            }
        }
        if check.check_id.is_empty() {
            return Err(LocalError::Internal("CheckID missing".into()));
        }
        if let Some(ct) = &chk_type {
            ct.validate().map_err(|e| LocalError::Internal(format!("Check is not valid: {e}")))?;
            if ct.is_script() && !self.config.enable_remote_script_checks {
                return Err(LocalError::Internal(SCRIPTS_DISABLED.into()));
            }
        }
        if let Some(prev) = self.check(&check.check_id) {
            check.status = prev.status.clone();
            check.output = prev.output.clone();
        }
        if let Some(ct) = &chk_type {
            self.restore_ttl_state(&mut check, ct);
        }
        if let Some(dir) = self.config.data_dir.clone() {
            persist::write_check(&dir, &check, chk_type.as_ref(), token).map_err(LocalError::Internal)?;
        }
        let state = self.fresh_check_state(check, chk_type, token, Instant::now());
        self.set_check(state);
        Ok(())
    }

    /// `PUT /v1/agent/service/deregister/<id>`: the service and its checks
    /// go (Consul answers 200 for an unknown ID too).
    pub fn deregister_service(&mut self, id: &str) -> Result<(), LocalError> {
        if id.is_empty() {
            return Err(LocalError::Internal("ServiceID missing".into()));
        }
        if self.service(id).is_none() {
            return Ok(());
        }
        let checks: Vec<String> = self.checks_for_service(id, false).map(|c| c.check_id.clone()).collect();
        if let Some(dir) = self.config.data_dir.clone() {
            persist::purge_service(&dir, id).map_err(LocalError::Internal)?;
        }
        self.mark_service_deleted(id);
        for cid in checks {
            self.remove_check_persisted(&cid)?;
        }
        Ok(())
    }

    /// `PUT /v1/agent/check/deregister/<id>` (unknown ID: nothing happens).
    pub fn deregister_check(&mut self, id: &str) -> Result<(), LocalError> {
        if id.is_empty() {
            return Err(LocalError::Internal("CheckID missing".into()));
        }
        self.remove_check_persisted(id)
    }

    /// Remove a service (and its checks) without touching the data dir.
    pub fn remove_service(&mut self, id: &str) -> bool {
        let checks: Vec<String> = self.checks_for_service(id, false).map(|c| c.check_id.clone()).collect();
        let removed = self.mark_service_deleted(id);
        for cid in checks {
            self.mark_check_deleted(&cid);
        }
        removed
    }

    /// Remove a check without touching the data dir.
    pub fn remove_check(&mut self, id: &str) -> bool {
        self.mark_check_deleted(id)
    }

    fn remove_check_persisted(&mut self, id: &str) -> Result<(), LocalError> {
        if let Some(dir) = self.config.data_dir.clone() {
            persist::purge_check(&dir, id).map_err(LocalError::Internal)?;
        }
        self.mark_check_deleted(id);
        Ok(())
    }

    /// pass/warn/fail/update of a TTL check (`Agent.updateTTLCheck`): the
    /// output is capped like `CheckTTL.SetStatus`, the state persisted so a
    /// restart within the TTL restores it. Returns whether it changed.
    pub fn update_ttl_check(&mut self, id: &str, status: &str, output: &str) -> Result<bool, LocalError> {
        let ttl_ns = match self.check_state(id).and_then(|c| c.check_type.as_ref()) {
            Some(ct) if ct.is_ttl() => ct.ttl_ns,
            _ => return Err(LocalError::Internal(format!("CheckID {} does not have associated TTL", go_q(id)))),
        };
        let max = self
            .check_state(id)
            .and_then(|c| c.check_type.as_ref())
            .map(|ct| ct.output_max_size)
            .filter(|m| *m > 0 && (*m as usize) < DEFAULT_CHECK_OUTPUT_MAX_SIZE)
            .map(|m| m as usize)
            .unwrap_or(DEFAULT_CHECK_OUTPUT_MAX_SIZE);
        let output = cap_output(output, max);
        let changed = self.update_check(id, status, &output);
        if let Some(c) = self.checks.get_mut(id) {
            c.ttl_touched = Instant::now();
        }
        if let Some(dir) = self.config.data_dir.clone() {
            let expires = unix_now() + ttl_ns / 1_000_000_000;
            persist::write_check_state(&dir, id, status, &output, expires).map_err(LocalError::Internal)?;
        }
        Ok(changed)
    }

    /// Status/output from `checks/state` for a TTL check, if not expired.
    fn restore_ttl_state(&self, check: &mut HealthCheck, ct: &CheckType) {
        let Some(dir) = &self.config.data_dir else { return };
        if !ct.is_ttl() {
            return;
        }
        let mut ignored = Vec::new();
        if let Some((status, output)) = persist::load_check_state(dir, &check.check_id, unix_now(), &mut ignored) {
            check.status = status;
            check.output = output;
        }
    }

    /// New check state; keeps the critical-since time of the check it
    /// replaces when it stays critical.
    fn fresh_check_state(&self, check: HealthCheck, ct: Option<CheckType>, token: &str, now: Instant) -> CheckState {
        let prev_critical = self.check_state(&check.check_id).and_then(|c| c.critical_since);
        let mut state = CheckState::new(check, ct, token.to_string(), now);
        if state.critical_since.is_some() {
            state.critical_since = prev_critical.or(state.critical_since);
        }
        state
    }
}

/// `CheckTTL.SetStatus`'s cap: `<first max bytes> ...\nCaptured <max> of <total> bytes`.
pub fn cap_output(output: &str, max: usize) -> String {
    let total = output.len();
    if total <= max {
        return output.to_string();
    }
    let mut cut = max;
    while !output.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{} ...\nCaptured {max} of {total} bytes", &output[..cut])
}
