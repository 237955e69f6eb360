//! Anti-entropy (Consul's agent/ae and local.State.SyncChanges / SyncFull): every change to
//! the local state is pushed to the catalog at once by the shard that made it; a full sync
//! (compare with the catalog, repair both ways) runs at start and then at Consul's interval,
//! which grows with the cluster. Failures are logged and retried, never fatal.
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ballast_http::{Backend, Body, Request};
use ballast_local::{SyncAction, SyncOp};
use ballast_store::{ApplyResult, Command};
use glommio::channels::local_channel::{self, LocalReceiver, LocalSender};

use super::LocalAgent;
use crate::service::ServiceBackend;

/// After a failed push, try again this soon (Consul waits 15 s; a round is one request at a
/// time per agent, so a shorter wait costs the servers nothing).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(2);

/// Wakes this shard's sync worker (`local_changed` on the HTTP path, check runners).
#[derive(Clone)]
pub struct SyncKick(Rc<LocalSender<()>>);

impl SyncKick {
    pub fn channel() -> (SyncKick, LocalReceiver<()>) {
        let (tx, rx) = local_channel::new_bounded(1);
        (SyncKick(Rc::new(tx)), rx)
    }

    /// A full channel already holds a wake-up: nothing is lost by dropping this one.
    pub fn kick(&self) {
        let _ = self.0.try_send(());
    }
}

/// One per service shard: pushes changes whenever kicked.
pub async fn run_sync_worker(local: Arc<LocalAgent>, backend: Rc<ServiceBackend>, kicks: LocalReceiver<()>) {
    while kicks.recv().await.is_some() {
        if !sync_changes(&local, &backend).await {
            glommio::timer::sleep(RETRY_AFTER_FAILURE).await;
            backend.kick_sync();
        }
    }
}

/// Pushes everything out of sync. Only one shard pushes at a time; a change made meanwhile
/// makes the pushing shard go round again. False when a push failed.
async fn sync_changes(local: &LocalAgent, backend: &ServiceBackend) -> bool {
    local.sync_again.store(true, Ordering::SeqCst);
    if local.syncing.swap(true, Ordering::SeqCst) {
        return true; // the running round sees sync_again
    }
    loop {
        while local.sync_again.swap(false, Ordering::SeqCst) {
            let ops = local.lock().plan_changes(Instant::now());
            if !execute(local, backend, ops).await {
                local.syncing.store(false, Ordering::SeqCst);
                return false;
            }
        }
        local.syncing.store(false, Ordering::SeqCst);
        // A change that landed between the last round and the release is ours to push.
        if !local.sync_again.load(Ordering::SeqCst) || local.syncing.swap(true, Ordering::SeqCst) {
            return true;
        }
    }
}

/// Runs on one service shard for the agent's lifetime: a full sync as soon as the cluster
/// can take writes, then every `ae_interval` (scaled by cluster size, staggered), and the
/// deferred output-only check updates when they fall due.
pub async fn run_full_sync(local: Arc<LocalAgent>, backend: Rc<ServiceBackend>) {
    let mut next_full = Instant::now();
    loop {
        let now = Instant::now();
        if now >= next_full {
            let cluster = backend.members.members(false).len().max(1);
            next_full = match full_sync(&local, &backend).await {
                Ok(()) => now + local.ae_interval + ballast_local::ae::jitter(local.ae_interval, cluster),
                Err(e) => {
                    tracing::warn!("anti-entropy: full sync failed: {e}; retrying");
                    now + RETRY_AFTER_FAILURE
                }
            };
        }
        if local.lock().next_deferred_sync().is_some_and(|t| t <= now) {
            backend.kick_sync();
        }
        glommio::timer::sleep(Duration::from_millis(500)).await;
    }
}

