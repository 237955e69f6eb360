//! `ballast rtt` (Consul's command/rtt): estimates the round trip time between two nodes
//! from their network coordinates.
pub mod api;

use std::collections::HashMap;

use ballast_store::go_quote;
use clap::{CommandFactory, Parser};

use crate::api::ApiClient;
use crate::flags::{go_bool, ClientHttpFlags};
use crate::gossip::{client, error_help};
use crate::help::command_help;
use crate::parse::parse;
use ballast_coordinate::Coordinate as Coord;
use crate::Io;

const USAGE: &str = r#"
Usage: ballast rtt [options] node1 [node2]

  Estimates the round trip time between two nodes using ballast's network
  coordinate model of the cluster.

  At least one node name is required. If the second node name isn't given, it
  is set to the agent's node name. Note that these are node names as known to
  ballast as "ballast members" would show, not IP addresses.

  By default, the two nodes are assumed to be nodes in the local datacenter
  and the LAN coordinates are used. If the -wan option is given, then the WAN
  coordinates are used, and the node names must be suffixed by a period and
  the datacenter (eg. "myserver.dc1").

  It is not possible to measure between LAN coordinates and WAN coordinates
  because they are maintained by independent Serf gossip areas, so they are
  not compatible.
"#;

#[derive(Parser, Debug)]
#[command(name = "rtt")]
struct RttArgs {
    #[command(flatten)]
    http: ClientHttpFlags,
    /// Use WAN coordinates instead of LAN coordinates.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", hide_default_value = true, value_parser = go_bool)]
    wan: bool,
    #[arg(hide = true)]
    nodes: Vec<String>,
}

pub fn help() -> String {
    command_help(USAGE, &RttArgs::command())
}

/// Why no estimate could be printed: the message, already in Consul's words.
struct Failure(String);

pub fn run(args: &[String], io: &mut Io) -> i32 {
    let Ok((a, _)) = parse::<RttArgs>(args, &help(), io) else { return 1 };
    if a.nodes.is_empty() || a.nodes.len() > 2 {
        io.error("One or two node names must be specified");
        io.error("");
        error_help(io, &help());
        return 1;
    }
    let Some(api) = client(&a.http, io) else { return 1 };
    let mut nodes = a.nodes.clone();
    let found = if a.wan { wan_pair(&api, &mut nodes) } else { lan_pair(&api, &mut nodes) };
    let (c1, c2) = match found {
        Ok(pair) => pair,
        Err(Failure(msg)) => {
            io.error(&msg);
            return 1;
        }
    };
    if !c1.is_compatible_with(&c2) {
        // serf panics here; a bad answer from the agent must not crash the CLI.
        io.error("Error computing distance: coordinates have different dimensions");
        return 1;
    }
    // serf's DistanceTo as a Go Duration, then Seconds() * 1000, as Consul prints it.
    let millis = c1.distance_seconds(&c2) * 1000.0;
    let source = if a.wan { "WAN" } else { "LAN" };
    io.info(&format!(
        "Estimated {} <-> {} rtt: {:.3} ms (using {source} coordinates)",
        nodes[0],
        nodes[1],
        millis
    ));
    0
}

fn not_found(node: &str) -> Failure {
    Failure(format!("Could not find a coordinate for node {}", go_quote(node)))
}

/// Go's `%s` of a JSON value taken from /v1/agent/self.
fn go_s(v: Option<&serde_json::Value>) -> String {
    match v {
        Some(serde_json::Value::String(s)) => s.clone(),
        None | Some(serde_json::Value::Null) => "%!s(<nil>)".to_string(),
        Some(other) => format!("%!s({other})"),
    }
}

/// WAN: nodes are "<node>.<dc>"; both must be found in the same area.
fn wan_pair(api: &ApiClient, nodes: &mut Vec<String>) -> Result<(Coord, Coord), Failure> {
    if nodes.len() < 2 {
        let this = api.agent_self().map_err(|e| Failure(format!("Unable to look up agent info: {e}")))?;
        let config = this.get("Config");
        let name = go_s(config.and_then(|c| c.get("NodeName")));
        let dc = go_s(config.and_then(|c| c.get("Datacenter")));
        nodes.push(format!("{name}.{dc}"));
    }
    let parts1: Vec<&str> = nodes[0].split('.').collect();
    let parts2: Vec<&str> = nodes[1].split('.').collect();
    let ([node1, dc1], [node2, dc2]) = (parts1.as_slice(), parts2.as_slice()) else {
        return Err(Failure("Node names must be specified as <node name>.<datacenter> with -wan".to_string()));
    };
    let dcs = api.coordinate_datacenters().map_err(|e| Failure(format!("Error getting coordinates: {e}")))?;
    // Consul walks every entry, remembering the last match of each node and its area, and
    // stops as soon as both are known in the same area.
    let (mut area1, mut area2) = ("", "");
    let (mut coord1, mut coord2): (Option<&Coord>, Option<&Coord>) = (None, None);
    for dc in &dcs {
        for entry in &dc.coordinates {
            if dc.datacenter == *dc1 && eq_fold(&entry.node, node1) {
                area1 = &dc.area_id;
                coord1 = entry.coord.as_ref();
            }
            if dc.datacenter == *dc2 && eq_fold(&entry.node, node2) {
                area2 = &dc.area_id;
                coord2 = entry.coord.as_ref();
            }
            if let (true, Some(c1), Some(c2)) = (area1 == area2, coord1, coord2) {
                return Ok((c1.clone(), c2.clone()));
            }
        }
    }
    // Nothing compatible: Consul drops both, so the first node is the one reported.
    Err(not_found(&nodes[0]))
}

/// LAN: coordinates indexed by segment, intersected as lib.CoordinateSet.Intersect does.
fn lan_pair(api: &ApiClient, nodes: &mut Vec<String>) -> Result<(Coord, Coord), Failure> {
    if nodes.len() < 2 {
        let this = api.agent_self().map_err(|e| Failure(format!("Unable to look up agent info: {e}")))?;
        match this.get("Config").and_then(|c| c.get("NodeName")) {
            Some(serde_json::Value::String(name)) => nodes.push(name.clone()),
            _ => return Err(Failure("Unable to look up agent info: no Config.NodeName in /v1/agent/self".to_string())),
        }
    }
    let entries = api.coordinate_nodes().map_err(|e| Failure(format!("Error getting coordinates: {e}")))?;
    let mut cs1: HashMap<&str, Option<&Coord>> = HashMap::new();
    let mut cs2: HashMap<&str, Option<&Coord>> = HashMap::new();
    for entry in &entries {
        if eq_fold(&entry.node, &nodes[0]) {
            cs1.insert(&entry.segment, entry.coord.as_ref());
        }
        if eq_fold(&entry.node, &nodes[1]) {
            cs2.insert(&entry.segment, entry.coord.as_ref());
        }
    }
    // A node in exactly one segment (a client) decides the segment; otherwise the default "".
    let mut segment = "";
    for set in [&cs1, &cs2] {
        if set.len() == 1 {
            segment = set.keys().next().copied().unwrap_or("");
        }
    }
    let c1 = cs1.get(segment).copied().flatten();
    let c2 = cs2.get(segment).copied().flatten();
    match (c1, c2) {
        (Some(a), Some(b)) => Ok((a.clone(), b.clone())),
        (None, _) => Err(not_found(&nodes[0])),
        (_, None) => Err(not_found(&nodes[1])),
    }
}

/// Go's strings.EqualFold (simple Unicode case folding), close enough via lower-casing.
fn eq_fold(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b) || a.to_lowercase() == b.to_lowercase()
}
