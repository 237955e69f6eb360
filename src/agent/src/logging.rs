//! Logs through `tracing`, with Consul's `-log-level` names (trace, debug, info, warn, error).
use tracing_subscriber::{fmt, EnvFilter};

/// Maps Consul's level names (case-insensitive; "warning" and "err" accepted as Consul does)
/// to a tracing filter directive.
pub fn level_directive(level: &str) -> Result<&'static str, String> {
    match level.trim().to_ascii_lowercase().as_str() {
        "trace" => Ok("trace"),
        "debug" => Ok("debug"),
        "" | "info" => Ok("info"),
        "warn" | "warning" => Ok("warn"),
        "err" | "error" => Ok("error"),
        other => Err(format!("Invalid log level: {other}")),
    }
}

/// Installs the global subscriber once. Output goes to stderr like Consul's agent log.
pub fn init(level: &str, json: bool) -> Result<(), String> {
    let directive = level_directive(level)?;
    let filter = EnvFilter::try_from_env("BALLAST_LOG").unwrap_or_else(|_| EnvFilter::new(directive));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false);
    let result = if json { builder.json().try_init() } else { builder.try_init() };
    // A second init (tests starting several agents in one process) is not an error.
    let _ = result;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn consul_level_names() {
        assert_eq!(level_directive("INFO").unwrap(), "info");
        assert_eq!(level_directive("warning").unwrap(), "warn");
        assert_eq!(level_directive("err").unwrap(), "error");
        assert!(level_directive("loud").is_err());
    }
}
