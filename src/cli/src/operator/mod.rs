//! `ballast operator ...`: Consul's operator commands over the agent's HTTP API (for now the
//! Raft subcommands: list-peers, remove-peer, transfer-leader).
pub mod api;
pub mod list_peers;
pub mod remove_peer;
pub mod transfer_leader;

use crate::api::ApiClient;
use crate::flags::HttpFlags;
use crate::Io;

/// `ballast operator` alone (command/operator).
pub const OPERATOR_HELP: &str = "
Usage: ballast operator <subcommand> [options]

  Provides cluster-level tools for ballast operators, such as interacting with
  the Raft subsystem. NOTE: Use this command with extreme caution, as improper
  use could lead to a ballast outage and even loss of data.

  If ACLs are enabled then a token with operator privileges may be required in
  order to use this command. Requests are forwarded internally to the leader
  if required, so this can be run from any ballast node in a cluster.

  Run ballast operator <subcommand> with no arguments for help on that
  subcommand.
";

/// `ballast operator raft` alone (command/operator/raft).
pub const RAFT_HELP: &str = "
Usage: ballast operator raft <subcommand> [options]

The Raft operator command is used to interact with ballast's Raft subsystem. The
command can be used to verify Raft peers or in rare cases to recover quorum by
removing invalid peers.
";

/// The agent client from the HTTP flags, or None after printing Consul's error for it.
pub(crate) fn client(http: &HttpFlags, io: &mut Io) -> Option<ApiClient> {
    http.client().map_err(|e| io.error(&format!("Error initializing client: {e}"))).ok()
}
