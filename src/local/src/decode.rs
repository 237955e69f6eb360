//! Request body decoders with Consul's acceptance rules: Go field matching
//! (exact then case-insensitive), the snake_case aliases of the structs'
//! `UnmarshalJSON` methods, durations as Go strings or nanosecond numbers,
//! strict (unknown field = error) for checks and check updates, lenient for
//! the service object itself.

use std::collections::BTreeMap;

use ballast_store::catalog::{ServiceAddress, Weights, HEALTH_CRITICAL, HEALTH_PASSING, HEALTH_WARNING};

use crate::definition::{CheckDefinition, CheckType, CheckUpdate, ServiceDefinition};
use crate::duration::parse_go_duration;
use crate::error::LocalError;
use crate::gojson::{
    get_bool, get_header_map, get_int, get_string, get_string_map, get_string_slice, parse_body, walk_object,
    Errs, JVal,
};

/// Decode a `PUT /v1/agent/service/register` body.
pub fn decode_service_registration(body: &[u8]) -> Result<ServiceDefinition, LocalError> {
    let v = parse_body(body).map_err(LocalError::decode)?;
    let mut errs = Errs::default();
    let def = service_from(&v, &mut errs);
    errs.into_result().map_err(LocalError::decode)?;
    Ok(def)
}

/// Decode a `PUT /v1/agent/check/register` body.
pub fn decode_check_registration(body: &[u8]) -> Result<CheckDefinition, LocalError> {
    let v = parse_body(body).map_err(LocalError::decode)?;
    let mut errs = Errs::default();
    let def = check_definition_from(&v, &mut errs);
    errs.into_result().map_err(LocalError::decode)?;
    Ok(def)
}

/// Decode a `PUT /v1/agent/check/update/<id>` body and check its status.
pub fn decode_check_update(body: &[u8]) -> Result<CheckUpdate, LocalError> {
    let v = parse_body(body).map_err(LocalError::decode)?;
    let mut errs = Errs::default();
    let mut out = CheckUpdate::default();
    walk_object(&v, &["Status", "Output"], true, "agent.checkUpdate", &mut errs, |name, val, errs| {
        match name {
            "Status" => set_str(&mut out.status, val, name, errs),
            _ => set_str(&mut out.output, val, name, errs),
        }
    });
    errs.into_result().map_err(LocalError::decode)?;
    match out.status.as_str() {
        HEALTH_PASSING | HEALTH_WARNING | HEALTH_CRITICAL => Ok(out),
        other => Err(LocalError::BadRequest(format!("Invalid check status: '{other}'"))),
    }
}

fn set_str(slot: &mut String, v: &JVal, field: &str, errs: &mut Errs) {
    if let Some(s) = get_string(v, field, errs) {
        *slot = s;
    }
}

fn set_bool(slot: &mut bool, v: &JVal, field: &str, errs: &mut Errs) {
    if let Some(b) = get_bool(v, field, errs) {
        *slot = b;
    }
}

fn set_int(slot: &mut i64, v: &JVal, field: &str, errs: &mut Errs) {
    if let Some(i) = get_int(v, field, errs) {
        *slot = i;
    }
}

// ---------------------------------------------------------------- services

const SERVICE_FIELDS: &[&str] = &[
    "enable_tag_override",
    "tagged_addresses",
    "Kind",
    "ID",
    "Name",
    "Tags",
    "Address",
    "TaggedAddresses",
    "Meta",
    "Port",
    "SocketPath",
    "Check",
    "Checks",
    "Weights",
    "Token",
    "EnableTagOverride",
    "Proxy",
    "Connect",
];

