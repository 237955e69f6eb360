//! The merged, validated configuration the agent runs with. Plain data: every field is public
//! so the agent reads it directly; only `ballast-config` builds it from files and flags.
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

/// Serf's reconnect timeout as Consul configures it (72h); also what an explicit 0 means,
/// because Consul only overrides serf's value when the setting is non-zero.
pub const RECONNECT_TIMEOUT_DEFAULT: Duration = Duration::from_secs(72 * 3600);

/// Where the agent's executors run (ballast-only; `-placement=auto|unbound|0,1`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Placement {
    /// One executor per available core, pinned, wrapping when agents share a machine.
    #[default]
    Auto,
    /// Pinned to exactly these cores, one executor each.
    Cores(Vec<usize>),
    /// Executors left to the OS scheduler.
    Unbound,
}

/// Consul's `ports { ... }` block. A negative port disables that listener, as in Consul.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ports {
    pub http: i32,
    pub https: i32,
    pub dns: i32,
    pub serf_lan: i32,
    pub serf_wan: i32,
    pub server: i32,
    pub grpc: i32,
}

impl Default for Ports {
    fn default() -> Self {
        Ports { http: 8500, https: -1, dns: 8600, serf_lan: 8301, serf_wan: 8302, server: 8300, grpc: -1 }
    }
}

/// Consul's `gossip_lan { ... }` / `gossip_wan { ... }` memberlist tuning for one pool.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GossipTuning {
    // None = memberlist's default for that pool. Some(0) is passed through as Consul does
    // (a zero interval turns that memberlist loop off).
    pub gossip_nodes: Option<u32>,
    pub gossip_interval: Option<Duration>,
    pub probe_interval: Option<Duration>,
    pub probe_timeout: Option<Duration>,
    pub suspicion_mult: Option<u32>,
    pub retransmit_mult: Option<u32>,
}

impl GossipTuning {
    /// Consul's default WAN tuning: default.go writes the LAN pool's gossip_nodes (3) into
    /// gossip_wan, overriding memberlist's WAN default of 4; everything else is memberlist's.
    pub fn consul_wan_default() -> Self {
        GossipTuning { gossip_nodes: Some(3), ..GossipTuning::default() }
    }

