//! `ballast catalog ...`: Consul's catalog commands (`datacenters`, `nodes`, `services`) over
//! the agent's HTTP API.
pub mod api;
pub mod datacenters;
pub mod nodes;
pub mod services;

use crate::Io;

/// `ballast catalog` alone (command/catalog).
pub const CATALOG_HELP: &str = "
Usage: ballast catalog <subcommand> [options] [args]

  This command has subcommands for interacting with ballast's catalog. The
  catalog should not be confused with the agent, although the APIs and
  responses may be similar.

  Here are some simple examples, and more detailed examples are available
  in the subcommands or the documentation.

  List all datacenters:

      $ ballast catalog datacenters

  List all nodes:

      $ ballast catalog nodes

  List all services:

      $ ballast catalog services

  For more examples, ask for subcommand help or view the documentation.
";

/// The catalog commands take no positional arguments; Consul's error when some are given.
pub(crate) fn no_args(args: &[String], io: &mut Io) -> bool {
    if args.is_empty() {
        return true;
    }
    io.error(&format!("Too many arguments (expected 0, got {})", args.len()));
    false
}

/// Consul's helpers.LoadDataSource: `@file` reads a file, a lone `-` reads stdin, anything
/// else (including "" and `-x`) is the value itself.
pub(crate) fn load_data_source(data: &str, stdin: &mut dyn std::io::Read) -> Result<String, String> {
    if let Some(path) = data.strip_prefix('@') {
        return std::fs::read(path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map_err(|e| format!("Failed to read file: open {path}: {}", crate::http_client::go_io_text(&e)));
    }
    if data == "-" {
        let mut buf = Vec::new();
        stdin.read_to_end(&mut buf).map_err(|e| format!("Failed to read stdin: {e}"))?;
        return Ok(String::from_utf8_lossy(&buf).into_owned());
    }
    Ok(data.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_sources() {
        let mut stdin: &[u8] = b"Node == a";
        assert_eq!(load_data_source("-", &mut stdin).unwrap(), "Node == a");
        let mut empty: &[u8] = b"";
        assert_eq!(load_data_source("-x", &mut empty).unwrap(), "-x");
        assert_eq!(load_data_source("", &mut empty).unwrap(), "");
        let dir = std::env::temp_dir().join(format!("ballast-cli-ds-{}", std::process::id()));
        std::fs::write(&dir, "Meta.a == b").unwrap();
        assert_eq!(load_data_source(&format!("@{}", dir.display()), &mut empty).unwrap(), "Meta.a == b");
        std::fs::remove_file(&dir).unwrap();
        let err = load_data_source("@/nonexistent/f", &mut empty).unwrap_err();
        assert_eq!(err, "Failed to read file: open /nonexistent/f: no such file or directory");
    }
}
