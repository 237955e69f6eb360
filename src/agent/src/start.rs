//! `ballast agent`: from a validated configuration to running shards, and back to an exit
//! code. Fatal start-up problems print one clear line (as Consul's "==> ..." errors) and
//! give a non-zero exit.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ballast_config::RuntimeConfig;
use ballast_raft::Config as RaftConfig;
use ballast_shards::{ShardSet, ShardSpec};
use ballast_store::Store;

use crate::client_control::{run_client_control, ClientSetup};
use crate::cluster_view::ClusterView;
use crate::gossip::{GossipSetup, MembersView, PoolSetup};
use crate::control::{run_control, ControlSetup, DiscoverySetup};
use ballast_raft::ServerInfo;
use crate::identity::Identity;
use crate::lifecycle::{install_signal_handler, node_id, raft_id_from_node_id, PidFile, ShutdownFlag};
use crate::messages::{ToControl, ToService};
use crate::service::{run_service, ServiceSetup, MAX_IN_FLIGHT};
use crate::view::RaftView;

/// Base Raft tick; Consul scales its Raft timeouts by `performance.raft_multiplier`, and so
/// do we: heartbeat = 1 tick, election timeout = 10..20 ticks.
const BASE_TICK: Duration = Duration::from_millis(100);
/// Longest pause between discovery rounds: forming the cluster must not wait for Consul's
/// 30 s retry_interval.
const DISCOVERY_ROUND: Duration = Duration::from_secs(1);

pub fn run(cfg: RuntimeConfig) -> i32 {
    if let Err(e) = crate::logging::init(&cfg.log_level, cfg.log_json) {
        eprintln!("==> {e}");
        return 1;
    }
    match run_agent(cfg) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("==> {e}");
            1
        }
    }
}

fn run_agent(cfg: RuntimeConfig) -> Result<(), String> {
    let (data_dir, _dev_dir) = data_dir(&cfg)?;
    std::fs::create_dir_all(&data_dir).map_err(|e| format!("Error creating data dir {}: {e}", data_dir.display()))?;
    let node_id = node_id(cfg.node_id.as_deref(), &data_dir).map_err(|e| format!("node ID in {}: {e}", data_dir.display()))?;
    let raft_id = raft_id_from_node_id(&node_id);
    let _pid = PidFile::create(cfg.pid_file.as_deref()).map_err(|e| format!("Could not write PID file: {e}"))?;
    let shutdown = ShutdownFlag::default();
    install_signal_handler(shutdown.clone()).map_err(|e| format!("signal handling: {e}"))?;

    let identity = Arc::new(Identity::new(&cfg, node_id.clone(), raft_id));
    let members = Arc::new(MembersView::default());
    let gossip = gossip_setup(&cfg, &identity, &data_dir)?;
    ballast_local::validate_service_meta("", &cfg.node_meta).map_err(|e| format!("node_meta invalid: {e}"))?;
    let local = Arc::new(crate::local_agent::LocalAgent::load(&cfg, &identity, &data_dir));
    if !cfg.server {
        return run_client(cfg, identity, members, local, gossip, shutdown);
    }
    let store = Store::new();
    let view = RaftView::default();
    let cluster = ClusterView::default();
    let multiplier = cfg.raft_multiplier.max(1);
    let mut raft = RaftConfig::new(raft_id);
    raft.max_pending_reads = MAX_IN_FLIGHT;

    tracing::info!(
        node = %cfg.node_name, node_id = %node_id, datacenter = %cfg.datacenter, data_dir = %data_dir.display(),
        "ballast agent starting (Consul {} compatible)", crate::CONSUL_COMPAT_VERSION
    );
    let me = ServerInfo {
        id: raft_id,
        address: identity.server_addr(),
        node: cfg.node_name.clone(),
        node_id: node_id.clone(),
    };
    let port = |p: i32| u16::try_from(p).ok().filter(|p| *p > 0);
    let server_port = port(cfg.ports.server).ok_or("the server port must be set (ports.server > 0)")?;
    let rpc_listen = vec![SocketAddr::new(cfg.bind_addr, server_port)];
    let single_server = cfg.dev || cfg.bootstrap || cfg.bootstrap_expect == 1;
    let discovery = DiscoverySetup {
        members: members.clone(),
        interval: cfg.retry_interval.min(DISCOVERY_ROUND).max(Duration::from_millis(200)),
        bootstrap_expect: if single_server { 1 } else { cfg.bootstrap_expect },
        read_replica: cfg.read_replica,
        datacenter: cfg.datacenter.clone(),
    };
    let control_setup = ControlSetup {
        data_dir: data_dir.clone(),
        raft,
        me,
        single_server,
        rpc_listen,
        discovery,
        store: store.clone(),
        view: view.clone(),
        cluster: cluster.clone(),
        tick: BASE_TICK * multiplier,
        snapshot_threshold: cfg.raft_snapshot_threshold,
        trailing_logs: cfg.raft_trailing_logs,
        shutdown: shutdown.clone(),
        gossip,
        members: members.clone(),
    };
    let service_template = ServiceSetup { store, view, cluster, ..service_setup(&cfg, identity, members, local, false)? };
    run_shards(&cfg, ControlRole::Server(control_setup), service_template, &shutdown)
}

