//! `ballast catalog services` (Consul's command/catalog/list/services): the service names in
//! the catalog, or on one node, optionally with their tags.
use std::collections::BTreeMap;

use clap::{ArgAction, CommandFactory, Parser};

use crate::catalog::api::CatalogQuery;
use crate::catalog::no_args;
use crate::flags::{go_bool, key_value, HttpFlags, NamespaceFlag, PartitionFlag};
use crate::help::command_help;
use crate::kv::connect;
use crate::parse::parse;
use crate::Io;

const USAGE: &str = r#"
Usage: ballast catalog services [options]

  Retrieves the list services registered in a given datacenter. By default, the
  datacenter of the local agent is queried.

  To retrieve the list of services:

      $ ballast catalog services

  To include the services' tags in the output:

      $ ballast catalog services -tags

  To list services which run on a particular node:

      $ ballast catalog services -node=web

  To filter services on node metadata:

      $ ballast catalog services -node-meta="foo=bar"

  For a full list of options and examples, please see the Consul documentation.
"#;

#[derive(Parser, Debug)]
#[command(name = "catalog services")]
struct ServicesArgs {
    #[command(flatten)]
    http: HttpFlags,
    #[command(flatten)]
    namespace: NamespaceFlag,
    #[command(flatten)]
    partition: PartitionFlag,
    /// Node `id or name` for which to list services.
    #[arg(verbatim_doc_comment, long, value_name = "id or name", default_value = "", hide_default_value = true)]
    node: String,
    /// Metadata to filter nodes with the given `key=value` pairs. If specified, only services
    /// running on nodes matching the given metadata will be returned. This flag may be
    /// specified multiple times to filter on multiple sources of metadata.
    #[arg(verbatim_doc_comment, long = "node-meta", value_name = "key=value", value_parser = key_value, action = ArgAction::Append)]
    node_meta: Vec<(String, String)>,
    /// Display each service's tags as a comma-separated list beside each service entry.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", hide_default_value = true, value_parser = go_bool)]
    tags: bool,
    #[arg(verbatim_doc_comment, hide = true)]
    args: Vec<String>,
}

pub fn help() -> String {
    command_help(USAGE, &ServicesArgs::command())
}

pub fn run(args: &[String], io: &mut Io) -> i32 {
    let Ok((a, _)) = parse::<ServicesArgs>(args, &help(), io) else { return 1 };
    if !no_args(&a.args, io) {
        return 1;
    }
    let Some(mut client) = connect(&a.http, io) else { return 1 };
    client.partition = Some(a.partition.partition.clone());
    let q = CatalogQuery {
        node_meta: a.node_meta.iter().cloned().collect(),
        namespace: a.namespace.namespace.clone(),
        ..CatalogQuery::default()
    };
    let services: BTreeMap<String, Vec<String>> = if a.node.is_empty() {
        match client.catalog_services(&q) {
            Ok(s) => s,
            Err(e) => {
                io.error(&format!("Error listing services: {e}"));
                return 1;
            }
        }
    } else {
        match client.catalog_node(&a.node, &q) {
            Ok(node) => {
                // Instances of one service on the node pool their tags (duplicates kept).
                let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
                for s in node.map(|n| n.services).unwrap_or_default().into_values() {
                    by_name.entry(s.service).or_default().extend(s.tags);
                }
                by_name
            }
            Err(e) => {
                io.error(&format!("Error listing services for node: {e}"));
                return 1;
            }
        }
    };
    if services.is_empty() {
        io.error("No services match the given query - try expanding your search.");
        return 0;
    }
    if a.tags {
        io.info(&tags_table(&services));
    } else {
        services.keys().for_each(|name| io.info(name));
    }
    0
}

/// Consul's `-tags` layout: Go's tabwriter (padding 6, spaces) over "name\ttags" lines, the
/// tags sorted and comma-joined, and the whole text trimmed (so only the last line loses its
/// trailing padding).
fn tags_table(services: &BTreeMap<String, Vec<String>>) -> String {
    let width = services.keys().map(|k| k.chars().count()).max().unwrap_or(0) + 6;
    let mut out = String::new();
    for (name, tags) in services {
        let mut tags = tags.clone();
        tags.sort();
        let pad = width - name.chars().count();
        out.push_str(&format!("{name}{}{}\n", " ".repeat(pad), tags.join(",")));
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_table_pads_by_six_and_trims_the_end() {
        let services: BTreeMap<String, Vec<String>> = [
            ("consul".to_string(), vec![]),
            ("web".to_string(), vec!["v2".to_string(), "primary".to_string()]),
            ("zz".to_string(), vec![]),
        ]
        .into();
        assert_eq!(tags_table(&services), "consul      \nweb         primary,v2\nzz");
    }
}
