//! Turns one parsed source (JSON, or HCL converted to the same tree) into a [`Config`],
//! reporting type errors, unknown keys and unsupported keys the way Consul does.
use serde_json::{Map, Value};

use crate::fragment::{Config, GossipConfig};
use crate::keys::{verdict, Verdict};

/// One source decoded: its values and the warnings about keys that were accepted but ignored.
pub struct Decoded {
    pub config: Config,
    pub warnings: Vec<String>,
}

/// Errors collected while decoding one source, reported together like Consul's multierror.
#[derive(Default)]
struct Problems {
    /// mapstructure-style type errors.
    types: Vec<String>,
    /// Keys Consul does not know.
    unknown: Vec<String>,
    /// Keys Consul knows but ballast does not implement, with values that would matter.
    unsupported: Vec<String>,
    warnings: Vec<String>,
}

/// Decodes the root of a source. The error text is what follows "failed to parse <source>: ".
pub fn decode(root: &Value) -> Result<Decoded, String> {
    let Value::Object(map) = root else {
        return Err(format!(
            "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_kind(root)
        ));
    };
    let mut p = Problems::default();
    let mut c = Config::default();
    for (key, raw) in map {
        let v = single(raw);
        if v.is_null() {
            continue;
        }
        let k = key.as_str();
        match k {
            "datacenter" => c.datacenter = string(&mut p, k, v),
            "node_name" => c.node_name = string(&mut p, k, v),
            "node_id" => c.node_id = string(&mut p, k, v),
            "server" => c.server = boolean(&mut p, k, v),
            "bootstrap" => c.bootstrap = boolean(&mut p, k, v),
            "bootstrap_expect" => c.bootstrap_expect = int(&mut p, k, v),
            "data_dir" => c.data_dir = string(&mut p, k, v),
            "bind_addr" => c.bind_addr = string(&mut p, k, v),
            "advertise_addr" => c.advertise_addr = string(&mut p, k, v),
            "client_addr" => c.client_addr = string(&mut p, k, v),
            "log_level" => c.log_level = string(&mut p, k, v),
            "log_json" => c.log_json = boolean(&mut p, k, v),
            "pid_file" => c.pid_file = string(&mut p, k, v),
            "raft_protocol" => c.raft_protocol = int(&mut p, k, v),
            "raft_snapshot_threshold" => c.raft_snapshot_threshold = int(&mut p, k, v),
            "raft_snapshot_interval" => c.raft_snapshot_interval = string(&mut p, k, v),
            "raft_trailing_logs" => c.raft_trailing_logs = int(&mut p, k, v),
            "retry_join" => c.retry_join = strings(&mut p, k, raw),
            "retry_interval" => c.retry_interval = string(&mut p, k, v),
            "retry_max" => c.retry_max = int(&mut p, k, v),
            "read_replica" | "non_voting_server" => c.read_replica = boolean(&mut p, k, v),
            "start_join" => c.start_join = strings(&mut p, k, raw),
            "placement" => c.placement = placement(&mut p, k, v),
            "service_shards" => c.service_shards = int(&mut p, k, v),
            "encrypt" => c.encrypt = string(&mut p, k, v),
            "disable_keyring_file" => c.disable_keyring_file = boolean(&mut p, k, v),
            "serf_lan" => c.serf_lan = string(&mut p, k, v),
            "serf_wan" => c.serf_wan = string(&mut p, k, v),
            "advertise_addr_wan" => c.advertise_addr_wan = string(&mut p, k, v),
            "retry_join_wan" => c.retry_join_wan = strings(&mut p, k, raw),
            "retry_interval_wan" => c.retry_interval_wan = string(&mut p, k, v),
            "retry_max_wan" => c.retry_max_wan = int(&mut p, k, v),
            "start_join_wan" => c.start_join_wan = strings(&mut p, k, raw),
            "reconnect_timeout" => c.reconnect_timeout = string(&mut p, k, v),
            "reconnect_timeout_wan" => c.reconnect_timeout_wan = string(&mut p, k, v),
            "gossip_lan" => decode_gossip(&mut p, "gossip_lan", &mut c.gossip_lan, raw),
            "gossip_wan" => decode_gossip(&mut p, "gossip_wan", &mut c.gossip_wan, raw),
            "ports" => decode_ports(&mut p, &mut c, raw),
            "enable_script_checks" => c.enable_script_checks = boolean(&mut p, k, v),
            "enable_local_script_checks" => c.enable_local_script_checks = boolean(&mut p, k, v),
            "discard_check_output" => c.discard_check_output = boolean(&mut p, k, v),
            "check_update_interval" => c.check_update_interval = string(&mut p, k, v),
            "check_reap_interval" => c.check_reap_interval = string(&mut p, k, v),
            "check_deregister_interval_min" => c.check_deregister_interval_min = string(&mut p, k, v),
            "ae_interval" => c.ae_interval = string(&mut p, k, v),
            "node_meta" => string_map(&mut p, k, v, &mut c.node_meta),
            "performance" => decode_block(&mut p, "performance", raw, |p, sub, v| match sub {
                "raft_multiplier" => {
                    c.raft_multiplier = int(p, "performance.raft_multiplier", v);
                    true
                }
                _ => false,
            }),
            "limits" => decode_block(&mut p, "limits", raw, |p, sub, v| match sub {
                "kv_max_value_size" => {
                    c.kv_max_value_size = int(p, "limits.kv_max_value_size", v);
                    true
                }
                "txn_max_req_len" => {
                    c.txn_max_req_len = int(p, "limits.txn_max_req_len", v);
                    true
                }
                _ => false,
            }),
            _ => judge(&mut p, k, raw),
        }
    }
    if !p.types.is_empty() {
        let items: Vec<String> = p.types.iter().map(|e| format!("* {e}")).collect();
        return Err(format!("{} error(s) decoding:\n\n{}", p.types.len(), items.join("\n")));
    }
    if !p.unknown.is_empty() {
        p.unknown.sort();
        let errs: Vec<String> = p.unknown.iter().map(|k| format!("invalid config key {k}")).collect();
        return Err(multierror(&errs));
    }
    if !p.unsupported.is_empty() {
        return Err(multierror(&p.unsupported));
    }
    Ok(Decoded { config: c, warnings: p.warnings })
}

