//! Agent-local endpoints end to end over the test backend's LocalState:
//! services, checks, TTL updates, maintenance, health codes, filters and
//! hash-blocking; plus the catalog wire API against the real endpoints.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use ballast_http::testing::{run_with_server, ClientResponse, TestClient};
use ballast_http::{decode_node_view, deregister_request_body, register_request_body, ServerOptions};
use ballast_store::catalog::{DeregisterRequest, HealthCheck, NodeService, RegisterRequest, Weights};
use common::*;
use serde_json::{json, Value};

const WEB1: &str = r#"{"Name":"web","ID":"web-1","Port":80,"Tags":["primary"],"Check":{"TTL":"30s"}}"#;
const WEB2: &str = r#"{"name":"web","id":"web-2","port":81,"check":{"ttl":"30s","status":"passing"}}"#;
const DB: &str = r#"{"Name":"db","Port":5432}"#;

/// A request with extra header lines (`Name: value\r\n` each).
async fn with_headers(c: &mut TestClient, method: &str, target: &str, headers: &str, body: &[u8]) -> ClientResponse {
    let mut raw =
        format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Content-Length: {}\r\n\r\n", body.len())
            .into_bytes();
    raw.extend_from_slice(body);
    c.send_raw(&raw).await.expect("send");
    c.read_response(method == "HEAD").await.expect("response")
}

async fn put_ok(c: &mut TestClient, target: &str, body: &str) {
    let r = req(c, "PUT", target, body.as_bytes()).await;
    assert_eq!((r.status, r.text()), (200, String::new()), "PUT {target}");
}

fn status_text(r: &ClientResponse) -> (u16, String) {
    (r.status, r.text())
}

async fn checks(c: &mut TestClient) -> Value {
    let r = req(c, "GET", "/v1/agent/checks", b"").await;
    assert_eq!(r.status, 200);
    r.json()
}

#[test]
fn service_register_read_deregister() {
    run_with_server(ServerOptions::default(), |b, addr, _| async move {
        let mut c = connect(addr).await;
        put_ok(&mut c, "/v1/agent/service/register", WEB1).await;
        put_ok(&mut c, "/v1/agent/service/register", DB).await;
        assert_eq!(b.local_changes.get(), 2);

        let r = req(&mut c, "GET", "/v1/agent/services", b"").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        let all = r.json();
        assert_eq!(all.as_object().unwrap().len(), 2);
        let web = &all["web-1"];
        assert_eq!(web["Service"], "web");
        assert_eq!(web["Tags"], json!(["primary"]));
        assert_eq!(web["Port"], 80);
        assert_eq!(web["Weights"], json!({"Passing": 1, "Warning": 1}));
        assert_eq!(web["Datacenter"], "dc1");
        assert_eq!(all["db"]["Tags"], json!([]));
        assert_eq!(all["db"]["Meta"], json!({}));

        let r = req(&mut c, "GET", "/v1/agent/service/web-1", b"").await;
        assert_eq!(r.status, 200);
        let hash = r.header("X-Consul-ContentHash").expect("content hash").to_string();
        assert!(!hash.is_empty());
        assert_eq!(r.json()["ContentHash"], hash.as_str());
        assert_eq!(r.json()["ID"], "web-1");

        let r = req(&mut c, "GET", "/v1/agent/service/nope", b"").await;
        assert_eq!(status_text(&r), (404, "unknown service ID: nope".to_string()));
        assert!(r.header("X-Consul-ContentHash").is_none());

        // The service's TTL check went with it.
        assert!(checks(&mut c).await.get("service:web-1").is_some());
        put_ok(&mut c, "/v1/agent/service/deregister/web-1", "").await;
        assert!(checks(&mut c).await.get("service:web-1").is_none());
        let all = req(&mut c, "GET", "/v1/agent/services", b"").await.json();
        assert!(all.get("web-1").is_none() && all.get("db").is_some());
        let r = req(&mut c, "PUT", "/v1/agent/service/deregister/web-1", b"").await;
        assert_eq!(
            status_text(&r),
            (404, "Unknown service ID \"web-1\". Ensure that the service ID is passed, not the service name.".into())
        );
        let r = req(&mut c, "GET", "/v1/agent/service/deregister/db", b"").await;
        assert_eq!(r.status, 405);
        assert_eq!(r.header("Allow"), Some("OPTIONS,PUT"));
    });
}

