//! Help texts laid out as Consul's (mitchellh/cli's command list, command/flags/usage.go's
//! "HTTP API Options" / "Command Options" sections, wrapped at 72 columns).
use clap::Command;

use crate::flags::HTTP_FLAG_NAMES;

/// One runnable command: its words, its one-line synopsis.
pub struct CommandInfo {
    pub path: &'static str,
    pub synopsis: &'static str,
}

pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo { path: "agent", synopsis: "Runs a ballast agent" },
    CommandInfo { path: "catalog", synopsis: "Interact with the catalog" },
    CommandInfo { path: "catalog datacenters", synopsis: "Lists all known datacenters" },
    CommandInfo { path: "catalog nodes", synopsis: "Lists all nodes in the given datacenter" },
    CommandInfo { path: "catalog services", synopsis: "Lists all registered services in a datacenter" },
    CommandInfo { path: "force-leave", synopsis: "Forces a member of the cluster to enter the \"left\" state" },
    CommandInfo { path: "join", synopsis: "Tell ballast agent to join cluster" },
    CommandInfo { path: "keygen", synopsis: "Generates a new encryption key" },
    CommandInfo { path: "keyring", synopsis: "Manages gossip layer encryption keys" },
    CommandInfo { path: "kv", synopsis: "Interact with the key-value store" },
    CommandInfo { path: "kv delete", synopsis: "Removes data from the KV store" },
    CommandInfo { path: "kv export", synopsis: "Exports a tree from the KV store as JSON" },
    CommandInfo { path: "kv get", synopsis: "Retrieves or lists data from the KV store" },
    CommandInfo { path: "kv import", synopsis: "Imports a tree stored as JSON to the KV store" },
    CommandInfo { path: "kv put", synopsis: "Sets or updates data in the KV store" },
    CommandInfo { path: "leave", synopsis: "Gracefully leaves the ballast cluster and shuts down" },
    CommandInfo { path: "maint", synopsis: "Controls node or service maintenance mode" },
    CommandInfo { path: "members", synopsis: "Lists the members of a ballast cluster" },
    CommandInfo { path: "operator", synopsis: "Provides cluster-level tools for ballast operators" },
    CommandInfo { path: "operator raft", synopsis: "Provides cluster-level tools for ballast operators" },
    CommandInfo { path: "operator raft list-peers", synopsis: "Display the current Raft peer configuration" },
    CommandInfo { path: "operator raft remove-peer", synopsis: "Remove a ballast server from the Raft configuration" },
    CommandInfo { path: "operator raft transfer-leader", synopsis: "Transfer raft leadership to another node" },
    CommandInfo { path: "rtt", synopsis: "Estimates network round trip time between nodes" },
    CommandInfo { path: "services", synopsis: "Interact with services" },
    CommandInfo { path: "services deregister", synopsis: "Deregister services with the local agent" },
    CommandInfo { path: "services register", synopsis: "Register services with the local agent" },
    CommandInfo { path: "version", synopsis: "Prints the ballast version" },
];

/// The list shown by `ballast`, `ballast -h` and for an unknown command (mitchellh/cli's
/// BasicHelpFunc), for the commands directly under `parent` ("" for the top level).
pub fn command_list(parent: &str) -> String {
    let children: Vec<&CommandInfo> = COMMANDS.iter().filter(|c| parent_of(c.path) == parent).collect();
    let width = children.iter().map(|c| last_word(c.path).len()).max().unwrap_or(0);
    let mut s = String::from("Usage: ballast [--version] [--help] <command> [<args>]\n\nAvailable commands are:\n");
    for c in children {
        s.push_str(&format!("    {:width$}    {}\n", last_word(c.path), c.synopsis));
    }
    s
}

/// The help of a parent command such as `kv`, with its subcommands listed.
pub fn parent_help(parent: &str, text: &str) -> String {
    let children: Vec<&CommandInfo> = COMMANDS.iter().filter(|c| parent_of(c.path) == parent).collect();
    let width = children.iter().map(|c| last_word(c.path).len()).max().unwrap_or(0);
    let mut s = text.trim().to_string();
    s.push_str("\n\nSubcommands:");
    for c in children {
        s.push_str(&format!("\n    {:width$}    {}", last_word(c.path), c.synopsis));
    }
    s.push('\n');
    s
}

fn parent_of(path: &str) -> &str {
    path.rsplit_once(' ').map_or("", |(p, _)| p)
}

fn last_word(path: &str) -> &str {
    path.rsplit_once(' ').map_or(path, |(_, w)| w)
}

/// A command's help: its usage text, then its flags in two sections, sorted by name.
pub fn command_help(usage: &str, cmd: &Command) -> String {
    let mut out = usage.trim().to_string();
    out.push_str("\n\n");
    let mut args: Vec<&clap::Arg> = cmd.get_arguments().filter(|a| a.get_long().is_some() && !a.is_hide_set()).collect();
    args.sort_by_key(|a| a.get_long());
    let has_http = args.iter().any(|a| a.get_long() == Some("http-addr"));
    let (http, own): (Vec<&clap::Arg>, Vec<&clap::Arg>) = args
        .into_iter()
        .partition(|a| has_http && a.get_long().is_some_and(|l| HTTP_FLAG_NAMES.contains(&l)));
    for (title, group) in [("HTTP API Options", http), ("Command Options", own)] {
        if group.is_empty() {
            continue;
        }
        out.push_str(title);
        out.push_str("\n\n");
        for a in group {
            let name = a.get_long().unwrap_or_default();
            let is_bool = a.get_num_args().is_some_and(|n| n.min_values() == 0);
            if is_bool {
                out.push_str(&format!("  -{name}\n"));
            } else {
                // Consul shows <value> for its flag.Value flags and the Go type otherwise.
                let example = a
                    .get_value_names()
                    .and_then(|v| v.first())
                    .map(|v| v.to_string())
                    // Go's backquoted usage names: `address`, `key=value`, `id or name`.
                    .filter(|v| v.chars().all(|c| c.is_ascii_lowercase() || c == '=' || c == ' '))
                    .unwrap_or_else(|| "value".to_string());
                out.push_str(&format!("  -{name}=<{example}>\n"));
            }
            let text = a.get_long_help().or(a.get_help()).map(|h| h.to_string()).unwrap_or_default();
            out.push_str(&wrap(&text.replace('`', ""), 72 - 5, 5));
            out.push_str("\n\n");
        }
    }
    out.trim_end_matches('\n').to_string() + "\n"
}

/// Greedy word wrap, each line indented by `pad` spaces.
fn wrap(text: &str, width: usize, pad: usize) -> String {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    let indent = " ".repeat(pad);
    lines.iter().map(|l| format!("{indent}{l}")).collect::<Vec<_>>().join("\n")
}
