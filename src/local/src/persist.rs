//! Persistence of services and checks in the data dir, as Consul lays it
//! out: `services/<sha256(id)>`, `checks/<sha256(id)>` and TTL check state
//! in `checks/state/<sha256(id)>`. JSON with Consul's field names. A file
//! that does not decode is skipped with a warning, never a panic.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use ballast_store::catalog::{HealthCheck, NodeService, ServiceAddress, Weights};
use serde::{Deserialize, Serialize};

use crate::definition::CheckType;
use crate::persist_fs::{id_hash, remove_if_exists, write_atomic};

pub(crate) const SERVICES_DIR: &str = "services";
pub(crate) const CHECKS_DIR: &str = "checks";
pub(crate) const CHECK_STATE_DIR: &str = "checks/state";

/// Source tag Consul stores with API-registered entries.
const SOURCE_REMOTE: &str = "remote";

#[derive(Serialize, Deserialize)]
struct AddrFile {
    #[serde(rename = "Address", default)]
    address: String,
    #[serde(rename = "Port", default)]
    port: i64,
}

#[derive(Serialize, Deserialize)]
struct WeightsFile {
    #[serde(rename = "Passing")]
    passing: i64,
    #[serde(rename = "Warning")]
    warning: i64,
}

#[derive(Serialize, Deserialize)]
struct ServiceFile {
    #[serde(rename = "Kind", default)]
    kind: String,
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Service")]
    service: String,
    #[serde(rename = "Tags", default)]
    tags: Vec<String>,
    #[serde(rename = "Address", default)]
    address: String,
    #[serde(rename = "TaggedAddresses", default)]
    tagged_addresses: BTreeMap<String, AddrFile>,
    #[serde(rename = "Meta", default)]
    meta: BTreeMap<String, String>,
    #[serde(rename = "Port", default)]
    port: i64,
    #[serde(rename = "SocketPath", default)]
    socket_path: String,
    #[serde(rename = "Weights", default)]
    weights: Option<WeightsFile>,
    #[serde(rename = "EnableTagOverride", default)]
    enable_tag_override: bool,
}

#[derive(Serialize, Deserialize)]
struct PersistedService {
    #[serde(rename = "Token", default)]
    token: String,
    #[serde(rename = "Service")]
    service: ServiceFile,
    #[serde(rename = "Source", default)]
    source: String,
}

#[derive(Serialize, Deserialize)]
struct CheckFile {
    #[serde(rename = "Node", default)]
    node: String,
    #[serde(rename = "CheckID")]
    check_id: String,
    #[serde(rename = "Name", default)]
    name: String,
    #[serde(rename = "Status", default)]
    status: String,
    #[serde(rename = "Notes", default)]
    notes: String,
    #[serde(rename = "Output", default)]
    output: String,
    #[serde(rename = "ServiceID", default)]
    service_id: String,
    #[serde(rename = "ServiceName", default)]
    service_name: String,
    #[serde(rename = "ServiceTags", default)]
    service_tags: Vec<String>,
    #[serde(rename = "Type", default)]
    check_type: String,
    #[serde(rename = "Interval", default)]
    interval: String,
    #[serde(rename = "Timeout", default)]
    timeout: String,
}

