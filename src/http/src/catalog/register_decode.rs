//! `structs.RegisterRequest` / `structs.DeregisterRequest` bodies decoded as
//! Go does (see [`super::gojson`]), into the store's records plus the few
//! fields ballast does not store but Consul validates.

use ballast_store::catalog::{
    DeregisterRequest, HealthCheck, HealthCheckDefinition, NodeService, RegisterRequest, ServiceAddress, Weights,
};

use super::gojson::{parse_body, DecodeError, Obj};

/// A decoded registration and what Consul checks besides the stored fields.
#[derive(Debug, Clone, Default)]
pub(crate) struct DecodedRegister {
    pub req: RegisterRequest,
    /// `PeerName` anywhere in the request (Consul refuses those).
    pub has_peer_name: bool,
    /// `Service.Proxy.DestinationServiceName` (connect-proxy validation).
    pub proxy_destination: String,
    /// `Service.Connect.Native`.
    pub connect_native: bool,
    /// `Service.Connect.SidecarService` given.
    pub has_sidecar: bool,
}

/// A decoded deregistration, before Consul's precedence (service, then check).
#[derive(Debug, Clone, Default)]
pub(crate) struct DecodedDeregister {
    pub datacenter: String,
    pub node: String,
    pub service_id: String,
    pub check_id: String,
}

pub(crate) fn decode_register(body: &[u8]) -> Result<DecodedRegister, DecodeError> {
    let v = parse_body(body)?;
    let o = Obj::root(&v, "RegisterRequest")?;
    let mut out = DecodedRegister::default();
    let r = &mut out.req;
    r.datacenter = o.string("Datacenter", "string")?;
    r.id = o.string("ID", "types.NodeID")?;
    r.node = o.string("Node", "string")?;
    r.address = o.string("Address", "string")?;
    r.tagged_addresses = o.string_map("TaggedAddresses")?;
    r.node_meta = o.string_map("NodeMeta")?;
    r.skip_node_update = o.boolean("SkipNodeUpdate")?;
    out.has_peer_name = !o.string("PeerName", "string")?.is_empty();
    if let Some(s) = o.object("Service", "structs.NodeService")? {
        let (svc, peer) = decode_service(&s, &mut out.proxy_destination, &mut out.connect_native, &mut out.has_sidecar)?;
        out.has_peer_name |= peer;
        r.service = Some(svc);
    }
    // Consul appends the single `Check` after `Checks`.
    let single = o.object("Check", "structs.HealthCheck")?;
    for c in o.objects("Checks", "structs.HealthChecks")?.iter().chain(single.iter()) {
        let (check, peer) = decode_check(c)?;
        out.has_peer_name |= peer;
        r.checks.push(check);
    }
    Ok(out)
}

pub(super) fn decode_service(
    s: &Obj<'_>,
    proxy_destination: &mut String,
    native: &mut bool,
    sidecar: &mut bool,
) -> Result<(NodeService, bool), DecodeError> {
    let mut svc = NodeService {
        kind: s.string("Kind", "structs.ServiceKind")?,
        id: s.string("ID", "string")?,
        service: s.string("Service", "string")?,
        tags: s.strings("Tags")?,
        address: s.string("Address", "string")?,
        meta: s.string_map("Meta")?,
        port: s.int("Port")?,
        socket_path: s.string("SocketPath", "string")?,
        enable_tag_override: s.boolean("EnableTagOverride")?,
        ..NodeService::default()
    };
    for (key, addr) in s.object_map("TaggedAddresses", "map[string]structs.ServiceAddress")? {
        let a = ServiceAddress { address: addr.string("Address", "string")?, port: addr.int("Port")? };
        svc.tagged_addresses.insert(key, a);
    }
    if let Some(w) = s.object("Weights", "structs.Weights")? {
        svc.weights = Some(Weights { passing: w.int("Passing")?, warning: w.int("Warning")? });
    }
    if let Some(p) = s.object("Proxy", "structs.ConnectProxyConfig")? {
        *proxy_destination = p.string("DestinationServiceName", "string")?;
    }
    if let Some(c) = s.object("Connect", "structs.ServiceConnect")? {
        *native = c.boolean("Native")?;
        *sidecar = c.get("SidecarService").is_some();
    }
    let peer = !s.string("PeerName", "string")?.is_empty();
    Ok((svc, peer))
}

