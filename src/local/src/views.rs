//! What the agent read endpoints return, as JSON with Consul's field names:
//! `/v1/agent/services`, `/v1/agent/service/<id>` (with ContentHash),
//! `/v1/agent/checks`, `/v1/agent/health/service/{id,name}/<x>`.

use ballast_store::catalog::{HealthCheck, HealthCheckDefinition, NodeService, HEALTH_CRITICAL, HEALTH_PASSING, HEALTH_WARNING};
use serde_json::{json, Map, Value};

use crate::duration::format_go_duration;
use crate::error::LocalError;
use crate::maintenance::is_maintenance_check;
use crate::state::LocalState;

/// `api.HealthMaint`.
pub const HEALTH_MAINT: &str = "maintenance";

/// `buildAgentService`: api.AgentService for one local service.
pub fn agent_service_json(s: &NodeService, datacenter: &str) -> Value {
    let mut passing = 1;
    let mut warning = 1;
    if let Some(w) = s.weights {
        if w.passing > 0 {
            passing = w.passing;
        }
        warning = w.warning;
    }
    let mut m = Map::new();
    if !s.kind.is_empty() {
        m.insert("Kind".into(), json!(s.kind));
    }
    m.insert("ID".into(), json!(s.id));
    m.insert("Service".into(), json!(s.service));
    m.insert("Tags".into(), json!(s.tags));
    m.insert("Meta".into(), json!(s.meta));
    m.insert("Port".into(), json!(s.port));
    m.insert("Address".into(), json!(s.address));
    if !s.socket_path.is_empty() {
        m.insert("SocketPath".into(), json!(s.socket_path));
    }
    if !s.tagged_addresses.is_empty() {
        let tagged: Map<String, Value> = s
            .tagged_addresses
            .iter()
            .map(|(k, v)| (k.clone(), json!({"Address": v.address, "Port": v.port})))
            .collect();
        m.insert("TaggedAddresses".into(), Value::Object(tagged));
    }
    m.insert("Weights".into(), json!({"Passing": passing, "Warning": warning}));
    m.insert("EnableTagOverride".into(), json!(s.enable_tag_override));
    if !datacenter.is_empty() {
        m.insert("Datacenter".into(), json!(datacenter));
    }
    Value::Object(m)
}

/// Stable hash of the service as `/v1/agent/service/<id>` shows it
/// (fields Consul marks `hash:"ignore"` left out), FNV-1a 64 in hex.
pub fn content_hash(s: &NodeService) -> String {
    let mut v = agent_service_json(s, "");
    if let Value::Object(m) = &mut v {
        m.remove("SocketPath");
    }
    let canonical = serde_json::to_string(&v).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in canonical.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:x}")
}

/// `structs.HealthCheckDefinition`'s JSON (all fields omitempty).
fn definition_json(d: &HealthCheckDefinition) -> Value {
    let mut m = Map::new();
    let mut put_str = |k: &str, v: &str| {
        if !v.is_empty() {
            m.insert(k.into(), json!(v));
        }
    };
    put_str("HTTP", &d.http);
    put_str("TLSServerName", &d.tls_server_name);
    put_str("Method", &d.method);
    put_str("Body", &d.body);
    put_str("TCP", &d.tcp);
    put_str("UDP", &d.udp);
    put_str("H2PING", &d.h2ping);
    put_str("OSService", &d.os_service);
    put_str("DockerContainerID", &d.docker_container_id);
    put_str("Shell", &d.shell);
    put_str("GRPC", &d.grpc);
    put_str("AliasNode", &d.alias_node);
    put_str("AliasService", &d.alias_service);
    let mut put_bool = |k: &str, v: bool| {
        if v {
            m.insert(k.into(), json!(true));
        }
    };
    put_bool("TLSSkipVerify", d.tls_skip_verify);
    put_bool("DisableRedirects", d.disable_redirects);
    put_bool("TCPUseTLS", d.tcp_use_tls);
    put_bool("H2PingUseTLS", d.h2ping_use_tls);
    put_bool("GRPCUseTLS", d.grpc_use_tls);
    if !d.header.is_empty() {
        m.insert("Header".into(), json!(d.header));
    }
    if !d.script_args.is_empty() {
        m.insert("ScriptArgs".into(), json!(d.script_args));
    }
    for (k, ns) in [
        ("Interval", d.interval_ns),
        ("Timeout", d.timeout_ns),
        ("DeregisterCriticalServiceAfter", d.deregister_critical_service_after_ns),
    ] {
        if ns != 0 {
            m.insert(k.into(), json!(format_go_duration(ns)));
        }
    }
    if d.output_max_size != 0 {
        m.insert("OutputMaxSize".into(), json!(d.output_max_size));
    }
    if d.ttl_ns != 0 {
        m.insert("TTL".into(), json!(d.ttl_ns));
    }
    Value::Object(m)
}

/// `structs.HealthCheck` as `/v1/agent/checks` shows it (ServiceTags `[]`).
pub fn agent_check_json(c: &HealthCheck) -> Value {
    json!({
        "Node": c.node,
        "CheckID": c.check_id,
        "Name": c.name,
        "Status": c.status,
        "Notes": c.notes,
        "Output": c.output,
        "ServiceID": c.service_id,
        "ServiceName": c.service_name,
        "ServiceTags": c.service_tags,
        "Type": c.check_type,
        "Interval": c.interval,
        "Timeout": c.timeout,
        "ExposedPort": c.exposed_port,
        "Definition": definition_json(&c.definition),
        "CreateIndex": c.create_index,
        "ModifyIndex": c.modify_index,
    })
}

