//! One configuration source (a file, the flags, an `-hcl` fragment) before merging: every value
//! optional, so "not set" and "set to the default" stay different, as in Consul's `Config`.

/// Consul's `ports { ... }` keys that ballast implements.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortsConfig {
    pub dns: Option<i64>,
    pub http: Option<i64>,
    pub https: Option<i64>,
    pub serf_lan: Option<i64>,
    pub serf_wan: Option<i64>,
    pub server: Option<i64>,
    pub grpc: Option<i64>,
}

/// Consul's `gossip_lan { ... }` / `gossip_wan { ... }` keys (config.go GossipLANConfig).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GossipConfig {
    pub gossip_nodes: Option<i64>,
    /// Go duration strings.
    pub gossip_interval: Option<String>,
    pub probe_interval: Option<String>,
    pub probe_timeout: Option<String>,
    pub suspicion_mult: Option<i64>,
    pub retransmit_mult: Option<i64>,
}

impl GossipConfig {
    fn merge(&mut self, later: GossipConfig) {
        set(&mut self.gossip_nodes, later.gossip_nodes);
        set(&mut self.gossip_interval, later.gossip_interval);
        set(&mut self.probe_interval, later.probe_interval);
        set(&mut self.probe_timeout, later.probe_timeout);
        set(&mut self.suspicion_mult, later.suspicion_mult);
        set(&mut self.retransmit_mult, later.retransmit_mult);
    }
}

fn set<T>(dst: &mut Option<T>, src: Option<T>) {
    if src.is_some() {
        *dst = src;
    }
}

/// The keys of one source, named after Consul's JSON/HCL keys. Filled by the file decoder or
/// by the CLI from flags (`Config::default()` then set fields).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    pub datacenter: Option<String>,
    pub node_name: Option<String>,
    pub node_id: Option<String>,
    pub server: Option<bool>,
    pub bootstrap: Option<bool>,
    pub bootstrap_expect: Option<i64>,
    pub data_dir: Option<String>,
    pub bind_addr: Option<String>,
    pub advertise_addr: Option<String>,
    /// Space-separated list of IPs, as in Consul.
    pub client_addr: Option<String>,
    pub ports: PortsConfig,
    pub log_level: Option<String>,
    pub log_json: Option<bool>,
    pub pid_file: Option<String>,
    /// performance.raft_multiplier
    pub raft_multiplier: Option<i64>,
    pub raft_protocol: Option<i64>,
    pub raft_snapshot_threshold: Option<i64>,
    /// A Go duration string ("30s").
    pub raft_snapshot_interval: Option<String>,
    pub raft_trailing_logs: Option<i64>,
    /// limits.kv_max_value_size
    pub kv_max_value_size: Option<i64>,
    /// limits.txn_max_req_len
    pub txn_max_req_len: Option<i64>,
    pub retry_join: Vec<String>,
    pub retry_interval: Option<String>,
    pub retry_max: Option<i64>,
    /// read_replica, or its old name non_voting_server.
    pub read_replica: Option<bool>,
    pub start_join: Vec<String>,
    /// ballast-only: "auto", "unbound" or a comma-separated core list.
    pub placement: Option<String>,
    /// ballast-only.
    pub service_shards: Option<i64>,
    /// Base64 gossip key.
    pub encrypt: Option<String>,
    pub disable_keyring_file: Option<bool>,
    /// Consul's `serf_lan` key: the Serf LAN bind address.
    pub serf_lan: Option<String>,
    /// Consul's `serf_wan` key: the Serf WAN bind address.
    pub serf_wan: Option<String>,
    pub advertise_addr_wan: Option<String>,
    pub retry_join_wan: Vec<String>,
    pub retry_interval_wan: Option<String>,
    pub retry_max_wan: Option<i64>,
    pub start_join_wan: Vec<String>,
    pub reconnect_timeout: Option<String>,
    pub reconnect_timeout_wan: Option<String>,
    pub gossip_lan: GossipConfig,
    pub gossip_wan: GossipConfig,
    pub enable_script_checks: Option<bool>,
    pub enable_local_script_checks: Option<bool>,
    pub discard_check_output: Option<bool>,
    pub check_update_interval: Option<String>,
    pub check_reap_interval: Option<String>,
    pub check_deregister_interval_min: Option<String>,
    pub ae_interval: Option<String>,
    /// `node_meta` / `-node-meta`: merged key by key, later sources win.
    pub node_meta: std::collections::BTreeMap<String, String>,
}