/// A client agent: the LAN pool on the control shard, the HTTP API on the service shards
/// forwarding to servers. No Raft, no log.
fn run_client(
    cfg: RuntimeConfig,
    identity: Arc<Identity>,
    members: Arc<MembersView>,
    local: Arc<crate::local_agent::LocalAgent>,
    gossip: GossipSetup,
    shutdown: ShutdownFlag,
) -> Result<(), String> {
    tracing::info!(node = %cfg.node_name, datacenter = %cfg.datacenter, "ballast client agent starting (Consul {} compatible)", crate::CONSUL_COMPAT_VERSION);
    let client_setup = ClientSetup { gossip, members: members.clone(), shutdown: shutdown.clone() };
    let service_template = service_setup(&cfg, identity, members, local, true)?;
    run_shards(&cfg, ControlRole::Client(client_setup), service_template, &shutdown)
}

/// What every service shard starts from (a client's store and Raft views stay empty).
fn service_setup(
    cfg: &RuntimeConfig,
    identity: Arc<Identity>,
    members: Arc<MembersView>,
    local: Arc<crate::local_agent::LocalAgent>,
    client: bool,
) -> Result<ServiceSetup, String> {
    let http_port = u16::try_from(cfg.ports.http).map_err(|_| "the HTTP port must be set (ports.http > 0)".to_string())?;
    Ok(ServiceSetup {
        shard: 0,
        http_addrs: cfg.client_addrs.iter().map(|ip| SocketAddr::new(*ip, http_port)).collect(),
        store: Store::new(),
        view: RaftView::default(),
        cluster: ClusterView::default(),
        identity,
        kv_max_value_size: cfg.kv_max_value_size as usize,
        txn_max_req_len: cfg.txn_max_req_len as usize,
        datacenter: cfg.datacenter.clone(),
        members,
        client,
        source_ip: Some(cfg.bind_addr).filter(|ip| !ip.is_unspecified()),
        local,
    })
}

/// What the control shard runs: Raft and gossip on a server, gossip only on a client.
enum ControlRole {
    Server(ControlSetup),
    Client(ClientSetup),
}

/// Starts the control shard and the service shards, waits for them to stop, and turns a
/// shutdown for a reason into an error (a non-zero exit).
fn run_shards(cfg: &RuntimeConfig, role: ControlRole, service_template: ServiceSetup, shutdown: &ShutdownFlag) -> Result<(), String> {
    let spec = ShardSpec {
        placement: placement(&cfg.placement),
        service_shards: cfg.service_shards,
        name_prefix: "ballast".into(),
        // Sized above a shard's in-flight bound so replies are never refused.
        request_queue_capacity: MAX_IN_FLIGHT * 2,
        event_queue_capacity: MAX_IN_FLIGHT * 2 + 64,
        ..ShardSpec::default()
    };
    let set = ShardSet::start::<ToControl, ToService, _, _, _, _>(
        spec,
        move |ctx| async move {
            let mut to_services = Vec::new();
            let mut from_services = Vec::new();
            for link in ctx.links {
                to_services.push(link.events);
                from_services.push(link.requests);
            }
            let result = match role {
                ControlRole::Server(setup) => run_control(setup, to_services, from_services).await,
                ControlRole::Client(setup) => run_client_control(setup, to_services, from_services).await,
            };
            result.map_err(Into::into)
        },
        move |ctx| {
            let setup = ServiceSetup { shard: ctx.index, ..service_template.clone() };
            async move { run_service(setup, ctx.requests, ctx.events).await.map_err(Into::into) }
        },
    )
    .map_err(|e| format!("starting shards: {e}"))?;
    set.join().map_err(|e| e.to_string())?;
    if shutdown.failed() {
        return Err("agent stopped: could not join the cluster (retry_join attempts exhausted)".into());
    }
    tracing::info!("ballast agent stopped");
    Ok(())
}

