//! The catalog on the wire between a client agent and the servers: the
//! bodies of `PUT /v1/catalog/register` / `deregister` for the records
//! anti-entropy produces, and the catalog's view of one node read back from
//! `GET /v1/catalog/node/<n>` and `GET /v1/health/node/<n>`. Encoded as
//! Consul's JSON and decoded with the same rules the endpoints use, so what
//! one side writes the other reads back unchanged. Raft indexes are not sent
//! (the servers assign them) but are read back.

use ballast_store::catalog::{DeregisterRequest, HealthCheck, Node, NodeService, RegisterRequest};
use serde_json::{json, Map, Value};

use super::gojson::{parse_body, DecodeError, Obj};
use super::json::{HealthCheckJson, Mode};
use super::register_decode::{decode_check, decode_service};

/// `structs.RegisterRequest` as `PUT /v1/catalog/register` accepts it.
pub fn register_request_body(req: &RegisterRequest) -> Vec<u8> {
    let mut m = Map::new();
    m.insert("Datacenter".into(), json!(req.datacenter));
    m.insert("ID".into(), json!(req.id));
    m.insert("Node".into(), json!(req.node));
    m.insert("Address".into(), json!(req.address));
    m.insert("TaggedAddresses".into(), json!(req.tagged_addresses));
    m.insert("NodeMeta".into(), json!(req.node_meta));
    if let Some(svc) = &req.service {
        m.insert("Service".into(), service_json(svc));
    }
    m.insert("Checks".into(), Value::Array(req.checks.iter().map(check_json).collect()));
    m.insert("SkipNodeUpdate".into(), json!(req.skip_node_update));
    serde_json::to_vec(&Value::Object(m)).unwrap_or_default()
}

/// `structs.DeregisterRequest` as `PUT /v1/catalog/deregister` accepts it.
pub fn deregister_request_body(req: &DeregisterRequest) -> Vec<u8> {
    let mut m = Map::new();
    m.insert("Node".into(), json!(req.node));
    if let Some(id) = &req.service_id {
        m.insert("ServiceID".into(), json!(id));
    }
    if let Some(id) = &req.check_id {
        m.insert("CheckID".into(), json!(id));
    }
    serde_json::to_vec(&Value::Object(m)).unwrap_or_default()
}

fn service_json(s: &NodeService) -> Value {
    let tagged: Map<String, Value> = s
        .tagged_addresses
        .iter()
        .map(|(k, a)| (k.clone(), json!({"Address": a.address, "Port": a.port})))
        .collect();
    let mut m = Map::new();
    m.insert("Kind".into(), json!(s.kind));
    m.insert("ID".into(), json!(s.id));
    m.insert("Service".into(), json!(s.service));
    m.insert("Tags".into(), json!(s.tags));
    m.insert("Address".into(), json!(s.address));
    m.insert("TaggedAddresses".into(), Value::Object(tagged));
    m.insert("Meta".into(), json!(s.meta));
    m.insert("Port".into(), json!(s.port));
    m.insert("SocketPath".into(), json!(s.socket_path));
    // Absent stays absent: Go's nil *Weights.
    if let Some(w) = s.weights {
        m.insert("Weights".into(), json!({"Passing": w.passing, "Warning": w.warning}));
    }
    m.insert("EnableTagOverride".into(), json!(s.enable_tag_override));
    Value::Object(m)
}

/// The catalog's own rendering (indexes included; the decoder reads them and the servers
/// assign their own).
fn check_json(c: &HealthCheck) -> Value {
    serde_json::to_value(HealthCheckJson(c, Mode::Output)).unwrap_or(Value::Null)
}

/// One node as the catalog holds it: the node (`None` when unknown), its
/// services and its checks.
pub type NodeView = (Option<Node>, Vec<NodeService>, Vec<HealthCheck>);

/// The catalog's view of one node from the bodies of
/// `GET /v1/catalog/node/<n>` (`null` for an unknown node) and
/// `GET /v1/health/node/<n>`: the node, its services (by ID) and its checks.
pub fn decode_node_view(
    catalog_node_body: &[u8],
    health_node_body: &[u8],
) -> Result<NodeView, String> {
    let (node, services) = decode_node_services(catalog_node_body).map_err(|e| e.0)?;
    let checks = decode_checks(health_node_body).map_err(|e| e.0)?;
    Ok((node, services, checks))
}

