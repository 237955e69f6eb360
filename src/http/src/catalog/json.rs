//! Catalog and health records as Consul's handlers encode them
//! (agent/structs/structs.go): field order, `omitempty`, and the places where a
//! Go nil shows as `null` versus where the handlers substitute `[]`/`{}`.
//!
//! Each wrapper has two modes: `Output` is the HTTP body; `Filter` is the
//! value `?filter=` sees, which is the Go struct itself: `omitempty` fields are
//! present with zero values and `bexpr:"-"` fields (RaftIndex, Definition,
//! Locality) are absent.

use std::collections::BTreeMap;

use ballast_store::catalog::{HealthCheck, HealthCheckDefinition, Node, NodeService, Weights};
use serde::ser::{Serialize, SerializeMap, SerializeStruct, Serializer};

/// Which rendering of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Output,
    Filter,
}

/// A Go `map[string]string` that is nil when empty (the catalog stores what
/// the registration sent; an absent map stays nil and encodes as `null`).
struct NilIfEmpty<'a, V>(&'a BTreeMap<String, V>);

impl<V: Serialize> Serialize for NilIfEmpty<'_, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_empty() {
            s.serialize_none()
        } else {
            self.0.serialize(s)
        }
    }
}

/// `structs.ServiceAddress`.
struct ServiceAddressJson<'a>(&'a ballast_store::catalog::ServiceAddress);

impl Serialize for ServiceAddressJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("ServiceAddress", 2)?;
        st.serialize_field("Address", &self.0.address)?;
        st.serialize_field("Port", &self.0.port)?;
        st.end()
    }
}

struct TaggedAddresses<'a>(&'a BTreeMap<String, ballast_store::catalog::ServiceAddress>);

impl Serialize for TaggedAddresses<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, &ServiceAddressJson(v))?;
        }
        m.end()
    }
}

struct WeightsJson(Weights);

impl Serialize for WeightsJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Weights", 2)?;
        st.serialize_field("Passing", &self.0.passing)?;
        st.serialize_field("Warning", &self.0.warning)?;
        st.end()
    }
}

/// The weights the catalog holds: `ToServiceNode` replaces a missing or
/// invalid `*Weights` with 1/1, so every stored instance has them.
pub(crate) fn effective_weights(w: Option<Weights>) -> Weights {
    match w {
        Some(w) if w.passing >= 1 && w.warning >= 0 && w.passing <= 65535 && w.warning <= 65535 => w,
        _ => Weights::default(),
    }
}

/// An empty `structs.ConnectProxyConfig` as its MarshalJSON writes it: `Mode`
/// has no omitempty, `MeshGateway` and `Expose` are structs (omitempty never
/// drops a struct).
struct EmptyProxy;

impl Serialize for EmptyProxy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let empty: BTreeMap<String, String> = BTreeMap::new();
        let mut st = s.serialize_struct("ConnectProxyConfig", 3)?;
        st.serialize_field("Mode", "")?;
        st.serialize_field("MeshGateway", &empty)?;
        st.serialize_field("Expose", &empty)?;
        st.end()
    }
}

/// An empty `structs.ServiceConnect` (every field omitempty).
struct EmptyConnect;

impl Serialize for EmptyConnect {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_map(Some(0))?.end()
    }
}

/// `structs.Node`.
pub(crate) struct NodeJson<'a>(pub &'a Node, pub Mode);

impl Serialize for NodeJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (n, filter) = (self.0, self.1 == Mode::Filter);
        let mut st = s.serialize_struct("Node", 10)?;
        st.serialize_field("ID", &n.id)?;
        st.serialize_field("Node", &n.node)?;
        st.serialize_field("Address", &n.address)?;
        st.serialize_field("Datacenter", &n.datacenter)?;
        if filter {
            st.serialize_field("Partition", "")?;
            st.serialize_field("PeerName", "")?;
        }
        st.serialize_field("TaggedAddresses", &NilIfEmpty(&n.tagged_addresses))?;
        st.serialize_field("Meta", &NilIfEmpty(&n.meta))?;
        if !filter {
            st.serialize_field("CreateIndex", &n.create_index)?;
            st.serialize_field("ModifyIndex", &n.modify_index)?;
        }
        st.end()
    }
}

/// `structs.ServiceNode` (the `CatalogService` of `/v1/catalog/service/<s>`):
/// the state store's `PartialClone` copies tags and meta into fresh
/// containers, so `ServiceTags` is `[]` and `ServiceMeta` `{}` when empty.
pub(crate) struct ServiceNodeJson<'a>(pub &'a Node, pub &'a NodeService, pub Mode);

