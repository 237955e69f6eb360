//! This agent's own services and checks (Consul's agent/local state), shared by the service
//! shards: the HTTP endpoints change it, check runners on the service shards feed it, and
//! anti-entropy writes it into the catalog. Never touched by the control shard.
//!
//! One `std::sync::Mutex` guards the state: every critical section is a short in-memory
//! update (plus, for registrations, the small file write Consul also does inline), never an
//! await, and only service shards take it.
mod runner;
mod sync;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use ballast_config::RuntimeConfig;
use ballast_local::{LocalConfig, LocalState, NodeInfo};

use crate::identity::Identity;
pub use runner::run_checks;
pub use sync::{run_full_sync, run_sync_worker, SyncKick};

pub struct LocalAgent {
    state: Mutex<LocalState>,
    /// An anti-entropy round is running on some shard.
    syncing: AtomicBool,
    /// Something changed while it ran: run another round.
    sync_again: AtomicBool,
    /// Service shards seen so far (checks are spread over them by hash).
    shards: AtomicUsize,
    pub reap_interval: Duration,
    pub deregister_min: Duration,
    /// Base interval between full syncs (scaled up with the cluster).
    pub ae_interval: Duration,
    pub client: bool,
}

impl LocalAgent {
    /// Loads what an earlier run persisted under `<data_dir>` (services/, checks/), as
    /// Consul does on start; files that cannot be read are logged and skipped.
    pub fn load(cfg: &RuntimeConfig, identity: &Identity, data_dir: &std::path::Path) -> LocalAgent {
        let addr = identity.advertise.to_string();
        let mut tagged = std::collections::BTreeMap::new();
        let family = if identity.advertise.is_ipv4() { "ipv4" } else { "ipv6" };
        tagged.insert("lan".to_string(), addr.clone());
        tagged.insert(format!("lan_{family}"), addr.clone());
        let wan = cfg.advertise_addr_wan.map(|a| a.to_string()).unwrap_or_else(|| addr.clone());
        tagged.insert("wan".to_string(), wan.clone());
        tagged.insert(format!("wan_{family}"), wan);
        let node = NodeInfo {
            node_name: cfg.node_name.clone(),
            node_id: identity.node_id.clone(),
            datacenter: cfg.datacenter.clone(),
            address: addr,
            tagged_addresses: tagged,
            meta: cfg.node_meta.clone(),
        };
        let config = LocalConfig {
            check_update_interval: cfg.checks.check_update_interval,
            discard_check_output: cfg.checks.discard_check_output,
            enable_remote_script_checks: cfg.checks.enable_script_checks,
            data_dir: None,
        };
        let (state, warnings) = LocalState::load(data_dir, node, config);
        for w in warnings {
            tracing::warn!("loading local services and checks: {w}");
        }
        let services = state.services().count();
        let checks = state.check_states().count();
        if services + checks > 0 {
            tracing::info!(services, checks, "restored local services and checks from the data dir");
        }
        LocalAgent {
            state: Mutex::new(state),
            syncing: AtomicBool::new(false),
            sync_again: AtomicBool::new(false),
            shards: AtomicUsize::new(1),
            reap_interval: cfg.checks.check_reap_interval,
            deregister_min: cfg.checks.check_deregister_interval_min,
            ae_interval: cfg.checks.ae_interval,
            client: !cfg.server,
        }
    }

    /// The state, for a short synchronous section (never hold it across an await).
    pub fn lock(&self) -> MutexGuard<'_, LocalState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn state(&self) -> &Mutex<LocalState> {
        &self.state
    }

    /// A service shard announces itself (checks are spread over the shards seen).
    pub fn add_shard(&self, index: usize) {
        self.shards.fetch_max(index + 1, Ordering::Relaxed);
    }

    pub fn shard_count(&self) -> usize {
        self.shards.load(Ordering::Relaxed).max(1)
    }
}
