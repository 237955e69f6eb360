//! The catalog's records, field for field as Consul's `structs.Node`,
//! `structs.NodeService`, `structs.HealthCheck` and `structs.RegisterRequest`
//! (agent/structs/structs.go). Plain data: rkyv for the Raft log and
//! snapshots; JSON shapes belong to the HTTP crate.
//!
//! New fields go at the END of a struct and new enum variants at the end:
//! rkyv stores positions, and old logs must keep decoding.

use std::collections::BTreeMap;

use rkyv::{Archive, Deserialize, Serialize};

/// Check statuses as Consul spells them (`api.HealthPassing`, ...).
pub const HEALTH_PASSING: &str = "passing";
pub const HEALTH_WARNING: &str = "warning";
pub const HEALTH_CRITICAL: &str = "critical";
/// Only valid as a query (`/v1/health/state/any`).
pub const HEALTH_ANY: &str = "any";

/// The node check every agent gets from gossip (`structs.SerfCheckID`).
pub const SERF_CHECK_ID: &str = "serfHealth";
pub const SERF_CHECK_NAME: &str = "Serf Health Status";
/// Node maintenance check (`structs.NodeMaint`).
pub const NODE_MAINT_CHECK_ID: &str = "_node_maintenance";
/// Service maintenance checks are `_service_maintenance:<service id>`.
pub const SERVICE_MAINT_PREFIX: &str = "_service_maintenance:";

/// `structs.Node`.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct Node {
    /// Node ID (a UUID), may be empty for nodes registered by hand.
    pub id: String,
    /// Node name (unique, compared case-insensitively as Consul's memdb).
    pub node: String,
    pub address: String,
    pub datacenter: String,
    pub tagged_addresses: BTreeMap<String, String>,
    pub meta: BTreeMap<String, String>,
    pub create_index: u64,
    pub modify_index: u64,
}

/// `structs.ServiceAddress` (values of a service's TaggedAddresses).
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceAddress {
    pub address: String,
    pub port: i64,
}

/// `structs.Weights`.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weights {
    pub passing: i64,
    pub warning: i64,
}

impl Default for Weights {
    /// Consul's defaults when a registration gives none.
    fn default() -> Self {
        Weights {
            passing: 1,
            warning: 1,
        }
    }
}

/// `structs.NodeService`: one service instance on one node.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeService {
    /// `""` for a typical service, `connect-proxy`, `mesh-gateway`, ...
    pub kind: String,
    /// Service ID, unique per node.
    pub id: String,
    /// Service name.
    pub service: String,
    pub tags: Vec<String>,
    pub address: String,
    pub tagged_addresses: BTreeMap<String, ServiceAddress>,
    pub meta: BTreeMap<String, String>,
    pub port: i64,
    pub socket_path: String,
    /// `None` is Go's nil `*Weights` (JSON omits it in catalog output; the
    /// agent always fills it).
    pub weights: Option<Weights>,
    pub enable_tag_override: bool,
    pub create_index: u64,
    pub modify_index: u64,
}

/// `structs.HealthCheckDefinition`: how the agent runs the check, kept in
/// the catalog for display. Durations in nanoseconds (JSON shows them as Go
/// duration strings).
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct HealthCheckDefinition {
    pub http: String,
    pub tls_server_name: String,
    pub tls_skip_verify: bool,
    pub header: BTreeMap<String, Vec<String>>,
    pub method: String,
    pub body: String,
    pub disable_redirects: bool,
    pub tcp: String,
    pub tcp_use_tls: bool,
    pub udp: String,
    pub h2ping: String,
    pub h2ping_use_tls: bool,
    pub grpc: String,
    pub grpc_use_tls: bool,
    pub os_service: String,
    pub interval_ns: i64,
    pub output_max_size: u64,
    pub timeout_ns: i64,
    pub deregister_critical_service_after_ns: i64,
    pub script_args: Vec<String>,
    pub docker_container_id: String,
    pub shell: String,
    pub alias_node: String,
    pub alias_service: String,
    pub ttl_ns: i64,
}

/// `structs.HealthCheck`.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct HealthCheck {
    pub node: String,
    pub check_id: String,
    pub name: String,
    /// `passing` | `warning` | `critical`.
    pub status: String,
    pub notes: String,
    pub output: String,
    /// `""` for a node-level check.
    pub service_id: String,
    pub service_name: String,
    pub service_tags: Vec<String>,
    /// `ttl`, `http`, `tcp`, `script`, `alias`, ... (`""` for serfHealth and
    /// maintenance checks).
    pub check_type: String,
    /// Go duration strings as Consul stores them (`"10s"`, `""`).
    pub interval: String,
    pub timeout: String,
    pub exposed_port: i64,
    pub definition: HealthCheckDefinition,
    pub create_index: u64,
    pub modify_index: u64,
}

/// `structs.RegisterRequest` (`PUT /v1/catalog/register`, and what
/// anti-entropy and the leader's node reconciliation send).
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct RegisterRequest {
    /// Node ID.
    pub id: String,
    pub node: String,
    pub address: String,
    pub datacenter: String,
    pub tagged_addresses: BTreeMap<String, String>,
    pub node_meta: BTreeMap<String, String>,
    pub service: Option<NodeService>,
    /// `Check` and `Checks` of the request, merged in that order.
    pub checks: Vec<HealthCheck>,
    /// Leave the node record as it is (only services/checks change).
    pub skip_node_update: bool,
}

/// `structs.DeregisterRequest`: with neither id the whole node goes.
#[derive(Archive, Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct DeregisterRequest {
    pub node: String,
    pub service_id: Option<String>,
    pub check_id: Option<String>,
}
