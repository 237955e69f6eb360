//! `ballast kv put` (Consul's command/kv/put).
use base64::Engine;
use clap::{CommandFactory, Parser};

use crate::api::{go_base64_error, PutMode};
use crate::flags::{go_bool, HttpFlags};
use crate::help::command_help;
use crate::kv::{connect, data_arg, fail, MISSING_KEY};
use crate::parse::parse;
use crate::Io;

const USAGE: &str = r#"
Usage: ballast kv put [options] KEY [DATA]

  Writes the data to the given path in the key-value store. The data can be of
  any type.

      $ ballast kv put config/redis/maxconns 5

  The data can also be consumed from a file on disk by prefixing with the "@"
  symbol. For example:

      $ ballast kv put config/program/license @license.lic

  Or it can be read from stdin using the "-" symbol:

      $ echo "abcd1234" | ballast kv put config/program/license -

  The DATA argument itself is optional. If omitted, this will create an empty
  key-value pair at the specified path:

      $ ballast kv put webapp/beta/active

  If the -base64 flag is specified, the data will be treated as base 64
  encoded.

  To perform a Check-And-Set operation, specify the -cas flag with the
  appropriate -modify-index flag corresponding to the key you want to perform
  the CAS operation on:

      $ ballast kv put -cas -modify-index=844 config/redis/maxconns 5

  Additional flags and more advanced use cases are detailed below.
"#;

#[derive(Parser, Debug)]
#[command(name = "kv put")]
struct PutArgs {
    #[command(flatten)]
    http: HttpFlags,
    /// Obtain a lock on the key. If the key does not exist, this operation will create the key
    /// and obtain the lock. The session must already exist and be specified via the -session
    /// flag. The default value is false.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", hide_default_value = true, value_parser = go_bool)]
    acquire: bool,
    /// Treat the data as base 64 encoded. The default value is false.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", hide_default_value = true, value_parser = go_bool)]
    base64: bool,
    /// Perform a Check-And-Set operation. Specifying this value also requires the -modify-index
    /// flag to be set. The default value is false.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", hide_default_value = true, value_parser = go_bool)]
    cas: bool,
    /// Unsigned integer value to assign to this key-value pair. This value is not read by
    /// Consul, so clients can use this value however makes sense for their use case. The
    /// default value is 0 (no flags).
    #[arg(verbatim_doc_comment, long, value_name = "uint", default_value = "0", hide_default_value = true)]
    flags: u64,
    /// Unsigned integer representing the ModifyIndex of the key. This is used in combination
    /// with the -cas flag.
    #[arg(verbatim_doc_comment, long = "modify-index", value_name = "uint", default_value = "0", hide_default_value = true)]
    modify_index: u64,
    /// Forfeit the lock on the key at the given path. This requires the -session flag to be
    /// set. The key must be held by the session in order to be unlocked. The default value is
    /// false.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", hide_default_value = true, value_parser = go_bool)]
    release: bool,
    /// User-defined identifer for this session as a string. This is commonly used with the
    /// -acquire and -release operations to build robust locking, but it can be set on any key.
    /// The default value is empty (no session).
    #[arg(verbatim_doc_comment, long, value_name = "string", default_value = "", hide_default_value = true)]
    session: String,
    #[arg(verbatim_doc_comment, hide = true)]
    args: Vec<String>,
}

pub fn help() -> String {
    command_help(USAGE, &PutArgs::command())
}

pub fn run(args: &[String], io: &mut Io) -> i32 {
    let Ok((a, _)) = parse::<PutArgs>(args, &help(), io) else { return 1 };
    let (key, data) = match a.args.len() {
        0 => return fail(io, MISSING_KEY),
        1 => (a.args[0].clone(), String::new()),
        2 => match data_arg(&a.args[1], io.stdin) {
            Ok(d) => (a.args[0].clone(), d),
            Err(e) => return fail(io, &format!("Error! {e}")),
        },
        n => return fail(io, &format!("Error! Too many arguments (expected 1 or 2, got {n})")),
    };
    let value = if a.base64 {
        match base64::engine::general_purpose::STANDARD.decode(data.as_bytes()) {
            Ok(v) => v,
            Err(e) => {
                // Consul prints this and carries on writing an empty value; stopping is safer.
                return fail(io, &format!("Error! Cannot base 64 decode data: {}", go_base64_error(&e)));
            }
        }
    } else {
        data.into_bytes()
    };
    if (a.release || a.acquire) && a.session.is_empty() {
        return fail(io, "Error! Missing -session (required with -acquire and -release)");
    }
    if a.cas && a.modify_index == 0 {
        return fail(io, "Must specify -modify-index with -cas!");
    }
    let Some(client) = connect(&a.http, io) else { return 1 };
    let (mode, ok_msg, refused_msg) = if a.cas {
        (PutMode::Cas(a.modify_index), format!("Success! Data written to: {key}"), format!("Error! Did not write to {key}: CAS failed"))
    } else if a.acquire {
        (PutMode::Acquire(a.session.clone()), format!("Success! Lock acquired on: {key}"), "Error! Did not acquire lock".to_string())
    } else if a.release {
        (PutMode::Release(a.session.clone()), format!("Success! Lock released on: {key}"), "Error! Did not release lock".to_string())
    } else {
        (PutMode::Plain, format!("Success! Data written to: {key}"), String::new())
    };
    match client.kv_put(&key, &value, a.flags, &mode) {
        Err(e) => {
            let msg = match mode {
                PutMode::Cas(_) => format!("Error! Did not write to {key}: {e}"),
                // Consul prints the key, not the error, here.
                PutMode::Release(_) => format!("Error! Failed writing data: {key}"),
                _ => format!("Error! Failed writing data: {e}"),
            };
            fail(io, &msg)
        }
        Ok(false) if !matches!(mode, PutMode::Plain) => fail(io, &refused_msg),
        Ok(_) => {
            io.info(&ok_msg);
            0
        }
    }
}