async fn full_sync(local: &LocalAgent, backend: &ServiceBackend) -> Result<(), String> {
    let (node, services, checks) = catalog_view(local, backend).await?;
    let ops = local.lock().plan_full_sync(node.as_ref(), &services, &checks, Instant::now());
    if execute(local, backend, ops).await {
        Ok(())
    } else {
        Err("a catalog write failed".into())
    }
}

type NodeView = (Option<ballast_store::catalog::Node>, Vec<ballast_store::catalog::NodeService>, Vec<ballast_store::catalog::HealthCheck>);

/// What the catalog holds for this node: a server reads its own store (it is the node's
/// truth up to replication lag, and the plan's writes are idempotent); a client asks a
/// server.
async fn catalog_view(local: &LocalAgent, backend: &ServiceBackend) -> Result<NodeView, String> {
    let name = local.lock().node().node_name.clone();
    if !local.client {
        if !backend.view.known_leader() {
            return Err("No cluster leader".into());
        }
        let state = backend.state();
        let node_and_services = state.catalog_node_services(&name).0;
        let (checks, _) = state.node_checks(&name);
        let (node, services) = match node_and_services {
            Some((n, s)) => (Some((*n).clone()), s.iter().map(|s| (**s).clone()).collect()),
            None => (None, Vec::new()),
        };
        return Ok((node, services, checks.iter().map(|c| (**c).clone()).collect()));
    }
    remote_node_view(backend, &name).await
}

/// A node's catalog entry, services and checks, asked of a server (client agents).
pub(super) async fn remote_node_view(backend: &ServiceBackend, node: &str) -> Result<NodeView, String> {
    let node_body = forward_get(backend, &format!("/v1/catalog/node/{node}")).await?;
    let checks_body = forward_get(backend, &format!("/v1/health/node/{node}")).await?;
    ballast_http::decode_node_view(&node_body, &checks_body)
}

async fn forward_get(backend: &ServiceBackend, path: &str) -> Result<Vec<u8>, String> {
    let resp = backend.forward(&request("GET", path, "stale", Vec::new())).await;
    if resp.status != 200 {
        return Err(format!("GET {path}: {} {}", resp.status, String::from_utf8_lossy(&resp.body)));
    }
    Ok(resp.body)
}

fn request(method: &str, path: &str, query: &str, body: Vec<u8>) -> Request {
    Request {
        method: method.into(),
        raw_path: path.into(),
        path: path.into(),
        raw_query: query.into(),
        consul_token: None,
        authorization: None,
        cache_control: None,
        consul_partition: None,
        accept: None,
        body: Body::Complete(body),
    }
}

/// Sends each op in order; marks it synced once the servers accepted it. Stops at the first
/// failure (the rest stay out of sync and go in the next round).
async fn execute(local: &LocalAgent, backend: &ServiceBackend, ops: Vec<SyncOp>) -> bool {
    for op in ops {
        match send(local, backend, &op.action).await {
            Ok(()) => local.lock().mark_synced(&op),
            Err(e) => {
                tracing::warn!("anti-entropy: syncing with the catalog failed: {e}");
                return false;
            }
        }
    }
    true
}

async fn send(local: &LocalAgent, backend: &ServiceBackend, action: &SyncAction) -> Result<(), String> {
    if local.client {
        let (path, body) = match action {
            SyncAction::Register(r) => ("/v1/catalog/register", ballast_http::register_request_body(r)),
            SyncAction::Deregister(d) => ("/v1/catalog/deregister", ballast_http::deregister_request_body(d)),
        };
        let resp = backend.forward(&request("PUT", path, "", body)).await;
        return match resp.status {
            200 => Ok(()),
            s => Err(format!("{s} {}", String::from_utf8_lossy(&resp.body))),
        };
    }
    let cmd = match action {
        SyncAction::Register(r) => Command::CatalogRegister(r.clone()),
        SyncAction::Deregister(d) => Command::CatalogDeregister(d.clone()),
    };
    match backend.propose(cmd).await {
        Ok(ApplyResult::Error(e)) => Err(e),
        Ok(_) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}
