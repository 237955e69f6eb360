//! The merged, validated configuration the agent runs with. Plain data: every field is public
//! so the agent reads it directly; only `ballast-config` builds it from files and flags.
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

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
        }
    }
}

impl RuntimeConfig {
    /// What `consul agent -dev` runs with (Consul's DevSource): a bootstrapped single server
    /// bound to loopback, fastest Raft timing, gRPC on 8502, nothing on disk.
    pub fn dev() -> Self {
        RuntimeConfig {
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
