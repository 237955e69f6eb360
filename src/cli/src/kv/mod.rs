//! `ballast kv ...`: Consul's kv subcommands over the agent's HTTP API.
pub mod delete;
pub mod export;
pub mod get;
pub mod import;
pub mod put;

use crate::api::ApiClient;
use crate::flags::HttpFlags;
use crate::Io;

/// Consul's text when a command needs a KEY and got none.
pub(crate) const MISSING_KEY: &str = "Error! Missing KEY argument";

/// Prints `msg` as an error and gives the exit code Consul uses for it.
pub(crate) fn fail(io: &mut Io, msg: &str) -> i32 {
    io.error(msg);
    1
}

/// Unwraps `r`, or prints `{context}{error}` and yields None so the caller exits 1.
pub(crate) fn or_report<T, E: std::fmt::Display>(r: Result<T, E>, context: &str, io: &mut Io) -> Option<T> {
    r.map_err(|e| io.error(&format!("{context}{e}"))).ok()
}

/// The agent client from the HTTP flags, or None after printing Consul's connect error.
pub(crate) fn connect(http: &HttpFlags, io: &mut Io) -> Option<ApiClient> {
    or_report(http.client(), "Error connecting to Consul agent: ", io)
}

/// Unwraps an agent query's result, or prints Consul's query error and yields None.
pub(crate) fn queried<T>(r: Result<T, String>, io: &mut Io) -> Option<T> {
    or_report(r, "Error querying Consul agent: ", io)
}

/// The optional KEY_OR_PREFIX of get, delete and export: at most one, without a leading '/'
/// (Consul strips one so "/foo" and "foo" name the same key). None after printing an error.
pub(crate) fn optional_key(args: &[String], io: &mut Io) -> Option<String> {
    match args {
        [] => Some(String::new()),
        [key] => Some(key.strip_prefix('/').unwrap_or(key).to_string()),
        _ => {
            io.error(&format!("Too many arguments (expected 1, got {})", args.len()));
            None
        }
    }
}

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