fn decode_ports(p: &mut Problems, c: &mut Config, raw: &Value) {
    decode_block(p, "ports", raw, |p, sub, v| {
        let path = format!("ports.{sub}");
        let slot = match sub {
            "dns" => &mut c.ports.dns,
            "http" => &mut c.ports.http,
            "https" => &mut c.ports.https,
            "serf_lan" => &mut c.ports.serf_lan,
            "serf_wan" => &mut c.ports.serf_wan,
            "server" => &mut c.ports.server,
            "grpc" => &mut c.ports.grpc,
            _ => return false,
        };
        *slot = int(p, &path, v);
        true
    })
}

/// `gossip_lan` / `gossip_wan`: every key of Consul's block is implemented, so anything else
/// is an unknown key.
fn decode_gossip(p: &mut Problems, block: &str, g: &mut GossipConfig, raw: &Value) {
    decode_block(p, block, raw, |p, sub, v| {
        let path = format!("{block}.{sub}");
        match sub {
            "gossip_nodes" => g.gossip_nodes = int(p, &path, v),
            "gossip_interval" => g.gossip_interval = string(p, &path, v),
            "probe_interval" => g.probe_interval = string(p, &path, v),
            "probe_timeout" => g.probe_timeout = string(p, &path, v),
            "suspicion_mult" => g.suspicion_mult = int(p, &path, v),
            "retransmit_mult" => g.retransmit_mult = int(p, &path, v),
            _ => return false,
        }
        true
    })
}