    /// Consul's DevSource: fast failure detection on a single machine.
    fn dev(base: GossipTuning) -> Self {
        let fast = Some(Duration::from_millis(100));
        GossipTuning {
            gossip_interval: fast,
            probe_interval: fast,
            probe_timeout: fast,
            suspicion_mult: Some(3),
            ..base
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RuntimeConfig {
    pub datacenter: String,
    pub node_name: String,
    /// None: the agent reads or generates `<data_dir>/node-id`, as Consul does.
    pub node_id: Option<String>,
    pub server: bool,
    pub bootstrap: bool,
    pub bootstrap_expect: u32,
    pub dev: bool,
    /// None only in dev mode (everything in memory).
    pub data_dir: Option<PathBuf>,
    pub bind_addr: IpAddr,
    pub advertise_addr: Option<IpAddr>,
    /// Addresses the client interfaces (HTTP, DNS) listen on.
    pub client_addrs: Vec<IpAddr>,
    pub ports: Ports,
    /// Lower case: trace, debug, info, warn, error.
    pub log_level: String,
    pub log_json: bool,
    pub pid_file: Option<PathBuf>,
    /// Consul's performance.raft_multiplier: scales Raft timeouts (1 = fastest).
    pub raft_multiplier: u32,
    pub raft_snapshot_threshold: u64,
    pub raft_snapshot_interval: Duration,
    pub raft_trailing_logs: u64,
    /// Consul's limits.kv_max_value_size, in bytes.
    pub kv_max_value_size: u64,
    /// Consul's limits.txn_max_req_len, in bytes.
    pub txn_max_req_len: u64,
    pub retry_join: Vec<String>,
    pub retry_interval: Duration,
    /// 0 = retry forever.
    pub retry_max: u32,
    /// A server that replicates and serves stale reads but never votes.
    pub read_replica: bool,
    pub start_join: Vec<String>,
    /// ballast-only: executor placement.
    pub placement: Placement,
    /// ballast-only: number of service-catalog shards; None = one per executor.
    pub service_shards: Option<usize>,
    /// Gossip encryption key, base64 of 16, 24 or 32 bytes (`encrypt` / `-encrypt`).
    pub encrypt: Option<String>,
    /// Keep the gossip keyring in memory only, never under `<data_dir>/serf/`.
    pub disable_keyring_file: bool,
    /// `serf_lan` / `-serf-lan-bind`; None = bind_addr.
    pub serf_bind_lan: Option<IpAddr>,
    /// `serf_wan` / `-serf-wan-bind`; None = bind_addr.
    pub serf_bind_wan: Option<IpAddr>,
    /// `advertise_addr_wan` / `-advertise-wan`; None = advertise_addr.
    pub advertise_addr_wan: Option<IpAddr>,
    pub retry_join_wan: Vec<String>,
    pub start_join_wan: Vec<String>,
    pub retry_interval_wan: Duration,
    /// 0 = retry forever.
    pub retry_max_wan: u32,
    /// How long a failed LAN member is kept before being reaped.
    pub reconnect_timeout: Duration,
    pub reconnect_timeout_wan: Duration,
    pub gossip_lan: GossipTuning,
    pub gossip_wan: GossipTuning,
    pub checks: ChecksConfig,
    /// `node_meta`: the node's metadata in the catalog.
    pub node_meta: std::collections::BTreeMap<String, String>,
}

/// How the agent runs its local checks (Consul's top-level check keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksConfig {
    /// Script checks may be registered over the HTTP API.
    pub enable_script_checks: bool,
    /// Script checks may come from configuration files.
    pub enable_local_script_checks: bool,
    pub discard_check_output: bool,
    /// Output-only changes reach the catalog at most this often.
    pub check_update_interval: Duration,
    /// How often services critical past DeregisterCriticalServiceAfter are removed.
    pub check_reap_interval: Duration,
    /// No service is removed sooner than this, whatever its check asks.
    pub check_deregister_interval_min: Duration,
    /// Anti-entropy's base interval between full syncs (Consul's internal `ae_interval`).
    pub ae_interval: Duration,
}

impl Default for ChecksConfig {
    /// Consul's defaults (agent/config/default.go).
    fn default() -> Self {
        ChecksConfig {
            enable_script_checks: false,
            enable_local_script_checks: false,
            discard_check_output: false,
            check_update_interval: Duration::from_secs(300),
            check_reap_interval: Duration::from_secs(30),
            check_deregister_interval_min: Duration::from_secs(60),
            ae_interval: Duration::from_secs(60),
        }
    }
}

impl Default for RuntimeConfig {
    /// Consul's defaults for a non-dev agent (agent/config/default.go); `data_dir` is unset,
    /// which validation rejects unless dev mode is on.
    fn default() -> Self {
        RuntimeConfig {
            datacenter: "dc1".to_string(),
            node_name: crate::hostname::hostname(),
            node_id: None,
            server: false,
            bootstrap: false,
            bootstrap_expect: 0,
            dev: false,
            data_dir: None,
            bind_addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            advertise_addr: None,
            client_addrs: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
            ports: Ports::default(),
            log_level: "info".to_string(),
            log_json: false,
            pid_file: None,
            raft_multiplier: 5,
            raft_snapshot_threshold: 16384,
            raft_snapshot_interval: Duration::from_secs(30),
            raft_trailing_logs: 10240,
            kv_max_value_size: 524288,
            txn_max_req_len: 524288,
            retry_join: Vec::new(),
            retry_interval: Duration::from_secs(30),
            retry_max: 0,
            read_replica: false,
            start_join: Vec::new(),
            placement: Placement::Auto,
            service_shards: None,
            encrypt: None,
            disable_keyring_file: false,
            serf_bind_lan: None,
            serf_bind_wan: None,
            advertise_addr_wan: None,
            retry_join_wan: Vec::new(),
            start_join_wan: Vec::new(),
            retry_interval_wan: Duration::from_secs(30),
            retry_max_wan: 0,
            // consul.DefaultConfig sets 3 days on both pools (serf's own default is 24h).
            reconnect_timeout: RECONNECT_TIMEOUT_DEFAULT,
            reconnect_timeout_wan: RECONNECT_TIMEOUT_DEFAULT,
            gossip_lan: GossipTuning::default(),
            gossip_wan: GossipTuning::consul_wan_default(),
            checks: ChecksConfig::default(),
            node_meta: std::collections::BTreeMap::new(),
        }
    }
}

impl RuntimeConfig {
    /// What `consul agent -dev` runs with (Consul's DevSource): a bootstrapped single server
    /// bound to loopback, fastest Raft timing, 100ms gossip probes, gRPC on 8502, nothing on
    /// disk (keyring included).
    pub fn dev() -> Self {
        RuntimeConfig {
            disable_keyring_file: true,
            gossip_lan: GossipTuning::dev(GossipTuning::default()),
            gossip_wan: GossipTuning::dev(GossipTuning::consul_wan_default()),
            dev: true,
            server: true,
            bootstrap: true,
            bind_addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
            log_level: "debug".to_string(),
            raft_multiplier: 1,
            ports: Ports { grpc: 8502, ..Ports::default() },
            ..RuntimeConfig::default()
        }
    }
}
