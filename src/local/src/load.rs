//! Restoring the local state from the data dir at start (agent.go
//! loadServices / loadChecks for persisted entries).

use std::path::Path;
use std::time::Instant;

use ballast_store::catalog::{Weights, HEALTH_CRITICAL};

use crate::ops::unix_now;
use crate::persist;
use crate::state::{CheckState, LocalConfig, LocalState, NodeInfo};

impl LocalState {
    /// Build the state from `dir` (which becomes the data dir). Files that
    /// cannot be read or decoded, and checks whose service is gone, are
    /// skipped (and purged, as Consul does) with a warning each.
    pub fn load(dir: &Path, node: NodeInfo, mut config: LocalConfig) -> (LocalState, Vec<String>) {
        config.data_dir = Some(dir.to_path_buf());
        let mut state = LocalState::new(node, config);
        let mut warnings = Vec::new();

        for (mut service, token) in persist::load_services(dir, &mut warnings) {
            if service.service.is_empty() || service.id.is_empty() {
                warnings.push(format!("Failed to restore service {:?}: Service name missing", service.id));
                continue;
            }
            if service.weights.is_none() {
                service.weights = Some(Weights::default());
            }
            state.set_service(service, token);
        }

        let now = Instant::now();
        for (mut check, chk_type, token) in persist::load_checks(dir, &mut warnings) {
            let id = check.check_id.clone();
            let problem = if id.is_empty() {
                Some("CheckID missing".to_string())
            } else if !check.service_id.is_empty() && state.service(&check.service_id).is_none() {
                Some(format!("ServiceID {:?} does not exist", check.service_id))
            } else {
                chk_type.as_ref().and_then(|ct| ct.validate().err().map(|e| format!("Check is not valid: {e}")))
            };
            if let Some(p) = problem {
                warnings.push(format!("Failed to restore check {id:?}: {p}"));
                if !id.is_empty() {
                    if let Err(e) = persist::purge_check(dir, &id) {
                        warnings.push(e);
                    }
                }
                continue;
            }
            // Restored checks start critical, except a TTL check whose
            // persisted state has not expired.
            check.status = HEALTH_CRITICAL.into();
            if chk_type.as_ref().map(|ct| ct.is_ttl()).unwrap_or(false) {
                if let Some((status, output)) = persist::load_check_state(dir, &id, unix_now(), &mut warnings) {
                    check.status = status;
                    check.output = output;
                }
            }
            if let Some(svc) = state.service(&check.service_id) {
                check.service_name = svc.service.clone();
                check.service_tags = svc.tags.clone();
            }
            state.set_check(CheckState::new(check, chk_type, token, now));
        }
        (state, warnings)
    }
}
