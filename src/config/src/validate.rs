//! Semantic checks on the built configuration, in the order and words of Consul's
//! `builder.validate`, plus its start-up warnings about the bootstrap settings.
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use crate::error::ConfigError;
use crate::runtime::RuntimeConfig;

pub fn validate(rt: &RuntimeConfig, warnings: &mut Vec<String>) -> Result<(), ConfigError> {
    let fail = |m: &str| Err(ConfigError::new(m));
    if rt.datacenter.is_empty() {
        return fail("datacenter cannot be empty");
    }
    if !rt.datacenter.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-') {
        return Err(ConfigError::new(format!(
            "datacenter can only contain lowercase alphanumeric, - or _ characters. received: {:?}",
            rt.datacenter
        )));
    }
    match &rt.data_dir {
        None if !rt.dev => return fail("data_dir cannot be empty"),
        Some(dir) if !rt.dev => match std::fs::metadata(dir) {
            Ok(m) if !m.is_dir() => {
                return Err(ConfigError::new(format!("data_dir {:?} is not a directory", dir.display().to_string())))
            }
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(ConfigError::new(format!("Error getting info on data_dir: {e}")))
            }
            _ => {}
        },
        _ => {}
    }
    if rt.node_name.is_empty() {
        return fail("node_name cannot be empty");
    }
    if !rt.node_name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        warnings.push(format!(
            "Node name {:?} will not be discoverable via DNS due to invalid characters. Valid characters include all alpha-numerics and dashes.",
            rt.node_name
        ));
    } else if rt.node_name.len() > 63 {
        warnings.push(format!(
            "Node name {:?} will not be discoverable via DNS due to it being too long. Valid lengths are between 1 and 63 bytes.",
            rt.node_name
        ));
    }
    if rt.bootstrap && !rt.server {
        return fail("'bootstrap = true' requires 'server = true'");
    }
    if rt.bootstrap_expect > 0 && !rt.server {
        return fail("'bootstrap_expect > 0' requires 'server = true'");
    }
    if rt.bootstrap_expect > 0 && rt.dev {
        return fail("'bootstrap_expect > 0' not allowed in dev mode");
    }
    if rt.bootstrap_expect > 0 && rt.bootstrap {
        return fail("'bootstrap_expect > 0' and 'bootstrap = true' are mutually exclusive");
    }
    if let Some(key) = &rt.encrypt {
        crate::gossip_key::decode_gossip_key(key, rt.disable_keyring_file).map_err(ConfigError::new)?;
    }
    addresses_unique(rt)?;

    if rt.server && !rt.dev && !rt.bootstrap && rt.bootstrap_expect == 2 {
        warnings.push("bootstrap_expect = 2: A cluster with 2 servers will provide no failure tolerance. See https://www.consul.io/docs/internals/consensus.html#deployment-table".into());
    }
    if rt.server && !rt.bootstrap && rt.bootstrap_expect > 2 && rt.bootstrap_expect % 2 == 0 {
        warnings.push("bootstrap_expect is even number: A cluster with an even number of servers does not achieve optimum fault tolerance. See https://www.consul.io/docs/internals/consensus.html#deployment-table".into());
    }
    if rt.server && rt.bootstrap && rt.bootstrap_expect == 0 {
        warnings.push("bootstrap = true: do not enable unless necessary".into());
    }
    if rt.server && !rt.dev && !rt.bootstrap && rt.bootstrap_expect > 1 {
        warnings.push(format!("bootstrap_expect > 0: expecting {} servers", rt.bootstrap_expect));
    }
    Ok(())
}

/// Consul refuses two listeners on one TCP address (`HTTP address 127.0.0.1:8600 already
/// configured for DNS`).
fn addresses_unique(rt: &RuntimeConfig) -> Result<(), ConfigError> {
    let mut in_use: HashMap<SocketAddr, &str> = HashMap::new();
    let mut claim = |name: &'static str, ip: IpAddr, port: i32| -> Result<(), ConfigError> {
        if port <= 0 {
            return Ok(());
        }
        let addr = SocketAddr::new(ip, port as u16);
        if let Some(other) = in_use.get(&addr) {
            return Err(ConfigError::new(format!("{name} address {addr} already configured for {other}")));
        }
        in_use.insert(addr, name);
        Ok(())
    };
    for &ip in &rt.client_addrs {
        claim("DNS", ip, rt.ports.dns)?;
    }
    for &ip in &rt.client_addrs {
        claim("HTTP", ip, rt.ports.http)?;
    }
    for &ip in &rt.client_addrs {
        claim("HTTPS", ip, rt.ports.https)?;
    }
    if let Some(adv) = rt.advertise_addr {
        claim("RPC Advertise", adv, rt.ports.server)?;
        claim("Serf Advertise LAN", adv, rt.ports.serf_lan)?;
    }
    // The WAN advertise address defaults to the LAN one.
    if let Some(adv) = rt.advertise_addr_wan.or(rt.advertise_addr) {
        claim("Serf Advertise WAN", adv, rt.ports.serf_wan)?;
    }
    Ok(())
}