#[test]
fn service_register_errors_read_like_consul() {
    run_with_server(ServerOptions::default(), |b, addr, _| async move {
        let mut c = connect(addr).await;
        let cases: &[(&str, u16, &str)] = &[
            (r#"{"Port":80}"#, 400, "Missing service name"),
            (r#"{"Name":"x","Address":"0.0.0.0"}"#, 400, "Invalid service address"),
            (
                r#"{"Name":"x","Check":{"TTL":"10s","Status":"bogus"}}"#,
                400,
                "Status for checks must 'passing', 'warning', 'critical'",
            ),
        ];
        for (body, code, text) in cases {
            let r = req(&mut c, "PUT", "/v1/agent/service/register", body.as_bytes()).await;
            assert_eq!(status_text(&r), (*code, text.to_string()), "{body}");
        }
        let r = req(&mut c, "PUT", "/v1/agent/service/register", b"{\"Name\":").await;
        assert_eq!(r.status, 400);
        assert!(r.text().starts_with("Request decode failed: "), "{}", r.text());
        let r = req(&mut c, "PUT", "/v1/agent/service/register", br#"{"Name":"x","Check":{"Interval":"10s"}}"#).await;
        assert_eq!(r.status, 400);
        assert!(r.text().starts_with("Invalid check: "), "{}", r.text());
        assert_eq!(b.local_changes.get(), 0);
        assert_eq!(req(&mut c, "GET", "/v1/agent/services", b"").await.json(), json!({}));
        assert_eq!(req(&mut c, "GET", "/v1/agent/service/register", b"").await.status, 405);
    });
}

#[test]
fn tokens_from_query_and_headers_reach_the_local_state() {
    run_with_server(ServerOptions::default(), |b, addr, _| async move {
        let mut c = connect(addr).await;
        put_ok(&mut c, "/v1/agent/service/register?token=from-query", DB).await;
        let r = with_headers(&mut c, "PUT", "/v1/agent/service/register", "X-Consul-Token: from-header\r\n", WEB1.as_bytes())
            .await;
        assert_eq!(r.status, 200);
        let r = with_headers(&mut c, "PUT", "/v1/agent/service/register", "Authorization: Bearer bearer-tok\r\n", WEB2.as_bytes())
            .await;
        assert_eq!(r.status, 200);
        let l = b.local.lock().unwrap();
        assert_eq!(l.service_token("db"), "from-query");
        assert_eq!(l.service_token("web-1"), "from-header");
        assert_eq!(l.service_token("web-2"), "bearer-tok");
    });
}

#[test]
fn replace_existing_checks() {
    run_with_server(ServerOptions::default(), |_b, addr, _| async move {
        let mut c = connect(addr).await;
        let two = r#"{"Name":"web","Checks":[{"TTL":"10s"},{"TTL":"20s"}]}"#;
        put_ok(&mut c, "/v1/agent/service/register", two).await;
        let ids = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(ids(&checks(&mut c).await), vec!["service:web:1", "service:web:2"]);
        let one = r#"{"Name":"web","Check":{"CheckID":"only","TTL":"10s"}}"#;
        put_ok(&mut c, "/v1/agent/service/register?replace-existing-checks=false", one).await;
        assert_eq!(ids(&checks(&mut c).await).len(), 3);
        put_ok(&mut c, "/v1/agent/service/register?replace-existing-checks", one).await;
        assert_eq!(ids(&checks(&mut c).await), vec!["only"]);
    });
}

#[test]
fn check_register_and_deregister() {
    run_with_server(ServerOptions::default(), |_b, addr, _| async move {
        let mut c = connect(addr).await;
        put_ok(&mut c, "/v1/agent/service/register", DB).await;
        put_ok(&mut c, "/v1/agent/check/register", r#"{"Name":"mem","TTL":"30s","Notes":"n"}"#).await;
        put_ok(&mut c, "/v1/agent/check/register", r#"{"ID":"db-ttl","Name":"db ttl","TTL":"30s","ServiceID":"db"}"#).await;
        let all = checks(&mut c).await;
        assert_eq!(all["mem"]["Status"], "critical");
        assert_eq!(all["mem"]["Type"], "ttl");
        assert_eq!(all["mem"]["Node"], "node-1");
        assert_eq!(all["mem"]["ServiceTags"], json!([]));
        assert_eq!(all["db-ttl"]["ServiceName"], "db");

        let cases: &[(&str, u16, &str)] = &[
            (r#"{"ID":"x","TTL":"1s"}"#, 400, "Missing check name"),
            (r#"{"Name":"a","TTL":"1s","Status":"bogus"}"#, 400, "Bad check status"),
            (r#"{"Name":"a","TTL":"1s","ServiceID":"nope"}"#, 404, "ServiceID \"nope\" does not exist"),
        ];
        for (body, code, text) in cases {
            let r = req(&mut c, "PUT", "/v1/agent/check/register", body.as_bytes()).await;
            assert_eq!(status_text(&r), (*code, text.to_string()), "{body}");
        }
        let r = req(&mut c, "PUT", "/v1/agent/check/register", br#"{"Name":"a"}"#).await;
        assert_eq!(r.status, 400);
        assert!(r.text().starts_with("Invalid check: "), "{}", r.text());

        put_ok(&mut c, "/v1/agent/check/deregister/mem", "").await;
        assert!(checks(&mut c).await.get("mem").is_none());
        let r = req(&mut c, "PUT", "/v1/agent/check/deregister/mem", b"").await;
        assert_eq!(
            status_text(&r),
            (404, "Unknown check ID \"mem\". Ensure that the check ID is passed, not the check name.".into())
        );
    });
}

#[test]
fn ttl_pass_warn_fail_update() {
    run_with_server(ServerOptions::default(), |b, addr, _| async move {
        let mut c = connect(addr).await;
        put_ok(&mut c, "/v1/agent/check/register", r#"{"Name":"mem","TTL":"30s"}"#).await;
        for (verb, status, note) in [("pass", "passing", "all+good"), ("warn", "warning", "hmm"), ("fail", "critical", "down")] {
            put_ok(&mut c, &format!("/v1/agent/check/{verb}/mem?note={note}"), "").await;
            let mem = checks(&mut c).await["mem"].clone();
            assert_eq!(mem["Status"], status, "{verb}");
            assert_eq!(mem["Output"], note.replace('+', " "), "{verb}");
        }
        put_ok(&mut c, "/v1/agent/check/update/mem", r#"{"Status":"passing","Output":"fine"}"#).await;
        let mem = checks(&mut c).await["mem"].clone();
        assert_eq!((mem["Status"].as_str(), mem["Output"].as_str()), (Some("passing"), Some("fine")));
        // Same status again: nothing visible changes, the agent still hears of it (timer reset).
        let before = b.local_changes.get();
        put_ok(&mut c, "/v1/agent/check/update/mem", r#"{"Status":"passing","Output":"fine"}"#).await;
        assert_eq!(b.local_changes.get(), before + 1);

        let r = req(&mut c, "PUT", "/v1/agent/check/update/mem", br#"{"Status":"bogus"}"#).await;
        assert_eq!(status_text(&r), (400, "Invalid check status: 'bogus'".into()));
        let r = req(&mut c, "PUT", "/v1/agent/check/update/mem", b"{").await;
        assert_eq!(r.status, 400);
        assert!(r.text().starts_with("Request decode failed: "));
        let r = req(&mut c, "PUT", "/v1/agent/check/pass/nope", b"").await;
        assert_eq!(
            status_text(&r),
            (404, "Unknown check ID \"nope\". Ensure that the check ID is passed, not the check name.".into())
        );
        let r = req(&mut c, "PUT", "/v1/agent/check/update/nope", br#"{"Status":"passing"}"#).await;
        assert_eq!(r.status, 404);

        // A check without a TTL cannot be updated this way.
        put_ok(&mut c, "/v1/agent/check/register", r#"{"Name":"web","HTTP":"http://127.0.0.1:1/","Interval":"10s"}"#)
            .await;
        let r = req(&mut c, "PUT", "/v1/agent/check/fail/web", b"").await;
        assert_eq!(status_text(&r), (500, "CheckID \"web\" does not have associated TTL".into()));
    });
}

#[test]
fn node_maintenance_adds_and_removes_its_check() {
    run_with_server(ServerOptions::default(), |_b, addr, _| async move {
        let mut c = connect(addr).await;
        let r = req(&mut c, "PUT", "/v1/agent/maintenance", b"").await;
        assert_eq!(status_text(&r), (400, "Missing value for enable".into()));
        let r = req(&mut c, "PUT", "/v1/agent/maintenance?enable=maybe", b"").await;
        assert_eq!(status_text(&r), (400, "Invalid value for enable: \"maybe\"".into()));

        put_ok(&mut c, "/v1/agent/maintenance?enable=true&reason=kernel+upgrade", "").await;
        let m = checks(&mut c).await["_node_maintenance"].clone();
        assert_eq!(m["Status"], "critical");
        assert_eq!(m["Notes"], "kernel upgrade");
        assert_eq!(m["ServiceID"], "");
        put_ok(&mut c, "/v1/agent/maintenance?enable=false", "").await;
        assert!(checks(&mut c).await.get("_node_maintenance").is_none());
        // Disabling again is fine.
        put_ok(&mut c, "/v1/agent/maintenance?enable=0", "").await;
        put_ok(&mut c, "/v1/agent/maintenance?enable=1", "").await;
        assert!(checks(&mut c).await["_node_maintenance"]["Notes"].as_str().unwrap().contains("no reason was provided"));
    });
}

#[test]
fn service_maintenance_adds_and_removes_its_check() {
    run_with_server(ServerOptions::default(), |_b, addr, _| async move {
        let mut c = connect(addr).await;
        put_ok(&mut c, "/v1/agent/service/register", WEB2).await;
        let r = req(&mut c, "PUT", "/v1/agent/service/maintenance/?enable=true", b"").await;
        assert_eq!(status_text(&r), (400, "Missing service ID".into()));
        let r = req(&mut c, "PUT", "/v1/agent/service/maintenance/web-2", b"").await;
        assert_eq!(status_text(&r), (400, "Missing value for enable".into()));
        let r = req(&mut c, "PUT", "/v1/agent/service/maintenance/web-2?enable=yes", b"").await;
        assert_eq!(status_text(&r), (400, "Invalid value for enable: \"yes\"".into()));
        let r = req(&mut c, "PUT", "/v1/agent/service/maintenance/nope?enable=true", b"").await;
        assert_eq!(
            status_text(&r),
            (404, "Unknown service ID \"nope\". Ensure that the service ID is passed, not the service name.".into())
        );

        assert_eq!(req(&mut c, "GET", "/v1/agent/health/service/id/web-2", b"").await.status, 200);
        put_ok(&mut c, "/v1/agent/service/maintenance/web-2?enable=true&reason=deploy", "").await;
        let m = checks(&mut c).await["_service_maintenance:web-2"].clone();
        assert_eq!((m["Status"].as_str(), m["Notes"].as_str()), (Some("critical"), Some("deploy")));
        assert_eq!(m["ServiceID"], "web-2");
        let r = req(&mut c, "GET", "/v1/agent/health/service/id/web-2", b"").await;
        assert_eq!((r.status, r.header("X-Consul-Reason")), (503, Some("maintenance")));
        assert_eq!(r.json()["AggregatedStatus"], "maintenance");

        put_ok(&mut c, "/v1/agent/service/maintenance/web-2?enable=false", "").await;
        assert!(checks(&mut c).await.get("_service_maintenance:web-2").is_none());
        assert_eq!(req(&mut c, "GET", "/v1/agent/health/service/id/web-2", b"").await.status, 200);
    });
}

#[test]
fn health_status_codes() {
    run_with_server(ServerOptions::default(), |_b, addr, _| async move {
        let mut c = connect(addr).await;
        put_ok(&mut c, "/v1/agent/service/register", WEB1).await; // TTL check starts critical
        put_ok(&mut c, "/v1/agent/service/register", WEB2).await; // starts passing

        let r = req(&mut c, "GET", "/v1/agent/health/service/id/web-1", b"").await;
        assert_eq!((r.status, r.header("X-Consul-Reason")), (503, Some("critical")));
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        let body = r.json();
        assert_eq!(body["AggregatedStatus"], "critical");
        assert_eq!(body["Service"]["ID"], "web-1");
        assert_eq!(body["Checks"][0]["CheckID"], "service:web-1");

        put_ok(&mut c, "/v1/agent/check/warn/service:web-1", "").await;
        let r = req(&mut c, "GET", "/v1/agent/health/service/id/web-1?format=text", b"").await;
        assert_eq!(status_text(&r), (429, "warning".into()));
        assert_eq!(r.header("Content-Type"), Some("text/plain"));
        let r = with_headers(&mut c, "GET", "/v1/agent/health/service/id/web-2", "Accept: text/plain\r\n", b"").await;
        assert_eq!(status_text(&r), (200, "passing".into()));

        // By name: the worst instance decides.
        let r = req(&mut c, "GET", "/v1/agent/health/service/name/web", b"").await;
        assert_eq!((r.status, r.header("X-Consul-Reason")), (429, Some("warning")));
        let list = r.json();
        assert_eq!(list.as_array().unwrap().len(), 2);
        assert_eq!(list[1]["AggregatedStatus"], "passing");
        put_ok(&mut c, "/v1/agent/check/pass/service:web-1", "").await;
        let r = req(&mut c, "GET", "/v1/agent/health/service/name/web?format=text", b"").await;
        assert_eq!(status_text(&r), (200, "passing".into()));

        // Unknown: 404 with Consul's bodies.
        let r = req(&mut c, "GET", "/v1/agent/health/service/id/nope", b"").await;
        assert_eq!(r.status, 404);
        assert_eq!(r.json(), json!({"AggregatedStatus": "critical", "Service": null, "Checks": null}));
        assert_eq!(r.header("X-Consul-Reason"), Some("ServiceId nope not found"));
        let r = req(&mut c, "GET", "/v1/agent/health/service/id/nope?format=text", b"").await;
        assert_eq!(status_text(&r), (404, "ServiceId nope not found".into()));
        let r = req(&mut c, "GET", "/v1/agent/health/service/name/nope", b"").await;
        assert_eq!((r.status, r.json()), (404, json!([])));
        let r = req(&mut c, "GET", "/v1/agent/health/service/name/nope?format=text", b"").await;
        assert_eq!(status_text(&r), (404, "ServiceName nope Not Found".into()));
        let r = req(&mut c, "GET", "/v1/agent/health/service/id/", b"").await;
        assert_eq!(status_text(&r), (400, "Missing serviceID".into()));
        let r = req(&mut c, "GET", "/v1/agent/health/service/name/", b"").await;
        assert_eq!(status_text(&r), (400, "Missing service Name".into()));
    });
}

#[test]
fn filters_on_services_and_checks() {
    run_with_server(ServerOptions::default(), |_b, addr, _| async move {
        let mut c = connect(addr).await;
        for body in [WEB1, WEB2, DB] {
            put_ok(&mut c, "/v1/agent/service/register", body).await;
        }
        let r = req(&mut c, "GET", "/v1/agent/services?filter=Service%20%3D%3D%20web", b"").await;
        assert_eq!(r.status, 200);
        let keys: Vec<String> = r.json().as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, vec!["web-1", "web-2"]);
        let r = req(&mut c, "GET", "/v1/agent/services?filter=primary%20in%20Tags", b"").await;
        assert_eq!(r.json().as_object().unwrap().keys().collect::<Vec<_>>(), vec!["web-1"]);
        let r = req(&mut c, "GET", "/v1/agent/checks?filter=Status%20%3D%3D%20passing", b"").await;
        assert_eq!(r.json().as_object().unwrap().keys().collect::<Vec<_>>(), vec!["service:web-2"]);
        let r = req(&mut c, "GET", "/v1/agent/services?filter=Service%20%3D%3D", b"").await;
        assert_eq!(r.status, 500);
        assert!(r.text().starts_with("Failed to create boolean expression evaluator: "), "{}", r.text());
        let r = req(&mut c, "GET", "/v1/agent/services?filter=", b"").await;
        assert_eq!(r.json().as_object().unwrap().len(), 3);
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
fn hash_blocking_returns_on_change() {
    run_with_server(ServerOptions::default(), |_b, addr, opts| async move {
        let mut c = connect(addr).await;
        put_ok(&mut c, "/v1/agent/service/register", WEB1).await;
        let r = req(&mut c, "GET", "/v1/agent/service/web-1", b"").await;
        let hash = r.header("X-Consul-ContentHash").unwrap().to_string();

        let slot = park(addr, format!("/v1/agent/service/web-1?hash={hash}&wait=60s"));
        let stats = opts.stats.clone();
        eventually("parked", || stats.parked.get() == 1).await;
        // A change elsewhere (a check) leaves the service's hash alone.
        put_ok(&mut c, "/v1/agent/check/pass/service:web-1", "").await;
        put_ok(&mut c, "/v1/agent/service/register", DB).await;
        eventually("re-parked", || stats.parked.get() == 1).await;
        assert!(slot.borrow().is_none(), "must still be parked");

        put_ok(&mut c, "/v1/agent/service/register", &WEB1.replace("\"primary\"", "\"primary\",\"v2\"")).await;
        eventually("answered", || slot.borrow().is_some()).await;
        let r = slot.borrow_mut().take().unwrap();
        assert_eq!(r.status, 200);
        let new_hash = r.header("X-Consul-ContentHash").unwrap();
        assert_ne!(new_hash, hash);
        assert_eq!(r.json()["Tags"], json!(["primary", "v2"]));
        assert_eq!(r.json()["ContentHash"], new_hash);
        assert_eq!(stats.parked.get(), 0);

        // Deregistered while parked: the 404 comes back.
        let slot = park(addr, format!("/v1/agent/service/web-1?hash={new_hash}&wait=60s"));
        eventually("parked", || stats.parked.get() == 1).await;
        put_ok(&mut c, "/v1/agent/service/deregister/web-1", "").await;
        eventually("answered", || slot.borrow().is_some()).await;
        let r = slot.borrow_mut().take().unwrap();
        assert_eq!(status_text(&r), (404, "unknown service ID: web-1".into()));
    });
}

#[test]
fn hash_blocking_returns_at_the_wait_or_at_once() {
    run_with_server(ServerOptions::default(), |_b, addr, _| async move {
        let mut c = connect(addr).await;
        put_ok(&mut c, "/v1/agent/service/register", DB).await;
        let hash = req(&mut c, "GET", "/v1/agent/service/db", b"").await.header("X-Consul-ContentHash").unwrap().to_string();
        // Unchanged: the wait ends it with the same hash.
        let r = req(&mut c, "GET", &format!("/v1/agent/service/db?hash={hash}&wait=100ms"), b"").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("X-Consul-ContentHash"), Some(hash.as_str()));
        // A different hash answers at once.
        let r = req(&mut c, "GET", "/v1/agent/service/db?hash=stale&wait=10m", b"").await;
        assert_eq!(r.header("X-Consul-ContentHash"), Some(hash.as_str()));
        let r = req(&mut c, "GET", "/v1/agent/service/db?wait=x", b"").await;
        assert_eq!(status_text(&r), (400, "Invalid wait time".into()));
        let r = req(&mut c, "GET", "/v1/agent/service/db?index=-1", b"").await;
        assert_eq!(status_text(&r), (400, "Invalid index".into()));
    });
}

#[test]
fn catalog_wire_round_trips_through_the_endpoints() {
    run_with_server(ServerOptions::default(), |_b, addr, _| async move {
        let mut c = connect(addr).await;
        let svc = NodeService {
            id: "web-1".into(),
            service: "web".into(),
            tags: vec!["a".into()],
            address: "10.0.0.9".into(),
            port: 80,
            weights: Some(Weights { passing: 2, warning: 1 }),
            meta: [("v".to_string(), "1".to_string())].into(),
            ..NodeService::default()
        };
        let check = HealthCheck {
            node: "n9".into(),
            check_id: "service:web-1".into(),
            name: "web ttl".into(),
            status: "passing".into(),
            service_id: "web-1".into(),
            service_name: "web".into(),
            service_tags: vec!["a".into()],
            check_type: "ttl".into(),
            definition: ballast_store::catalog::HealthCheckDefinition { ttl_ns: 30_000_000_000, ..Default::default() },
            ..HealthCheck::default()
        };
        let reg = RegisterRequest {
            node: "n9".into(),
            address: "10.0.0.9".into(),
            node_meta: [("rack".to_string(), "r9".to_string())].into(),
            service: Some(svc.clone()),
            checks: vec![check.clone()],
            ..RegisterRequest::default()
        };
        let r = req(&mut c, "PUT", "/v1/catalog/register", &register_request_body(&reg)).await;
        assert_eq!(status_text(&r), (200, "true".into()));

        let node_body = req(&mut c, "GET", "/v1/catalog/node/n9", b"").await.body;
        let health_body = req(&mut c, "GET", "/v1/health/node/n9", b"").await.body;
        let (node, services, checks) = decode_node_view(&node_body, &health_body).unwrap();
        let node = node.expect("node");
        assert_eq!((node.node.as_str(), node.address.as_str(), node.datacenter.as_str()), ("n9", "10.0.0.9", "dc1"));
        assert_eq!(node.meta, reg.node_meta);
        assert!(node.create_index > 0);
        assert_eq!(services.len(), 1);
        assert!(services[0].create_index > 0);
        assert_eq!(NodeService { create_index: 0, modify_index: 0, ..services[0].clone() }, svc);
        assert_eq!(checks.len(), 1);
        assert_eq!(HealthCheck { create_index: 0, modify_index: 0, ..checks[0].clone() }, check);

        let dereg = DeregisterRequest { node: "n9".into(), service_id: Some("web-1".into()), check_id: None };
        let r = req(&mut c, "PUT", "/v1/catalog/deregister", &deregister_request_body(&dereg)).await;
        assert_eq!(status_text(&r), (200, "true".into()));
        let node_body = req(&mut c, "GET", "/v1/catalog/node/n9", b"").await.body;
        let health_body = req(&mut c, "GET", "/v1/health/node/n9", b"").await.body;
        let (node, services, checks) = decode_node_view(&node_body, &health_body).unwrap();
        assert!(node.is_some() && services.is_empty() && checks.is_empty());
        let (node, _, _) = decode_node_view(&req(&mut c, "GET", "/v1/catalog/node/none", b"").await.body, b"[]").unwrap();
        assert!(node.is_none());
    });
}
