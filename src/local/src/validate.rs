//! Request validation with Consul's messages (agent_endpoint.go
//! AgentRegisterService / AgentRegisterCheck, structs.ValidateWeights,
//! validateMetaPair, NodeService.Validate, agent.validateService).

use std::collections::BTreeMap;
use std::net::IpAddr;

use ballast_store::catalog::{NodeService, ServiceAddress, Weights, HEALTH_CRITICAL, HEALTH_PASSING, HEALTH_WARNING};

use crate::definition::ServiceDefinition;

const META_MAX_KEY_PAIRS: usize = 64;
const META_KEY_MAX_LENGTH: usize = 128;
const META_VALUE_MAX_LENGTH: usize = 512;
const META_KEY_RESERVED_PREFIX: &str = "consul-";

/// Tagged address keys the agent fills and checks (`structs.TaggedAddress*`).
pub const TAGGED_LAN_IPV4: &str = "lan_ipv4";
pub const TAGGED_WAN_IPV4: &str = "wan_ipv4";
pub const TAGGED_LAN_IPV6: &str = "lan_ipv6";
pub const TAGGED_WAN_IPV6: &str = "wan_ipv6";

/// `structs.ValidStatus`.
pub fn valid_status(s: &str) -> bool {
    matches!(s, HEALTH_PASSING | HEALTH_WARNING | HEALTH_CRITICAL)
}

/// `ipaddr.IsAny` on a string.
pub fn is_any_address(addr: &str) -> bool {
    matches!(addr, "0.0.0.0" | "::" | "[::]")
}

/// `structs.ValidateWeights`.
pub fn validate_weights(w: &Weights) -> Result<(), String> {
    if w.passing < 1 {
        return Err("Passing must be greater than 0".into());
    }
    if w.warning < 0 {
        return Err("Warning must be greater or equal than 0".into());
    }
    if w.passing > 65535 || w.warning > 65535 {
        return Err("DNS Weight must be between 0 and 65535".into());
    }
    Ok(())
}

fn meta_key_format(key: &str) -> bool {
    key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `structs.ValidateServiceMetadata` for a typical service (keys checked in
/// sorted order; Go's map order is random so any failing key is "the" one).
pub fn validate_service_meta(kind: &str, meta: &BTreeMap<String, String>) -> Result<(), String> {
    if meta.len() > META_MAX_KEY_PAIRS {
        return Err(format!("Node metadata cannot contain more than {META_MAX_KEY_PAIRS} key/value pairs"));
    }
    for (key, value) in meta {
        let pair_err = |e: String| format!("Couldn't load metadata pair ('{key}', '{value}'): {e}");
        if key.is_empty() {
            return Err(pair_err("Key cannot be blank".into()));
        }
        if !meta_key_format(key) {
            return Err(pair_err("Key contains invalid characters".into()));
        }
        if key.len() > META_KEY_MAX_LENGTH {
            return Err(pair_err(format!("Key is too long (limit: {META_KEY_MAX_LENGTH} characters)")));
        }
        // Mesh gateways may carry a few consul- keys (wan federation).
        let allowed = kind == "mesh-gateway" && key == "consul-wan-federation";
        if key.starts_with(META_KEY_RESERVED_PREFIX) && !allowed {
            return Err(pair_err(format!("Key prefix '{META_KEY_RESERVED_PREFIX}' is reserved for internal use")));
        }
        if value.len() > META_VALUE_MAX_LENGTH {
            return Err(pair_err(format!("Value is too long (limit: {META_VALUE_MAX_LENGTH} characters)")));
        }
    }
    Ok(())
}

/// go-multierror's rendering, as Consul prints `Validation failed: ...`.
fn multierror(errs: &[String]) -> String {
    let head = if errs.len() == 1 {
        "1 error occurred:".to_string()
    } else {
        format!("{} errors occurred:", errs.len())
    };
    let mut out = head;
    for e in errs {
        out.push_str("\n\t* ");
        out.push_str(e);
    }
    out.push_str("\n\n");
    out
}

fn is_gateway(kind: &str) -> bool {
    matches!(kind, "mesh-gateway" | "terminating-gateway" | "ingress-gateway" | "api-gateway")
}

/// `NodeService.Validate()` for what this build carries (Connect proxy and
/// gateway basics). `None` when valid, else the multierror text.
pub fn validate_node_service(def: &ServiceDefinition) -> Option<String> {
    let mut errs = Vec::new();
    let proxy_dest = def
        .proxy
        .as_ref()
        .and_then(|p| {
            p.as_object().and_then(|o| {
                o.iter()
                    .filter(|(k, _)| {
                        k.eq_ignore_ascii_case("DestinationServiceName") || *k == "destination_service_name"
                    })
                    .find_map(|(_, v)| v.as_str().map(str::to_owned))
            })
        })
        .unwrap_or_default();
    let native = def
        .connect
        .as_ref()
        .and_then(|c| c.as_object())
        .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("Native")).and_then(|(_, v)| v.as_bool()))
        .unwrap_or(false);
    if def.kind == "connect-proxy" {
        if def.port == 0 && def.socket_path.is_empty() {
            errs.push(format!("Port or SocketPath must be set for a {}", def.kind));
        }
        if proxy_dest.trim().is_empty() {
            errs.push("Proxy.DestinationServiceName must be non-empty for Connect proxy services".into());
        }
        if proxy_dest == "*" {
            errs.push("Proxy.DestinationServiceName must not be a wildcard for Connect proxy services".into());
        }
        if native {
            errs.push("A Proxy cannot also be Connect Native, only typical services".into());
        }
    }
    if is_gateway(&def.kind) {
        if def.port == 0 && def.kind != "ingress-gateway" && def.kind != "api-gateway" {
            errs.push(format!("Port must be non-zero for a {}", def.kind));
        }
        if !proxy_dest.is_empty() {
            errs.push(format!("The Proxy.DestinationServiceName configuration is invalid for a {}", def.kind));
        }
    }
    if native && def.port == 0 && def.socket_path.is_empty() {
        errs.push("Port or SocketPath must be set for a Connect native service.".into());
    }
    (!errs.is_empty()).then(|| multierror(&errs))
}