pub(super) fn decode_check(c: &Obj<'_>) -> Result<(HealthCheck, bool), DecodeError> {
    let mut check = HealthCheck {
        node: c.string("Node", "string")?,
        check_id: c.string("CheckID", "types.CheckID")?,
        name: c.string("Name", "string")?,
        status: c.string("Status", "string")?,
        notes: c.string("Notes", "string")?,
        output: c.string("Output", "string")?,
        service_id: c.string("ServiceID", "string")?,
        service_name: c.string("ServiceName", "string")?,
        service_tags: c.strings("ServiceTags")?,
        check_type: c.string("Type", "string")?,
        interval: c.string("Interval", "string")?,
        timeout: c.string("Timeout", "string")?,
        exposed_port: c.int("ExposedPort")?,
        ..HealthCheck::default()
    };
    if let Some(d) = c.object("Definition", "structs.HealthCheckDefinition")? {
        check.definition = decode_definition(&d)?;
    }
    let peer = !c.string("PeerName", "string")?.is_empty();
    Ok((check, peer))
}

fn decode_definition(d: &Obj<'_>) -> Result<HealthCheckDefinition, DecodeError> {
    Ok(HealthCheckDefinition {
        http: d.string("HTTP", "string")?,
        tls_server_name: d.string("TLSServerName", "string")?,
        tls_skip_verify: d.boolean("TLSSkipVerify")?,
        header: d.header_map("Header")?,
        method: d.string("Method", "string")?,
        body: d.string("Body", "string")?,
        disable_redirects: d.boolean("DisableRedirects")?,
        tcp: d.string("TCP", "string")?,
        tcp_use_tls: d.boolean("TCPUseTLS")?,
        udp: d.string("UDP", "string")?,
        h2ping: d.string("H2PING", "string")?,
        h2ping_use_tls: d.boolean("H2PingUseTLS")?,
        grpc: d.string("GRPC", "string")?,
        grpc_use_tls: d.boolean("GRPCUseTLS")?,
        os_service: d.string("OSService", "string")?,
        interval_ns: d.duration("Interval")?,
        output_max_size: d.uint("OutputMaxSize")?,
        timeout_ns: d.duration("Timeout")?,
        deregister_critical_service_after_ns: d.duration("DeregisterCriticalServiceAfter")?,
        script_args: d.strings("ScriptArgs")?,
        docker_container_id: d.string("DockerContainerID", "string")?,
        shell: d.string("Shell", "string")?,
        alias_node: d.string("AliasNode", "string")?,
        alias_service: d.string("AliasService", "string")?,
        ttl_ns: d.duration("TTL")?,
    })
}

pub(crate) fn decode_deregister(body: &[u8]) -> Result<DecodedDeregister, DecodeError> {
    let v = parse_body(body)?;
    let o = Obj::root(&v, "DeregisterRequest")?;
    Ok(DecodedDeregister {
        datacenter: o.string("Datacenter", "string")?,
        node: o.string("Node", "string")?,
        service_id: o.string("ServiceID", "string")?,
        check_id: o.string("CheckID", "types.CheckID")?,
    })
}

impl DecodedDeregister {
    /// The store command with Consul's precedence: a service ID wins over a
    /// check ID; neither removes the node.
    pub fn into_request(self) -> DeregisterRequest {
        let service_id = (!self.service_id.is_empty()).then_some(self.service_id);
        let check_id = if service_id.is_none() && !self.check_id.is_empty() { Some(self.check_id) } else { None };
        DeregisterRequest { node: self.node, service_id, check_id }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn py_consul_lowercase_body() {
        let body = br#"{"node":"n1","address":"10.0.0.1","service":{"service":"web","port":80,"tags":["a"],"meta":{"Env":"prod"}},
            "check":{"name":"c","status":"passing","definition":{"interval":"10s","http":"http://x","Header":{"X-Y":["1"]}}},
            "WriteRequest":{"Token":"t"}}"#;
        let d = decode_register(body).unwrap();
        assert_eq!(d.req.node, "n1");
        let svc = d.req.service.unwrap();
        assert_eq!((svc.service.as_str(), svc.port), ("web", 80));
        assert_eq!(svc.meta.get("Env").map(String::as_str), Some("prod"));
        assert_eq!(d.req.checks.len(), 1);
        assert_eq!(d.req.checks[0].definition.interval_ns, 10_000_000_000);
        assert!(d.req.checks[0].definition.header.contains_key("X-Y"));
    }

    #[test]
    fn bad_duration_and_precedence() {
        let e = decode_register(br#"{"Check":{"Definition":{"Timeout":"5"}}}"#).unwrap_err();
        assert_eq!(e.0, "time: invalid duration \"5\"");
        let d = decode_deregister(br#"{"node":"n","serviceid":"s","checkid":"c"}"#).unwrap().into_request();
        assert_eq!((d.service_id.as_deref(), d.check_id), (Some("s"), None));
    }
}
