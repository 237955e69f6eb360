//! Node and service maintenance mode: a critical check Consul registers
//! (`_node_maintenance`, `_service_maintenance:<id>`), agent.go
//! EnableServiceMaintenance / EnableNodeMaintenance.

use ballast_store::catalog::{HealthCheck, HEALTH_CRITICAL, NODE_MAINT_CHECK_ID, SERVICE_MAINT_PREFIX};

use crate::error::LocalError;
use crate::ops::go_q;
use crate::state::LocalState;

pub const NODE_MAINT_NAME: &str = "Node Maintenance Mode";
pub const SERVICE_MAINT_NAME: &str = "Service Maintenance Mode";
pub const DEFAULT_NODE_MAINT_REASON: &str =
    "Maintenance mode is enabled for this node, but no reason was provided. This is a default message.";
pub const DEFAULT_SERVICE_MAINT_REASON: &str =
    "Maintenance mode is enabled for this service, but no reason was provided. This is a default message.";
/// `Type` Consul gives the maintenance checks.
pub const MAINT_CHECK_TYPE: &str = "maintenance";

/// `_service_maintenance:<id>`.
pub fn service_maint_check_id(service_id: &str) -> String {
    format!("{SERVICE_MAINT_PREFIX}{service_id}")
}

/// Whether a check ID is one of the maintenance checks.
pub fn is_maintenance_check(check_id: &str) -> bool {
    check_id == NODE_MAINT_CHECK_ID || check_id.starts_with(SERVICE_MAINT_PREFIX)
}

fn no_service(id: &str) -> LocalError {
    LocalError::NotFound(format!("No service registered with ID {}", go_q(id)))
}

impl LocalState {
    /// `PUT /v1/agent/service/maintenance/<id>?enable=true`. Unknown
    /// service: 404. Already in maintenance: nothing changes.
    pub fn enable_service_maintenance(&mut self, service_id: &str, reason: &str, token: &str) -> Result<(), LocalError> {
        let Some(svc) = self.service(service_id) else { return Err(no_service(service_id)) };
        let check_id = service_maint_check_id(service_id);
        if self.check(&check_id).is_some() {
            return Ok(());
        }
        let check = HealthCheck {
            node: self.node.node_name.clone(),
            check_id,
            name: SERVICE_MAINT_NAME.into(),
            notes: if reason.is_empty() { DEFAULT_SERVICE_MAINT_REASON.into() } else { reason.into() },
            service_id: svc.id.clone(),
            service_name: svc.service.clone(),
            status: HEALTH_CRITICAL.into(),
            check_type: MAINT_CHECK_TYPE.into(),
            ..HealthCheck::default()
        };
        self.add_check(check, None, token)
    }

    /// `?enable=false`. Unknown service: 404; not in maintenance: nothing.
    pub fn disable_service_maintenance(&mut self, service_id: &str) -> Result<(), LocalError> {
        if self.service(service_id).is_none() {
            return Err(no_service(service_id));
        }
        let check_id = service_maint_check_id(service_id);
        if self.check(&check_id).is_none() {
            return Ok(());
        }
        self.deregister_check(&check_id)
    }

    pub fn service_in_maintenance(&self, service_id: &str) -> bool {
        self.check(&service_maint_check_id(service_id)).is_some()
    }

    /// `PUT /v1/agent/maintenance?enable=true`.
    pub fn enable_node_maintenance(&mut self, reason: &str, token: &str) -> Result<(), LocalError> {
        if self.check(NODE_MAINT_CHECK_ID).is_some() {
            return Ok(());
        }
        let check = HealthCheck {
            node: self.node.node_name.clone(),
            check_id: NODE_MAINT_CHECK_ID.into(),
            name: NODE_MAINT_NAME.into(),
            notes: if reason.is_empty() { DEFAULT_NODE_MAINT_REASON.into() } else { reason.into() },
            status: HEALTH_CRITICAL.into(),
            check_type: MAINT_CHECK_TYPE.into(),
            ..HealthCheck::default()
        };
        self.add_check(check, None, token)
    }

    /// `PUT /v1/agent/maintenance?enable=false`.
    pub fn disable_node_maintenance(&mut self) -> Result<(), LocalError> {
        if self.check(NODE_MAINT_CHECK_ID).is_none() {
            return Ok(());
        }
        self.deregister_check(NODE_MAINT_CHECK_ID)
    }

    pub fn node_in_maintenance(&self) -> bool {
        self.check(NODE_MAINT_CHECK_ID).is_some()
    }
}
