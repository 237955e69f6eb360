//! `services register|deregister` against a canned agent: the registrations sent (from flags,
//! JSON and HCL files), what they print, and their exit codes, as Consul's commands.
mod common;

use common::{ok_empty, response, run, FakeAgent};
use serde_json::{json, Value};

/// A scratch directory unique to this test process and `name`.
fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("ballast-cli-services-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn body(req: &common::Recorded) -> Value {
    serde_json::from_slice(&req.body).unwrap()
}

#[test]
fn register_from_flags() {
    let agent = FakeAgent::start(vec![ok_empty()]);
    let o = run(&[
        "services", "register", &agent.flag(), "-name=web", "-id", "web-1", "-address=10.0.0.5", "-port", "0x1F90",
        "-tag=v1", "-tag", "primary", "-meta", "team=core", "-meta=a=b=c", "-tagged-address=lan=10.0.0.5:8080",
        "-tagged-address", "wan=[2001:db8::1]:80", "-datacenter=dc2",
    ]);
    assert_eq!((o.code, o.out.as_str(), o.err.as_str()), (0, "Registered service: web\n", ""));
    let req = agent.next();
    assert_eq!((req.method.as_str(), req.path.as_str()), ("PUT", "/v1/agent/service/register?dc=dc2"));
    assert_eq!(req.header("Content-Type"), Some("application/json"));
    assert_eq!(
        body(&req),
        json!({
            "ID": "web-1", "Name": "web", "Tags": ["v1", "primary"], "Port": 8080, "Address": "10.0.0.5",
            "TaggedAddresses": {"lan": {"Address": "10.0.0.5", "Port": 8080}, "wan": {"Address": "2001:db8::1", "Port": 80}},
            "Meta": {"team": "core", "a": "b=c"}, "Check": null, "Checks": null,
        })
    );
}

