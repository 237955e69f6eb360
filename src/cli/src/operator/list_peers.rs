//! `ballast operator raft list-peers` (Consul's command/operator/raft/listpeers).
use std::collections::HashMap;

use clap::{CommandFactory, Parser};

use crate::columnize::columnize;
use crate::flags::HttpFlags;
use crate::help::command_help;
use crate::operator::api::RaftConfiguration;
use crate::operator::client;
use crate::parse::parse_reported;
use crate::Io;

const USAGE: &str = "
Usage: ballast operator raft list-peers [options]

  Displays the current Raft peer configuration.
";

#[derive(Parser, Debug)]
#[command(name = "operator raft list-peers")]
struct ListPeersArgs {
    #[command(flatten)]
    http: HttpFlags,
}

pub fn help() -> String {
    command_help(USAGE, &ListPeersArgs::command())
}

pub fn run(args: &[String], io: &mut Io) -> i32 {
    let Ok((a, _)) = parse_reported::<ListPeersArgs>(args, &help(), io) else { return 1 };
    let Some(client) = client(&a.http, io) else { return 1 };
    match client.raft_configuration() {
        Ok(config) => {
            io.info(&table(&config));
            0
        }
        Err(e) => {
            io.error(&format!("Error getting peers: Failed to retrieve raft configuration: {e}"));
            1
        }
    }
}

/// Consul's table. Last indexes are looked up by server ID (the last entry of an ID wins)
/// and the lag is the leader's index minus the server's in unsigned 64-bit arithmetic, so a
/// server ahead of the leader, or a configuration without a leader, shows the wrapped value
/// exactly as Consul does.
pub fn table(config: &RaftConfiguration) -> String {
    let last_index: HashMap<&str, u64> =
        config.servers.iter().map(|s| (s.id.as_str(), s.last_index)).collect();
    let mut leader_index = 0u64;
    for s in config.servers.iter().filter(|s| s.leader) {
        leader_index = last_index.get(s.id.as_str()).copied().unwrap_or(leader_index);
    }
    let header = ["Node", "ID", "Address", "State", "Voter", "RaftProtocol", "Commit Index", "Trails Leader By"];
    let mut rows = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    for s in &config.servers {
        let protocol = if s.protocol_version.is_empty() { "<=1" } else { s.protocol_version.as_str() };
        let index = last_index.get(s.id.as_str()).copied().unwrap_or(0);
        let behind = leader_index.wrapping_sub(index);
        let trails = if s.leader {
            "-".to_string()
        } else if behind == 1 {
            "1 commit".to_string()
        } else {
            format!("{behind} commits")
        };
        let state = if s.leader { "leader" } else { "follower" };
        rows.push(vec![
            s.node.clone(),
            s.id.clone(),
            s.address.clone(),
            state.to_string(),
            s.voter.to_string(),
            protocol.to_string(),
            index.to_string(),
            trails,
        ]);
    }
    columnize(&rows)
}

#[cfg(test)]
mod tests {
    use super::table;
    use crate::operator::api::{RaftConfiguration, RaftServer};

    fn server(n: u8, leader: bool, last_index: u64) -> RaftServer {
        RaftServer {
            id: format!("id-{n}"),
            node: format!("node-{n}"),
            address: format!("10.0.0.{n}:8300"),
            leader,
            protocol_version: "3".to_string(),
            voter: true,
            last_index,
        }
    }

    #[test]
    fn lag_wraps_like_go_unsigned_arithmetic() {
        let ahead = RaftConfiguration { servers: vec![server(1, true, 5), server(2, false, 6)], index: 1 };
        assert!(table(&ahead).ends_with("6             18446744073709551615 commits"), "{}", table(&ahead));
        let leaderless = RaftConfiguration { servers: vec![server(1, false, 0)], index: 1 };
        assert!(table(&leaderless).ends_with(" 0             0 commits"), "{}", table(&leaderless));
    }

    #[test]
    fn old_protocol_and_duplicate_ids() {
        let mut old = server(1, true, 3);
        old.protocol_version.clear();
        let mut dup = server(1, false, 9);
        dup.voter = false;
        let t = table(&RaftConfiguration { servers: vec![old, dup], index: 1 });
        let lines: Vec<&str> = t.lines().collect();
        // The map holds the last entry for id-1, so the leader row shows 9 and the other 0 lag.
        assert_eq!(lines[1], "node-1  id-1  10.0.0.1:8300  leader    true   <=1           9             -");
        assert_eq!(lines[2], "node-1  id-1  10.0.0.1:8300  follower  false  3             9             0 commits");
    }
}