/// `structs.CheckType` with durations in nanoseconds.
#[derive(Serialize, Deserialize, Default)]
#[serde(default)]
struct CheckTypeFile {
    #[serde(rename = "CheckID")]
    check_id: String,
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Status")]
    status: String,
    #[serde(rename = "Notes")]
    notes: String,
    #[serde(rename = "ScriptArgs")]
    script_args: Vec<String>,
    #[serde(rename = "HTTP")]
    http: String,
    #[serde(rename = "H2PING")]
    h2ping: String,
    #[serde(rename = "H2PingUseTLS")]
    h2ping_use_tls: bool,
    #[serde(rename = "Header")]
    header: BTreeMap<String, Vec<String>>,
    #[serde(rename = "Method")]
    method: String,
    #[serde(rename = "Body")]
    body: String,
    #[serde(rename = "DisableRedirects")]
    disable_redirects: bool,
    #[serde(rename = "TCP")]
    tcp: String,
    #[serde(rename = "TCPUseTLS")]
    tcp_use_tls: bool,
    #[serde(rename = "UDP")]
    udp: String,
    #[serde(rename = "Interval")]
    interval_ns: i64,
    #[serde(rename = "AliasNode")]
    alias_node: String,
    #[serde(rename = "AliasService")]
    alias_service: String,
    #[serde(rename = "DockerContainerID")]
    docker_container_id: String,
    #[serde(rename = "Shell")]
    shell: String,
    #[serde(rename = "GRPC")]
    grpc: String,
    #[serde(rename = "GRPCUseTLS")]
    grpc_use_tls: bool,
    #[serde(rename = "OSService")]
    os_service: String,
    #[serde(rename = "TLSServerName")]
    tls_server_name: String,
    #[serde(rename = "TLSSkipVerify")]
    tls_skip_verify: bool,
    #[serde(rename = "Timeout")]
    timeout_ns: i64,
    #[serde(rename = "TTL")]
    ttl_ns: i64,
    #[serde(rename = "SuccessBeforePassing")]
    success_before_passing: i64,
    #[serde(rename = "FailuresBeforeWarning")]
    failures_before_warning: i64,
    #[serde(rename = "FailuresBeforeCritical")]
    failures_before_critical: i64,
    #[serde(rename = "DeregisterCriticalServiceAfter")]
    deregister_critical_service_after_ns: i64,
    #[serde(rename = "OutputMaxSize")]
    output_max_size: i64,
}

#[derive(Serialize, Deserialize)]
struct PersistedCheck {
    #[serde(rename = "Check")]
    check: CheckFile,
    #[serde(rename = "ChkType", default)]
    chk_type: Option<CheckTypeFile>,
    #[serde(rename = "Token", default)]
    token: String,
    #[serde(rename = "Source", default)]
    source: String,
}

/// `persistedCheckState`: a TTL check's last status, valid until `Expires`
/// (unix seconds).
#[derive(Serialize, Deserialize)]
struct PersistedCheckState {
    #[serde(rename = "CheckID")]
    check_id: String,
    #[serde(rename = "Status")]
    status: String,
    #[serde(rename = "Output", default)]
    output: String,
    #[serde(rename = "Expires")]
    expires: i64,
}

fn service_to_file(s: &NodeService) -> ServiceFile {
    ServiceFile {
        kind: s.kind.clone(),
        id: s.id.clone(),
        service: s.service.clone(),
        tags: s.tags.clone(),
        address: s.address.clone(),
        tagged_addresses: s
            .tagged_addresses
            .iter()
            .map(|(k, v)| (k.clone(), AddrFile { address: v.address.clone(), port: v.port }))
            .collect(),
        meta: s.meta.clone(),
        port: s.port,
        socket_path: s.socket_path.clone(),
        weights: s.weights.map(|w| WeightsFile { passing: w.passing, warning: w.warning }),
        enable_tag_override: s.enable_tag_override,
    }
}

fn service_from_file(f: ServiceFile) -> NodeService {
    NodeService {
        kind: f.kind,
        id: f.id,
        service: f.service,
        tags: f.tags,
        address: f.address,
        tagged_addresses: f
            .tagged_addresses
            .into_iter()
            .map(|(k, v)| (k, ServiceAddress { address: v.address, port: v.port }))
            .collect(),
        meta: f.meta,
        port: f.port,
        socket_path: f.socket_path,
        weights: f.weights.map(|w| Weights { passing: w.passing, warning: w.warning }),
        enable_tag_override: f.enable_tag_override,
        create_index: 0,
        modify_index: 0,
    }
}

fn check_to_file(c: &HealthCheck) -> CheckFile {
    CheckFile {
        node: c.node.clone(),
        check_id: c.check_id.clone(),
        name: c.name.clone(),
        status: c.status.clone(),
        notes: c.notes.clone(),
        output: c.output.clone(),
        service_id: c.service_id.clone(),
        service_name: c.service_name.clone(),
        service_tags: c.service_tags.clone(),
        check_type: c.check_type.clone(),
        interval: c.interval.clone(),
        timeout: c.timeout.clone(),
    }
}

