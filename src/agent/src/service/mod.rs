//! A service shard: the HTTP API on this core, fed by the published state store and talking
//! to the control shard only through its two bounded queues.
mod backend;
mod forwarder;
mod pending;

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;

use ballast_http::{HttpService, ServerOptions};
use ballast_shards::{QueueReceiver, QueueSender};
use ballast_store::{Store, WatchRegistry};

use crate::cluster_view::ClusterView;
use crate::gossip::MembersView;
use crate::identity::Identity;
use crate::messages::{ToControl, ToService, WriteFailure};
use crate::view::RaftView;
pub use backend::ServiceBackend;
use pending::Pending;

/// In-flight writes (and, separately, consistent reads) one shard may have at the control
/// shard; past it requests get 429 at once. The control→service queue is sized above it.
pub const MAX_IN_FLIGHT: usize = 4096;

#[derive(Clone)]
pub struct ServiceSetup {
    pub shard: usize,
    pub http_addrs: Vec<SocketAddr>,
    pub store: Store,
    pub view: RaftView,
    pub cluster: ClusterView,
    pub identity: Arc<Identity>,
    pub kv_max_value_size: usize,
    pub txn_max_req_len: usize,
    pub datacenter: String,
    pub members: Arc<MembersView>,
    /// A client agent: forward to servers instead of serving from a local store.
    pub client: bool,
    /// Where forwarding connections leave from (the -bind address).
    pub source_ip: Option<std::net::IpAddr>,
    /// This agent's own services and checks, shared by the service shards.
    pub local: Arc<crate::local_agent::LocalAgent>,
}

pub async fn run_service(
    setup: ServiceSetup,
    to_control: QueueSender<ToControl>,
    from_control: QueueReceiver<ToService>,
) -> Result<(), String> {
    // Serve nothing before the control shard recovered the state.
    match from_control.recv().await {
        Some(ToService::Started) => {}
        Some(ToService::Fatal) | None => return Ok(()), // the control shard reports it
        Some(_) => return Err("control shard spoke before starting".into()),
    }
    let (sync_kick, sync_kicks) = crate::local_agent::SyncKick::channel();
    let backend = Rc::new(ServiceBackend {
        local: setup.local.clone(),
        sync_kick,
        store: setup.store,
        view: setup.view,
        cluster: setup.cluster,
        to_control,
        writes: Pending::new(MAX_IN_FLIGHT),
        reads: Pending::new(MAX_IN_FLIGHT),
        ops: Pending::new(64),
        gossip_ops: Pending::new(64),
        watches: WatchRegistry::new(),
        identity: setup.identity,
        members: setup.members.clone(),
        forwarder: setup.client.then(|| forwarder::Forwarder::new(setup.members.clone(), setup.source_ip)),
    });
    let mut listeners = Vec::new();
    for addr in &setup.http_addrs {
        let l = glommio::net::TcpListener::bind(addr).map_err(|e| format!("binding HTTP to {addr}: {e}"))?;
        listeners.push(l);
    }
    if setup.shard == 0 {
        for a in &setup.http_addrs {
            tracing::info!("HTTP API listening on http://{a}");
        }
    }
    // Built here, not passed in: the options hold this shard's (Rc) counters.
    let http = ServerOptions {
        kv_max_value_size: setup.kv_max_value_size,
        txn_max_req_len: setup.txn_max_req_len,
        datacenter: setup.datacenter.clone(),
        ..ServerOptions::default()
    };
    if setup.shard == 0 && !setup.client {
        let (dc, me) = (setup.datacenter.clone(), backend.identity.node_name.clone());
        glommio::spawn_local(crate::catalog::run_member_sync(backend.clone(), setup.members.clone(), dc, me)).detach();
    }
    // Local services and checks: runners and change pushes on every shard, the periodic
    // full sync on one.
    setup.local.add_shard(setup.shard);
    glommio::spawn_local(crate::local_agent::run_sync_worker(setup.local.clone(), backend.clone(), sync_kicks)).detach();
    glommio::spawn_local(crate::local_agent::run_checks(setup.local.clone(), backend.clone(), setup.shard)).detach();
    if setup.shard == 0 {
        glommio::spawn_local(crate::local_agent::run_full_sync(setup.local.clone(), backend.clone())).detach();
    }
    let service = HttpService::new(backend.clone(), http);
    for l in listeners {
        let s = service.clone();
        glommio::spawn_local(async move {
            if let Err(e) = s.serve_listener(l).await {
                tracing::error!("HTTP server stopped: {e}");
            }
        })
        .detach();
    }
    // Dispatch what the control shard sends until it says stop.
    let mut batch = Vec::with_capacity(256);
    while from_control.recv_batch(&mut batch, 256).await > 0 {
        for msg in batch.drain(..) {
            match msg {
                ToService::Written { id, result } => backend.writes.complete(id, result),
                ToService::ReadReady { id, result } => backend.reads.complete(id, result),
                ToService::OperatorDone { id, result } => backend.ops.complete(id, result),
                ToService::GossipDone { id, result } => backend.gossip_ops.complete(id, result),
                ToService::HttpConn(fd) => {
                    use std::os::fd::{FromRawFd, IntoRawFd};
                    // SAFETY: a connected TCP socket the control shard handed over; this
                    // shard owns it from here.
                    let stream = unsafe { glommio::net::TcpStream::from_raw_fd(fd.into_raw_fd()) };
                    service.serve_stream(stream);
                }
                ToService::Changes(cs) => {
                    backend.watches.notify(&cs);
                }
                ToService::Shutdown => {
                    backend.writes.fail_all(|| Err(WriteFailure::ShuttingDown));
                    backend.reads.fail_all(|| Err(WriteFailure::ShuttingDown));
                    backend.ops.fail_all(|| Err(ballast_http::BackendError::ShuttingDown));
                    backend.gossip_ops.fail_all(|| Err(ballast_http::BackendError::ShuttingDown));
                    return Ok(());
                }
                ToService::Started | ToService::Fatal => {}
            }
        }
    }
    Ok(())
}