/// `ServiceDefinition.NodeService()`: ID defaults to Name.
pub fn node_service_of(def: &ServiceDefinition) -> NodeService {
    let id = if def.id.is_empty() { def.name.clone() } else { def.id.clone() };
    NodeService {
        kind: def.kind.clone(),
        id,
        service: def.name.clone(),
        tags: def.tags.clone(),
        address: def.address.clone(),
        tagged_addresses: def.tagged_addresses.clone(),
        meta: def.meta.clone(),
        port: def.port,
        socket_path: def.socket_path.clone(),
        weights: def.weights,
        enable_tag_override: def.enable_tag_override,
        create_index: 0,
        modify_index: 0,
    }
}

/// `agent.validateService`'s checks on tagged addresses (Consul checks
/// lan_ipv6 twice and never wan_ipv6; so does this).
pub fn validate_tagged_addresses(tagged: &BTreeMap<String, ServiceAddress>) -> Result<(), String> {
    let v4 = |k: &str| -> Result<(), String> {
        match tagged.get(k) {
            Some(sa) if !matches!(sa.address.parse::<IpAddr>(), Ok(IpAddr::V4(_))) => {
                Err(format!("Service tagged address \"{k}\" must be a valid ipv4 address"))
            }
            _ => Ok(()),
        }
    };
    v4(TAGGED_LAN_IPV4)?;
    v4(TAGGED_WAN_IPV4)?;
    if let Some(sa) = tagged.get(TAGGED_LAN_IPV6) {
        if !matches!(sa.address.parse::<IpAddr>(), Ok(IpAddr::V6(_))) {
            return Err(format!("Service tagged address \"{TAGGED_LAN_IPV6}\" must be a valid ipv6 address"));
        }
    }
    Ok(())
}

/// `addServiceInternal`'s defaults: a service whose address is an IP gets
/// `lan_ipv4`/`wan_ipv4` (or the ipv6 pair) unless given.
pub fn default_tagged_addresses(svc: &mut NodeService) {
    let ip = svc.address.parse::<IpAddr>().ok();
    let (lan, wan) = match ip {
        Some(IpAddr::V4(_)) => (TAGGED_LAN_IPV4, TAGGED_WAN_IPV4),
        Some(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_some() => (TAGGED_LAN_IPV4, TAGGED_WAN_IPV4),
        Some(IpAddr::V6(_)) => (TAGGED_LAN_IPV6, TAGGED_WAN_IPV6),
        None => return,
    };
    let sa = ServiceAddress { address: svc.address.clone(), port: svc.port };
    svc.tagged_addresses.entry(lan.to_string()).or_insert_with(|| sa.clone());
    svc.tagged_addresses.entry(wan.to_string()).or_insert(sa);
}
