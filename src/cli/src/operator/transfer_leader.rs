//! `ballast operator raft transfer-leader` (Consul's command/operator/raft/transferleader).
use clap::{CommandFactory, Parser};

use crate::flags::HttpFlags;
use crate::help::command_help;
use crate::operator::client;
use crate::parse::parse_reported;
use crate::Io;

const USAGE: &str = "
Usage: ballast operator raft transfer-leader [options]

  Transfer raft leadership to another node.
";

#[derive(Parser, Debug)]
#[command(name = "operator raft transfer-leader")]
struct TransferLeaderArgs {
    #[command(flatten)]
    http: HttpFlags,
    /// The ID of the node to transfer leadership to.
    #[arg(verbatim_doc_comment, long, value_name = "value", default_value = "", hide_default_value = true)]
    id: String,
}

pub fn help() -> String {
    command_help(USAGE, &TransferLeaderArgs::command())
}

pub fn run(args: &[String], io: &mut Io) -> i32 {
    let Ok((a, _)) = parse_reported::<TransferLeaderArgs>(args, &help(), io) else { return 1 };
    let Some(client) = client(&a.http, io) else { return 1 };
    // Consul's texts, its "transfering" and missing colon included.
    let failure = match client.raft_transfer_leader(&a.id) {
        Ok(reply) if reply.success => {
            io.info("Success");
            return 0;
        }
        Ok(_) => "Failed to transfer leadership".to_string(),
        Err(e) => format!("Failed to transfer leadership {e}"),
    };
    io.error(&format!("Error transfering leadership: {failure}"));
    1
}
