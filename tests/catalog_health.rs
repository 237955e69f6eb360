//! Issue 5's Done-when, with a real agent process:
//! - a service with a TTL check moves in and out of `/v1/health/service/<s>?passing` as the
//!   TTL is passed, lapses and is updated again, and blocking queries wake on each change
//!   (wake latencies are printed, not asserted: the machine is shared);
//!   DeregisterCriticalServiceAfter removes a service whose check stays critical;
//! - an agent restarted on its data dir brings back its services and checks, and a catalog
//!   entry removed by hand on the servers comes back within one anti-entropy sync.
mod common;
use common::*;
use std::path::Path;
use std::time::{Duration, Instant};

fn index_of(r: &Response) -> u64 {
    r.header("X-Consul-Index").expect("X-Consul-Index").parse().unwrap()
}

/// Consul's internal timing knobs, shortened so the test does not wait minutes.
fn fast_config(dir: &Path) -> String {
    let path = dir.join("fast.json");
    std::fs::write(
        &path,
        r#"{"check_reap_interval":"500ms","check_deregister_interval_min":"1s","ae_interval":"3s"}"#,
    )
    .unwrap();
    format!("-config-file={}", path.display())
}

fn start(dir: &TempDir, port: u16) -> Agent {
    let cfg = fast_config(dir.path());
    let data = dir.path().join("data");
    let mut a = start_server(&data, port, &[&cfg]);
    a.wait_ready(Duration::from_secs(30));
    a
}

fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out after {limit:?} waiting for {what}");
}

fn passing(a: &Agent, service: &str) -> (usize, u64) {
    let r = http(a.http, "GET", &format!("/v1/health/service/{service}?passing"), b"").unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    (r.json().as_array().unwrap().len(), index_of(&r))
}

/// Parks a blocking query on `?passing`, makes the change, and returns the number of
/// passing instances once it moved and how long after the change the answer came. A wake
/// for another reason (the index moves whenever the service's rows are rewritten) just
/// parks again, as a real client would.
fn watch_change(a: &Agent, service: &str, change: impl FnOnce()) -> (usize, Duration) {
    let (before, mut index) = passing(a, service);
    let park = |index: u64| {
        let addr = a.http;
        let path = format!("/v1/health/service/{service}?passing&index={index}&wait=60s");
        std::thread::spawn(move || {
            let r = http(addr, "GET", &path, b"").unwrap();
            (Instant::now(), r)
        })
    };
    let mut waiter = park(index);
    loop {
        std::thread::sleep(Duration::from_millis(300));
        if !waiter.is_finished() {
            break;
        }
        let (_, r) = waiter.join().unwrap();
        index = index_of(&r);
        waiter = park(index);
    }
    let t0 = Instant::now();
    change();
    loop {
        let (woke, r) = waiter.join().unwrap();
        assert_eq!(r.status, 200);
        let n = r.json().as_array().unwrap().len();
        if n != before {
            return (n, woke.saturating_duration_since(t0));
        }
        waiter = park(index_of(&r));
    }
}

fn put(a: &Agent, path: &str, body: &str) {
    let r = http(a.http, "PUT", path, body.as_bytes()).unwrap();
    assert_eq!(r.status, 200, "PUT {path}: {}", r.text());
}

fn check_output(a: &Agent, check: &str) -> (String, String) {
    let r = http(a.http, "GET", "/v1/health/state/any", b"").unwrap();
    let v = r.json();
    let c = v.as_array().unwrap().iter().find(|c| c["CheckID"] == check).expect(check).clone();
    (c["Status"].as_str().unwrap().to_string(), c["Output"].as_str().unwrap().to_string())
}

