//! `ballast catalog datacenters` (Consul's command/catalog/list/dc).
use clap::{CommandFactory, Parser};

use crate::catalog::no_args;
use crate::flags::HttpFlags;
use crate::help::command_help;
use crate::kv::connect;
use crate::parse::parse;
use crate::Io;

const USAGE: &str = "
Usage: ballast catalog datacenters [options]

  Retrieves the list of all known datacenters. This datacenters are sorted in
  ascending order based on the estimated median round trip time from the servers
  in this datacenter to the servers in the other datacenters.

  To retrieve the list of datacenters:

      $ ballast catalog datacenters

  For a full list of options and examples, please see the Consul documentation.
";

#[derive(Parser, Debug)]
#[command(name = "catalog datacenters")]
struct DatacentersArgs {
    #[command(flatten)]
    http: HttpFlags,
    #[arg(verbatim_doc_comment, hide = true)]
    args: Vec<String>,
}

pub fn help() -> String {
    command_help(USAGE, &DatacentersArgs::command())
}

pub fn run(args: &[String], io: &mut Io) -> i32 {
    let Ok((a, _)) = parse::<DatacentersArgs>(args, &help(), io) else { return 1 };
    if !no_args(&a.args, io) {
        return 1;
    }
    let Some(client) = connect(&a.http, io) else { return 1 };
    match client.catalog_datacenters() {
        Ok(dcs) => {
            dcs.iter().for_each(|dc| io.info(dc));
            0
        }
        Err(e) => {
            io.error(&format!("Error listing datacenters: {e}"));
            1
        }
    }
}
