//! `ballast leave` (Consul's command/leave): the agent leaves the cluster gracefully and
//! shuts down.
use clap::{CommandFactory, Parser};

use crate::flags::ClientHttpFlags;
use crate::gossip::client;
use crate::help::command_help;
use crate::parse::parse;
use crate::Io;

const USAGE: &str = "
Usage: ballast leave [options]

  Causes the agent to gracefully leave the ballast cluster and shutdown.
";

#[derive(Parser, Debug)]
#[command(name = "leave")]
struct LeaveArgs {
    #[command(flatten)]
    http: ClientHttpFlags,
    #[arg(hide = true)]
    rest: Vec<String>,
}

pub fn help() -> String {
    command_help(USAGE, &LeaveArgs::command())
}

pub fn run(args: &[String], io: &mut Io) -> i32 {
    let Ok((a, _)) = parse::<LeaveArgs>(args, &help(), io) else { return 1 };
    if !a.rest.is_empty() {
        // Go's %v of a []string; the help goes to stdout here, as Consul's Ui.Output.
        io.error(&format!("Error found unexpected args: [{}]", a.rest.join(" ")));
        let _ = std::io::Write::write_all(io.out, help().as_bytes());
        return 1;
    }
    let Some(api) = client(&a.http, io) else { return 1 };
    if let Err(e) = api.agent_leave() {
        io.error(&format!("Error leaving: {e}"));
        return 1;
    }
    io.info("Graceful leave complete");
    0
}
