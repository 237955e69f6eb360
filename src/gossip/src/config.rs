//! Tunables, with memberlist's DefaultLAN/WAN/LocalConfig and Serf's (Consul's) defaults.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Config {
    /// Node name, unique in the pool.
    pub name: String,
    /// The address others reach us at (UDP and TCP, same port).
    pub addr: SocketAddr,
    pub tags: BTreeMap<String, String>,
    pub probe_interval: Duration,
    pub probe_timeout: Duration,
    pub indirect_checks: usize,
    pub suspicion_mult: u32,
    pub suspicion_max_timeout_mult: u32,
    /// Lifeguard local health multiplier cap; 1 disables LHM.
    pub awareness_max_multiplier: u32,
    /// false = plain SWIM: no LHM, no nacks, fixed suspicion timeout (the
    /// minimum), no buddy refutation, refutations wait for the gossip tick.
    pub lifeguard: bool,
    pub gossip_interval: Duration,
    pub gossip_nodes: usize,
    pub gossip_to_the_dead: Duration,
    /// Scaled up with cluster size as memberlist's pushPullScale does.
    pub push_pull_interval: Duration,
    pub retransmit_mult: u32,
    /// Max plaintext bytes per UDP packet.
    pub packet_budget: usize,
    /// Failed members are reaped after this.
    pub reconnect_timeout: Duration,
    /// Left members are reaped after this.
    pub tombstone_timeout: Duration,
    pub reap_interval: Duration,
    /// 0 = a dead name can come back at another address at once.
    pub dead_node_reclaim: Duration,
}

impl Config {
    /// memberlist DefaultLANConfig + Consul's serf settings.
    pub fn lan(name: &str, addr: SocketAddr) -> Config {
        Config {
            name: name.to_string(),
            addr,
            tags: BTreeMap::new(),
            probe_interval: Duration::from_secs(1),
            probe_timeout: Duration::from_millis(500),
            indirect_checks: 3,
            suspicion_mult: 4,
            suspicion_max_timeout_mult: 6,
            awareness_max_multiplier: 8,
            lifeguard: true,
            gossip_interval: Duration::from_millis(200),
            gossip_nodes: 3,
            gossip_to_the_dead: Duration::from_secs(30),
            push_pull_interval: Duration::from_secs(30),
            retransmit_mult: 4,
            packet_budget: 1400,
            reconnect_timeout: Duration::from_secs(72 * 3600),
            tombstone_timeout: Duration::from_secs(24 * 3600),
            reap_interval: Duration::from_secs(15),
            dead_node_reclaim: Duration::ZERO,
        }
    }

    /// memberlist DefaultWANConfig.
    pub fn wan(name: &str, addr: SocketAddr) -> Config {
        Config {
            probe_interval: Duration::from_secs(5),
            probe_timeout: Duration::from_secs(3),
            suspicion_mult: 6,
            gossip_interval: Duration::from_millis(500),
            gossip_nodes: 4,
            gossip_to_the_dead: Duration::from_secs(60),
            push_pull_interval: Duration::from_secs(60),
            ..Config::lan(name, addr)
        }
    }

    /// memberlist DefaultLocalConfig.
    pub fn local(name: &str, addr: SocketAddr) -> Config {
        Config {
            probe_interval: Duration::from_secs(1),
            probe_timeout: Duration::from_millis(200),
            indirect_checks: 1,
            suspicion_mult: 3,
            gossip_interval: Duration::from_millis(100),
            gossip_to_the_dead: Duration::from_secs(15),
            push_pull_interval: Duration::from_secs(15),
            retransmit_mult: 2,
            ..Config::lan(name, addr)
        }
    }
}
