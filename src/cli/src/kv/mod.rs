//! `ballast kv ...`: Consul's kv subcommands over the agent's HTTP API.
pub mod delete;
pub mod export;
pub mod get;
pub mod import;
pub mod put;

/// Reads a DATA argument as Consul does: `@file` from a file, `-` from stdin, else literal.
pub(crate) fn data_arg(data: &str, stdin: &mut dyn std::io::Read) -> Result<String, String> {
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