/// The LAN pool (and the WAN pool on servers), with the keyrings Consul would load:
/// `serf/local.keyring` and `serf/remote.keyring` win over `-encrypt` when they exist,
/// and a mismatch is said loudly.
fn gossip_setup(cfg: &RuntimeConfig, identity: &Identity, data_dir: &std::path::Path) -> Result<GossipSetup, String> {
    let port = |p: i32, what: &str| u16::try_from(p).ok().filter(|p| *p > 0).ok_or(format!("the {what} port must be set"));
    let lan_port = port(cfg.ports.serf_lan, "Serf LAN")?;
    let lan_path = ballast_keyring::lan_path(data_dir);
    let wan_path = ballast_keyring::wan_path(data_dir);
    let (lan_ring, wan_ring) = if cfg.disable_keyring_file {
        let ring = match cfg.encrypt.as_deref().filter(|k| !k.is_empty()) {
            Some(k) => {
                let raw = ballast_keyring::decode_key(k).map_err(|e| format!("encrypt has invalid key: {e}"))?;
                Some(ballast_keyring::Keyring::new(&raw, &[]).map_err(|e| e.to_string())?)
            }
            None => None,
        };
        (ring.clone(), if cfg.server { ring } else { None })
    } else {
        let wan = cfg.server.then_some(wan_path.as_path());
        let got = ballast_keyring::startup(cfg.encrypt.as_deref(), &lan_path, wan).map_err(|e| e.to_string())?;
        for w in &got.warnings {
            tracing::warn!("{w}");
        }
        (got.lan, got.wan)
    };
    let keep_file = !cfg.disable_keyring_file;
    let lan = PoolSetup {
        bind: SocketAddr::new(cfg.serf_bind_lan.unwrap_or(cfg.bind_addr), lan_port),
        advertise: SocketAddr::new(identity.advertise, lan_port),
        name: cfg.node_name.clone(),
        tags: identity.member(false).tags,
        tuning: cfg.gossip_lan.clone(),
        reconnect_timeout: cfg.reconnect_timeout,
        keyring: lan_ring,
        keyring_path: keep_file.then(|| lan_path.clone()),
        start_join: cfg.start_join.clone(),
        retry_join: cfg.retry_join.clone(),
        retry_interval: cfg.retry_interval,
        retry_max: cfg.retry_max,
    };
    let wan = match (cfg.server, port(cfg.ports.serf_wan, "Serf WAN")) {
        (true, Ok(wan_port)) => Some(PoolSetup {
            bind: SocketAddr::new(cfg.serf_bind_wan.unwrap_or(cfg.bind_addr), wan_port),
            advertise: SocketAddr::new(cfg.advertise_addr_wan.unwrap_or(identity.advertise), wan_port),
            name: format!("{}.{}", cfg.node_name, cfg.datacenter),
            tags: identity.member(true).tags,
            tuning: cfg.gossip_wan.clone(),
            reconnect_timeout: cfg.reconnect_timeout_wan,
            keyring: wan_ring,
            keyring_path: keep_file.then(|| wan_path.clone()),
            start_join: cfg.start_join_wan.clone(),
            retry_join: cfg.retry_join_wan.clone(),
            retry_interval: cfg.retry_interval_wan,
            retry_max: cfg.retry_max_wan,
        }),
        _ => None,
    };
    Ok(GossipSetup { datacenter: cfg.datacenter.clone(), lan, wan })
}

fn placement(p: &ballast_config::Placement) -> ballast_shards::Placement {
    match p {
        ballast_config::Placement::Auto => ballast_shards::Placement::Auto,
        ballast_config::Placement::Cores(c) => ballast_shards::Placement::Cores(c.clone()),
        ballast_config::Placement::Unbound => ballast_shards::Placement::Unbound,
    }
}

/// `-dev` without `-data-dir` keeps its state in a temporary directory removed at exit:
/// the same code path as a real server, nothing left behind.
struct DevDir(PathBuf);

impl Drop for DevDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn data_dir(cfg: &RuntimeConfig) -> Result<(PathBuf, Option<DevDir>), String> {
    match (&cfg.data_dir, cfg.dev) {
        (Some(d), _) => Ok((d.clone(), None)),
        (None, true) => {
            let d = std::env::temp_dir().join(format!("ballast-dev-{}", std::process::id()));
            Ok((d.clone(), Some(DevDir(d))))
        }
        (None, false) => Err("data_dir cannot be empty".into()),
    }
}
