//! `ballast services deregister` (Consul's command/services/deregister): removes services
//! from the local agent, by definition files or by `-id`.
use clap::{CommandFactory, Parser};

use crate::flags::{HttpFlags, NamespaceFlag};
use crate::help::command_help;
use crate::kv::connect;
use crate::parse::parse;
use crate::services::api::ServiceRegistration;
use crate::services::from_files;
use crate::Io;

const USAGE: &str = "
Usage: ballast services deregister [options] [FILE...]

  Deregister one or more services that were previously registered with
  the local agent.

      $ ballast services deregister web.json db.json

  The -id flag may be used to deregister a single service by ID:

      $ ballast services deregister -id=web

  Services are deregistered from the local agent catalog. This command must
  be run against the same agent where the service was registered.
";

#[derive(Parser, Debug)]
#[command(name = "services deregister")]
struct DeregisterArgs {
    #[command(flatten)]
    http: HttpFlags,
    #[command(flatten)]
    namespace: NamespaceFlag,
    /// ID to delete. This must not be set if arguments are given.
    #[arg(verbatim_doc_comment, long, value_name = "string", default_value = "", hide_default_value = true)]
    id: String,
    #[arg(verbatim_doc_comment, hide = true)]
    args: Vec<String>,
}

pub fn help() -> String {
    command_help(USAGE, &DeregisterArgs::command())
}

pub fn run(args: &[String], io: &mut Io) -> i32 {
    let Ok((a, _)) = parse::<DeregisterArgs>(args, &help(), io) else { return 1 };
    if a.args.is_empty() && a.id.is_empty() {
        io.error("Service deregistration requires at least one argument or -id.");
        return 1;
    }
    if !a.args.is_empty() && !a.id.is_empty() {
        io.error("Service deregistration requires arguments or -id, not both.");
        return 1;
    }
    let mut svcs = vec![ServiceRegistration { id: a.id.clone(), ..ServiceRegistration::default() }];
    if !a.args.is_empty() {
        let Some(from_files) = from_files(&a.args, io) else { return 1 };
        svcs = from_files;
    }
    let Some(client) = connect(&a.http, io) else { return 1 };
    for svc in &svcs {
        // A definition without an ID is registered under its name.
        let id = if svc.id.is_empty() { &svc.name } else { &svc.id };
        if id.is_empty() {
            continue;
        }
        if let Err(e) = client.agent_service_deregister(id, &a.namespace.namespace) {
            // Consul's wording (it says "registering" here too).
            io.error(&format!("Error registering service {:?}: {e}", svc.name));
            return 1;
        }
        io.info(&format!("Deregistered service: {id}"));
    }
    0
}