#[test]
fn register_from_json_and_hcl_files_with_flags_filling_gaps() {
    let d = scratch("register");
    let json_file = write(&d, "web.json", r#"{"service": {"name": "web", "port": 80, "check": {"ttl": "30s"}}}"#);
    let hcl_file = write(
        &d,
        "db.hcl",
        "services {\n  name = \"db\"\n  id = \"db-1\"\n  tags = [\"primary\"]\n  weights { passing = 5 warning = 2 }\n}\n",
    );
    let agent = FakeAgent::start(vec![ok_empty(), ok_empty()]);
    let o = run(&["services", "register", &agent.flag(), "-tag=extra", "-address=10.1.1.1", &json_file, &hcl_file]);
    assert_eq!((o.code, o.err.as_str()), (0, ""));
    assert_eq!(o.out, "Registered service: web\nRegistered service: db\n");
    assert_eq!(
        body(&agent.next()),
        json!({"Name": "web", "Tags": ["extra"], "Port": 80, "Address": "10.1.1.1",
               "Weights": {"Passing": 1, "Warning": 1}, "Check": {"TTL": "30s"}, "Checks": null})
    );
    assert_eq!(
        body(&agent.next()),
        json!({"ID": "db-1", "Name": "db", "Tags": ["primary", "extra"], "Address": "10.1.1.1",
               "Weights": {"Passing": 5, "Warning": 2}, "Check": null, "Checks": null})
    );
}

#[test]
fn register_usage_and_errors() {
    let o = run(&["services", "register"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Service registration requires at least one argument or flags.\n"));
    let o = run(&["services", "register", "-name=web", "web.json"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Service registration requires arguments or -id, not both.\n"));
    let o = run(&["services", "register", "-name=web", "-tagged-address=lan=10.0.0.1"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Invalid Tagged Address: address 10.0.0.1: missing port in address\n"));
    let o = run(&["services", "register", "-name=web", "-port=http"]);
    assert_eq!(o.code, 1);
    assert!(o.err.starts_with("invalid value \"http\" for flag -port: parse error\nUsage: ballast services register"), "{}", o.err);
    let o = run(&["services", "register", "-meta=novalue", "-name=x"]);
    assert!(o.err.starts_with("invalid value \"novalue\" for flag -meta: Missing \"=\" value in argument: novalue\n"), "{}", o.err);
    let o = run(&["services", "register", "/nonexistent/web.json"]);
    assert_eq!(
        (o.code, o.err.as_str()),
        (1, "Error: config: Open failed on /nonexistent/web.json. open /nonexistent/web.json: no such file or directory\n")
    );
    let d = scratch("bad");
    let bad = write(&d, "bad.json", r#"{"service": {"name": "web", "prot": 80}}"#);
    let o = run(&["services", "register", &bad]);
    assert_eq!((o.code, o.err.clone()), (1, format!("Error: failed to parse {bad}: invalid config key service.prot\n")));

    let agent = FakeAgent::start(vec![response("400 Bad Request", "Invalid service address")]);
    let o = run(&["services", "register", &agent.flag(), "-name=web"]);
    assert_eq!(
        (o.code, o.out.as_str(), o.err.as_str()),
        (1, "", "Error registering service \"web\": Unexpected response code: 400 (Invalid service address)\n")
    );
}

#[test]
fn register_skips_files_that_are_not_config_files() {
    let d = scratch("skip");
    let txt = write(&d, "web.txt", r#"{"service": {"name": "web"}}"#);
    // Nothing came from the files, so the (empty) flag registration is sent, as Consul does,
    // and the agent's refusal is reported.
    let agent = FakeAgent::start(vec![response("400 Bad Request", "Missing service name")]);
    let o = run(&["services", "register", &agent.flag(), &txt]);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.err,
        format!(
            "skipping file {txt}, extension must be .hcl or .json, or config format must be set\n\
             Error registering service \"\": Unexpected response code: 400 (Missing service name)\n"
        )
    );
    assert_eq!(body(&agent.next()), json!({"Check": null, "Checks": null}));
}

#[test]
fn deregister_by_id_and_by_files() {
    let agent = FakeAgent::start(vec![ok_empty()]);
    let o = run(&["services", "deregister", &agent.flag(), "-id=web 1", "-namespace=team"]);
    assert_eq!((o.code, o.out.as_str(), o.err.as_str()), (0, "Deregistered service: web 1\n", ""));
    let req = agent.next();
    assert_eq!((req.method.as_str(), req.path.as_str()), ("PUT", "/v1/agent/service/deregister/web%201?ns=team"));

    let d = scratch("dereg");
    let f = write(&d, "svcs.json", r#"{"services": [{"name": "web"}, {"name": "db", "id": "db-1"}, {}]}"#);
    let agent = FakeAgent::start(vec![ok_empty(), response("404 Not Found", "Unknown service ID \"db-1\"")]);
    let o = run(&["services", "deregister", &agent.flag(), &f]);
    assert_eq!(o.code, 1);
    assert_eq!(o.out, "Deregistered service: web\n");
    assert_eq!(o.err, "Error registering service \"db\": Unexpected response code: 404 (Unknown service ID \"db-1\")\n");
    assert_eq!(agent.next().path, "/v1/agent/service/deregister/web");
    assert_eq!(agent.next().path, "/v1/agent/service/deregister/db-1");
}

#[test]
fn deregister_usage() {
    let o = run(&["services", "deregister"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Service deregistration requires at least one argument or -id.\n"));
    let o = run(&["services", "deregister", "-id=web", "web.json"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Service deregistration requires arguments or -id, not both.\n"));
}

#[test]
fn services_help_texts() {
    let o = run(&["services"]);
    assert_eq!(o.code, 1);
    assert!(o.err.contains("Subcommands:\n    deregister    Deregister services with the local agent\n    register      Register services with the local agent\n"), "{}", o.err);
    let o = run(&["services", "register", "-h"]);
    assert_eq!(o.code, 0);
    assert!(o.err.starts_with("Usage: ballast services register [options] [FILE...]\n"), "{}", o.err);
    for flag in ["  -name=<string>\n", "  -port=<int>\n", "  -tag=<value>\n", "  -meta=<value>\n", "  -tagged-address=<value>\n", "  -socket=<string>\n", "  -kind=<string>\n", "  -partition=<default>\n"] {
        assert!(o.err.contains(flag), "{flag} missing from {}", o.err);
    }
    let o = run(&["services", "deregister", "--help"]);
    assert!(o.err.contains("  -id=<string>\n     ID to delete. This must not be set if arguments are given.\n"), "{}", o.err);
}
