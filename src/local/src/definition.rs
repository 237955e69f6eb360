//! Request-side records: Consul's `structs.ServiceDefinition`,
//! `structs.CheckType` and `structs.CheckDefinition`
//! (agent/structs/service_definition.go, check_type.go, check_definition.go).
//! Durations are nanoseconds.

use std::collections::BTreeMap;

use ballast_store::catalog::{HealthCheckDefinition, ServiceAddress, Weights};

/// `structs.CheckType`: how the agent runs one check.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckType {
    pub check_id: String,
    pub name: String,
    pub status: String,
    pub notes: String,
    pub script_args: Vec<String>,
    pub http: String,
    pub h2ping: String,
    pub h2ping_use_tls: bool,
    pub header: BTreeMap<String, Vec<String>>,
    pub method: String,
    pub body: String,
    pub disable_redirects: bool,
    pub tcp: String,
    pub tcp_use_tls: bool,
    pub udp: String,
    pub interval_ns: i64,
    pub alias_node: String,
    pub alias_service: String,
    pub docker_container_id: String,
    pub shell: String,
    pub grpc: String,
    pub grpc_use_tls: bool,
    pub os_service: String,
    pub tls_server_name: String,
    pub tls_skip_verify: bool,
    pub timeout_ns: i64,
    pub ttl_ns: i64,
    pub success_before_passing: i64,
    pub failures_before_warning: i64,
    pub failures_before_critical: i64,
    pub deregister_critical_service_after_ns: i64,
    pub output_max_size: i64,
}

impl CheckType {
    /// `CheckType.Empty()`: a `Check` object with nothing set is ignored.
    pub fn is_empty(&self) -> bool {
        *self == CheckType::default()
    }

    pub fn is_script(&self) -> bool {
        !self.script_args.is_empty()
    }
    pub fn is_alias(&self) -> bool {
        !self.alias_node.is_empty() || !self.alias_service.is_empty()
    }
    pub fn is_ttl(&self) -> bool {
        self.ttl_ns > 0
    }
    fn interval_set(&self) -> bool {
        self.interval_ns > 0
    }

    /// `CheckType.Validate()` with Consul's messages.
    pub fn validate(&self) -> Result<(), String> {
        let interval_check = self.is_script()
            || !self.http.is_empty()
            || !self.tcp.is_empty()
            || !self.udp.is_empty()
            || !self.grpc.is_empty()
            || !self.h2ping.is_empty()
            || !self.os_service.is_empty();
        if self.interval_ns > 0 && self.ttl_ns > 0 {
            return Err("Interval and TTL cannot both be specified".into());
        }
        if interval_check && self.interval_ns <= 0 {
            return Err("Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks".into());
        }
        if interval_check && self.is_alias() {
            return Err("Interval cannot be set for Alias checks".into());
        }
        if self.is_alias() && self.ttl_ns > 0 {
            return Err("TTL must be not be set for Alias checks".into());
        }
        if !interval_check && !self.is_alias() && self.ttl_ns <= 0 {
            return Err("TTL must be > 0 for TTL checks".into());
        }
        if self.output_max_size < 0 {
            return Err("MaxOutputMaxSize must be positive".into());
        }
        if self.failures_before_warning > self.failures_before_critical {
            return Err("FailuresBeforeWarning can't be higher than FailuresBeforeCritical".into());
        }
        Ok(())
    }

    /// `CheckType.Type()`: the `Type` shown on the HealthCheck.
    pub fn check_type(&self) -> &'static str {
        let iv = self.interval_set();
        if !self.grpc.is_empty() && iv {
            "grpc"
        } else if !self.http.is_empty() && iv {
            "http"
        } else if self.is_ttl() {
            "ttl"
        } else if !self.tcp.is_empty() && iv {
            "tcp"
        } else if !self.udp.is_empty() && iv {
            "udp"
        } else if self.is_alias() {
            "alias"
        } else if self.is_script() && !self.docker_container_id.is_empty() && iv {
            "docker"
        } else if self.is_script() {
            "script"
        } else if !self.h2ping.is_empty() && iv {
            "h2ping"
        } else if !self.os_service.is_empty() && iv {
            "os_service"
        } else {
            ""
        }
    }

    /// The check definition in catalog form (for consumers that want to show
    /// it; the agent itself leaves `HealthCheck.definition` empty as Consul).
    pub fn to_definition(&self) -> HealthCheckDefinition {
        HealthCheckDefinition {
            http: self.http.clone(),
            tls_server_name: self.tls_server_name.clone(),
            tls_skip_verify: self.tls_skip_verify,
            header: self.header.clone(),
            method: self.method.clone(),
            body: self.body.clone(),
            disable_redirects: self.disable_redirects,
            tcp: self.tcp.clone(),
            tcp_use_tls: self.tcp_use_tls,
            udp: self.udp.clone(),
            h2ping: self.h2ping.clone(),
            h2ping_use_tls: self.h2ping_use_tls,
            grpc: self.grpc.clone(),
            grpc_use_tls: self.grpc_use_tls,
            os_service: self.os_service.clone(),
            interval_ns: self.interval_ns,
            output_max_size: self.output_max_size.max(0) as u64,
            timeout_ns: self.timeout_ns,
            deregister_critical_service_after_ns: self.deregister_critical_service_after_ns,
            script_args: self.script_args.clone(),
            docker_container_id: self.docker_container_id.clone(),
            shell: self.shell.clone(),
            alias_node: self.alias_node.clone(),
            alias_service: self.alias_service.clone(),
            ttl_ns: self.ttl_ns,
        }
    }
}

/// `structs.ServiceDefinition` (body of `PUT /v1/agent/service/register`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceDefinition {
    pub kind: String,
    pub id: String,
    pub name: String,
    pub tags: Vec<String>,
    pub address: String,
    pub tagged_addresses: BTreeMap<String, ServiceAddress>,
    pub meta: BTreeMap<String, String>,
    pub port: i64,
    pub socket_path: String,
    /// `Check` (the legacy single check; empty when absent).
    pub check: CheckType,
    /// `Checks`.
    pub checks: Vec<CheckType>,
    /// `None` is Go's nil `*Weights` (the agent defaults it to 1/1).
    pub weights: Option<Weights>,
    pub token: String,
    pub enable_tag_override: bool,
    /// Connect proxy configuration, carried as sent (the catalog records of
    /// this build have no place for it; only `DestinationServiceName` is
    /// validated).
    pub proxy: Option<serde_json::Value>,
    /// Connect settings, carried as sent.
    pub connect: Option<serde_json::Value>,
}

impl ServiceDefinition {
    /// `ServiceDefinition.CheckTypes()`: `Check` (if not empty) then `Checks`.
    pub fn check_types(&self) -> Vec<CheckType> {
        let mut out = Vec::with_capacity(self.checks.len() + 1);
        if !self.check.is_empty() {
            out.push(self.check.clone());
        }
        out.extend(self.checks.iter().cloned());
        out
    }
}

/// `structs.CheckDefinition` (body of `PUT /v1/agent/check/register`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckDefinition {
    pub id: String,
    pub name: String,
    pub notes: String,
    pub service_id: String,
    pub token: String,
    pub status: String,
    /// The run-time fields (`CheckDefinition.CheckType()`); its `check_id`,
    /// `name`, `status`, `notes` mirror the fields above.
    pub check_type: CheckType,
}

/// Body of `PUT /v1/agent/check/update/<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckUpdate {
    pub status: String,
    pub output: String,
}