fn service_from(v: &JVal, errs: &mut Errs) -> ServiceDefinition {
    let mut d = ServiceDefinition::default();
    let mut eto_snake = false;
    let mut tagged_snake: BTreeMap<String, ServiceAddress> = BTreeMap::new();
    walk_object(v, SERVICE_FIELDS, false, "structs.ServiceDefinition", errs, |name, val, errs| match name {
        "enable_tag_override" => set_bool(&mut eto_snake, val, name, errs),
        "tagged_addresses" => {
            if let Some(m) = tagged_addresses_from(val, name, errs) {
                tagged_snake = m;
            }
        }
        "Kind" => set_str(&mut d.kind, val, name, errs),
        "ID" => set_str(&mut d.id, val, name, errs),
        "Name" => set_str(&mut d.name, val, name, errs),
        "Tags" => {
            if let Some(t) = get_string_slice(val, name, errs) {
                d.tags = t;
            }
        }
        "Address" => set_str(&mut d.address, val, name, errs),
        "TaggedAddresses" => {
            if let Some(m) = tagged_addresses_from(val, name, errs) {
                d.tagged_addresses = m;
            }
        }
        "Meta" => {
            if let Some(m) = get_string_map(val, name, errs) {
                d.meta = m;
            }
        }
        "Port" => set_int(&mut d.port, val, name, errs),
        "SocketPath" => set_str(&mut d.socket_path, val, name, errs),
        "Check" => {
            if !matches!(val, JVal::Null) {
                d.check = check_type_from(val, errs);
            }
        }
        "Checks" => match val {
            JVal::Null => d.checks.clear(),
            JVal::Arr(items) => d.checks = items.iter().map(|i| check_type_from(i, errs)).collect(),
            other => errs.save(format!(
                "json: cannot unmarshal {} into Go struct field .Checks of type structs.CheckTypes",
                kind_of(other)
            )),
        },
        "Weights" => match val {
            JVal::Null => d.weights = None,
            other => d.weights = Some(weights_from(other, errs)),
        },
        "Token" => set_str(&mut d.token, val, name, errs),
        "EnableTagOverride" => set_bool(&mut d.enable_tag_override, val, name, errs),
        "Proxy" => d.proxy = (!matches!(val, JVal::Null)).then(|| val.to_value()),
        _ => d.connect = (!matches!(val, JVal::Null)).then(|| val.to_value()),
    });
    if eto_snake {
        d.enable_tag_override = true;
    }
    if d.tagged_addresses.is_empty() {
        d.tagged_addresses = tagged_snake;
    }
    d
}

fn kind_of(v: &JVal) -> &'static str {
    match v {
        JVal::Null => "null",
        JVal::Bool(_) => "bool",
        JVal::Int(_) | JVal::Uint(_) | JVal::Float(_) => "number",
        JVal::Str(_) => "string",
        JVal::Arr(_) => "array",
        JVal::Obj(_) => "object",
    }
}

fn weights_from(v: &JVal, errs: &mut Errs) -> Weights {
    let mut w = Weights { passing: 0, warning: 0 };
    walk_object(v, &["Passing", "Warning"], false, "structs.Weights", errs, |name, val, errs| match name {
        "Passing" => set_int(&mut w.passing, val, name, errs),
        _ => set_int(&mut w.warning, val, name, errs),
    });
    w
}

fn tagged_addresses_from(v: &JVal, field: &str, errs: &mut Errs) -> Option<BTreeMap<String, ServiceAddress>> {
    match v {
        JVal::Null => None,
        JVal::Obj(entries) => {
            let mut out = BTreeMap::new();
            for (k, val) in entries {
                let mut sa = ServiceAddress::default();
                walk_object(val, &["Address", "Port"], false, "structs.ServiceAddress", errs, |name, val, errs| {
                    match name {
                        "Address" => set_str(&mut sa.address, val, name, errs),
                        _ => set_int(&mut sa.port, val, name, errs),
                    }
                });
                out.insert(k.clone(), sa);
            }
            Some(out)
        }
        other => {
            errs.save(format!(
                "json: cannot unmarshal {} into Go struct field .{field} of type map[string]structs.ServiceAddress",
                kind_of(other)
            ));
            None
        }
    }
}

// ------------------------------------------------------------------ checks

