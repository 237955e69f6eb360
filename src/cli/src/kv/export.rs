//! `ballast kv export` (Consul's command/kv/exp): the tree as Consul's import/export JSON.
use base64::Engine;
use clap::{CommandFactory, Parser};
use serde::Serialize;

use crate::flags::HttpFlags;
use crate::help::command_help;
use crate::kv::{connect, fail, optional_key, queried};
use crate::parse::parse;
use crate::Io;

const USAGE: &str = r#"
Usage: ballast kv export [KEY_OR_PREFIX]

  Retrieves key-value pairs for the given prefix from ballast's key-value store,
  and writes a JSON representation to stdout. This can be used with the command
  "ballast kv import" to move entire trees between clusters.

      $ ballast kv export vault

  For a full list of options and examples, please see the Consul documentation.
"#;

#[derive(Parser, Debug)]
#[command(name = "kv export")]
struct ExportArgs {
    #[command(flatten)]
    http: HttpFlags,
    #[arg(verbatim_doc_comment, hide = true)]
    args: Vec<String>,
}

/// Consul's impexp.Entry.
#[derive(Serialize)]
struct Entry<'a> {
    key: &'a str,
    flags: u64,
    value: String,
}

pub fn help() -> String {
    command_help(USAGE, &ExportArgs::command())
}

pub fn run(args: &[String], io: &mut Io) -> i32 {
    let Ok((a, _)) = parse::<ExportArgs>(args, &help(), io) else { return 1 };
    let Some(key) = optional_key(&a.args, io) else { return 1 };
    let Some(client) = connect(&a.http, io) else { return 1 };
    let Some(pairs) = queried(client.kv_list(&key), io) else { return 1 };
    let entries: Vec<Entry> = pairs
        .iter()
        .map(|p| Entry { key: &p.key, flags: p.flags, value: base64::engine::general_purpose::STANDARD.encode(&p.value) })
        .collect();
    match go_json_indent(&entries) {
        Ok(text) => {
            io.info(&text);
            0
        }
        Err(e) => fail(io, &format!("Error exporting KV data: {e}")),
    }
}

/// Go's json.MarshalIndent(v, "", "\t"), including its escaping of <, > and & (which only
/// occur inside strings in JSON text, so a plain replace is exact).
fn go_json_indent<T: Serialize>(v: &T) -> Result<String, String> {
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, serde_json::ser::PrettyFormatter::with_indent(b"\t"));
    v.serialize(&mut ser).map_err(|e| e.to_string())?;
    let text = String::from_utf8(buf).map_err(|e| e.to_string())?;
    Ok(text
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029"))
}