fn check_from_file(f: CheckFile) -> HealthCheck {
    HealthCheck {
        node: f.node,
        check_id: f.check_id,
        name: f.name,
        status: f.status,
        notes: f.notes,
        output: f.output,
        service_id: f.service_id,
        service_name: f.service_name,
        service_tags: f.service_tags,
        check_type: f.check_type,
        interval: f.interval,
        timeout: f.timeout,
        ..HealthCheck::default()
    }
}

fn check_type_to_file(c: &CheckType) -> CheckTypeFile {
    CheckTypeFile {
        check_id: c.check_id.clone(),
        name: c.name.clone(),
        status: c.status.clone(),
        notes: c.notes.clone(),
        script_args: c.script_args.clone(),
        http: c.http.clone(),
        h2ping: c.h2ping.clone(),
        h2ping_use_tls: c.h2ping_use_tls,
        header: c.header.clone(),
        method: c.method.clone(),
        body: c.body.clone(),
        disable_redirects: c.disable_redirects,
        tcp: c.tcp.clone(),
        tcp_use_tls: c.tcp_use_tls,
        udp: c.udp.clone(),
        interval_ns: c.interval_ns,
        alias_node: c.alias_node.clone(),
        alias_service: c.alias_service.clone(),
        docker_container_id: c.docker_container_id.clone(),
        shell: c.shell.clone(),
        grpc: c.grpc.clone(),
        grpc_use_tls: c.grpc_use_tls,
        os_service: c.os_service.clone(),
        tls_server_name: c.tls_server_name.clone(),
        tls_skip_verify: c.tls_skip_verify,
        timeout_ns: c.timeout_ns,
        ttl_ns: c.ttl_ns,
        success_before_passing: c.success_before_passing,
        failures_before_warning: c.failures_before_warning,
        failures_before_critical: c.failures_before_critical,
        deregister_critical_service_after_ns: c.deregister_critical_service_after_ns,
        output_max_size: c.output_max_size,
    }
}

fn check_type_from_file(f: CheckTypeFile) -> CheckType {
    CheckType {
        check_id: f.check_id,
        name: f.name,
        status: f.status,
        notes: f.notes,
        script_args: f.script_args,
        http: f.http,
        h2ping: f.h2ping,
        h2ping_use_tls: f.h2ping_use_tls,
        header: f.header,
        method: f.method,
        body: f.body,
        disable_redirects: f.disable_redirects,
        tcp: f.tcp,
        tcp_use_tls: f.tcp_use_tls,
        udp: f.udp,
        interval_ns: f.interval_ns,
        alias_node: f.alias_node,
        alias_service: f.alias_service,
        docker_container_id: f.docker_container_id,
        shell: f.shell,
        grpc: f.grpc,
        grpc_use_tls: f.grpc_use_tls,
        os_service: f.os_service,
        tls_server_name: f.tls_server_name,
        tls_skip_verify: f.tls_skip_verify,
        timeout_ns: f.timeout_ns,
        ttl_ns: f.ttl_ns,
        success_before_passing: f.success_before_passing,
        failures_before_warning: f.failures_before_warning,
        failures_before_critical: f.failures_before_critical,
        deregister_critical_service_after_ns: f.deregister_critical_service_after_ns,
        output_max_size: f.output_max_size,
    }
}

fn to_json<T: Serialize>(v: &T) -> Result<Vec<u8>, String> {
    serde_json::to_vec(v).map_err(|e| e.to_string())
}

pub(crate) fn service_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(SERVICES_DIR).join(id_hash(id))
}

pub(crate) fn check_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(CHECKS_DIR).join(id_hash(id))
}

pub(crate) fn check_state_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(CHECK_STATE_DIR).join(id_hash(id))
}

pub(crate) fn write_service(dir: &Path, service: &NodeService, token: &str) -> Result<(), String> {
    let rec = PersistedService { token: token.into(), service: service_to_file(service), source: SOURCE_REMOTE.into() };
    let path = service_path(dir, &service.id);
    write_atomic(&path, &to_json(&rec)?).map_err(|e| format!("failed writing service file {:?}: {e}", path))
}

