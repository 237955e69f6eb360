//! Finds the command in the arguments the way mitchellh/cli (Consul's CLI framework) does:
//! `-v`/`-version` print the version, `-h`/`-help`/`--help` anywhere print help (exit 0), an
//! unknown command prints the command list to stderr (exit 127), a parent command such as
//! `kv` or `operator raft` alone prints its help (exit 1).
use crate::help::{command_list, parent_help, COMMANDS};
use crate::{agent_cmd, catalog, gossip, keygen, keyring, kv, maint, operator, rtt, services, version_cmd, Io};

const KV_HELP: &str = "
Usage: ballast kv <subcommand> [options] [args]

  This command has subcommands for interacting with ballast's key-value
  store. Here are some simple examples, and more detailed examples are
  available in the subcommands or the documentation.

  Create or update the key named \"redis/config/connections\" with the value \"5\":

      $ ballast kv put redis/config/connections 5

  Read this value back:

      $ ballast kv get redis/config/connections

  Or get detailed key information:

      $ ballast kv get -detailed redis/config/connections

  Finally, delete the key:

      $ ballast kv delete redis/config/connections

  For more examples, ask for subcommand help or view the documentation.
";

/// Runs `ballast <args>` and returns the exit code.
pub fn run(args: &[String], io: &mut Io) -> i32 {
    let before_dashdash = args.iter().take_while(|a| *a != "--");
    let mut is_help = false;
    let mut top_flags = Vec::new();
    let mut command: Option<(&str, usize)> = None;
    for (i, arg) in before_dashdash.enumerate() {
        if matches!(arg.as_str(), "-h" | "-help" | "--help") {
            is_help = true;
            continue;
        }
        if command.is_none() {
            if matches!(arg.as_str(), "-v" | "-version" | "--version") {
                return version_cmd::run(&[], io);
            }
            if arg.starts_with('-') {
                top_flags.push(arg.clone());
                continue;
            }
            command = Some(longest_command(&args[i..]).map_or((arg.as_str(), i + 1), |(p, n)| (p, i + n)));
        }
    }
    let Some((path, rest_at)) = command else {
        let _ = writeln!(io.err, "{}", command_list(""));
        return if is_help { 0 } else { 127 };
    };
    if !COMMANDS.iter().any(|c| c.path == path) {
        let _ = writeln!(io.err, "{}", command_list(""));
        return 127;
    }
    if !top_flags.is_empty() && !is_help {
        io.error("Invalid flags before the subcommand. If these flags are for\nthe subcommand, please put them after the subcommand.\n");
        print_help(path, io);
        return 1;
    }
    if is_help {
        print_help(path, io);
        return 0;
    }
    let rest = &args[rest_at..];
    match path {
        "agent" => agent_cmd::run(rest, io),
        "catalog" | "services" => {
            print_help(path, io);
            1
        }
        "catalog datacenters" => catalog::datacenters::run(rest, io),
        "catalog nodes" => catalog::nodes::run(rest, io),
        "catalog services" => catalog::services::run(rest, io),
        "services register" => services::register::run(rest, io),
        "services deregister" => services::deregister::run(rest, io),
        "maint" => maint::run(rest, io),
        "force-leave" => gossip::force_leave::run(rest, io),
        "join" => gossip::join::run(rest, io),
        "keygen" => keygen::run(rest, io),
        "keyring" => keyring::run(rest, io),
        "leave" => gossip::leave::run(rest, io),
        "members" => gossip::members::run(rest, io),
        "rtt" => rtt::run(rest, io),
        "kv" => {
            print_help(path, io);
            1
        }
        "kv get" => kv::get::run(rest, io),
        "kv put" => kv::put::run(rest, io),
        "kv delete" => kv::delete::run(rest, io),
        "kv export" => kv::export::run(rest, io),
        "kv import" => kv::import::run(rest, io),
        "operator" | "operator raft" => {
            print_help(path, io);
            1
        }
        "operator raft list-peers" => operator::list_peers::run(rest, io),
        "operator raft remove-peer" => operator::remove_peer::run(rest, io),
        "operator raft transfer-leader" => operator::transfer_leader::run(rest, io),
        "version" => version_cmd::run(rest, io),
        _ => 127,
    }
}


/// The longest known command at the start of `words`, and how many words it used.
fn longest_command(words: &[String]) -> Option<(&'static str, usize)> {
    COMMANDS
        .iter()
        .filter_map(|c| {
            let n = c.path.split(' ').count();
            let matches = words.len() >= n && c.path.split(' ').zip(words).all(|(a, b)| a == b);
            matches.then_some((c.path, n))
        })
        .max_by_key(|&(_, n)| n)
}

fn print_help(path: &str, io: &mut Io) {
    let text = match path {
        "agent" => agent_cmd::help(),
        "catalog" => parent_help("catalog", catalog::CATALOG_HELP),
        "catalog datacenters" => catalog::datacenters::help(),
        "catalog nodes" => catalog::nodes::help(),
        "catalog services" => catalog::services::help(),
        "services" => parent_help("services", services::SERVICES_HELP),
        "services register" => services::register::help(),
        "services deregister" => services::deregister::help(),
        "maint" => maint::help(),
        "force-leave" => gossip::force_leave::help(),
        "join" => gossip::join::help(),
        "keygen" => keygen::help(),
        "keyring" => keyring::help(),
        "leave" => gossip::leave::help(),
        "members" => gossip::members::help(),
        "rtt" => rtt::help(),
        "kv" => parent_help("kv", KV_HELP),
        "kv get" => kv::get::help(),
        "kv put" => kv::put::help(),
        "kv delete" => kv::delete::help(),
        "kv export" => kv::export::help(),
        "kv import" => kv::import::help(),
        "operator" => parent_help("operator", operator::OPERATOR_HELP),
        "operator raft" => parent_help("operator raft", operator::RAFT_HELP),
        "operator raft list-peers" => operator::list_peers::help(),
        "operator raft remove-peer" => operator::remove_peer::help(),
        "operator raft transfer-leader" => operator::transfer_leader::help(),
        _ => version_cmd::help(),
    };
    let _ = write!(io.err, "{text}");
}