impl Serialize for ServiceNodeJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (n, svc, filter) = (self.0, self.1, self.2 == Mode::Filter);
        let mut st = s.serialize_struct("ServiceNode", 23)?;
        st.serialize_field("ID", &n.id)?;
        st.serialize_field("Node", &n.node)?;
        st.serialize_field("Address", &n.address)?;
        st.serialize_field("Datacenter", &n.datacenter)?;
        st.serialize_field("TaggedAddresses", &NilIfEmpty(&n.tagged_addresses))?;
        st.serialize_field("NodeMeta", &NilIfEmpty(&n.meta))?;
        st.serialize_field("ServiceKind", &svc.kind)?;
        st.serialize_field("ServiceID", &svc.id)?;
        st.serialize_field("ServiceName", &svc.service)?;
        st.serialize_field("ServiceTags", &svc.tags)?;
        st.serialize_field("ServiceAddress", &svc.address)?;
        if filter || !svc.tagged_addresses.is_empty() {
            st.serialize_field("ServiceTaggedAddresses", &TaggedAddresses(&svc.tagged_addresses))?;
        }
        st.serialize_field("ServiceWeights", &WeightsJson(effective_weights(svc.weights)))?;
        st.serialize_field("ServiceMeta", &svc.meta)?;
        st.serialize_field("ServicePort", &svc.port)?;
        st.serialize_field("ServiceSocketPath", &svc.socket_path)?;
        st.serialize_field("ServiceEnableTagOverride", &svc.enable_tag_override)?;
        st.serialize_field("ServiceProxy", &EmptyProxy)?;
        st.serialize_field("ServiceConnect", &EmptyConnect)?;
        if filter {
            st.serialize_field("PeerName", "")?;
        } else {
            st.serialize_field("ServiceLocality", &())?;
            st.serialize_field("CreateIndex", &svc.create_index)?;
            st.serialize_field("ModifyIndex", &svc.modify_index)?;
        }
        st.end()
    }
}

/// `structs.NodeService` (`Services` of catalog/node, node-services and the
/// `Service` of a health entry). The handlers replace nil `Tags` with `[]`;
/// `Meta` stays as stored (nil when the registration had none).
pub(crate) struct NodeServiceJson<'a>(pub &'a NodeService, pub Mode);

impl Serialize for NodeServiceJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (svc, filter) = (self.0, self.1 == Mode::Filter);
        let mut st = s.serialize_struct("NodeService", 17)?;
        if filter || !svc.kind.is_empty() {
            st.serialize_field("Kind", &svc.kind)?;
        }
        st.serialize_field("ID", &svc.id)?;
        st.serialize_field("Service", &svc.service)?;
        st.serialize_field("Tags", &svc.tags)?;
        st.serialize_field("Address", &svc.address)?;
        if filter || !svc.tagged_addresses.is_empty() {
            st.serialize_field("TaggedAddresses", &TaggedAddresses(&svc.tagged_addresses))?;
        }
        st.serialize_field("Meta", &NilIfEmpty(&svc.meta))?;
        if filter || svc.port != 0 {
            st.serialize_field("Port", &svc.port)?;
        }
        if filter || !svc.socket_path.is_empty() {
            st.serialize_field("SocketPath", &svc.socket_path)?;
        }
        st.serialize_field("Weights", &WeightsJson(effective_weights(svc.weights)))?;
        st.serialize_field("EnableTagOverride", &svc.enable_tag_override)?;
        st.serialize_field("Proxy", &EmptyProxy)?;
        st.serialize_field("Connect", &EmptyConnect)?;
        st.serialize_field("PeerName", "")?;
        if !filter {
            st.serialize_field("CreateIndex", &svc.create_index)?;
            st.serialize_field("ModifyIndex", &svc.modify_index)?;
        }
        st.end()
    }
}

/// Go's `time.Duration.String()`, sign included.
pub(crate) fn go_duration(ns: i64) -> String {
    let abs = std::time::Duration::from_nanos(ns.unsigned_abs());
    let text = ballast_coordinate::format_go_duration(abs);
    if ns < 0 {
        format!("-{text}")
    } else {
        text
    }
}

/// `structs.HealthCheckDefinition` through its MarshalJSON: the three
/// durations as strings first (with OutputMaxSize between them), then the
/// rest; every field omitempty, `TTL` stays a number of nanoseconds.
pub(crate) struct DefinitionJson<'a>(pub &'a HealthCheckDefinition);

