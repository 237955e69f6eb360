//! `ballast join` (Consul's command/join): asks the agent to join each address.
use clap::{CommandFactory, Parser};

use crate::flags::{go_bool, ClientHttpFlags};
use crate::gossip::{client, error_help};
use crate::help::command_help;
use crate::parse::parse;
use crate::Io;

const USAGE: &str = r#"
Usage: ballast join [options] address ...

  Tells a running ballast agent (with "ballast agent") to join the cluster
  by specifying at least one existing member.
"#;

#[derive(Parser, Debug)]
#[command(name = "join")]
struct JoinArgs {
    #[command(flatten)]
    http: ClientHttpFlags,
    /// Joins a server to another server in the WAN pool.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", hide_default_value = true, value_parser = go_bool)]
    wan: bool,
    #[arg(hide = true)]
    addresses: Vec<String>,
}

pub fn help() -> String {
    command_help(USAGE, &JoinArgs::command())
}

pub fn run(args: &[String], io: &mut Io) -> i32 {
    let Ok((a, _)) = parse::<JoinArgs>(args, &help(), io) else { return 1 };
    if a.addresses.is_empty() {
        io.error("At least one address to join must be specified.");
        io.error("");
        error_help(io, &help());
        return 1;
    }
    let Some(api) = client(&a.http, io) else { return 1 };
    let mut joins = 0;
    for addr in &a.addresses {
        match api.agent_join(addr, a.wan) {
            Ok(()) => joins += 1,
            Err(e) => io.error(&format!("Error joining address '{addr}': {e}")),
        }
    }
    if joins == 0 {
        io.error("Failed to join any nodes.");
        return 1;
    }
    io.info(&format!("Successfully joined cluster by contacting {joins} nodes."));
    0
}
