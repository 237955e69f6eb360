//! `ballast members` (Consul's command/members): the gossip pool as a table.
use std::cmp::Ordering;

use clap::{CommandFactory, Parser};

use crate::columnize::columnize;
use crate::flags::{ClientHttpFlags, PartitionFlag};
use crate::gossip::api::{AgentMember, MembersOpts};
use crate::gossip::go_text::{compile_regexp, member_status, tcp_addr};
use crate::gossip::{client, ROLE_CLIENT, ROLE_SERVER};
use crate::help::command_help;
use crate::parse::parse;
use crate::Io;

/// api.AllSegments.
const ALL_SEGMENTS: &str = "_all";

const USAGE: &str = "
Usage: ballast members [options]

  Outputs the members of a running ballast agent.
";

#[derive(Parser, Debug)]
#[command(name = "members")]
struct MembersArgs {
    #[command(flatten)]
    http: ClientHttpFlags,
    #[command(flatten)]
    partition: PartitionFlag,
    /// Provides detailed information about nodes.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", hide_default_value = true, value_parser = crate::flags::go_bool)]
    detailed: bool,
    /// If the agent is in server mode, this can be used to return the other peers in the WAN
    /// pool.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", hide_default_value = true, value_parser = crate::flags::go_bool)]
    wan: bool,
    /// If provided, output is filtered to only nodes matching the regular expression for
    /// status.
    #[arg(verbatim_doc_comment, long, value_name = "string", default_value = ".*", hide_default_value = true)]
    status: String,
    /// (Enterprise-only) If provided, output is filtered to only nodes inthe given segment.
    #[arg(verbatim_doc_comment, long, value_name = "string", default_value = ALL_SEGMENTS, hide_default_value = true)]
    segment: String,
    /// Filter to use with the request
    #[arg(verbatim_doc_comment, long, value_name = "string", default_value = "", hide_default_value = true)]
    filter: String,
}

pub fn help() -> String {
    command_help(USAGE, &MembersArgs::command())
}

pub fn run(args: &[String], io: &mut Io) -> i32 {
    let Ok((a, _)) = parse::<MembersArgs>(args, &help(), io) else { return 1 };
    let status_re = match compile_regexp(&a.status) {
        Ok(re) => re,
        Err(e) => {
            io.error(&format!("Failed to compile status regexp: {e}"));
            return 1;
        }
    };
    let Some(mut api) = client(&a.http, io) else { return 1 };
    api.partition = Some(a.partition.partition.clone());
    let opts = MembersOpts { wan: a.wan, segment: a.segment.clone(), filter: a.filter.clone() };
    let members = match api.agent_members(&opts) {
        Ok(m) => m,
        Err(e) => {
            io.error(&format!("Error retrieving members: {e}"));
            return 1;
        }
    };
    let mut members: Vec<AgentMember> = members
        .into_iter()
        .map(|m| with_display_tags(m, &a.segment))
        .filter(|m| status_re.is_match(member_status(m.status)))
        .collect();
    if members.is_empty() {
        // Consul exits 2, silently, when nothing matches.
        return 2;
    }
    members.sort_by(compare);
    let rows = if a.detailed { detailed_rows(&members) } else { standard_rows(&members) };
    io.info(&columnize(&rows));
    0
}

/// Consul fills in the partition and segment tags before filtering, sorting and printing
/// (so `-detailed` shows them too): partition "default" when absent; servers show segment
/// "<all>" when all segments were asked for, and an absent segment shows "<default>". (Consul
/// Enterprise blanks the segment outside the default partition; the community build, whose
/// acl.IsDefaultPartition is always true, never does, and neither does ballast.)
fn with_display_tags(mut m: AgentMember, segment_flag: &str) -> AgentMember {
    let partition = m.tags.entry("ap".to_string()).or_default();
    if partition.is_empty() {
        *partition = "default".to_string();
    }
    let is_server = m.tags.get("role").is_some_and(|r| r == ROLE_SERVER);
    if segment_flag == ALL_SEGMENTS && is_server {
        m.tags.insert("segment".to_string(), "<all>".to_string());
    } else if m.tags.get("segment").is_none_or(|s| s.is_empty()) {
        m.tags.insert("segment".to_string(), "<default>".to_string());
    }
    m
}