impl Serialize for DefinitionJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let mut st = s.serialize_struct("HealthCheckDefinition", 25)?;
        macro_rules! opt {
            ($name:literal, $cond:expr, $value:expr) => {
                if $cond {
                    st.serialize_field($name, $value)?;
                } else {
                    st.skip_field($name)?;
                }
            };
        }
        opt!("Interval", d.interval_ns != 0, &go_duration(d.interval_ns));
        opt!("OutputMaxSize", d.output_max_size != 0, &d.output_max_size);
        opt!("Timeout", d.timeout_ns != 0, &go_duration(d.timeout_ns));
        opt!(
            "DeregisterCriticalServiceAfter",
            d.deregister_critical_service_after_ns != 0,
            &go_duration(d.deregister_critical_service_after_ns)
        );
        opt!("HTTP", !d.http.is_empty(), &d.http);
        opt!("TLSServerName", !d.tls_server_name.is_empty(), &d.tls_server_name);
        opt!("TLSSkipVerify", d.tls_skip_verify, &d.tls_skip_verify);
        opt!("Header", !d.header.is_empty(), &d.header);
        opt!("Method", !d.method.is_empty(), &d.method);
        opt!("Body", !d.body.is_empty(), &d.body);
        opt!("DisableRedirects", d.disable_redirects, &d.disable_redirects);
        opt!("TCP", !d.tcp.is_empty(), &d.tcp);
        opt!("TCPUseTLS", d.tcp_use_tls, &d.tcp_use_tls);
        opt!("UDP", !d.udp.is_empty(), &d.udp);
        opt!("H2PING", !d.h2ping.is_empty(), &d.h2ping);
        opt!("OSService", !d.os_service.is_empty(), &d.os_service);
        opt!("H2PingUseTLS", d.h2ping_use_tls, &d.h2ping_use_tls);
        opt!("ScriptArgs", !d.script_args.is_empty(), &d.script_args);
        opt!("DockerContainerID", !d.docker_container_id.is_empty(), &d.docker_container_id);
        opt!("Shell", !d.shell.is_empty(), &d.shell);
        opt!("GRPC", !d.grpc.is_empty(), &d.grpc);
        opt!("GRPCUseTLS", d.grpc_use_tls, &d.grpc_use_tls);
        opt!("AliasNode", !d.alias_node.is_empty(), &d.alias_node);
        opt!("AliasService", !d.alias_service.is_empty(), &d.alias_service);
        opt!("TTL", d.ttl_ns != 0, &d.ttl_ns);
        st.end()
    }
}

/// `structs.HealthCheck`; the health handlers turn nil `ServiceTags` into `[]`.
pub(crate) struct HealthCheckJson<'a>(pub &'a HealthCheck, pub Mode);

impl Serialize for HealthCheckJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (c, filter) = (self.0, self.1 == Mode::Filter);
        let mut st = s.serialize_struct("HealthCheck", 17)?;
        st.serialize_field("Node", &c.node)?;
        st.serialize_field("CheckID", &c.check_id)?;
        st.serialize_field("Name", &c.name)?;
        st.serialize_field("Status", &c.status)?;
        st.serialize_field("Notes", &c.notes)?;
        st.serialize_field("Output", &c.output)?;
        st.serialize_field("ServiceID", &c.service_id)?;
        st.serialize_field("ServiceName", &c.service_name)?;
        st.serialize_field("ServiceTags", &c.service_tags)?;
        st.serialize_field("Type", &c.check_type)?;
        st.serialize_field("Interval", &c.interval)?;
        st.serialize_field("Timeout", &c.timeout)?;
        st.serialize_field("ExposedPort", &c.exposed_port)?;
        if filter {
            st.serialize_field("PeerName", "")?;
        } else {
            st.serialize_field("Definition", &DefinitionJson(&c.definition))?;
            st.serialize_field("CreateIndex", &c.create_index)?;
            st.serialize_field("ModifyIndex", &c.modify_index)?;
        }
        st.end()
    }
}

/// `structs.CheckServiceNode` (one element of `/v1/health/service/<s>`).
pub(crate) struct ServiceEntryJson<'a> {
    pub node: &'a Node,
    pub service: &'a NodeService,
    pub checks: &'a [std::sync::Arc<HealthCheck>],
    pub mode: Mode,
}

impl Serialize for ServiceEntryJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("CheckServiceNode", 3)?;
        st.serialize_field("Node", &NodeJson(self.node, self.mode))?;
        st.serialize_field("Service", &NodeServiceJson(self.service, self.mode))?;
        st.serialize_field("Checks", &Seq(self.checks.iter().map(|c| HealthCheckJson(c, self.mode))))?;
        st.end()
    }
}

/// Serialize an iterator as a JSON array (cloned on each serialization).
pub(crate) struct Seq<I>(pub I);

impl<I, T> Serialize for Seq<I>
where
    I: Iterator<Item = T> + Clone,
    T: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.clone())
    }
}

/// The value a filter evaluates for one record.
pub(crate) fn filter_value<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::go_duration;

    #[test]
    fn durations_read_like_go() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(10_000_000_000), "10s");
        assert_eq!(go_duration(90_000_000_000), "1m30s");
        assert_eq!(go_duration(-1_500_000_000), "-1.5s");
        assert_eq!(go_duration(i64::MIN), "-2562047h47m16.854775808s");
    }
}
