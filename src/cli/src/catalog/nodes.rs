//! `ballast catalog nodes` (Consul's command/catalog/list/nodes): the catalog's nodes, or the
//! nodes providing one service, as a columnized table.
use std::collections::BTreeMap;

use clap::{ArgAction, CommandFactory, Parser};

use crate::catalog::api::{CatalogQuery, Node};
use crate::catalog::{load_data_source, no_args};
use crate::columnize::columnize;
use crate::flags::{go_bool, key_value, HttpFlags, PartitionFlag};
use crate::help::command_help;
use crate::kv::connect;
use crate::parse::parse;
use crate::Io;

const USAGE: &str = r#"
Usage: ballast catalog nodes [options]

  Retrieves the list nodes registered in a given datacenter. By default, the
  datacenter of the local agent is queried.

  To retrieve the list of nodes:

      $ ballast catalog nodes

  To print detailed information including full node IDs, tagged addresses, and
  metadata information:

      $ ballast catalog nodes -detailed

  To list nodes which are running a particular service:

      $ ballast catalog nodes -service=web

  To filter by node metadata:

      $ ballast catalog nodes -node-meta="foo=bar"

  To sort nodes by estimated round-trip time from node-web:

      $ ballast catalog nodes -near=node-web

  For a full list of options and examples, please see the Consul documentation.
"#;

#[derive(Parser, Debug)]
#[command(name = "catalog nodes")]
struct NodesArgs {
    #[command(flatten)]
    http: HttpFlags,
    #[command(flatten)]
    partition: PartitionFlag,
    /// Output detailed information about the nodes including their addresses and metadata.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", hide_default_value = true, value_parser = go_bool)]
    detailed: bool,
    /// Filter to use with the request
    #[arg(verbatim_doc_comment, long, value_name = "string", default_value = "", hide_default_value = true)]
    filter: String,
    /// Node name to sort the node list in ascending order based on estimated round-trip time
    /// from that node. Passing "_agent" will use this agent's node for sorting.
    #[arg(verbatim_doc_comment, long, value_name = "string", default_value = "", hide_default_value = true)]
    near: String,
    /// Metadata to filter nodes with the given `key=value` pairs. This flag may be specified
    /// multiple times to filter on multiple sources of metadata.
    #[arg(verbatim_doc_comment, long = "node-meta", value_name = "key=value", value_parser = key_value, action = ArgAction::Append)]
    node_meta: Vec<(String, String)>,
    /// Service `id or name` to filter nodes. Only nodes which are providing the given service
    /// will be returned.
    #[arg(verbatim_doc_comment, long, value_name = "id or name", default_value = "", hide_default_value = true)]
    service: String,
    #[arg(verbatim_doc_comment, hide = true)]
    args: Vec<String>,
}

pub fn help() -> String {
    command_help(USAGE, &NodesArgs::command())
}

pub fn run(args: &[String], io: &mut Io) -> i32 {
    let Ok((a, _)) = parse::<NodesArgs>(args, &help(), io) else { return 1 };
    if !no_args(&a.args, io) {
        return 1;
    }
    let Some(mut client) = connect(&a.http, io) else { return 1 };
    client.partition = Some(a.partition.partition.clone());
    let filter = match load_data_source(&a.filter, io.stdin) {
        Ok(f) => f,
        Err(e) => {
            io.error(&format!("Could not process filter argument: {e}"));
            return 1;
        }
    };
    // Later pairs win, as in Go's map.
    let node_meta: BTreeMap<String, String> = a.node_meta.iter().cloned().collect();
    let q = CatalogQuery { near: a.near.clone(), node_meta, filter, namespace: String::new() };
    let nodes = if a.service.is_empty() {
        match client.catalog_nodes(&q) {
            Ok(n) => n,
            Err(e) => {
                io.error(&format!("Error listing nodes: {e}"));
                return 1;
            }
        }
    } else {
        match client.catalog_service(&a.service, &q) {
            Ok(instances) => instances
                .into_iter()
                .map(|s| Node {
                    id: s.id,
                    node: s.node,
                    address: s.address,
                    datacenter: s.datacenter,
                    tagged_addresses: s.tagged_addresses,
                    meta: s.node_meta,
                })
                .collect(),
            Err(e) => {
                io.error(&format!("Error listing nodes for service: {e}"));
                return 1;
            }
        }
    };
    if nodes.is_empty() {
        io.error("No nodes match the given query - try expanding your search.");
        return 0;
    }
    io.info(&columnize(&node_rows(&nodes, a.detailed)));
    0
}

/// Consul's NodesHeader / NodeRow: the short form shows the node ID up to its first dash.
fn node_rows(nodes: &[Node], detailed: bool) -> Vec<Vec<String>> {
    let mut header = vec!["Node", "ID", "Address", "DC"];
    if detailed {
        header.extend(["TaggedAddresses", "Meta"]);
    }
    let mut rows = vec![header.into_iter().map(String::from).collect::<Vec<_>>()];
    for n in nodes {
        if detailed {
            rows.push(vec![
                n.node.clone(),
                n.id.clone(),
                n.address.clone(),
                n.datacenter.clone(),
                map_to_kv(&n.tagged_addresses),
                map_to_kv(&n.meta),
            ]);
        } else {
            let id = match n.id.find('-') {
                Some(i) if i > 0 => &n.id[..i],
                _ => n.id.as_str(),
            };
            rows.push(vec![n.node.clone(), id.to_string(), n.address.clone(), n.datacenter.clone()]);
        }
    }
    rows
}

/// Consul's mapToKV: `k=v` pairs sorted by key, joined by ", ".
fn map_to_kv(m: &BTreeMap<String, String>) -> String {
    m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, id: &str) -> Node {
        Node {
            id: id.to_string(),
            node: name.to_string(),
            address: "10.0.0.1".to_string(),
            datacenter: "dc1".to_string(),
            tagged_addresses: [("lan", "10.0.0.1"), ("wan", "1.2.3.4")].map(|(k, v)| (k.into(), v.into())).into(),
            meta: [("rack", "r1")].map(|(k, v)| (k.into(), v.into())).into(),
        }
    }

    #[test]
    fn short_rows_cut_the_id_at_the_first_dash() {
        let rows = node_rows(&[node("a", "1b2c3d4e-aaaa-bbbb"), node("b", "-x"), node("c", "")], false);
        assert_eq!(rows[1], ["a", "1b2c3d4e", "10.0.0.1", "dc1"]);
        assert_eq!(rows[2][1], "-x");
        assert_eq!(rows[3][1], "");
    }

    #[test]
    fn detailed_rows_show_sorted_pairs() {
        let rows = node_rows(&[node("a", "1b2c-aaaa")], true);
        assert_eq!(rows[0], ["Node", "ID", "Address", "DC", "TaggedAddresses", "Meta"]);
        assert_eq!(rows[1], ["a", "1b2c-aaaa", "10.0.0.1", "dc1", "lan=10.0.0.1, wan=1.2.3.4", "rack=r1"]);
    }
}