impl Config {
    /// Consul's merge: later scalars overwrite, lists concatenate.
    pub fn merge(&mut self, later: Config) {
        set(&mut self.datacenter, later.datacenter);
        set(&mut self.node_name, later.node_name);
        set(&mut self.node_id, later.node_id);
        set(&mut self.server, later.server);
        set(&mut self.bootstrap, later.bootstrap);
        set(&mut self.bootstrap_expect, later.bootstrap_expect);
        set(&mut self.data_dir, later.data_dir);
        set(&mut self.bind_addr, later.bind_addr);
        set(&mut self.advertise_addr, later.advertise_addr);
        set(&mut self.client_addr, later.client_addr);
        set(&mut self.ports.dns, later.ports.dns);
        set(&mut self.ports.http, later.ports.http);
        set(&mut self.ports.https, later.ports.https);
        set(&mut self.ports.serf_lan, later.ports.serf_lan);
        set(&mut self.ports.serf_wan, later.ports.serf_wan);
        set(&mut self.ports.server, later.ports.server);
        set(&mut self.ports.grpc, later.ports.grpc);
        set(&mut self.log_level, later.log_level);
        set(&mut self.log_json, later.log_json);
        set(&mut self.pid_file, later.pid_file);
        set(&mut self.retry_interval, later.retry_interval);
        set(&mut self.retry_max, later.retry_max);
        set(&mut self.read_replica, later.read_replica);
        set(&mut self.raft_multiplier, later.raft_multiplier);
        set(&mut self.raft_protocol, later.raft_protocol);
        set(&mut self.raft_snapshot_threshold, later.raft_snapshot_threshold);
        set(&mut self.raft_snapshot_interval, later.raft_snapshot_interval);
        set(&mut self.raft_trailing_logs, later.raft_trailing_logs);
        set(&mut self.kv_max_value_size, later.kv_max_value_size);
        set(&mut self.txn_max_req_len, later.txn_max_req_len);
        self.retry_join.extend(later.retry_join);
        self.start_join.extend(later.start_join);
        set(&mut self.placement, later.placement);
        set(&mut self.service_shards, later.service_shards);
        set(&mut self.encrypt, later.encrypt);
        set(&mut self.disable_keyring_file, later.disable_keyring_file);
        set(&mut self.serf_lan, later.serf_lan);
        set(&mut self.serf_wan, later.serf_wan);
        set(&mut self.advertise_addr_wan, later.advertise_addr_wan);
        self.retry_join_wan.extend(later.retry_join_wan);
        set(&mut self.retry_interval_wan, later.retry_interval_wan);
        set(&mut self.retry_max_wan, later.retry_max_wan);
        self.start_join_wan.extend(later.start_join_wan);
        set(&mut self.reconnect_timeout, later.reconnect_timeout);
        set(&mut self.reconnect_timeout_wan, later.reconnect_timeout_wan);
        self.gossip_lan.merge(later.gossip_lan);
        self.gossip_wan.merge(later.gossip_wan);
        set(&mut self.enable_script_checks, later.enable_script_checks);
        set(&mut self.enable_local_script_checks, later.enable_local_script_checks);
        set(&mut self.discard_check_output, later.discard_check_output);
        set(&mut self.check_update_interval, later.check_update_interval);
        set(&mut self.check_reap_interval, later.check_reap_interval);
        set(&mut self.check_deregister_interval_min, later.check_deregister_interval_min);
        set(&mut self.ae_interval, later.ae_interval);
        self.node_meta.extend(later.node_meta);
    }

    /// Consul merges list-valued flags before the config files and scalar flags after them
    /// (builder.go, splitSlicesAndValues), so `-retry-join` addresses come first but
    /// `-datacenter` beats every file.
    pub fn split_lists_and_values(self) -> (Config, Config) {
        let lists = Config {
            retry_join: self.retry_join.clone(),
            start_join: self.start_join.clone(),
            retry_join_wan: self.retry_join_wan.clone(),
            start_join_wan: self.start_join_wan.clone(),
            ..Config::default()
        };
        let values = Config {
            retry_join: Vec::new(),
            start_join: Vec::new(),
            retry_join_wan: Vec::new(),
            start_join_wan: Vec::new(),
            ..self
        };
        (lists, values)
    }
}
