//! Who this agent is, in the shapes Consul's API shows it: `/v1/agent/self`, its serf
//! member entry, its Raft server address.
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use ballast_config::RuntimeConfig;
use ballast_http::{AgentConfig, AgentInfo, Member};

use crate::view::RaftView;

/// The Consul release whose HTTP API and CLI ballast reproduces; clients read it from
/// `/v1/agent/self` to decide which features they may use.
pub const CONSUL_COMPAT_VERSION: &str = "1.21.0";
pub const BALLAST_VERSION: &str = env!("CARGO_PKG_VERSION");

pub struct Identity {
    pub node_name: String,
    pub node_id: String,
    pub raft_id: u64,
    pub datacenter: String,
    pub server: bool,
    pub advertise: IpAddr,
    pub serf_lan_port: u16,
    pub serf_wan_port: u16,
    pub server_port: u16,
    pub bootstrap: bool,
    pub bootstrap_expect: u32,
    pub debug_config: serde_json::Map<String, serde_json::Value>,
    /// `node_meta` (`/v1/agent/self`'s `Meta`).
    pub node_meta: BTreeMap<String, String>,
}

impl Identity {
    pub fn new(cfg: &RuntimeConfig, node_id: String, raft_id: u64) -> Identity {
        let advertise = cfg.advertise_addr.unwrap_or(if cfg.bind_addr.is_unspecified() {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            cfg.bind_addr
        });
        let port = |p: i32, default: u16| if p > 0 { p as u16 } else { default };
        let mut debug_config = serde_json::Map::new();
        debug_config.insert("Datacenter".into(), cfg.datacenter.clone().into());
        debug_config.insert("NodeName".into(), cfg.node_name.clone().into());
        debug_config.insert("ServerMode".into(), cfg.server.into());
        debug_config.insert("DevMode".into(), cfg.dev.into());
        debug_config.insert("BootstrapExpect".into(), cfg.bootstrap_expect.into());
        // Patroni reads the minimum session TTL from here (Consul's default: 10s).
        debug_config.insert("SessionTTLMin".into(), "10s".into());
        debug_config.insert("RaftSnapshotThreshold".into(), cfg.raft_snapshot_threshold.into());
        debug_config.insert("RaftTrailingLogs".into(), cfg.raft_trailing_logs.into());
        Identity {
            node_meta: cfg.node_meta.clone(),
            node_name: cfg.node_name.clone(),
            node_id,
            raft_id,
            datacenter: cfg.datacenter.clone(),
            server: cfg.server,
            advertise,
            serf_lan_port: port(cfg.ports.serf_lan, 8301),
            serf_wan_port: port(cfg.ports.serf_wan, 8302),
            server_port: port(cfg.ports.server, 8300),
            bootstrap: cfg.bootstrap,
            bootstrap_expect: cfg.bootstrap_expect,
            debug_config,
        }
    }

    pub fn server_addr(&self) -> String {
        match self.advertise {
            IpAddr::V6(ip) => format!("[{ip}]:{}", self.server_port),
            ip => format!("{ip}:{}", self.server_port),
        }
    }

    pub fn member(&self, wan: bool) -> Member {
        let mut tags = BTreeMap::new();
        let mut tag = |k: &str, v: String| {
            tags.insert(k.to_string(), v);
        };
        tag("role", if self.server { "consul" } else { "node" }.into());
        tag("dc", self.datacenter.clone());
        tag("segment", String::new());
        tag("id", self.node_id.clone());
        tag("vsn", "2".into());
        tag("vsn_min", "2".into());
        tag("vsn_max", "3".into());
        tag("build", format!("{CONSUL_COMPAT_VERSION}:ballast-{BALLAST_VERSION}"));
        if self.server {
            tag("port", self.server_port.to_string());
            tag("raft_vsn", "3".into());
            tag("wan_join_port", self.serf_wan_port.to_string());
            tag("ft_fs", "1".into());
            tag("ft_si", "1".into());
            if self.bootstrap {
                tag("bootstrap", "1".into());
            }
            if self.bootstrap_expect > 0 {
                tag("expect", self.bootstrap_expect.to_string());
            }
        }
        let name = if wan { format!("{}.{}", self.node_name, self.datacenter) } else { self.node_name.clone() };
        Member {
            name,
            addr: self.advertise.to_string(),
            port: if wan { self.serf_wan_port } else { self.serf_lan_port },
            tags,
            status: 1,
            protocol_min: 1,
            protocol_max: 5,
            protocol_cur: 2,
            delegate_min: 2,
            delegate_max: 5,
            delegate_cur: 4,
        }
    }

    pub fn agent_info(&self, view: &RaftView) -> AgentInfo {
        let mut stats: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let raft = stats.entry("raft".into()).or_default();
        raft.insert("state".into(), if view.is_leader_ready() { "Leader" } else if view.known_leader() { "Follower" } else { "Candidate" }.into());
        raft.insert("term".into(), view.term().to_string());
        raft.insert("applied_index".into(), view.applied().to_string());
        raft.insert("last_contact".into(), if view.is_leader_ready() { "0".into() } else { format!("{}ms", view.last_contact_ms()) });
        let consul = stats.entry("consul".into()).or_default();
        consul.insert("server".into(), self.server.to_string());
        consul.insert("leader".into(), view.is_leader_ready().to_string());
        consul.insert("known_datacenters".into(), "1".into());
        let build = stats.entry("build".into()).or_default();
        build.insert("version".into(), CONSUL_COMPAT_VERSION.into());
        build.insert("prerelease".into(), String::new());
        build.insert("revision".into(), format!("ballast-{BALLAST_VERSION}"));
        let agent = stats.entry("agent".into()).or_default();
        agent.insert("checks".into(), "0".into());
        agent.insert("services".into(), "0".into());
        AgentInfo {
            config: AgentConfig {
                datacenter: self.datacenter.clone(),
                primary_datacenter: self.datacenter.clone(),
                node_name: self.node_name.clone(),
                node_id: self.node_id.clone(),
                revision: format!("ballast-{BALLAST_VERSION}"),
                server: self.server,
                version: CONSUL_COMPAT_VERSION.into(),
                build_date: "2026-11-21T00:00:00Z".into(),
            },
            debug_config: self.debug_config.clone(),
            coord: None,
            member: self.member(false),
            stats,
            meta: self.node_meta.clone(),
            xds: None,
        }
    }
}
