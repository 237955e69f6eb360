//! `catalog datacenters|nodes|services` against a canned agent: the requests they send, what
//! they print, and their exit codes, as Consul's commands.
mod common;

use common::{dead_addr, response, run, FakeAgent};

/// /v1/catalog/nodes as a Consul agent answers it.
const NODES: &str = r#"[
 {"ID":"0e3d7a45-1e41-7e5e-2a5c-4a0b1bd0c7a1","Node":"server-1","Address":"10.0.0.1","Datacenter":"dc1",
  "TaggedAddresses":{"lan":"10.0.0.1","lan_ipv4":"10.0.0.1","wan":"192.0.2.1"},"Meta":{"consul-network-segment":"","rack":"r1"},
  "CreateIndex":5,"ModifyIndex":9},
 {"ID":"","Node":"client-long-name","Address":"10.0.0.22","Datacenter":"dc1","TaggedAddresses":null,"Meta":null,
  "CreateIndex":7,"ModifyIndex":7}
]"#;

#[test]
fn nodes_prints_consuls_table() {
    let agent = FakeAgent::start(vec![response("200 OK", NODES)]);
    let o = run(&["catalog", "nodes", &agent.flag()]);
    assert_eq!((o.code, o.err.as_str()), (0, ""));
    let want = [
        "Node              ID        Address    DC",
        "server-1          0e3d7a45  10.0.0.1   dc1",
        "client-long-name            10.0.0.22  dc1",
    ];
    assert_eq!(o.out, want.join("\n") + "\n");
    let req = agent.next();
    assert_eq!((req.method.as_str(), req.path.as_str()), ("GET", "/v1/catalog/nodes"));
}

#[test]
fn nodes_detailed_with_query_options() {
    let agent = FakeAgent::start(vec![response("200 OK", NODES)]);
    let o = run(&[
        "catalog", "nodes", &agent.flag(), "-detailed", "-near=_agent", "-node-meta", "rack=r1",
        "-node-meta=a=b=c", "-filter", "Meta.rack == r1", "-datacenter=dc2", "-stale", "-token=tok",
    ]);
    assert_eq!((o.code, o.err.as_str()), (0, ""));
    let want = [
        "Node              ID                                    Address    DC   TaggedAddresses                                 Meta",
        "server-1          0e3d7a45-1e41-7e5e-2a5c-4a0b1bd0c7a1  10.0.0.1   dc1  lan=10.0.0.1, lan_ipv4=10.0.0.1, wan=192.0.2.1  consul-network-segment=, rack=r1",
        "client-long-name                                        10.0.0.22  dc1                                                  ",
    ];
    assert_eq!(o.out, want.join("\n") + "\n");
    let req = agent.next();
    assert_eq!(
        req.path,
        "/v1/catalog/nodes?dc=dc2&filter=Meta.rack+%3D%3D+r1&near=_agent&node-meta=a%3Ab%3Dc&node-meta=rack%3Ar1&stale="
    );
    assert_eq!(req.header("X-Consul-Token"), Some("tok"));
}

#[test]
fn nodes_for_a_service_use_the_service_endpoint() {
    let body = r#"[{"ID":"aaaa-bbbb","Node":"web-1","Address":"10.0.0.5","Datacenter":"dc1","TaggedAddresses":{"lan":"10.0.0.5"},
                  "NodeMeta":{"k":"v"},"ServiceID":"web","ServiceName":"web","ServicePort":80}]"#;
    let agent = FakeAgent::start(vec![response("200 OK", body)]);
    let o = run(&["catalog", "nodes", &agent.flag(), "-service=web app", "-detailed", "-partition=p1"]);
    assert_eq!((o.code, o.err.as_str()), (0, ""));
    assert_eq!(
        o.out,
        "Node   ID         Address   DC   TaggedAddresses  Meta\nweb-1  aaaa-bbbb  10.0.0.5  dc1  lan=10.0.0.5     k=v\n"
    );
    assert_eq!(agent.next().path, "/v1/catalog/service/web%20app?partition=p1");
}