pub(crate) fn write_check(dir: &Path, check: &HealthCheck, chk_type: Option<&CheckType>, token: &str) -> Result<(), String> {
    let rec = PersistedCheck {
        check: check_to_file(check),
        chk_type: chk_type.map(check_type_to_file),
        token: token.into(),
        source: SOURCE_REMOTE.into(),
    };
    let path = check_path(dir, &check.check_id);
    write_atomic(&path, &to_json(&rec)?).map_err(|e| format!("failed writing check file {:?}: {e}", path))
}

pub(crate) fn write_check_state(dir: &Path, id: &str, status: &str, output: &str, expires_unix: i64) -> Result<(), String> {
    let rec = PersistedCheckState { check_id: id.into(), status: status.into(), output: output.into(), expires: expires_unix };
    let path = check_state_path(dir, id);
    write_atomic(&path, &to_json(&rec)?).map_err(|e| format!("failed persisting state for check {id:?}: {e}"))
}

pub(crate) fn purge_service(dir: &Path, id: &str) -> Result<(), String> {
    remove_if_exists(&service_path(dir, id)).map_err(|e| format!("failed removing service file for {id:?}: {e}"))
}

pub(crate) fn purge_check(dir: &Path, id: &str) -> Result<(), String> {
    remove_if_exists(&check_path(dir, id)).map_err(|e| format!("failed removing check file for {id:?}: {e}"))?;
    remove_if_exists(&check_state_path(dir, id)).map_err(|e| format!("failed removing check state for {id:?}: {e}"))
}

/// Regular files of a directory, sorted by name (missing dir = none).
fn files_in(dir: &Path, warnings: &mut Vec<String>) -> Vec<PathBuf> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            warnings.push(format!("failed reading directory {:?}: {e}", dir));
            return Vec::new();
        }
    };
    let mut out: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

fn is_temp(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).map(|n| n.ends_with("tmp")).unwrap_or(false)
}

/// Persisted services: `(service, token)`.
pub(crate) fn load_services(dir: &Path, warnings: &mut Vec<String>) -> Vec<(NodeService, String)> {
    let mut out = Vec::new();
    for path in files_in(&dir.join(SERVICES_DIR), warnings) {
        if is_temp(&path) {
            warnings.push(format!("Ignoring temporary service file {:?}", path));
            continue;
        }
        let decoded = fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|buf| serde_json::from_slice::<PersistedService>(&buf).map_err(|e| e.to_string()));
        match decoded {
            Ok(p) => out.push((service_from_file(p.service), p.token)),
            Err(e) => warnings.push(format!("Failed decoding service file {:?}: {e}", path)),
        }
    }
    out
}

/// Persisted checks: `(check, check type, token)`.
pub(crate) fn load_checks(dir: &Path, warnings: &mut Vec<String>) -> Vec<(HealthCheck, Option<CheckType>, String)> {
    let mut out = Vec::new();
    for path in files_in(&dir.join(CHECKS_DIR), warnings) {
        if is_temp(&path) {
            warnings.push(format!("Ignoring temporary check file {:?}", path));
            continue;
        }
        let decoded = fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|buf| serde_json::from_slice::<PersistedCheck>(&buf).map_err(|e| e.to_string()));
        match decoded {
            Ok(p) => out.push((check_from_file(p.check), p.chk_type.map(check_type_from_file), p.token)),
            Err(e) => warnings.push(format!("Failed decoding check file {:?}: {e}", path)),
        }
    }
    out
}

/// A TTL check's persisted `(status, output)` if present and not expired;
/// expired or undecodable state is purged.
pub(crate) fn load_check_state(dir: &Path, id: &str, now_unix: i64, warnings: &mut Vec<String>) -> Option<(String, String)> {
    let path = check_state_path(dir, id);
    let buf = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            warnings.push(format!("failed reading check state {:?}: {e}", path));
            return None;
        }
    };
    match serde_json::from_slice::<PersistedCheckState>(&buf) {
        Ok(p) if now_unix < p.expires => Some((p.status, p.output)),
        Ok(_) => {
            let _ = remove_if_exists(&path);
            None
        }
        Err(e) => {
            warnings.push(format!("failed decoding check state {:?}: {e}", path));
            let _ = remove_if_exists(&path);
            None
        }
    }
}