/// The aliases and special-value fields of the checks' `UnmarshalJSON`.
#[derive(Default)]
struct CheckAux {
    interval: Option<JVal>,
    timeout: Option<JVal>,
    ttl: Option<JVal>,
    dcsa: Option<JVal>,
    dcsa_snake: Option<JVal>,
    args: Vec<String>,
    script_args_snake: Vec<String>,
    docker_snake: String,
    tls_server_name_snake: String,
    tls_skip_verify_snake: bool,
    grpc_use_tls_snake: bool,
    disable_redirects_snake: bool,
    h2ping_use_tls: Option<bool>,
    h2ping_use_tls_snake: Option<bool>,
    service_id_snake: String,
}

/// Fields of `CheckType`'s decoder (aux fields first, as Go orders them).
const CHECK_TYPE_FIELDS: &[&str] = &[
    "Interval",
    "Timeout",
    "TTL",
    "DeregisterCriticalServiceAfter",
    "args",
    "script_args",
    "deregister_critical_service_after",
    "docker_container_id",
    "tls_server_name",
    "tls_skip_verify",
    "grpc_use_tls",
    "h2ping_use_tls",
    "disable_redirects",
    "ServiceID",
    "service_id",
    "CheckID",
    "Name",
    "Status",
    "Notes",
    "ScriptArgs",
    "HTTP",
    "H2PING",
    "H2PingUseTLS",
    "Header",
    "Method",
    "Body",
    "DisableRedirects",
    "TCP",
    "TCPUseTLS",
    "UDP",
    "AliasNode",
    "AliasService",
    "DockerContainerID",
    "Shell",
    "GRPC",
    "GRPCUseTLS",
    "OSService",
    "TLSServerName",
    "TLSSkipVerify",
    "SuccessBeforePassing",
    "FailuresBeforeWarning",
    "FailuresBeforeCritical",
    "ProxyHTTP",
    "ProxyGRPC",
    "OutputMaxSize",
];

/// Fields of `CheckDefinition`'s decoder.
const CHECK_DEFINITION_FIELDS: &[&str] = &[
    "Interval",
    "Timeout",
    "TTL",
    "DeregisterCriticalServiceAfter",
    "args",
    "script_args",
    "deregister_critical_service_after",
    "docker_container_id",
    "tls_server_name",
    "tls_skip_verify",
    "grpc_use_tls",
    "service_id",
    "h2ping_use_tls",
    "disable_redirects",
    "ID",
    "Name",
    "Notes",
    "ServiceID",
    "Token",
    "Status",
    "ScriptArgs",
    "HTTP",
    "H2PING",
    "H2PingUseTLS",
    "Header",
    "Method",
    "Body",
    "DisableRedirects",
    "TCP",
    "TCPUseTLS",
    "UDP",
    "DockerContainerID",
    "Shell",
    "GRPC",
    "GRPCUseTLS",
    "OSService",
    "TLSServerName",
    "TLSSkipVerify",
    "AliasNode",
    "AliasService",
    "SuccessBeforePassing",
    "FailuresBeforeWarning",
    "FailuresBeforeCritical",
    "OutputMaxSize",
    // Enterprise meta: empty/`default` in this build, accepted and ignored.
    "Namespace",
    "Partition",
];

