//! `maint` against a canned agent: the maintenance switches it sends, its listing of what is
//! in maintenance, and its exit codes, as Consul's command.
mod common;

use common::{ok_empty, response, run, FakeAgent};

const SELF: &str = r#"{"Config":{"Datacenter":"dc1","NodeName":"node-1"},"Member":{}}"#;

#[test]
fn lists_maintenance_checks() {
    let checks = r#"{
      "_node_maintenance":{"Node":"node-1","CheckID":"_node_maintenance","Name":"Node Maintenance Mode","Status":"critical","Notes":"Maintenance mode is enabled for this node, but no reason was provided. This is a default message.","ServiceID":""},
      "_service_maintenance:web-1":{"Node":"node-1","CheckID":"_service_maintenance:web-1","Name":"Service Maintenance Mode","Status":"critical","Notes":"deploy","ServiceID":"web-1"},
      "service:web-1":{"Node":"node-1","CheckID":"service:web-1","Status":"passing","Notes":"","ServiceID":"web-1"}
    }"#;
    let agent = FakeAgent::start(vec![response("200 OK", SELF), response("200 OK", checks)]);
    let o = run(&["maint", &agent.flag()]);
    assert_eq!((o.code, o.err.as_str()), (0, ""));
    assert_eq!(
        o.out,
        "Node:\n  Name:   node-1\n  Reason: Maintenance mode is enabled for this node, but no reason was provided. This is a default message.\n\n\
         Service:\n  ID:     web-1\n  Reason: deploy\n\n"
    );
    assert_eq!(agent.next().path, "/v1/agent/self");
    assert_eq!(agent.next().path, "/v1/agent/checks");

    let agent = FakeAgent::start(vec![response("200 OK", SELF), response("200 OK", "{}")]);
    let o = run(&["maint", &agent.flag()]);
    assert_eq!((o.code, o.out.as_str(), o.err.as_str()), (0, "", ""));
}

#[test]
fn enables_and_disables_node_and_service_maintenance() {
    let agent = FakeAgent::start(vec![
        response("200 OK", SELF), ok_empty(),
        response("200 OK", SELF), ok_empty(),
        response("200 OK", SELF), ok_empty(),
        response("200 OK", SELF), ok_empty(),
    ]);
    let o = run(&["maint", &agent.flag(), "-enable", "-reason=kernel upgrade"]);
    assert_eq!((o.code, o.out.as_str()), (0, "Node maintenance is now enabled\n"));
    assert_eq!(agent.next().path, "/v1/agent/self");
    let req = agent.next();
    assert_eq!((req.method.as_str(), req.path.as_str()), ("PUT", "/v1/agent/maintenance?enable=true&reason=kernel+upgrade"));

    let o = run(&["maint", &agent.flag(), "-enable", "-service=web 1"]);
    assert_eq!((o.code, o.out.as_str()), (0, "Service maintenance is now enabled for \"web 1\"\n"));
    agent.next();
    assert_eq!(agent.next().path, "/v1/agent/service/maintenance/web%201?enable=true&reason=");

    let o = run(&["maint", &agent.flag(), "-disable"]);
    assert_eq!((o.code, o.out.as_str()), (0, "Node maintenance is now disabled\n"));
    agent.next();
    assert_eq!(agent.next().path, "/v1/agent/maintenance?enable=false");

    let o = run(&["maint", &agent.flag(), "-disable", "-service", "web"]);
    assert_eq!((o.code, o.out.as_str()), (0, "Service maintenance is now disabled for \"web\"\n"));
    agent.next();
    assert_eq!(agent.next().path, "/v1/agent/service/maintenance/web?enable=false");
}

#[test]
fn conflicting_flags_and_agent_errors() {
    let o = run(&["maint", "-enable", "-disable"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Only one of -enable or -disable may be provided\n"));
    let o = run(&["maint", "-reason=x"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Reason may only be provided with -enable\n"));
    let o = run(&["maint", "-service=web"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Service requires either -enable or -disable\n"));
    let o = run(&["maint", "-datacenter=dc1"]);
    assert!(o.err.starts_with("flag provided but not defined: -datacenter\nUsage: ballast maint [options]"), "{}", o.err);

    let agent = FakeAgent::start(vec![
        response("403 Forbidden", "Permission denied"),
        response("200 OK", SELF),
        response("404 Not Found", "No service registered with ID \"web\""),
    ]);
    let o = run(&["maint", &agent.flag(), "-enable"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Error querying Consul agent: Unexpected response code: 403 (Permission denied)\n"));
    let o = run(&["maint", &agent.flag(), "-disable", "-service=web"]);
    assert_eq!(
        (o.code, o.err.as_str()),
        (1, "Error disabling service maintenance: Unexpected response code: 404 (No service registered with ID \"web\")\n")
    );
}

#[test]
fn maint_help() {
    let o = run(&["maint", "-h"]);
    assert_eq!(o.code, 0);
    assert!(o.err.starts_with("Usage: ballast maint [options]\n\n  Places a node or service into maintenance mode."), "{}", o.err);
    assert!(o.err.contains("Command Options\n\n  -disable\n     Disable maintenance mode.\n\n  -enable\n     Enable maintenance mode.\n\n  -reason=<string>\n"), "{}", o.err);
    assert!(!o.err.contains("-datacenter"), "{}", o.err);
}
