//! `ballast force-leave` (Consul's command/forceleave): marks a member "left" (or, with
//! -prune, drops it from the member list).
use clap::{CommandFactory, Parser};

use crate::flags::{go_bool, ClientHttpFlags, PartitionFlag};
use crate::gossip::{client, error_help};
use crate::help::command_help;
use crate::parse::parse;
use crate::Io;

const USAGE: &str = r#"
Usage: ballast force-leave [options] name

  Forces a member of a ballast cluster to enter the "left" state. Note
  that if the member is still actually alive, it will eventually rejoin
  the cluster. This command is most useful for cleaning out "failed" nodes
  that are never coming back. If you do not force leave a failed node,
  ballast will attempt to reconnect to those failed nodes for some period of
  time before eventually reaping them.

  -prune    Remove agent completely from list of members
  -wan      Exclusively leave the agent from the WAN serf pool.
"#;

#[derive(Parser, Debug)]
#[command(name = "force-leave")]
struct ForceLeaveArgs {
    #[command(flatten)]
    http: ClientHttpFlags,
    #[command(flatten)]
    partition: PartitionFlag,
    /// Remove agent completely from list of members
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", hide_default_value = true, value_parser = go_bool)]
    prune: bool,
    /// Exclusively leave the agent from the WAN serf pool.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", hide_default_value = true, value_parser = go_bool)]
    wan: bool,
    #[arg(hide = true)]
    nodes: Vec<String>,
}

pub fn help() -> String {
    command_help(USAGE, &ForceLeaveArgs::command())
}

pub fn run(args: &[String], io: &mut Io) -> i32 {
    let Ok((a, _)) = parse::<ForceLeaveArgs>(args, &help(), io) else { return 1 };
    let [node] = a.nodes.as_slice() else {
        io.error("A single node name must be specified to force leave.");
        io.error("");
        error_help(io, &help());
        return 1;
    };
    let Some(mut api) = client(&a.http, io) else { return 1 };
    api.partition = Some(a.partition.partition.clone());
    if let Err(e) = api.agent_force_leave(node, a.prune, a.wan) {
        io.error(&format!("Error force leaving: {e}"));
        return 1;
    }
    0
}
