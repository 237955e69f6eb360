//! `ballast version` (Consul's command/version): pretty or JSON.
use clap::{CommandFactory, Parser};
use serde::Serialize;

use crate::help::command_help;
use crate::parse::parse;
use crate::Io;

const USAGE: &str = "\nUsage: ballast version [options]\n";
/// Consul's RPC protocol numbers, which ballast speaks for compatibility reporting.
const RPC_DEFAULT: u32 = 2;
const RPC_MIN: u32 = 2;
const RPC_MAX: u32 = 3;

#[derive(Parser, Debug)]
#[command(name = "version")]
struct VersionArgs {
    /// Output format {pretty|json}
    #[arg(verbatim_doc_comment, long, value_name = "string", default_value = "pretty", hide_default_value = true)]
    format: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct VersionInfo {
    version: &'static str,
    revision: &'static str,
    prerelease: &'static str,
    build_date: &'static str,
    #[serde(rename = "RPC")]
    rpc: Rpc,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Rpc {
    default: u32,
    min: u32,
    max: u32,
}

pub fn help() -> String {
    command_help(USAGE, &VersionArgs::command())
}

pub fn run(args: &[String], io: &mut Io) -> i32 {
    let Ok((a, _)) = parse::<VersionArgs>(args, &help(), io) else { return 1 };
    let version = env!("CARGO_PKG_VERSION");
    match a.format.as_str() {
        "pretty" => {
            // Consul's text ends with a newline and Ui.Output adds another.
            io.info(&format!(
                "ballast v{version}\nProtocol {RPC_DEFAULT} spoken by default, understands {RPC_MIN} to {RPC_MAX} (agent will automatically use protocol >{RPC_DEFAULT} when speaking to compatible agents)\n"
            ));
            0
        }
        "json" => {
            let info = VersionInfo {
                version,
                revision: "",
                prerelease: "",
                build_date: "1970-01-01T00:00:01Z",
                rpc: Rpc { default: RPC_DEFAULT, min: RPC_MIN, max: RPC_MAX },
            };
            let mut buf = Vec::new();
            let mut ser = serde_json::Serializer::with_formatter(&mut buf, serde_json::ser::PrettyFormatter::with_indent(b"   "));
            if info.serialize(&mut ser).is_err() {
                io.error("Failed to marshal version info");
                return 1;
            }
            io.info(&String::from_utf8_lossy(&buf));
            0
        }
        other => {
            io.error(&format!("Unknown format: {other}"));
            1
        }
    }
}
