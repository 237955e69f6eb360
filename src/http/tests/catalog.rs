//! Catalog and health endpoints end to end over the in-process store.

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use ballast_http::testing::{run_with_server, ClientResponse};
use ballast_http::ServerOptions;
use common::*;
use serde_json::json;

const WEB1: &str = r#"{"Node":"n1","Address":"10.0.0.1","NodeMeta":{"rack":"a"},
  "Service":{"Service":"web","Tags":["Primary","v1"],"Port":80},
  "Checks":[{"CheckID":"web-http","Name":"web http","Status":"passing","ServiceID":"web",
    "Definition":{"HTTP":"http://10.0.0.1/","Interval":"10s","Timeout":"1500ms"}}]}"#;
const WEB2: &str = r#"{"node":"n2","address":"10.0.0.2","nodemeta":{"rack":"b"},
  "service":{"service":"web","tags":["v1"],"port":81},
  "check":{"checkid":"n2-node","name":"node","status":"critical"}}"#;

async fn setup(c: &mut ballast_http::testing::TestClient) {
    for body in [WEB1, WEB2] {
        let r = req(c, "PUT", "/v1/catalog/register", body.as_bytes()).await;
        assert_eq!((r.status, r.text()), (200, "true".to_string()));
    }
}

#[test]
fn register_and_read_shapes() {
    run_with_server(ServerOptions::default(), |_b, addr, _| async move {
        let mut c = connect(addr).await;
        setup(&mut c).await;
        let r = req(&mut c, "GET", "/v1/catalog/nodes", b"").await;
        assert_eq!(r.status, 200);
        assert!(index_of(&r) >= 2);
        let nodes = r.json();
        assert_eq!(nodes[0]["Node"], "n1");
        assert_eq!(nodes[0]["TaggedAddresses"], serde_json::Value::Null);
        assert_eq!(nodes[0]["Meta"], json!({"rack":"a"}));
        assert_eq!(nodes[0]["Datacenter"], "dc1");

        let r = req(&mut c, "GET", "/v1/catalog/service/web", b"").await;
        let body = r.text();
        let first = &r.json()[0];
        let keys: Vec<&str> = first.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 21, "{body}");
        assert!(body.starts_with(r#"[{"ID":"","Node":"n1","Address":"10.0.0.1","Datacenter":"dc1","TaggedAddresses":null,"NodeMeta":{"rack":"a"},"ServiceKind":"","ServiceID":"web","ServiceName":"web","ServiceTags":["Primary","v1"],"ServiceAddress":"","ServiceWeights":{"Passing":1,"Warning":1},"ServiceMeta":{},"ServicePort":80,"ServiceSocketPath":"","ServiceEnableTagOverride":false,"ServiceProxy":{"Mode":"","MeshGateway":{},"Expose":{}},"ServiceConnect":{},"ServiceLocality":null,"CreateIndex":"#), "{body}");

        let r = req(&mut c, "GET", "/v1/catalog/services", b"").await;
        assert_eq!(r.json(), json!({"web":["Primary","v1"]}));

        let r = req(&mut c, "GET", "/v1/catalog/node/n1", b"").await;
        let svc = &r.json()["Services"]["web"];
        assert_eq!(svc["Port"], 80);
        assert_eq!(svc["Meta"], serde_json::Value::Null);
        assert_eq!(svc["Weights"], json!({"Passing":1,"Warning":1}));
        assert!(svc.get("Kind").is_none() && svc.get("TaggedAddresses").is_none());
        let r = req(&mut c, "GET", "/v1/catalog/node/nope", b"").await;
        assert_eq!((r.status, r.text()), (200, "null".to_string()));
        assert!(r.header("X-Consul-Index").is_some());
        let r = req(&mut c, "GET", "/v1/catalog/node-services/nope", b"").await;
        assert_eq!(r.text(), r#"{"Node":null,"Services":null}"#);
        let r = req(&mut c, "GET", "/v1/catalog/node-services/n2", b"").await;
        assert_eq!(r.json()["Services"][0]["ID"], "web");

        let r = req(&mut c, "GET", "/v1/health/node/n1", b"").await;
        let check = &r.json()[0];
        assert_eq!(check["Type"], "http");
        assert_eq!(check["ServiceTags"], json!(["Primary","v1"]));
        assert_eq!(check["Definition"], json!({"Interval":"10s","Timeout":"1.5s","HTTP":"http://10.0.0.1/"}));
        assert!(r.text().contains(r#""Definition":{"Interval":"10s","Timeout":"1.5s","HTTP":"http://10.0.0.1/"}"#));

        let r = req(&mut c, "GET", "/v1/health/service/web", b"").await;
        let entries = r.json();
        assert_eq!(entries.as_array().unwrap().len(), 2);
        assert_eq!(entries[1]["Checks"][0]["CheckID"], "n2-node");
        assert_eq!(entries[0]["Service"]["Tags"], json!(["Primary","v1"]));
        let r = req(&mut c, "GET", "/v1/health/service/unknown", b"").await;
        assert_eq!(r.text(), "[]");
        let r = req(&mut c, "GET", "/v1/health/state/critical", b"").await;
        assert_eq!(r.json()[0]["Node"], "n2");
        let r = req(&mut c, "GET", "/v1/catalog/datacenters", b"").await;
        assert_eq!(r.json(), json!(["dc1"]));
    });
}

#[test]
fn query_parameters() {
    run_with_server(ServerOptions::default(), |_b, addr, _| async move {
        let mut c = connect(addr).await;
        setup(&mut c).await;
        let count = |r: &ClientResponse| r.json().as_array().map_or(usize::MAX, Vec::len);
        let r = req(&mut c, "GET", "/v1/catalog/service/web?tag=primary", b"").await;
        assert_eq!(count(&r), 1, "tags compare case-insensitively");
        let r = req(&mut c, "GET", "/v1/catalog/service/web?tag=v1&tag=primary", b"").await;
        assert_eq!(count(&r), 1);
        let r = req(&mut c, "GET", "/v1/health/service/web?tag=v1", b"").await;
        assert_eq!(count(&r), 2);
        let r = req(&mut c, "GET", "/v1/catalog/nodes?node-meta=rack:b", b"").await;
        assert_eq!(r.json()[0]["Node"], "n2");
        assert_eq!(count(&r), 1);
        let r = req(&mut c, "GET", "/v1/catalog/nodes?node-meta=rack", b"").await;
        assert_eq!(count(&r), 0, "a bare key means an empty value");
        for q in ["passing", "passing=1", "passing=true", "passing=T"] {
            let r = req(&mut c, "GET", &format!("/v1/health/service/web?{q}"), b"").await;
            assert_eq!(count(&r), 1, "{q}");
            assert_eq!(r.json()[0]["Node"]["Node"], "n1");
        }
        let r = req(&mut c, "GET", "/v1/health/service/web?passing=0", b"").await;
        assert_eq!(count(&r), 2);
        let r = req(&mut c, "GET", "/v1/health/service/web?passing=yes", b"").await;
        assert_eq!((r.status, r.text()), (400, "Invalid value for ?passing".to_string()));
        assert!(r.header("X-Consul-Index").is_some());
        let r = req(&mut c, "GET", "/v1/catalog/nodes?dc=other", b"").await;
        assert_eq!((r.status, r.text()), (500, "No path to datacenter".to_string()));
        let r = req(&mut c, "GET", "/v1/catalog/nodes?stale&consistent", b"").await;
        assert_eq!(r.status, 400);
        let r = req(&mut c, "GET", "/v1/health/state/", b"").await;
        assert_eq!((r.status, r.text()), (400, "Missing check state".to_string()));
        let r = req(&mut c, "GET", "/v1/catalog/service/", b"").await;
        assert_eq!((r.status, r.text()), (400, "Missing service name".to_string()));
        let r = req(&mut c, "GET", "/v1/health/node/", b"").await;
        assert_eq!((r.status, r.text()), (400, "Missing node name".to_string()));
        let r = req(&mut c, "POST", "/v1/catalog/nodes", b"").await;
        assert_eq!(r.status, 405);
    });
}

#[test]
fn register_validation_and_deregister() {
    run_with_server(ServerOptions::default(), |_b, addr, _| async move {
        let mut c = connect(addr).await;
        let cases: &[(&str, u16, &str)] = &[
            ("", 400, "Request decode failed: EOF"),
            ("[1]", 400, "Request decode failed: json: cannot unmarshal array into Go value of type structs.RegisterRequest"),
            (r#"{"Node":1}"#, 400, "Request decode failed: json: cannot unmarshal number into Go struct field RegisterRequest.Node of type string"),
            (r#"{"Address":"a"}"#, 500, "Must provide node"),
            (r#"{"Node":"n"}"#, 500, "Must provide address if SkipNodeUpdate is not set"),
            (r#"{"Node":"n","Address":"a","ID":"x"}"#, 500, "Bad node ID: uuid string is wrong length"),
            (r#"{"Node":"n","Address":"a","Service":{"ID":"s"}}"#, 500, "Must provide service name (Service.Service) when service ID is provided"),
            (r#"{"Node":"n","Address":"a","Service":{"Service":"s","Address":"0.0.0.0"}}"#, 500, "Invalid service address"),
            (r#"{"Node":"n","Address":"a","Check":{"Node":"m","CheckID":"c"}}"#, 500, "Node 'm' for check 'c' doesn't match register request node 'n'"),
            (r#"{"Node":"n","Address":"a","Check":{"CheckID":"c","ServiceID":"zz"}}"#, 500, "Unknown service ID 'zz' for check ID 'c'"),
            (r#"{"Node":"n","Address":"a","Datacenter":"dc9"}"#, 500, "No path to datacenter"),
        ];
        for (body, status, text) in cases {
            let r = req(&mut c, "PUT", "/v1/catalog/register", body.as_bytes()).await;
            assert_eq!((r.status, r.text().as_str()), (*status, *text), "{body}");
        }
        setup(&mut c).await;
        let r = req(&mut c, "PUT", "/v1/catalog/deregister", br#"{"node":"n1","serviceid":"web"}"#).await;
        assert_eq!((r.status, r.text()), (200, "true".to_string()));
        let r = req(&mut c, "GET", "/v1/catalog/service/web", b"").await;
        assert_eq!(r.json().as_array().unwrap().len(), 1);
        let r = req(&mut c, "PUT", "/v1/catalog/deregister", br#"{"Node":"n2"}"#).await;
        assert_eq!(r.status, 200);
        let r = req(&mut c, "GET", "/v1/catalog/nodes", b"").await;
        assert_eq!(r.json().as_array().unwrap().len(), 1);
        let r = req(&mut c, "PUT", "/v1/catalog/deregister", b"{}").await;
        assert_eq!((r.status, r.text()), (500, "Must provide node".to_string()));
    });
}

type Slot = Rc<RefCell<Option<ClientResponse>>>;

fn park(addr: std::net::SocketAddr, target: String) -> Slot {
    let slot: Slot = Rc::new(RefCell::new(None));
    let out = slot.clone();
    glommio::spawn_local(async move {
        let r = once(addr, "GET", &target, b"").await;
        *out.borrow_mut() = Some(r);
    })
    .detach();
    slot
}

#[test]
fn blocking_wakes_on_own_service_only() {
    run_with_server(ServerOptions::default(), |_b, addr, opts| async move {
        let mut c = connect(addr).await;
        setup(&mut c).await;
        let idx = index_of(&req(&mut c, "GET", "/v1/health/service/web", b"").await);
        let slot = park(addr, format!("/v1/health/service/web?index={idx}&wait=60s"));
        let stats = opts.stats.clone();
        eventually("parked", || stats.parked.get() == 1).await;
        let other = r#"{"Node":"n9","Address":"10.0.0.9","Service":{"Service":"db","Port":5432}}"#;
        req(&mut c, "PUT", "/v1/catalog/register", other.as_bytes()).await;
        glommio::timer::sleep(Duration::from_millis(50)).await;
        assert!(slot.borrow().is_none(), "another service must not answer the wait");
        let upd = r#"{"Node":"n2","Address":"10.0.0.2","Service":{"Service":"web","Port":82}}"#;
        req(&mut c, "PUT", "/v1/catalog/register", upd.as_bytes()).await;
        eventually("answered", || slot.borrow().is_some()).await;
        let r = slot.borrow_mut().take().unwrap();
        assert!(index_of(&r) > idx);
        assert_eq!(r.json()[1]["Service"]["Port"], 82);
    });
}

#[test]
fn register_decoder_never_panics() {
    run_with_server(ServerOptions::default(), |_b, addr, _| async move {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let keys = ["Node", "node", "Address", "Service", "Check", "Checks", "Definition", "Port", "Tags", "Meta", "Weights", "Interval", "TaggedAddresses", "ID"];
        fn value(rng: &mut rand::rngs::StdRng, keys: &[&str], depth: u32) -> serde_json::Value {
            match rng.gen_range(0..if depth > 3 { 5 } else { 7 }) {
                0 => serde_json::Value::Null,
                1 => json!(rng.gen::<bool>()),
                2 => json!(rng.gen_range(-5i64..100000)),
                3 => json!(["x", "10s", "0.0.0.0", "1.5"][rng.gen_range(0..4)]),
                4 => json!(rng.gen::<f64>()),
                5 => serde_json::Value::Array((0..rng.gen_range(0..3)).map(|_| value(rng, keys, depth + 1)).collect()),
                _ => {
                    let mut m = serde_json::Map::new();
                    for _ in 0..rng.gen_range(0..5) {
                        m.insert(keys[rng.gen_range(0..keys.len())].to_string(), value(rng, keys, depth + 1));
                    }
                    serde_json::Value::Object(m)
                }
            }
        }
        let mut c = connect(addr).await;
        for _ in 0..300 {
            let body = serde_json::to_vec(&value(&mut rng, &keys, 0)).unwrap();
            let r = req(&mut c, "PUT", "/v1/catalog/register", &body).await;
            assert!(matches!(r.status, 200 | 400 | 500), "{}", String::from_utf8_lossy(&body));
        }
        let r = req(&mut c, "PUT", "/v1/catalog/register", b"{\"Node\":\"n\",").await;
        assert_eq!((r.status, r.text()), (400, "Request decode failed: unexpected EOF".to_string()));
    });
}

#[test]
fn filter_expressions() {
    run_with_server(ServerOptions::default(), |_b, addr, _| async move {
        let mut c = connect(addr).await;
        setup(&mut c).await;
        let r = req(&mut c, "GET", "/v1/catalog/service/web?filter=ServicePort%20%3D%3D%2081", b"").await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json().as_array().unwrap().len(), 1);
        assert_eq!(r.json()[0]["Node"], "n2");
        let r = req(&mut c, "GET", "/v1/health/service/web?filter=Node.Meta.rack%20%3D%3D%20%22a%22", b"").await;
        assert_eq!(r.json().as_array().unwrap().len(), 1);
        let r = req(&mut c, "GET", "/v1/catalog/nodes?filter=Meta.rack%20%3D%3D%20b", b"").await;
        assert_eq!(r.json()[0]["Node"], "n2");
        let r = req(&mut c, "GET", "/v1/catalog/nodes?filter=%3D%3D", b"").await;
        assert!(r.status >= 400, "bad expression must fail: {}", r.status);
    });
}

#[test]
fn rendered_health_answers_follow_every_change() {
    run_with_server(ServerOptions::default(), |_b, addr, _| async move {
        let mut c = connect(addr).await;
        setup(&mut c).await;
        let names = |r: &ClientResponse| -> Vec<String> {
            r.json().as_array().unwrap().iter().map(|e| e["Node"]["Node"].as_str().unwrap().to_string()).collect()
        };
        // Same request twice over the same state: the second may come from the shard's
        // rendered copy and must be byte-identical.
        let a = req(&mut c, "GET", "/v1/health/service/web?passing", b"").await;
        let b = req(&mut c, "GET", "/v1/health/service/web?passing&stale", b"").await;
        assert_eq!((a.text(), index_of(&a)), (b.text(), index_of(&b)));
        assert_eq!(names(&a), ["n1"]);
        // A change is seen at once, with or without the parameters in another order.
        let fix = r#"{"Node":"n2","Address":"10.0.0.2","Check":{"CheckID":"n2-node","Name":"node","Status":"passing"}}"#;
        assert_eq!(req(&mut c, "PUT", "/v1/catalog/register", fix.as_bytes()).await.text(), "true");
        let r = req(&mut c, "GET", "/v1/health/service/web?passing", b"").await;
        assert_eq!(names(&r), ["n1", "n2"]);
        assert!(index_of(&r) > index_of(&a));
        let r = req(&mut c, "GET", "/v1/health/service/web", b"").await;
        assert_eq!(r.json().as_array().unwrap().len(), 2);
        let r = req(&mut c, "GET", "/v1/health/service/web?passing&tag=Primary", b"").await;
        assert_eq!(names(&r), ["n1"]);
    });
}