#[test]
fn ttl_check_moves_a_service_in_and_out_of_passing() {
    let dir = TempDir::new("ttl");
    let a = start(&dir, free_port());
    put(&a, "/v1/agent/service/register", r#"{"Name":"web","Port":8080,"Tags":["v1"],"Check":{"TTL":"3s"}}"#);
    // Anti-entropy puts it in the catalog, critical (a new TTL check starts critical).
    wait_for("web in the catalog", Duration::from_secs(10), || {
        http(a.http, "GET", "/v1/catalog/service/web", b"").unwrap().json().as_array().is_some_and(|v| v.len() == 1)
    });
    assert_eq!(passing(&a, "web").0, 0, "a fresh TTL check is critical");

    let mut wakes = Vec::new();
    // pass: in.
    let (n, woke) = watch_change(&a, "web", || put(&a, "/v1/agent/check/pass/service:web?note=alive", ""));
    assert_eq!(n, 1);
    wakes.push(("pass", woke));
    // the TTL lapses: out, with Consul's output.
    let (n, woke) = watch_change(&a, "web", || {});
    assert_eq!(n, 0);
    wakes.push(("ttl lapse (from park)", woke));
    assert_eq!(check_output(&a, "service:web"), ("critical".into(), "TTL expired (last output before timeout follows): alive".into()));
    // update: in again.
    let (n, woke) = watch_change(&a, "web", || {
        put(&a, "/v1/agent/check/update/service:web", r#"{"Status":"passing","Output":"back"}"#)
    });
    assert_eq!(n, 1);
    wakes.push(("update", woke));
    // fail: out at once.
    let (n, woke) = watch_change(&a, "web", || put(&a, "/v1/agent/check/fail/service:web", ""));
    assert_eq!(n, 0);
    wakes.push(("fail", woke));
    for (what, d) in &wakes {
        println!("blocking query woke {:.1} ms after {what}", d.as_secs_f64() * 1000.0);
    }
    // The service itself stays registered (no DeregisterCriticalServiceAfter).
    assert_eq!(http(a.http, "GET", "/v1/catalog/service/web", b"").unwrap().json().as_array().unwrap().len(), 1);
}

#[test]
fn deregister_critical_service_after_removes_the_service() {
    let dir = TempDir::new("reap");
    let a = start(&dir, free_port());
    put(
        &a,
        "/v1/agent/service/register",
        r#"{"Name":"doomed","Check":{"TTL":"1s","Status":"passing","DeregisterCriticalServiceAfter":"1s"}}"#,
    );
    wait_for("doomed in the catalog", Duration::from_secs(10), || {
        http(a.http, "GET", "/v1/catalog/service/doomed", b"").unwrap().json().as_array().is_some_and(|v| v.len() == 1)
    });
    // TTL lapses (1s), then critical for more than 1s: reaped locally and in the catalog.
    wait_for("doomed reaped", Duration::from_secs(20), || {
        http(a.http, "GET", "/v1/catalog/service/doomed", b"").unwrap().json().as_array().is_some_and(|v| v.is_empty())
    });
    let local = http(a.http, "GET", "/v1/agent/services", b"").unwrap().json();
    assert!(local.get("doomed").is_none(), "{local}");
}

#[test]
fn restart_restores_local_services_and_sync_repairs_the_catalog() {
    let dir = TempDir::new("restart");
    let port = free_port();
    let mut a = start(&dir, port);
    put(
        &a,
        "/v1/agent/service/register",
        r#"{"ID":"db-1","Name":"db","Port":5432,"Meta":{"role":"primary"},"Checks":[{"TTL":"1h","Status":"passing"},{"CheckID":"db-tcp","Name":"tcp","TCP":"127.0.0.1:1","Interval":"10s"}]}"#,
    );
    put(&a, "/v1/agent/check/register", r#"{"ID":"mem","Name":"memory","TTL":"1h","Status":"warning"}"#);
    put(&a, "/v1/agent/check/pass/service:db-1:1", "");
    assert_eq!(a.terminate(), Some(0));

    let mut a = start(&dir, port);
    let services = http(a.http, "GET", "/v1/agent/services", b"").unwrap().json();
    assert_eq!(services["db-1"]["Service"], "db", "{services}");
    assert_eq!(services["db-1"]["Meta"]["role"], "primary");
    let checks = http(a.http, "GET", "/v1/agent/checks", b"").unwrap().json();
    for id in ["service:db-1:1", "db-tcp", "mem"] {
        assert!(checks.get(id).is_some(), "{id} missing after restart: {checks}");
    }
    // A TTL check's last update survives a restart within its TTL; a check never updated
    // starts critical, as Consul loads it.
    assert_eq!(checks["service:db-1:1"]["Status"], "passing");
    assert_eq!(checks["mem"]["Status"], "critical");

    // Removed by hand on the server: the next full sync puts it back.
    wait_for("db-1 in the catalog", Duration::from_secs(10), || {
        http(a.http, "GET", "/v1/catalog/service/db", b"").unwrap().json().as_array().is_some_and(|v| v.len() == 1)
    });
    put(&a, "/v1/catalog/deregister", r#"{"Node":"test-node","ServiceID":"db-1"}"#);
    assert!(http(a.http, "GET", "/v1/catalog/service/db", b"").unwrap().json().as_array().unwrap().is_empty());
    let removed = Instant::now();
    wait_for("db-1 back in the catalog", Duration::from_secs(15), || {
        http(a.http, "GET", "/v1/catalog/service/db", b"").unwrap().json().as_array().is_some_and(|v| v.len() == 1)
    });
    println!("catalog entry restored {:.1}s after removal (ae_interval 3s + stagger)", removed.elapsed().as_secs_f64());
    let back = http(a.http, "GET", "/v1/health/service/db", b"").unwrap().json();
    let check_ids: Vec<&str> = back[0]["Checks"].as_array().unwrap().iter().map(|c| c["CheckID"].as_str().unwrap()).collect();
    assert!(check_ids.contains(&"service:db-1:1") && check_ids.contains(&"db-tcp"), "{check_ids:?}");
    a.terminate();
}

fn cli(a: &Agent, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(bin())
        .args(args)
        .env("CONSUL_HTTP_ADDR", format!("http://{}", a.http))
        .output()
        .expect("run ballast cli");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn services_catalog_and_maint_commands_against_a_real_agent() {
    let dir = TempDir::new("cli");
    let a = start(&dir, free_port());
    let (code, out, err) = cli(&a, &["services", "register", "-name=cli-svc", "-id=cli-1", "-port=1234", "-tag=blue"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Registered service: cli-svc"), "{out}");
    wait_for("cli-svc in the catalog", Duration::from_secs(10), || cli(&a, &["catalog", "services", "-tags"]).1.contains("cli-svc"));
    let (code, out, _) = cli(&a, &["catalog", "services", "-tags"]);
    assert_eq!(code, 0);
    assert!(out.lines().any(|l| l.starts_with("cli-svc") && l.contains("blue")), "{out}");
    let (code, out, _) = cli(&a, &["catalog", "nodes"]);
    assert_eq!(code, 0);
    assert!(out.lines().next().unwrap_or("").starts_with("Node"), "{out}");
    assert!(out.contains("test-node"), "{out}");
    let (code, out, _) = cli(&a, &["catalog", "datacenters"]);
    assert_eq!((code, out.trim()), (0, "dc1"));

    // Node maintenance: the critical check appears, then goes.
    let (code, out, err) = cli(&a, &["maint", "-enable", "-reason=upgrading"]);
    assert_eq!(code, 0, "{out}{err}");
    let (_, listing, _) = cli(&a, &["maint"]);
    assert!(listing.contains("Node:") && listing.contains("upgrading"), "{listing}");
    wait_for("maintenance takes the node out of ?passing", Duration::from_secs(10), || {
        http(a.http, "GET", "/v1/health/service/cli-svc?passing", b"").unwrap().json().as_array().is_some_and(|v| v.is_empty())
    });
    assert_eq!(cli(&a, &["maint", "-disable"]).0, 0);
    assert!(!cli(&a, &["maint"]).1.contains("upgrading"));

    let (code, out, err) = cli(&a, &["services", "deregister", "-id=cli-1"]);
    assert_eq!(code, 0, "{out}{err}");
    wait_for("cli-svc gone from the catalog", Duration::from_secs(10), || !cli(&a, &["catalog", "services"]).1.contains("cli-svc"));
    // Usage errors exit 1, as Consul's services commands do.
    assert_eq!(cli(&a, &["services", "register"]).0, 1);
}

#[test]
fn node_meta_from_flags_and_files_reaches_the_catalog() {
    let dir = TempDir::new("meta");
    let file = dir.path().join("meta.json");
    std::fs::write(&file, r#"{"node_meta":{"env":"prod","rack":"from-file"}}"#).unwrap();
    let cfg = fast_config(dir.path());
    let file_arg = format!("-config-file={}", file.display());
    let mut a = start_server(&dir.path().join("data"), free_port(), &[&cfg, &file_arg, "-node-meta=rack:r1"]);
    a.wait_ready(Duration::from_secs(30));
    // The flag beats the file key by key; both reach the catalog through anti-entropy.
    let want = serde_json::json!({"env": "prod", "rack": "r1"});
    assert_eq!(http(a.http, "GET", "/v1/agent/self", b"").unwrap().json()["Meta"], want);
    wait_for("node meta in the catalog", Duration::from_secs(10), || {
        http(a.http, "GET", "/v1/catalog/node/test-node", b"").unwrap().json()["Node"]["Meta"] == want
    });
    let nodes = http(a.http, "GET", "/v1/catalog/nodes?node-meta=rack:r1", b"").unwrap().json();
    assert_eq!(nodes.as_array().unwrap().len(), 1, "{nodes}");
    assert!(http(a.http, "GET", "/v1/catalog/nodes?node-meta=rack:r2", b"").unwrap().json().as_array().unwrap().is_empty());
    a.terminate();

    // Consul's validation: a reserved prefix stops the agent with its message.
    let mut bad = start_server(&dir.path().join("data2"), free_port(), &["-node-meta=consul-x:1"]);
    let code = bad.wait_exit(Duration::from_secs(20));
    assert_eq!(code, Some(1), "{}", bad.stderr());
    assert!(bad.stderr().contains("node_meta invalid"), "{}", bad.stderr());
}
