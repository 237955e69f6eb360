//! `ballast kv get` (Consul's command/kv/get).
use base64::Engine;
use clap::{CommandFactory, Parser};

use crate::api::KvPair;
use crate::flags::{go_bool, HttpFlags};
use crate::help::command_help;
use crate::kv::{connect, fail, optional_key, queried, MISSING_KEY};
use crate::parse::parse;
use crate::Io;

const USAGE: &str = r#"
Usage: ballast kv get [options] [KEY_OR_PREFIX]

  Retrieves the value from ballast's key-value store at the given key name. If no
  key exists with that name, an error is returned. If a key exists with that
  name but has no data, nothing is returned. If the name or prefix is omitted,
  it defaults to "" which is the root of the key-value store.

  To retrieve the value for the key named "foo" in the key-value store:

      $ ballast kv get foo

  This will return the original, raw value stored in ballast. To view detailed
  information about the key, specify the "-detailed" flag. This will output all
  known metadata about the key including ModifyIndex and any user-supplied
  flags:

      $ ballast kv get -detailed foo

  To treat the path as a prefix and list all keys which start with the given
  prefix, specify the "-recurse" flag:

      $ ballast kv get -recurse foo

  This will return all key-value pairs. To just list the keys which start with
  the specified prefix, use the "-keys" option instead:

      $ ballast kv get -keys foo

  For a full list of options and examples, please see the Consul documentation.
"#;

#[derive(Parser, Debug)]
#[command(name = "kv get")]
struct GetArgs {
    #[command(flatten)]
    http: HttpFlags,
    /// Base64 encode the value. The default value is false.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", hide_default_value = true, value_parser = go_bool)]
    base64: bool,
    /// Provide additional metadata about the key in addition to the value such as the
    /// ModifyIndex and any flags that may have been set on the key. The default value is false.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", hide_default_value = true, value_parser = go_bool)]
    detailed: bool,
    /// List keys which start with the given prefix, but not their values. This is especially
    /// useful if you only need the key names themselves. This option is commonly combined with
    /// the -separator option. The default value is false.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", hide_default_value = true, value_parser = go_bool)]
    keys: bool,
    /// Recursively look at all keys prefixed with the given path. The default value is false.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", hide_default_value = true, value_parser = go_bool)]
    recurse: bool,
    /// String to use as a separator between keys. The default value is "/", but this option is
    /// only taken into account when paired with the -keys flag.
    #[arg(verbatim_doc_comment, long, value_name = "string", default_value = "/", hide_default_value = true)]
    separator: String,
    #[arg(verbatim_doc_comment, hide = true)]
    args: Vec<String>,
}

pub fn help() -> String {
    command_help(USAGE, &GetArgs::command())
}

pub fn run(args: &[String], io: &mut Io) -> i32 {
    let Ok((a, _)) = parse::<GetArgs>(args, &help(), io) else { return 1 };
    let Some(key) = optional_key(&a.args, io) else { return 1 };
    if key.is_empty() && !(a.recurse || a.keys) {
        return fail(io, MISSING_KEY);
    }
    let Some(client) = connect(&a.http, io) else { return 1 };
    if a.keys {
        let Some(keys) = queried(client.kv_keys(&key, &a.separator), io) else { return 1 };
        keys.iter().for_each(|k| io.info(k));
        return 0;
    }
    if a.recurse {
        let Some(pairs) = queried(client.kv_list(&key), io) else { return 1 };
        for (i, pair) in pairs.iter().enumerate() {
            if a.detailed {
                io.info(&pretty_pair(pair, a.base64));
                if i + 1 < pairs.len() {
                    io.info("");
                }
            } else {
                let value = render_value(&pair.value, a.base64);
                io.info(&format!("{}:{}", pair.key, value));
            }
        }
        return 0;
    }
    match queried(client.kv_get(&key), io) {
        None => 1,
        Some(None) => fail(io, &format!("Error! No key exists at: {key}")),
        Some(Some(pair)) if a.detailed => {
            io.info(&pretty_pair(&pair, a.base64));
            0
        }
        Some(Some(pair)) => {
            // The raw bytes, as Consul prints them, followed by a newline.
            let _ = io.out.write_all(&pair.value);
            let _ = io.out.write_all(b"\n");
            0
        }
    }
}

fn render_value(v: &[u8], b64: bool) -> String {
    if b64 {
        base64::engine::general_purpose::STANDARD.encode(v)
    } else {
        String::from_utf8_lossy(v).into_owned()
    }
}

/// Consul's `-detailed` layout: a tabwriter with padding 6, so the names column is as wide as
/// "CreateIndex" plus six spaces.
fn pretty_pair(p: &KvPair, b64: bool) -> String {
    let session = if p.session.is_empty() { "-".to_string() } else { p.session.clone() };
    let rows = [
        ("CreateIndex", p.create_index.to_string()),
        ("Flags", p.flags.to_string()),
        ("Key", p.key.clone()),
        ("LockIndex", p.lock_index.to_string()),
        ("ModifyIndex", p.modify_index.to_string()),
        ("Session", session),
        ("Value", render_value(&p.value, b64)),
    ];
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0) + 6;
    rows.iter().map(|(n, v)| format!("{n:width$}{v}")).collect::<Vec<_>>().join("\n")
}

