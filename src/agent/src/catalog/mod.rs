//! The agent's side of the catalog: the leader's reconciliation of gossip members into
//! catalog nodes (`member_sync`), and (on every agent) the local services and checks kept
//! in sync with the catalog.
mod member_sync;

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ballast_http::{Backend, Member};
use ballast_store::ApplyResult;

use crate::gossip::MembersView;
use crate::service::ServiceBackend;
pub use member_sync::Reconciler;

/// How often the leader looks for membership changes to write into the catalog.
const MEMBER_POLL: Duration = Duration::from_millis(250);
/// Consul's reconcile_interval: a full pass even when membership did not move (catches
/// catalog entries changed by hand).
const FULL_RECONCILE: Duration = Duration::from_secs(60);

/// Runs on one service shard of a server for the agent's lifetime: while this server
/// leads, every membership change (and once a minute regardless) becomes catalog writes.
pub async fn run_member_sync(backend: Rc<ServiceBackend>, members: Arc<MembersView>, datacenter: String, self_name: String) {
    let mut seen: Option<Arc<Vec<Member>>> = None;
    let mut last_full = Instant::now();
    loop {
        glommio::timer::sleep(MEMBER_POLL).await;
        if !backend.view.is_leader_ready() {
            seen = None; // reconcile in full on gaining leadership
            continue;
        }
        let current = members.members(false);
        let moved = seen.as_ref().is_none_or(|s| !Arc::ptr_eq(s, &current));
        if !moved && last_full.elapsed() < FULL_RECONCILE {
            continue;
        }
        last_full = Instant::now();
        let plan = Reconciler { datacenter: &datacenter, self_name: &self_name }.plan(&current, &backend.state());
        let mut ok = true;
        for cmd in plan {
            match backend.propose(cmd).await {
                Ok(ApplyResult::Error(e)) => tracing::warn!("reconciling members into the catalog: {e}"),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!("reconciling members into the catalog: {e}; retrying");
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            seen = Some(current);
        }
    }
}
