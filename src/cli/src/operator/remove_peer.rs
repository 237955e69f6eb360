//! `ballast operator raft remove-peer` (Consul's command/operator/raft/removepeer).
use ballast_store::go_quote;
use clap::{CommandFactory, Parser};

use crate::flags::HttpFlags;
use crate::help::command_help;
use crate::operator::api::Peer;
use crate::operator::client;
use crate::parse::parse_reported;
use crate::Io;

const USAGE: &str = r#"
Usage: ballast operator raft remove-peer [options]

  Remove the ballast server with given -address from the Raft configuration.

  There are rare cases where a peer may be left behind in the Raft quorum even
  though the server is no longer present and known to the cluster. This command
  can be used to remove the failed server so that it is no longer affects the Raft
  quorum. If the server is still a member of the cluster, it is preferable to
  have it leave the cluster instead of using this command.
"#;

#[derive(Parser, Debug)]
#[command(name = "operator raft remove-peer")]
struct RemovePeerArgs {
    #[command(flatten)]
    http: HttpFlags,
    /// The address to remove from the Raft configuration.
    #[arg(verbatim_doc_comment, long, value_name = "value", default_value = "", hide_default_value = true)]
    address: String,
    /// The ID to remove from the Raft configuration.
    #[arg(verbatim_doc_comment, long, value_name = "value", default_value = "", hide_default_value = true)]
    id: String,
}

pub fn help() -> String {
    command_help(USAGE, &RemovePeerArgs::command())
}

pub fn run(args: &[String], io: &mut Io) -> i32 {
    let Ok((a, _)) = parse_reported::<RemovePeerArgs>(args, &help(), io) else { return 1 };
    let Some(client) = client(&a.http, io) else { return 1 };
    // Consul checks the pair after building its client, and prefers the address.
    let peer = match (a.address.is_empty(), a.id.is_empty()) {
        (true, true) => return removal_failed(io, "an address or id is required for the peer to remove"),
        (false, false) => return removal_failed(io, "cannot give both an address and id"),
        (false, true) => Peer::Address(&a.address),
        (true, false) => Peer::Id(&a.id),
    };
    if let Err(e) = client.raft_remove_peer(&peer) {
        return removal_failed(io, &e);
    }
    match peer {
        Peer::Address(addr) => io.info(&format!("Removed peer with address {}", go_quote(addr))),
        Peer::Id(id) => io.info(&format!("Removed peer with id {}", go_quote(id))),
    }
    0
}

fn removal_failed(io: &mut Io, why: &str) -> i32 {
    io.error(&format!("Error removing peer: {why}"));
    1
}
