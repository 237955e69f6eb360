//! `ballast keyring` (Consul's command/keyring): lists, installs, switches and removes the
//! gossip encryption keys through /v1/operator/keyring.
pub mod api;

use clap::{CommandFactory, Parser};

use crate::flags::{go_bool, ClientHttpFlags};
use crate::gossip::{client, error_help};
use crate::help::command_help;
use crate::keyring::api::KeyringResponse;
use crate::parse::parse;
use crate::Io;

const USAGE: &str = "
Usage: ballast keyring [options]

  Manages encryption keys used for gossip messages. Gossip encryption is
  optional. When enabled, this command may be used to examine active encryption
  keys in the cluster, add new keys, and remove old ones. When combined, this
  functionality provides the ability to perform key rotation cluster-wide,
  without disrupting the cluster.

  All operations performed by this command can only be run against server nodes,
  and affect both the LAN and WAN keyrings in lock-step.

  All variations of the keyring command return 0 if all nodes reply and there
  are no errors. If any node fails to reply or reports failure, the exit code
  will be 1.
";

#[derive(Parser, Debug)]
#[command(name = "keyring")]
struct KeyringArgs {
    #[command(flatten)]
    http: ClientHttpFlags,
    /// Install a new encryption key. This will broadcast the new key to all members in the
    /// cluster.
    #[arg(verbatim_doc_comment, long, value_name = "string", default_value = "", hide_default_value = true)]
    install: String,
    /// Change the primary encryption key, which is used to encrypt messages. The key must
    /// already be installed before this operation can succeed.
    #[arg(verbatim_doc_comment, long = "use", value_name = "string", default_value = "", hide_default_value = true)]
    use_key: String,
    /// Remove the given key from the cluster. This operation may only be performed on keys
    /// which are not currently the primary key.
    #[arg(verbatim_doc_comment, long, value_name = "string", default_value = "", hide_default_value = true)]
    remove: String,
    /// List all keys currently in use within the cluster.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", hide_default_value = true, value_parser = go_bool)]
    list: bool,
    /// List all primary keys currently in use within the cluster.
    #[arg(verbatim_doc_comment, long = "list-primary", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value = "false", hide_default_value = true, value_parser = go_bool)]
    list_primary: bool,
    /// Setting this to a non-zero value will cause nodes to relay their response to the
    /// operation through this many randomly-chosen other nodes in the cluster. The maximum
    /// allowed value is 5.
    #[arg(verbatim_doc_comment, long = "relay-factor", value_name = "int", default_value = "0",
          hide_default_value = true, allow_negative_numbers = true)]
    relay_factor: i64,
    /// Setting this to true will force the keyring query to only hit local servers (no WAN
    /// traffic). This flag can only be set for list queries.
    #[arg(verbatim_doc_comment, long = "local-only", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value = "false", hide_default_value = true, value_parser = go_bool)]
    local_only: bool,
}

pub fn help() -> String {
    command_help(USAGE, &KeyringArgs::command())
}

pub fn run(args: &[String], io: &mut Io) -> i32 {
    let Ok((a, _)) = parse::<KeyringArgs>(args, &help(), io) else { return 1 };
    let actions = [a.list, a.list_primary, !a.install.is_empty(), !a.use_key.is_empty(), !a.remove.is_empty()];
    match actions.iter().filter(|&&x| x).count() {
        0 => {
            error_help(io, &help());
            return 1;
        }
        1 => {}
        _ => {
            io.error("Only a single action is allowed");
            return 1;
        }
    }
    // agent.ParseRelayFactor and agent.ValidateLocalOnly, checked before connecting.
    let Ok(relay) = u8::try_from(a.relay_factor).map_err(|_| ()).and_then(|r| if r <= 5 { Ok(r) } else { Err(()) })
    else {
        io.error("Error parsing relay factor: Relay factor must be in range: [0, 5]");
        return 1;
    };
    if a.local_only && !a.list {
        io.error("Error validating local-only: local-only can only be set for list requests");
        return 1;
    }
    let Some(api) = client(&a.http, io) else { return 1 };
    if a.list || a.list_primary {
        // Consul's PrefixedUi puts "==> " before Info lines only.
        let what = if a.list { "installed encryption keys" } else { "installed primary encryption keys" };
        io.info(&format!("==> Gathering {what}..."));
        let responses = match api.keyring_list(relay, a.local_only) {
            Ok(r) => r,
            Err(e) => {
                io.error(&format!("error: {e}"));
                return 1;
            }
        };
        for r in &responses {
            io.info(&format_response(r, if a.list { &r.keys } else { &r.primary_keys }));
        }
        return 0;
    }
    let (method, key, doing) = if !a.install.is_empty() {
        ("POST", &a.install, "Installing new gossip encryption key...")
    } else if !a.use_key.is_empty() {
        ("PUT", &a.use_key, "Changing primary gossip encryption key...")
    } else {
        ("DELETE", &a.remove, "Removing gossip encryption key...")
    };
    io.info(&format!("==> {doing}"));
    if let Err(e) = api.keyring_write(method, key, relay) {
        io.error(&format!("error: {e}"));
        return 1;
    }
    0
}

/// One pool's block: a blank line, "<dc> (LAN):" or "WAN:" (with " [segment]"), the
/// messages, then "  <key> [<nodes>/<total>]" per key. Go walks maps in random order; keys
/// and messages are printed sorted here so the output is stable.
fn format_response(r: &KeyringResponse, keys: &std::collections::BTreeMap<String, i64>) -> String {
    let mut pool = if r.wan { "WAN".to_string() } else { format!("{} (LAN)", r.datacenter) };
    // The community build's acl.IsDefaultPartition is always true, so no partition suffix.
    if !r.segment.is_empty() {
        pool.push_str(&format!(" [{}]", r.segment));
    }
    let mut s = format!("\n{pool}:\n");
    for (from, msg) in &r.messages {
        s.push_str(&format!("  ===> {from}: {msg}\n"));
    }
    for (key, n) in keys {
        s.push_str(&format!("  {key} [{n}/{}]\n", r.num_nodes));
    }
    s.trim_end_matches('\n').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_block_layout() {
        let mut r = KeyringResponse { datacenter: "dc1".into(), segment: "alpha".into(), num_nodes: 3, ..Default::default() };
        r.messages.insert("node1".into(), "oops".into());
        r.keys.insert("k2".into(), 1);
        r.keys.insert("k1".into(), 3);
        assert_eq!(format_response(&r, &r.keys), "\ndc1 (LAN) [alpha]:\n  ===> node1: oops\n  k1 [3/3]\n  k2 [1/3]");
        let wan = KeyringResponse { wan: true, datacenter: "dc1".into(), ..Default::default() };
        assert_eq!(format_response(&wan, &wan.keys), "\nWAN:");
    }
}
