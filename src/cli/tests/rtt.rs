//! `rtt` against a canned agent: which coordinates it fetches, the estimate it prints
//! (serf's distance formula), and Consul's errors.
mod common;

use common::{response, run, FakeAgent};

fn coord(vec0: f64, vec1: f64, height: f64, adjustment: f64) -> String {
    format!(r#"{{"Vec":[{vec0},{vec1},0,0,0,0,0,0],"Error":0.2,"Adjustment":{adjustment},"Height":{height}}}"#)
}

/// /v1/coordinate/nodes: alpha and beta 5 ms apart on the vector, plus heights 0.1 + 0.2 ms
/// and adjustments 0 + 0.1 ms = 5.4 ms; "Beta" differs only in case.
fn nodes_body() -> String {
    format!(
        r#"[{{"Node":"alpha","Segment":"","Partition":"default","Coord":{}}},{{"Node":"Beta","Segment":"","Partition":"default","Coord":{}}},{{"Node":"nocoord","Segment":"","Coord":null}}]"#,
        coord(0.001, 0.0, 0.0001, 0.0),
        coord(0.004, 0.004, 0.0002, 0.0001)
    )
}

const SELF: &str = r#"{"Config":{"Datacenter":"dc1","NodeName":"beta","NodeID":"6c4c0b6c-2d5e-4e38-9b0b-7f3b4b1a8c11","Server":true,"Version":"1.17.0"},"Member":{"Name":"beta","Addr":"10.0.0.2","Port":8301,"Status":1}}"#;

#[test]
fn lan_estimate_between_two_named_nodes() {
    let agent = FakeAgent::start(vec![response("200 OK", &nodes_body())]);
    let o = run(&["rtt", &agent.flag(), "alpha", "beta"]);
    assert_eq!((o.code, o.err.as_str()), (0, ""));
    assert_eq!(o.out, "Estimated alpha <-> beta rtt: 5.400 ms (using LAN coordinates)\n");
    let req = agent.next();
    assert_eq!((req.method.as_str(), req.path.as_str()), ("GET", "/v1/coordinate/nodes"));
}

#[test]
fn lan_second_node_defaults_to_the_agent() {
    let agent = FakeAgent::start(vec![response("200 OK", SELF), response("200 OK", &nodes_body())]);
    let o = run(&["rtt", &agent.flag(), "alpha"]);
    assert_eq!((o.code, o.out.as_str()), (0, "Estimated alpha <-> beta rtt: 5.400 ms (using LAN coordinates)\n"), "{}", o.err);
    assert_eq!(agent.next().path, "/v1/agent/self");
    assert_eq!(agent.next().path, "/v1/coordinate/nodes");
}

#[test]
fn lan_missing_coordinates() {
    let agent = FakeAgent::start(vec![response("200 OK", &nodes_body()), response("200 OK", &nodes_body())]);
    let o = run(&["rtt", &agent.flag(), "alpha", "gamma"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Could not find a coordinate for node \"gamma\"\n"));
    let o = run(&["rtt", &agent.flag(), "nocoord", "alpha"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Could not find a coordinate for node \"nocoord\"\n"));
}

#[test]
fn lan_segments_intersect_on_the_clients_segment() {
    // A server has one coordinate per segment; a client in segment "alpha" is compared with
    // the server's "alpha" coordinate.
    let body = format!(
        r#"[{{"Node":"srv","Segment":"","Coord":{}}},{{"Node":"srv","Segment":"alpha","Coord":{}}},{{"Node":"cli","Segment":"alpha","Coord":{}}}]"#,
        coord(0.5, 0.0, 0.0, 0.0),
        coord(0.002, 0.0, 0.0, 0.0),
        coord(0.0, 0.0, 0.0, 0.0)
    );
    let agent = FakeAgent::start(vec![response("200 OK", &body)]);
    let o = run(&["rtt", &agent.flag(), "srv", "cli"]);
    assert_eq!(o.out, "Estimated srv <-> cli rtt: 2.000 ms (using LAN coordinates)\n", "{}", o.err);
}

#[test]
fn negative_adjustment_falls_back_to_the_raw_distance() {
    let body = format!(
        r#"[{{"Node":"a","Segment":"","Coord":{}}},{{"Node":"b","Segment":"","Coord":{}}}]"#,
        coord(0.003, 0.0, 0.0, -0.01),
        coord(0.0, 0.0, 0.0, 0.0)
    );
    let agent = FakeAgent::start(vec![response("200 OK", &body)]);
    assert_eq!(run(&["rtt", &agent.flag(), "a", "b"]).out, "Estimated a <-> b rtt: 3.000 ms (using LAN coordinates)\n");
}

fn datacenters_body() -> String {
    format!(
        r#"[{{"Datacenter":"dc1","AreaID":"wan","Coordinates":[{{"Node":"s1","Segment":"","Coord":{}}},{{"Node":"beta","Segment":"","Coord":{}}}]}},
{{"Datacenter":"dc2","AreaID":"wan","Coordinates":[{{"Node":"s2","Segment":"","Coord":{}}}]}}]"#,
        coord(0.0, 0.0, 0.0, 0.0),
        coord(0.01, 0.0, 0.0, 0.0),
        coord(0.03, 0.04, 0.0, 0.0)
    )
}