fn decode_node_services(body: &[u8]) -> Result<(Option<Node>, Vec<NodeService>), DecodeError> {
    let v = parse_body(body)?;
    if v.is_null() {
        return Ok((None, Vec::new()));
    }
    let o = Obj::root(&v, "NodeServices")?;
    let node = match o.object("Node", "structs.Node")? {
        Some(n) => Some(Node {
            id: n.string("ID", "types.NodeID")?,
            node: n.string("Node", "string")?,
            address: n.string("Address", "string")?,
            datacenter: n.string("Datacenter", "string")?,
            tagged_addresses: n.string_map("TaggedAddresses")?,
            meta: n.string_map("Meta")?,
            create_index: n.uint("CreateIndex")?,
            modify_index: n.uint("ModifyIndex")?,
        }),
        None => None,
    };
    let mut services = Vec::new();
    for (_, s) in o.object_map("Services", "map[string]structs.NodeService")? {
        let (mut svc, _) = decode_service(&s, &mut String::new(), &mut false, &mut false)?;
        svc.create_index = s.uint("CreateIndex")?;
        svc.modify_index = s.uint("ModifyIndex")?;
        services.push(svc);
    }
    Ok((node, services))
}

fn decode_checks(body: &[u8]) -> Result<Vec<HealthCheck>, DecodeError> {
    let items = match parse_body(body)? {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => return Err(DecodeError("json: cannot unmarshal object into Go value of type structs.HealthChecks".into())),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items.iter().filter(|i| !i.is_null()) {
        let o = Obj::root(item, "HealthCheck")?;
        let (mut check, _) = decode_check(&o)?;
        check.create_index = o.uint("CreateIndex")?;
        check.modify_index = o.uint("ModifyIndex")?;
        out.push(check);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use ballast_store::catalog::{HealthCheckDefinition, ServiceAddress, Weights};

    use super::*;
    use crate::catalog::json::{HealthCheckJson, Mode, Seq};
    use crate::catalog::reads::NodeServicesJson;
    use crate::catalog::register_decode::{decode_deregister, decode_register};

    fn service() -> NodeService {
        NodeService {
            kind: String::new(),
            id: "web-1".into(),
            service: "web".into(),
            tags: vec!["primary".into(), "v1".into()],
            address: "10.0.0.5".into(),
            tagged_addresses: BTreeMap::from([
                ("lan".to_string(), ServiceAddress { address: "10.0.0.5".into(), port: 80 }),
                ("wan".to_string(), ServiceAddress { address: "198.51.100.5".into(), port: 8080 }),
            ]),
            meta: BTreeMap::from([("version".to_string(), "1.2".to_string())]),
            port: 80,
            socket_path: String::new(),
            weights: Some(Weights { passing: 3, warning: 1 }),
            enable_tag_override: true,
            create_index: 0,
            modify_index: 0,
        }
    }

    fn check(id: &str, service_id: &str) -> HealthCheck {
        HealthCheck {
            node: "node-1".into(),
            check_id: id.into(),
            name: format!("{id} check"),
            status: "warning".into(),
            notes: "notes <&>".into(),
            output: "HTTP GET: 429".into(),
            service_id: service_id.into(),
            service_name: if service_id.is_empty() { String::new() } else { "web".into() },
            service_tags: if service_id.is_empty() { Vec::new() } else { vec!["primary".into(), "v1".into()] },
            check_type: "http".into(),
            interval: "10s".into(),
            timeout: "1.5s".into(),
            exposed_port: 0,
            definition: HealthCheckDefinition {
                http: "http://10.0.0.5/health".into(),
                header: BTreeMap::from([("X-Probe".to_string(), vec!["a".to_string(), "b".to_string()])]),
                method: "POST".into(),
                tls_skip_verify: true,
                interval_ns: 10_000_000_000,
                timeout_ns: 1_500_000_000,
                deregister_critical_service_after_ns: 90_000_000_000,
                output_max_size: 1024,
                ttl_ns: 30_000_000_000,
                script_args: vec!["/bin/true".into()],
                ..HealthCheckDefinition::default()
            },
            create_index: 0,
            modify_index: 0,
        }
    }

    #[test]
    fn register_body_round_trips() {
        let req = RegisterRequest {
            id: "0b5f7c4e-0000-4000-8000-000000000001".into(),
            node: "node-1".into(),
            address: "10.0.0.5".into(),
            datacenter: "dc1".into(),
            tagged_addresses: BTreeMap::from([("lan".to_string(), "10.0.0.5".to_string())]),
            node_meta: BTreeMap::from([("rack".to_string(), "r1".to_string())]),
            service: Some(service()),
            checks: vec![check("service:web-1", "web-1"), check("mem", "")],
            skip_node_update: true,
        };
        let decoded = decode_register(&register_request_body(&req)).unwrap();
        assert_eq!(decoded.req, req);
        assert!(!decoded.has_peer_name);

        // No service, no weights, no checks.
        let mut svc = service();
        svc.weights = None;
        let bare = RegisterRequest { node: "n".into(), address: "a".into(), service: Some(svc), ..RegisterRequest::default() };
        assert_eq!(decode_register(&register_request_body(&bare)).unwrap().req, bare);
        let node_only = RegisterRequest { node: "n".into(), address: "a".into(), ..RegisterRequest::default() };
        assert_eq!(decode_register(&register_request_body(&node_only)).unwrap().req, node_only);
    }

    #[test]
    fn deregister_body_round_trips() {
        for req in [
            DeregisterRequest { node: "n".into(), service_id: Some("web-1".into()), check_id: None },
            DeregisterRequest { node: "n".into(), service_id: None, check_id: Some("mem".into()) },
            DeregisterRequest { node: "n".into(), service_id: None, check_id: None },
        ] {
            assert_eq!(decode_deregister(&deregister_request_body(&req)).unwrap().into_request(), req);
        }
    }

    #[test]
    fn node_view_round_trips_through_the_endpoint_json() {
        let node = Node {
            id: "0b5f7c4e-0000-4000-8000-000000000001".into(),
            node: "node-1".into(),
            address: "10.0.0.5".into(),
            datacenter: "dc1".into(),
            tagged_addresses: BTreeMap::from([("lan".to_string(), "10.0.0.5".to_string())]),
            meta: BTreeMap::from([("rack".to_string(), "r1".to_string())]),
            create_index: 5,
            modify_index: 7,
        };
        let mut a = service();
        a.create_index = 6;
        a.modify_index = 9;
        let mut b = service();
        b.id = "api".into();
        b.service = "api".into();
        b.tags.clear();
        b.meta.clear();
        b.tagged_addresses.clear();
        b.port = 0;
        b.weights = Some(Weights::default());
        b.enable_tag_override = false;
        let services = vec![Arc::new(b.clone()), Arc::new(a.clone())];
        let catalog_body = crate::json::to_json(&NodeServicesJson(&node, &services), false);
        let mut c1 = check("service:web-1", "web-1");
        c1.create_index = 8;
        c1.modify_index = 11;
        let c2 = check("mem", "");
        let checks = [Arc::new(c1.clone()), Arc::new(c2.clone())];
        let health_body = crate::json::to_json(&Seq(checks.iter().map(|c| HealthCheckJson(c, Mode::Output))), true);

        let (n, svcs, chks) = decode_node_view(&catalog_body, &health_body).unwrap();
        assert_eq!(n, Some(node));
        // `Services` is a map: by ID.
        assert_eq!(svcs, vec![b, a]);
        assert_eq!(chks, vec![c1, c2]);
    }

    #[test]
    fn unknown_node_and_bad_bodies() {
        assert_eq!(decode_node_view(b"null", b"[]").unwrap(), (None, Vec::new(), Vec::new()));
        assert_eq!(decode_node_view(b"null", b"null").unwrap(), (None, Vec::new(), Vec::new()));
        assert!(decode_node_view(b"", b"[]").is_err());
        assert!(decode_node_view(b"null", b"{}").is_err());
        assert!(decode_node_view(br#"{"Node":{"CreateIndex":"x"}}"#, b"[]").is_err());
        assert!(decode_node_view(b"null", br#"[{"Status":5}]"#).is_err());
        assert!(decode_node_view(b"[1]", b"[]").is_err());
    }
}