/// Apply one field shared by `CheckType` and `CheckDefinition`. Returns
/// false when `name` is not a shared field.
fn apply_check_field(ct: &mut CheckType, aux: &mut CheckAux, name: &str, val: &JVal, errs: &mut Errs) -> bool {
    let keep = |v: &JVal| (!matches!(v, JVal::Null)).then(|| v.clone());
    match name {
        "Interval" => aux.interval = keep(val),
        "Timeout" => aux.timeout = keep(val),
        "TTL" => aux.ttl = keep(val),
        "DeregisterCriticalServiceAfter" => aux.dcsa = keep(val),
        "deregister_critical_service_after" => aux.dcsa_snake = keep(val),
        "args" => {
            if let Some(a) = get_string_slice(val, name, errs) {
                aux.args = a;
            }
        }
        "script_args" => {
            if let Some(a) = get_string_slice(val, name, errs) {
                aux.script_args_snake = a;
            }
        }
        "docker_container_id" => set_str(&mut aux.docker_snake, val, name, errs),
        "tls_server_name" => set_str(&mut aux.tls_server_name_snake, val, name, errs),
        "tls_skip_verify" => set_bool(&mut aux.tls_skip_verify_snake, val, name, errs),
        "grpc_use_tls" => set_bool(&mut aux.grpc_use_tls_snake, val, name, errs),
        "disable_redirects" => set_bool(&mut aux.disable_redirects_snake, val, name, errs),
        "h2ping_use_tls" => {
            if let Some(b) = get_bool(val, name, errs) {
                aux.h2ping_use_tls_snake = Some(b);
            }
        }
        "service_id" => set_str(&mut aux.service_id_snake, val, name, errs),
        "Name" => set_str(&mut ct.name, val, name, errs),
        "Status" => set_str(&mut ct.status, val, name, errs),
        "Notes" => set_str(&mut ct.notes, val, name, errs),
        "ScriptArgs" => {
            if let Some(a) = get_string_slice(val, name, errs) {
                ct.script_args = a;
            }
        }
        "HTTP" => set_str(&mut ct.http, val, name, errs),
        "H2PING" => set_str(&mut ct.h2ping, val, name, errs),
        "H2PingUseTLS" => {
            if let Some(b) = get_bool(val, name, errs) {
                aux.h2ping_use_tls = Some(b);
            }
        }
        "Header" => {
            if let Some(h) = get_header_map(val, name, errs) {
                ct.header = h;
            }
        }
        "Method" => set_str(&mut ct.method, val, name, errs),
        "Body" => set_str(&mut ct.body, val, name, errs),
        "DisableRedirects" => set_bool(&mut ct.disable_redirects, val, name, errs),
        "TCP" => set_str(&mut ct.tcp, val, name, errs),
        "TCPUseTLS" => set_bool(&mut ct.tcp_use_tls, val, name, errs),
        "UDP" => set_str(&mut ct.udp, val, name, errs),
        "AliasNode" => set_str(&mut ct.alias_node, val, name, errs),
        "AliasService" => set_str(&mut ct.alias_service, val, name, errs),
        "DockerContainerID" => set_str(&mut ct.docker_container_id, val, name, errs),
        "Shell" => set_str(&mut ct.shell, val, name, errs),
        "GRPC" => set_str(&mut ct.grpc, val, name, errs),
        "GRPCUseTLS" => set_bool(&mut ct.grpc_use_tls, val, name, errs),
        "OSService" => set_str(&mut ct.os_service, val, name, errs),
        "TLSServerName" => set_str(&mut ct.tls_server_name, val, name, errs),
        "TLSSkipVerify" => set_bool(&mut ct.tls_skip_verify, val, name, errs),
        "SuccessBeforePassing" => set_int(&mut ct.success_before_passing, val, name, errs),
        "FailuresBeforeWarning" => set_int(&mut ct.failures_before_warning, val, name, errs),
        "FailuresBeforeCritical" => set_int(&mut ct.failures_before_critical, val, name, errs),
        "OutputMaxSize" => set_int(&mut ct.output_max_size, val, name, errs),
        _ => return false,
    }
    true
}

/// A duration given as a Go string or a number of nanoseconds; other JSON
/// types are ignored, as Consul's type switch does.
fn duration_of(v: &Option<JVal>) -> Result<Option<i64>, String> {
    match v {
        Some(JVal::Str(s)) => parse_go_duration(s).map(Some),
        Some(other) => Ok(other.as_f64().map(|f| f.clamp(i64::MIN as f64, i64::MAX as f64) as i64)),
        None => Ok(None),
    }
}