/// `api.HealthCheck` as the agent health endpoints build it (only the
/// identity and status fields are copied; the rest are zero values).
pub fn api_check_json(c: &HealthCheck) -> Value {
    json!({
        "Node": c.node,
        "CheckID": c.check_id,
        "Name": c.name,
        "Status": c.status,
        "Notes": c.notes,
        "Output": c.output,
        "ServiceID": c.service_id,
        "ServiceName": c.service_name,
        "ServiceTags": c.service_tags,
        "Type": "",
        "ExposedPort": 0,
        "Definition": {
            "HTTP": "", "Header": null, "Method": "", "Body": "", "TLSServerName": "",
            "TLSSkipVerify": false, "TCP": "", "TCPUseTLS": false, "UDP": "", "GRPC": "",
            "OSService": "", "GRPCUseTLS": false, "Interval": "0s", "Timeout": "0s",
            "DeregisterCriticalServiceAfter": "0s"
        },
        "CreateIndex": 0,
        "ModifyIndex": 0,
    })
}

/// `api.HealthChecks.AggregatedStatus`: maintenance > critical > warning >
/// passing; no checks = passing; an unknown status gives `""`.
pub fn aggregated_status<'a>(checks: impl IntoIterator<Item = &'a HealthCheck>) -> &'static str {
    let (mut warning, mut critical, mut maint) = (false, false, false);
    for c in checks {
        if is_maintenance_check(&c.check_id) {
            maint = true;
            continue;
        }
        match c.status.as_str() {
            HEALTH_PASSING => {}
            HEALTH_WARNING => warning = true,
            HEALTH_CRITICAL => critical = true,
            _ => return "",
        }
    }
    if maint {
        HEALTH_MAINT
    } else if critical {
        HEALTH_CRITICAL
    } else if warning {
        HEALTH_WARNING
    } else {
        HEALTH_PASSING
    }
}

/// The HTTP status the agent health endpoints use for an aggregated status.
pub fn health_status_code(status: &str) -> u16 {
    match status {
        HEALTH_PASSING => 200,
        HEALTH_WARNING => 429,
        _ => 503,
    }
}

/// One `api.AgentServiceChecksInfo`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceHealth {
    pub aggregated_status: &'static str,
    pub status_code: u16,
    pub service: NodeService,
    /// Node-level checks plus the service's checks.
    pub checks: Vec<HealthCheck>,
}

impl ServiceHealth {
    pub fn to_json(&self, datacenter: &str) -> Value {
        json!({
            "AggregatedStatus": self.aggregated_status,
            "Service": agent_service_json(&self.service, datacenter),
            "Checks": self.checks.iter().map(api_check_json).collect::<Vec<_>>(),
        })
    }
}

/// Body of `/v1/agent/health/service/id/<id>` for an unknown ID (404).
pub fn service_health_not_found_json() -> Value {
    json!({"AggregatedStatus": HEALTH_CRITICAL, "Service": null, "Checks": null})
}

/// Result of `/v1/agent/health/service/name/<name>`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceHealthByName {
    /// Worst of the instances (200 < 429 < 503); 404 when none.
    pub status_code: u16,
    /// Aggregated status of the worst instance, or
    /// `ServiceName <name> Not Found` (the text/plain body).
    pub status: String,
    pub instances: Vec<ServiceHealth>,
}

impl LocalState {
    /// `/v1/agent/services`: ID -> AgentService.
    pub fn agent_services_json(&self) -> Value {
        let dc = &self.node.datacenter;
        Value::Object(self.services().map(|s| (s.id.clone(), agent_service_json(s, dc))).collect())
    }

    /// `/v1/agent/service/<id>`: the AgentService with `ContentHash`, and
    /// the hash (for `X-Consul-ContentHash` and `?hash=` blocking).
    pub fn agent_service_json(&self, id: &str) -> Result<(Value, String), LocalError> {
        let svc = self
            .service(id)
            .ok_or_else(|| LocalError::NotFound(format!("unknown service ID: {id}")))?;
        let hash = content_hash(svc);
        let mut v = agent_service_json(svc, &self.node.datacenter);
        if let Value::Object(m) = &mut v {
            m.insert("ContentHash".into(), json!(hash));
        }
        Ok((v, hash))
    }

    /// `/v1/agent/checks`: CheckID -> HealthCheck.
    pub fn agent_checks_json(&self) -> Value {
        Value::Object(self.checks().map(|c| (c.check_id.clone(), agent_check_json(c))).collect())
    }

    /// `/v1/agent/health/service/id/<id>` (`None` = 404).
    pub fn service_health_by_id(&self, id: &str) -> Option<ServiceHealth> {
        let svc = self.service(id)?;
        let checks: Vec<HealthCheck> = self.checks_for_service(id, true).cloned().collect();
        let status = aggregated_status(&checks);
        Some(ServiceHealth {
            aggregated_status: status,
            status_code: health_status_code(status),
            service: svc.clone(),
            checks,
        })
    }

    /// `/v1/agent/health/service/name/<name>`.
    pub fn service_health_by_name(&self, name: &str) -> ServiceHealthByName {
        let mut out = ServiceHealthByName {
            status_code: 404,
            status: format!("ServiceName {name} Not Found"),
            instances: Vec::new(),
        };
        let ids: Vec<String> = self.services_by_name(name).map(|s| s.id.clone()).collect();
        for id in ids {
            let Some(h) = self.service_health_by_id(&id) else { continue };
            if out.status_code == 404 || out.status_code < h.status_code {
                out.status_code = h.status_code;
                out.status = h.aggregated_status.to_string();
            }
            out.instances.push(h);
        }
        out
    }
}