#[test]
fn wan_estimates_and_default_node() {
    let agent = FakeAgent::start(vec![response("200 OK", &datacenters_body())]);
    let o = run(&["rtt", &agent.flag(), "-wan", "s1.dc1", "S2.dc2"]);
    assert_eq!(o.out, "Estimated s1.dc1 <-> S2.dc2 rtt: 50.000 ms (using WAN coordinates)\n", "{}", o.err);
    assert_eq!(agent.next().path, "/v1/coordinate/datacenters");

    let agent = FakeAgent::start(vec![response("200 OK", SELF), response("200 OK", &datacenters_body())]);
    let o = run(&["rtt", &agent.flag(), "-wan", "s1.dc1"]);
    assert_eq!(o.out, "Estimated s1.dc1 <-> beta.dc1 rtt: 10.000 ms (using WAN coordinates)\n", "{}", o.err);
    assert_eq!(agent.next().path, "/v1/agent/self");
}

#[test]
fn wan_errors() {
    let o = run(&["rtt", "-wan", "s1", "s2.dc2"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Node names must be specified as <node name>.<datacenter> with -wan\n"));
    let agent = FakeAgent::start(vec![response("200 OK", &datacenters_body())]);
    // Not found: Consul reports the first node whichever one is missing.
    let o = run(&["rtt", &agent.flag(), "-wan", "s1.dc1", "s9.dc2"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Could not find a coordinate for node \"s1.dc1\"\n"));
    let agent = FakeAgent::start(vec![response("500 Internal Server Error", "coordinates disabled")]);
    let o = run(&["rtt", &agent.flag(), "-wan", "s1.dc1", "s2.dc2"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Error getting coordinates: Unexpected response code: 500 (coordinates disabled)\n"));
    let agent = FakeAgent::start(vec![response("403 Forbidden", "Permission denied")]);
    let o = run(&["rtt", &agent.flag(), "alpha"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Unable to look up agent info: Unexpected response code: 403 (Permission denied)\n"));
}

#[test]
fn one_or_two_nodes() {
    for args in [&["rtt"][..], &["rtt", "a", "b", "c"][..]] {
        let o = run(args);
        assert_eq!(o.code, 1);
        assert!(o.err.starts_with("One or two node names must be specified\n\nUsage: ballast rtt [options] node1 [node2]\n"), "{}", o.err);
    }
}

#[test]
fn consul_http_addr_and_token_come_from_the_environment() {
    let agent = FakeAgent::start(vec![response("200 OK", &nodes_body())]);
    // The only test in this binary that sets the environment; the others name their agent
    // with -http-addr, which wins over CONSUL_HTTP_ADDR.
    std::env::set_var("CONSUL_HTTP_ADDR", format!("http://{}", agent.addr));
    std::env::set_var("CONSUL_HTTP_TOKEN", "env-token");
    let o = run(&["rtt", "alpha", "beta"]);
    std::env::remove_var("CONSUL_HTTP_ADDR");
    std::env::remove_var("CONSUL_HTTP_TOKEN");
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(agent.next().header("X-Consul-Token"), Some("env-token"));
}

#[test]
fn coordinates_of_different_dimensions_are_an_error_not_a_crash() {
    let body = r#"[{"Node":"a","Segment":"","Coord":{"Vec":[0.1],"Error":1,"Adjustment":0,"Height":0}},{"Node":"b","Segment":"","Coord":{"Vec":[0.1,0.2],"Error":1,"Adjustment":0,"Height":0}}]"#;
    let agent = FakeAgent::start(vec![response("200 OK", body)]);
    let o = run(&["rtt", &agent.flag(), "a", "b"]);
    assert_eq!((o.code, o.out.as_str()), (1, ""));
    assert_eq!(o.err, "Error computing distance: coordinates have different dimensions\n");
}