/// The post-decode translation both checks' `UnmarshalJSON` perform.
/// Returns the first duration error (reported only when decoding itself
/// found nothing wrong).
fn finish_check(ct: &mut CheckType, mut aux: CheckAux) -> Result<(), String> {
    if aux.dcsa.is_none() {
        aux.dcsa = aux.dcsa_snake.take();
    }
    if ct.script_args.is_empty() {
        ct.script_args = std::mem::take(&mut aux.args);
    }
    if ct.script_args.is_empty() {
        ct.script_args = std::mem::take(&mut aux.script_args_snake);
    }
    if ct.docker_container_id.is_empty() {
        ct.docker_container_id = std::mem::take(&mut aux.docker_snake);
    }
    if ct.tls_server_name.is_empty() {
        ct.tls_server_name = std::mem::take(&mut aux.tls_server_name_snake);
    }
    if aux.tls_skip_verify_snake {
        ct.tls_skip_verify = true;
    }
    if aux.grpc_use_tls_snake {
        ct.grpc_use_tls = true;
    }
    if aux.disable_redirects_snake {
        ct.disable_redirects = true;
    }
    // H2PING checks default to TLS unless told otherwise (either spelling).
    if !ct.h2ping.is_empty() {
        ct.h2ping_use_tls = aux.h2ping_use_tls.unwrap_or(true);
        if !aux.h2ping_use_tls_snake.unwrap_or(true) {
            ct.h2ping_use_tls = false;
        }
    } else {
        ct.h2ping_use_tls = aux.h2ping_use_tls.unwrap_or(false);
        if aux.h2ping_use_tls_snake == Some(true) {
            ct.h2ping_use_tls = true;
        }
    }
    if let Some(d) = duration_of(&aux.interval)? {
        ct.interval_ns = d;
    }
    if let Some(d) = duration_of(&aux.timeout)? {
        ct.timeout_ns = d;
    }
    if let Some(d) = duration_of(&aux.ttl)? {
        ct.ttl_ns = d;
    }
    if let Some(d) = duration_of(&aux.dcsa)? {
        ct.deregister_critical_service_after_ns = d;
    }
    Ok(())
}

/// One `Check`/`Checks[i]` of a service (`CheckType.UnmarshalJSON`). Its
/// errors go to the outer decoder's first-error slot.
fn check_type_from(v: &JVal, outer: &mut Errs) -> CheckType {
    let mut ct = CheckType::default();
    let mut aux = CheckAux::default();
    let mut errs = Errs::default();
    walk_object(v, CHECK_TYPE_FIELDS, true, "structs.CheckType", &mut errs, |name, val, errs| {
        if apply_check_field(&mut ct, &mut aux, name, val, errs) {
            return;
        }
        match name {
            "CheckID" => set_str(&mut ct.check_id, val, name, errs),
            // ServiceID/ProxyHTTP/ProxyGRPC are accepted and not used here.
            _ => {
                let _ = get_string(val, name, errs);
            }
        }
    });
    if errs.has() {
        if let Err(e) = errs.into_result() {
            outer.save(e);
        }
        return ct;
    }
    if let Err(e) = finish_check(&mut ct, aux) {
        outer.save(e);
    }
    ct
}

fn check_definition_from(v: &JVal, errs: &mut Errs) -> CheckDefinition {
    let mut d = CheckDefinition::default();
    let mut ct = CheckType::default();
    let mut aux = CheckAux::default();
    walk_object(v, CHECK_DEFINITION_FIELDS, true, "structs.CheckDefinition", errs, |name, val, errs| {
        if apply_check_field(&mut ct, &mut aux, name, val, errs) {
            return;
        }
        match name {
            "ID" => set_str(&mut d.id, val, name, errs),
            "ServiceID" => set_str(&mut d.service_id, val, name, errs),
            "Token" => set_str(&mut d.token, val, name, errs),
            _ => {
                let _ = get_string(val, name, errs);
            }
        }
    });
    if errs.has() {
        return d;
    }
    if d.service_id.is_empty() {
        d.service_id = std::mem::take(&mut aux.service_id_snake);
    }
    if let Err(e) = finish_check(&mut ct, aux) {
        errs.save(e);
    }
    d.name = ct.name.clone();
    d.notes = ct.notes.clone();
    d.status = ct.status.clone();
    ct.check_id = d.id.clone();
    d.check_type = ct;
    d
}
