//! `ballast keygen` (Consul's command/keygen): prints a new 32-byte gossip encryption key,
//! base64-encoded, read from the operating system's CSPRNG. Needs no agent.
use base64::Engine;
use clap::{CommandFactory, Parser};

use crate::help::command_help;
use crate::parse::parse;
use crate::Io;

const USAGE: &str = "
Usage: ballast keygen

  Generates a new 32-byte encryption key that can be used to configure the
  agent to encrypt traffic. The output of this command is already
  in the proper format that the agent expects.
";

/// Consul's keygen has no flags; any arguments after them are ignored, as Go's flag package
/// leaves them unread.
#[derive(Parser, Debug)]
#[command(name = "keygen")]
struct KeygenArgs {
    #[arg(hide = true)]
    _rest: Vec<String>,
}

pub fn help() -> String {
    command_help(USAGE, &KeygenArgs::command())
}

pub fn run(args: &[String], io: &mut Io) -> i32 {
    if parse::<KeygenArgs>(args, &help(), io).is_err() {
        return 1;
    }
    let mut key = [0u8; 32];
    if let Err(e) = getrandom::getrandom(&mut key) {
        io.error(&format!("Error reading random data: {e}"));
        return 1;
    }
    io.info(&base64::engine::general_purpose::STANDARD.encode(key));
    0
}