fn tag<'a>(m: &'a AgentMember, key: &str) -> &'a str {
    m.tags.get(key).map_or("", String::as_str)
}

fn is_default(partition: &str) -> bool {
    partition.is_empty() || partition == "default"
}

/// ByMemberNamePartitionAndSegment: servers first, then the default partition, then by
/// segment, partition and name.
fn compare(a: &AgentMember, b: &AgentMember) -> Ordering {
    let server = |m: &AgentMember| tag(m, "role") == ROLE_SERVER;
    let default = |m: &AgentMember| is_default(tag(m, "ap"));
    server(b)
        .cmp(&server(a))
        .then_with(|| default(b).cmp(&default(a)))
        .then_with(|| tag(a, "segment").cmp(tag(b, "segment")))
        .then_with(|| tag(a, "ap").cmp(tag(b, "ap")))
        .then_with(|| a.name.cmp(&b.name))
}

fn standard_rows(members: &[AgentMember]) -> Vec<Vec<String>> {
    let header = ["Node", "Address", "Status", "Type", "Build", "Protocol", "DC", "Partition", "Segment"];
    let mut rows = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    for m in members {
        let addr = tcp_addr(&m.addr, m.port);
        let status = member_status(m.status).to_string();
        let kind = match tag(m, "role") {
            ROLE_CLIENT => "client",
            ROLE_SERVER => "server",
            _ => {
                let blanks = std::iter::repeat_n(String::new(), 5);
                rows.push([m.name.clone(), addr, status, "unknown".to_string()].into_iter().chain(blanks).collect());
                continue;
            }
        };
        let build = match tag(m, "build") {
            "" => "< 0.3",
            b => b.split(':').next().unwrap_or(b),
        };
        rows.push(vec![
            m.name.clone(),
            addr,
            status,
            kind.to_string(),
            build.to_string(),
            tag(m, "vsn").to_string(),
            tag(m, "dc").to_string(),
            tag(m, "ap").to_string(),
            tag(m, "segment").to_string(),
        ]);
    }
    rows
}

fn detailed_rows(members: &[AgentMember]) -> Vec<Vec<String>> {
    let mut rows = vec![["Node", "Address", "Status", "Tags"].iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    for m in members {
        // BTreeMap iterates in key order, which is Go's sort.Strings order for these keys.
        let tags: Vec<String> = m.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        rows.push(vec![m.name.clone(), tcp_addr(&m.addr, m.port), member_status(m.status).to_string(), tags.join(",")]);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, tags: &[(&str, &str)]) -> AgentMember {
        AgentMember {
            name: name.to_string(),
            addr: "10.0.0.1".to_string(),
            port: 8301,
            tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            status: 1,
        }
    }

    #[test]
    fn servers_then_default_partition_then_segment_partition_name() {
        let mut ms: Vec<AgentMember> = vec![
            member("c", &[("role", "node")]),
            member("b", &[("role", "consul")]),
            member("a", &[("role", "node"), ("ap", "team")]),
            member("a", &[("role", "node"), ("segment", "alpha")]),
            member("z", &[("role", "consul")]),
        ]
        .into_iter()
        .map(|m| with_display_tags(m, ALL_SEGMENTS))
        .collect();
        ms.sort_by(compare);
        let order: Vec<(String, String)> = ms.iter().map(|m| (m.name.clone(), tag(m, "segment").to_string())).collect();
        let want = [("b", "<all>"), ("z", "<all>"), ("c", "<default>"), ("a", "alpha"), ("a", "<default>")];
        assert_eq!(order, want.map(|(a, b)| (a.to_string(), b.to_string())));
    }

    #[test]
    fn servers_keep_their_segment_when_one_segment_is_asked_for() {
        let m = with_display_tags(member("s", &[("role", "consul")]), "");
        assert_eq!(tag(&m, "segment"), "<default>");
        assert_eq!(tag(&m, "ap"), "default");
    }
}