/// Walks a block (an object, or the list of objects HCL makes of a repeated block), handing
/// each key to `known`; keys it does not take go to the unimplemented/unknown judgement.
fn decode_block(
    p: &mut Problems,
    block: &str,
    raw: &Value,
    mut known: impl FnMut(&mut Problems, &str, &Value) -> bool,
) {
    let mut maps: Vec<&Map<String, Value>> = Vec::new();
    match raw {
        Value::Object(m) => maps.push(m),
        Value::Array(items) if items.iter().all(Value::is_object) => {
            maps.extend(items.iter().filter_map(Value::as_object))
        }
        Value::Null => {}
        other => {
            p.types.push(type_error(block, "struct", other));
            return;
        }
    }
    for m in maps {
        for (sub, raw_v) in m {
            let v = single(raw_v);
            if v.is_null() {
                continue;
            }
            if !known(p, sub, v) {
                judge(p, &format!("{block}.{sub}"), raw_v);
            }
        }
    }
}

fn judge(p: &mut Problems, path: &str, v: &Value) {
    match verdict(path, v) {
        Some(Verdict::Ignored(w)) => p.warnings.push(w),
        Some(Verdict::Unsupported(e)) => p.unsupported.push(e),
        None => p.unknown.push(path.to_string()),
    }
}

/// Consul's HookWeakDecodeFromSlice: a one-element list stands for its element (HCL1 makes
/// lists of many things).
fn single(v: &Value) -> &Value {
    match v {
        Value::Array(a) if a.len() == 1 => &a[0],
        _ => v,
    }
}

fn string(p: &mut Problems, key: &str, v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        other => {
            p.types.push(type_error(key, "string", other));
            None
        }
    }
}

/// A `map[string]string` (HCL blocks may come as a list of objects).
fn string_map(p: &mut Problems, key: &str, v: &Value, out: &mut std::collections::BTreeMap<String, String>) {
    let objects: Vec<&serde_json::Map<String, Value>> = match v {
        Value::Object(m) => vec![m],
        Value::Array(items) if items.iter().all(Value::is_object) => items.iter().filter_map(Value::as_object).collect(),
        other => {
            p.types.push(type_error(key, "map[string]string", other));
            return;
        }
    };
    for m in objects {
        for (k, val) in m {
            if let Some(s) = string(p, &format!("{key}[{k}]"), val) {
                out.insert(k.clone(), s);
            }
        }
    }
}

fn boolean(p: &mut Problems, key: &str, v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        other => {
            p.types.push(type_error(key, "bool", other));
            None
        }
    }
}

fn int(p: &mut Problems, key: &str, v: &Value) -> Option<i64> {
    if let Some(i) = v.as_i64() {
        return Some(i);
    }
    // JSON numbers are floats to Go; a whole one decodes into an int field.
    if let Some(f) = v.as_f64() {
        if f.fract() == 0.0 && f.abs() < 9.0e15 {
            return Some(f as i64);
        }
    }
    p.types.push(type_error(key, "int", v));
    None
}

fn strings(p: &mut Problems, key: &str, v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(s) => out.push(s.clone()),
                    other => p.types.push(type_error(&format!("{key}[]"), "string", other)),
                }
            }
            out
        }
        Value::Null => Vec::new(),
        other => {
            p.types.push(type_error(key, "[]string", other));
            Vec::new()
        }
    }
}

/// ballast's `placement`: "auto", "unbound", "0,1", or a list of core numbers.
fn placement(p: &mut Problems, key: &str, v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => {
            let mut cores = Vec::new();
            for item in items {
                match item.as_u64() {
                    Some(n) => cores.push(n.to_string()),
                    None => {
                        p.types.push(type_error(key, "[]int", item));
                        return None;
                    }
                }
            }
            Some(cores.join(","))
        }
        Value::Number(n) => Some(n.to_string()),
        other => {
            p.types.push(type_error(key, "string", other));
            None
        }
    }
}

fn type_error(key: &str, want: &str, got: &Value) -> String {
    let shown = match got {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    format!("'{key}' expected type '{want}', got unconvertible type '{}', value: '{shown}'", go_type(got))
}

fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// hashicorp/go-multierror's default text.
pub fn multierror(errs: &[String]) -> String {
    if errs.len() == 1 {
        return format!("1 error occurred:\n\t* {}\n\n", errs[0]);
    }
    let points: Vec<String> = errs.iter().map(|e| format!("* {e}")).collect();
    format!("{} errors occurred:\n\t{}\n\n", errs.len(), points.join("\n\t"))
}