#[test]
fn nodes_empty_result_errors_and_bad_flags() {
    let agent = FakeAgent::start(vec![response("200 OK", "[]"), response("500 Internal Server Error", "boom")]);
    let o = run(&["catalog", "nodes", &agent.flag()]);
    assert_eq!((o.code, o.out.as_str()), (0, ""));
    assert_eq!(o.err, "No nodes match the given query - try expanding your search.\n");
    let o = run(&["catalog", "nodes", &agent.flag(), "-service=web"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Error listing nodes for service: Unexpected response code: 500 (boom)\n"));

    let o = run(&["catalog", "nodes", "-node-meta=nokey"]);
    assert_eq!(o.code, 1);
    assert!(
        o.err.starts_with("invalid value \"nokey\" for flag -node-meta: Missing \"=\" value in argument: nokey\nUsage: ballast catalog nodes"),
        "{}",
        o.err
    );
    let o = run(&["catalog", "nodes", "extra"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Too many arguments (expected 0, got 1)\n"));
    let o = run(&["catalog", "nodes", "-filter=@/nonexistent/filter"]);
    assert_eq!(
        (o.code, o.err.as_str()),
        (1, "Could not process filter argument: Failed to read file: open /nonexistent/filter: no such file or directory\n")
    );
    let addr = dead_addr();
    let o = run(&["catalog", "nodes", "-http-addr", &addr]);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.err,
        format!("Error listing nodes: Get \"http://{addr}/v1/catalog/nodes\": dial tcp {addr}: connect: connection refused\n")
    );
}

#[test]
fn datacenters_lists_one_per_line() {
    let agent = FakeAgent::start(vec![response("200 OK", r#"["dc1","dc2"]"#), response("403 Forbidden", "ACL not found")]);
    let o = run(&["catalog", "datacenters", &agent.flag()]);
    assert_eq!((o.code, o.out.as_str(), o.err.as_str()), (0, "dc1\ndc2\n", ""));
    assert_eq!(agent.next().path, "/v1/catalog/datacenters");
    let o = run(&["catalog", "datacenters", &agent.flag()]);
    assert_eq!((o.code, o.err.as_str()), (1, "Error listing datacenters: Unexpected response code: 403 (ACL not found)\n"));
    let o = run(&["catalog", "datacenters", "x", "y"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Too many arguments (expected 0, got 2)\n"));
}

const SERVICES: &str = r#"{"consul":[],"web":["v2","primary"],"db":null}"#;

#[test]
fn services_lists_sorted_names_and_tags() {
    let agent = FakeAgent::start(vec![response("200 OK", SERVICES), response("200 OK", SERVICES)]);
    let o = run(&["catalog", "services", &agent.flag()]);
    assert_eq!((o.code, o.out.as_str(), o.err.as_str()), (0, "consul\ndb\nweb\n", ""));
    assert_eq!(agent.next().path, "/v1/catalog/services");
    let o = run(&["catalog", "services", &agent.flag(), "-tags", "-node-meta=rack=r1", "-namespace=ns1"]);
    assert_eq!((o.code, o.err.as_str()), (0, ""));
    assert_eq!(o.out, "consul      \ndb          \nweb         primary,v2\n");
    assert_eq!(agent.next().path, "/v1/catalog/services?node-meta=rack%3Ar1&ns=ns1");
}

#[test]
fn services_on_a_node_pool_tags_per_service_name() {
    let node = r#"{"Node":{"Node":"web-1","Address":"10.0.0.5"},"Services":{
        "web-a":{"ID":"web-a","Service":"web","Tags":["b","a"],"Port":80},
        "web-b":{"ID":"web-b","Service":"web","Tags":["c"],"Port":81},
        "db":{"ID":"db","Service":"db","Tags":null,"Port":5432}}}"#;
    let agent = FakeAgent::start(vec![response("200 OK", node), response("200 OK", "null")]);
    let o = run(&["catalog", "services", &agent.flag(), "-node=web-1", "-tags"]);
    assert_eq!((o.code, o.err.as_str()), (0, ""));
    assert_eq!(o.out, "db       \nweb      a,b,c\n");
    assert_eq!(agent.next().path, "/v1/catalog/node/web-1");
    let o = run(&["catalog", "services", &agent.flag(), "-node=missing"]);
    assert_eq!((o.code, o.out.as_str()), (0, ""));
    assert_eq!(o.err, "No services match the given query - try expanding your search.\n");
}

#[test]
fn catalog_help_and_parent() {
    let o = run(&["catalog"]);
    assert_eq!(o.code, 1);
    assert!(o.err.starts_with("Usage: ballast catalog <subcommand> [options] [args]"), "{}", o.err);
    assert!(o.err.contains("Subcommands:\n    datacenters    Lists all known datacenters\n    nodes          Lists all nodes in the given datacenter\n    services       Lists all registered services in a datacenter\n"), "{}", o.err);
    let o = run(&["catalog", "nodes", "-h"]);
    assert_eq!(o.code, 0);
    assert!(o.err.starts_with("Usage: ballast catalog nodes [options]\n"), "{}", o.err);
    assert!(o.err.contains("HTTP API Options\n\n  -ca-file=<value>\n"), "{}", o.err);
    assert!(o.err.contains("Command Options\n\n  -detailed\n     Output detailed information about the nodes including their\n     addresses and metadata.\n"), "{}", o.err);
    assert!(o.err.contains("  -node-meta=<key=value>\n     Metadata to filter nodes with the given key=value pairs."), "{}", o.err);
    assert!(o.err.contains("  -service=<id or name>\n"), "{}", o.err);
    let o = run(&["catalog", "services", "-help"]);
    assert!(o.err.contains("  -namespace=<default>\n") && o.err.contains("  -tags\n"), "{}", o.err);
}
