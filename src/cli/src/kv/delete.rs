//! `ballast kv delete` (Consul's command/kv/del).
use clap::{CommandFactory, Parser};

use crate::api::DeleteMode;
use crate::flags::{go_bool, HttpFlags};
use crate::help::command_help;
use crate::kv::{connect, fail, optional_key, MISSING_KEY};
use crate::parse::parse;
use crate::Io;

const USAGE: &str = r#"
Usage: ballast kv delete [options] KEY_OR_PREFIX

  Removes the value from ballast's key-value store at the given path. If no
  key exists at the path, no action is taken.

  To delete the value for the key named "foo" in the key-value store:

      $ ballast kv delete foo

  To delete all keys which start with "foo", specify the -recurse option:

      $ ballast kv delete -recurse foo

  This will delete the keys named "foo", "food", and "foo/bar/zip" if they
  existed.
"#;

#[derive(Parser, Debug)]
#[command(name = "kv delete")]
struct DeleteArgs {
    #[command(flatten)]
    http: HttpFlags,
    /// Perform a Check-And-Set operation. Specifying this value also requires the -modify-index
    /// flag to be set. The default value is false.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", hide_default_value = true, value_parser = go_bool)]
    cas: bool,
    /// Unsigned integer representing the ModifyIndex of the key. This is used in combination
    /// with the -cas flag.
    #[arg(verbatim_doc_comment, long = "modify-index", value_name = "uint", default_value = "0", hide_default_value = true)]
    modify_index: u64,
    /// Recursively delete all keys with the path. The default value is false.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", hide_default_value = true, value_parser = go_bool)]
    recurse: bool,
    #[arg(verbatim_doc_comment, hide = true)]
    args: Vec<String>,
}

pub fn help() -> String {
    command_help(USAGE, &DeleteArgs::command())
}

pub fn run(args: &[String], io: &mut Io) -> i32 {
    let Ok((a, _)) = parse::<DeleteArgs>(args, &help(), io) else { return 1 };
    let Some(key) = optional_key(&a.args, io) else { return 1 };
    if key.is_empty() && !a.recurse {
        return fail(io, MISSING_KEY);
    }
    if a.cas && a.modify_index == 0 {
        return fail(io, "Cannot delete a key that does not exist. Provide a -modify-index greater than than 0.");
    }
    if a.modify_index != 0 && !a.cas {
        return fail(io, "Cannot specify -modify-index without -cas!");
    }
    if a.recurse && a.cas {
        return fail(io, "Cannot specify both -cas and -recurse!");
    }
    let Some(client) = connect(&a.http, io) else { return 1 };
    if a.recurse {
        return match client.kv_delete(&key, &DeleteMode::Recurse) {
            Ok(_) => {
                io.info(&format!("Success! Deleted keys with prefix: {key}"));
                0
            }
            Err(e) => fail(io, &format!("Error! Did not delete prefix {key}: {e}")),
        };
    }
    if a.cas {
        return match client.kv_delete(&key, &DeleteMode::Cas(a.modify_index)) {
            Ok(true) => {
                io.info(&format!("Success! Deleted key: {key}"));
                0
            }
            Ok(false) => fail(io, &format!("Error! Did not delete key {key}: CAS failed")),
            Err(e) => fail(io, &format!("Error! Did not delete key {key}: {e}")),
        };
    }
    match client.kv_delete(&key, &DeleteMode::Plain) {
        Ok(_) => {
            io.info(&format!("Success! Deleted key: {key}"));
            0
        }
        Err(e) => fail(io, &format!("Error deleting key {key}: {e}")),
    }
}
