//! The gossip (Serf LAN/WAN) part of building a [`RuntimeConfig`]: bind and advertise
//! addresses, WAN joins, reconnect timeouts, the keyring settings and memberlist tuning, with
//! Consul's names in every error (agent/config/builder.go).
use std::net::IpAddr;
use std::time::Duration;

use crate::error::ConfigError;
use crate::fragment::{Config, GossipConfig};
use crate::runtime::{GossipTuning, RuntimeConfig, RECONNECT_TIMEOUT_DEFAULT};

/// Moves the gossip keys out of the merged config, so the builder can consume the rest field by
/// field and still build these in Consul's order.
pub fn take_gossip_keys(c: &mut Config) -> Config {
    Config {
        encrypt: c.encrypt.take(),
        disable_keyring_file: c.disable_keyring_file.take(),
        serf_lan: c.serf_lan.take(),
        serf_wan: c.serf_wan.take(),
        advertise_addr_wan: c.advertise_addr_wan.take(),
        retry_join_wan: std::mem::take(&mut c.retry_join_wan),
        retry_interval_wan: c.retry_interval_wan.take(),
        retry_max_wan: c.retry_max_wan.take(),
        start_join_wan: std::mem::take(&mut c.start_join_wan),
        reconnect_timeout: c.reconnect_timeout.take(),
        reconnect_timeout_wan: c.reconnect_timeout_wan.take(),
        gossip_lan: std::mem::take(&mut c.gossip_lan),
        gossip_wan: std::mem::take(&mut c.gossip_wan),
        ..Config::default()
    }
}

/// Builds the gossip keys (from [`take_gossip_keys`]) into `rt`, after bind_addr and
/// advertise_addr (the WAN addresses default to them at the agent).
pub fn build_gossip(mut c: Config, rt: &mut RuntimeConfig) -> Result<(), ConfigError> {
    if let Some(key) = c.encrypt.take().filter(|k| !k.is_empty()) {
        rt.encrypt = Some(key);
    }
    if let Some(v) = c.disable_keyring_file {
        rt.disable_keyring_file = v;
    }

    rt.serf_bind_lan = optional_ip("serf_lan", c.serf_lan.as_deref())?;
    rt.serf_bind_wan = optional_ip("serf_wan", c.serf_wan.as_deref())?;
    rt.advertise_addr_wan = optional_ip("advertise_addr_wan", c.advertise_addr_wan.as_deref())?;
    if rt.advertise_addr_wan.is_some_and(|ip| ip.is_unspecified()) {
        return Err(ConfigError::new("Advertise WAN address cannot be 0.0.0.0, :: or [::]"));
    }

    check_join_addrs("retry_join_wan", &c.retry_join_wan)?;
    check_join_addrs("start_join_wan", &c.start_join_wan)?;
    rt.retry_join_wan = std::mem::take(&mut c.retry_join_wan);
    rt.start_join_wan = std::mem::take(&mut c.start_join_wan);
    if let Some(s) = &c.retry_interval_wan {
        rt.retry_interval_wan = duration("retry_interval_wan", s)?;
    }
    if let Some(n) = c.retry_max_wan {
        rt.retry_max_wan = u32::try_from(n).map_err(|_| ConfigError::new(format!("retry_max_wan cannot be {n}")))?;
    }

    // Consul hands serf a reconnect timeout only when it is non-zero, so "0s" keeps 72h.
    if let Some(s) = &c.reconnect_timeout {
        rt.reconnect_timeout = nonzero_or_default(duration("reconnect_timeout", s)?);
    }
    if let Some(s) = &c.reconnect_timeout_wan {
        rt.reconnect_timeout_wan = nonzero_or_default(duration("reconnect_timeout_wan", s)?);
    }

    tune("gossip_lan", &c.gossip_lan, &mut rt.gossip_lan)?;
    tune("gossip_wan", &c.gossip_wan, &mut rt.gossip_wan)?;
    Ok(())
}

/// Consul's "Advertise WAN address cannot be ..." check, made on the raw value before any
/// address is parsed, as builder.go does.
pub fn check_advertise_wan_not_any(c: &Config) -> Result<(), ConfigError> {
    match c.advertise_addr_wan.as_deref() {
        Some("0.0.0.0" | "::" | "[::]") => {
            Err(ConfigError::new("Advertise WAN address cannot be 0.0.0.0, :: or [::]"))
        }
        _ => Ok(()),
    }
}

/// Join addresses are passed through as written, except what needs a feature ballast lacks.
pub fn check_join_addrs(name: &str, list: &[String]) -> Result<(), ConfigError> {
    if let Some(a) = list.iter().find(|a| a.contains("provider=")) {
        return Err(ConfigError::new(format!("{name}: cloud auto-join ({a:?}) is not supported by ballast yet")));
    }
    if let Some(a) = list.iter().find(|a| a.contains("{{")) {
        return Err(ConfigError::new(format!("{name}: go-sockaddr templates ({a:?}) are not supported by ballast yet")));
    }
    Ok(())
}

fn nonzero_or_default(d: Duration) -> Duration {
    if d.is_zero() {
        RECONNECT_TIMEOUT_DEFAULT
    } else {
        d
    }
}

/// Consul's expandFirstIP: empty means unset; one address; never a unix socket.
fn optional_ip(name: &str, s: Option<&str>) -> Result<Option<IpAddr>, ConfigError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => crate::builder::single_ip(name, s).map(Some),
    }
}

fn duration(name: &str, s: &str) -> Result<Duration, ConfigError> {
    crate::parse_duration(s).map_err(|e| ConfigError::new(format!("{name}: invalid duration: {s:?}: {e}")))
}

/// One pool's memberlist tuning. Later sources already won in the merge; unset keys keep the
/// defaults in `out` (memberlist's, or Consul's dev values).
fn tune(block: &str, g: &GossipConfig, out: &mut GossipTuning) -> Result<(), ConfigError> {
    let count = |key: &str, v: i64| {
        u32::try_from(v).map_err(|_| {
            ConfigError::new(format!("{block}.{key} cannot be {v}. Must be greater than or equal to zero"))
        })
    };
    // Consul names these durations "gossip_lan..gossip_interval" (two dots) in its errors.
    let interval = |key: &str, s: &str| duration(&format!("{block}..{key}"), s);
    if let Some(v) = g.gossip_nodes {
        out.gossip_nodes = Some(count("gossip_nodes", v)?);
    }
    if let Some(s) = &g.gossip_interval {
        out.gossip_interval = Some(interval("gossip_interval", s)?);
    }
    if let Some(s) = &g.probe_interval {
        out.probe_interval = Some(interval("probe_interval", s)?);
    }
    if let Some(s) = &g.probe_timeout {
        out.probe_timeout = Some(interval("probe_timeout", s)?);
    }
    if let Some(v) = g.suspicion_mult {
        out.suspicion_mult = Some(count("suspicion_mult", v)?);
    }
    if let Some(v) = g.retransmit_mult {
        out.retransmit_mult = Some(count("retransmit_mult", v)?);
    }
    Ok(())
}
