//! Flag types shared by the commands: Go's boolean syntax and Consul's HTTP API flags.
use clap::Args;

use crate::api::ApiClient;
use crate::http_client::{go_io_text, Endpoint};

/// Go's strconv.ParseBool, which is what `-flag=value` accepts for a boolean.
pub fn go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err("parse error".to_string()),
    }
}

/// Consul's client HTTP flags (command/flags/http.go ClientFlags): where the agent is and which
/// token to send. Flags beat environment variables, which beat the defaults, as in Consul's
/// api.DefaultConfig + MergeOntoConfig.
#[derive(Args, Clone, Debug)]
pub struct ClientHttpFlags {
    /// The `address` and port of the Consul HTTP agent. The value can be an IP address or DNS
    /// address, but it must also include the port. This can also be specified via the
    /// CONSUL_HTTP_ADDR environment variable. The default value is http://127.0.0.1:8500. The
    /// scheme can also be set to HTTPS by setting the environment variable CONSUL_HTTP_SSL=true.
    #[arg(verbatim_doc_comment, long = "http-addr", value_name = "address", env = "CONSUL_HTTP_ADDR", hide_env = true,
          default_value = "http://127.0.0.1:8500", hide_default_value = true)]
    pub http_addr: String,
    /// ACL token to use in the request. This can also be specified via the CONSUL_HTTP_TOKEN
    /// environment variable. If unspecified, the query will default to the token of the Consul
    /// agent at the HTTP address.
    #[arg(verbatim_doc_comment, long, value_name = "value", env = "CONSUL_HTTP_TOKEN", hide_env = true)]
    pub token: Option<String>,
    /// File containing the ACL token to use in the request instead of one specified via the
    /// -token argument or CONSUL_HTTP_TOKEN environment variable. This can also be specified
    /// via the CONSUL_HTTP_TOKEN_FILE environment variable.
    #[arg(verbatim_doc_comment, long = "token-file", value_name = "value", env = "CONSUL_HTTP_TOKEN_FILE", hide_env = true)]
    pub token_file: Option<String>,
    /// Path to a CA file to use for TLS when communicating with Consul. This can also be
    /// specified via the CONSUL_CACERT environment variable.
    #[arg(verbatim_doc_comment, long = "ca-file", value_name = "value")]
    pub ca_file: Option<String>,
    /// Path to a directory of CA certificates to use for TLS when communicating with Consul.
    /// This can also be specified via the CONSUL_CAPATH environment variable.
    #[arg(verbatim_doc_comment, long = "ca-path", value_name = "value")]
    pub ca_path: Option<String>,
    /// Path to a client cert file to use for TLS when 'verify_incoming' is enabled. This can
    /// also be specified via the CONSUL_CLIENT_CERT environment variable.
    #[arg(verbatim_doc_comment, long = "client-cert", value_name = "value")]
    pub client_cert: Option<String>,
    /// Path to a client key file to use for TLS when 'verify_incoming' is enabled. This can
    /// also be specified via the CONSUL_CLIENT_KEY environment variable.
    #[arg(verbatim_doc_comment, long = "client-key", value_name = "value")]
    pub client_key: Option<String>,
    /// The server name to use as the SNI host when connecting via TLS. This can also be
    /// specified via the CONSUL_TLS_SERVER_NAME environment variable.
    #[arg(verbatim_doc_comment, long = "tls-server-name", value_name = "value")]
    pub tls_server_name: Option<String>,
}

/// Consul's client and server HTTP flags (ClientFlags + ServerFlags).
#[derive(Args, Clone, Debug)]
pub struct HttpFlags {
    #[command(flatten)]
    pub client: ClientHttpFlags,
    /// Name of the datacenter to query. If unspecified, this will default to the datacenter of
    /// the queried agent.
    #[arg(verbatim_doc_comment, long, value_name = "value")]
    pub datacenter: Option<String>,
    /// Permit any Consul server (non-leader) to respond to this request. This allows for lower
    /// latency and higher throughput, but can result in stale data. This option has no effect
    /// on non-read operations. The default value is false.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          default_value = "false", hide_default_value = true, value_parser = go_bool)]
    pub stale: bool,
}

/// Consul's `-partition` flag (PartitionFlag), listed under the command's own options.
#[derive(Args, Clone, Debug)]
pub struct PartitionFlag {
    /// Specifies the admin partition to query. If not provided, the admin partition will be
    /// inferred from the request's ACL token, or will default to the `default` admin partition.
    /// Admin Partitions are a Consul Enterprise feature.
    #[arg(verbatim_doc_comment, long, value_name = "default", default_value = "", hide_default_value = true)]
    pub partition: String,
}

/// Consul's `-namespace` flag (from MultiTenancyFlags / NamespaceFlags), sent as `?ns=`.
#[derive(Args, Clone, Debug)]
pub struct NamespaceFlag {
    /// Specifies the namespace to query. If not provided, the namespace will be inferred
    /// from the request's ACL token, or will default to the `default` namespace.
    /// Namespaces are a Consul Enterprise feature.
    #[arg(verbatim_doc_comment, long, value_name = "default", default_value = "", hide_default_value = true)]
    pub namespace: String,
}

/// The error of a flag.Value's Set method; Go's flag package prints it after
/// `invalid value "v" for flag -name: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagValueError(pub String);

impl std::fmt::Display for FlagValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FlagValueError {}

/// Consul's FlagMapValue: one `key=value` (split at the first `=`) per use of the flag.
pub fn key_value(s: &str) -> Result<(String, String), FlagValueError> {
    match s.split_once('=') {
        Some((k, v)) => Ok((k.to_string(), v.to_string())),
        None => Err(FlagValueError(format!("Missing \"=\" value in argument: {s}"))),
    }
}

/// Go's flag.IntVar: strconv.ParseInt(s, 0, 64), so `0x1F`, `0o17`, `017` and `1_000` forms
/// are accepted as in Go; any failure is the flag package's "parse error".
pub fn go_int(s: &str) -> Result<i64, FlagValueError> {
    let parse_error = || FlagValueError("parse error".to_string());
    let range_error = || FlagValueError("value out of range".to_string());
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_string(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string(), true)
    } else {
        (10, lower.clone(), false)
    };
    // Go allows underscores only with a base prefix, each between digits (the prefix counts
    // as a digit, so `0x_1F` is fine).
    let bad_underscores = digits.ends_with('_') || digits.contains("__");
    if digits.contains('_') && (!prefixed || bad_underscores) {
        return Err(parse_error());
    }
    let digits = digits.replace('_', "");
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(parse_error());
    }
    // All digits are valid, so the only failure left is overflow.
    let magnitude = u64::from_str_radix(&digits, radix).map_err(|_| range_error())?;
    let value = if neg { -(magnitude as i128) } else { magnitude as i128 };
    i64::try_from(value).map_err(|_| range_error())
}

/// Names of the HTTP flags, for the "HTTP API Options" part of the help.
pub const HTTP_FLAG_NAMES: &[&str] = &[
    "http-addr", "token", "token-file", "datacenter", "stale", "ca-file", "ca-path", "client-cert",
    "client-key", "tls-server-name",
];

impl ClientHttpFlags {
    /// The client for these flags; the TLS flags only matter for https, which is refused.
    pub fn client(&self) -> Result<ApiClient, String> {
        let ssl = std::env::var("CONSUL_HTTP_SSL").map(|v| go_bool(&v) == Ok(true)).unwrap_or(false);
        let endpoint = Endpoint::parse(&self.http_addr, ssl)?;
        let mut token = self.token.clone();
        if let Some(path) = self.token_file.as_deref().filter(|p| !p.is_empty()) {
            let data = std::fs::read_to_string(path)
                .map_err(|e| format!("Error loading token file {path} : open {path}: {}", go_io_text(&e)))?;
            let t = data.trim();
            if !t.is_empty() {
                token = Some(t.to_string());
            }
        }
        Ok(ApiClient { endpoint, token, datacenter: None, stale: false, partition: None })
    }
}

impl HttpFlags {
    /// The client for these flags, with the datacenter and `?stale` the server flags add.
    pub fn client(&self) -> Result<ApiClient, String> {
        let mut c = self.client.client()?;
        c.datacenter = self.datacenter.clone();
        c.stale = self.stale;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_int_accepts_go_literals() {
        assert_eq!(go_int("8080"), Ok(8080));
        assert_eq!(go_int("-12"), Ok(-12));
        assert_eq!(go_int("0x1F"), Ok(31));
        assert_eq!(go_int("0o17"), Ok(15));
        assert_eq!(go_int("017"), Ok(15));
        assert_eq!(go_int("0b101"), Ok(5));
        assert_eq!(go_int("0x_1F"), Ok(31));
        assert_eq!(go_int("0"), Ok(0));
        assert_eq!(go_int("-9223372036854775808"), Ok(i64::MIN));
    }

    #[test]
    fn go_int_errors_are_the_flag_packages() {
        let parse = Err(FlagValueError("parse error".into()));
        for bad in ["", "http", "1_000", "0x", "08", "1.5", "--1", "0x_"] {
            assert_eq!(go_int(bad), parse, "{bad}");
        }
        assert_eq!(go_int("9223372036854775808"), Err(FlagValueError("value out of range".into())));
        assert_eq!(go_int("99999999999999999999999"), Err(FlagValueError("value out of range".into())));
    }

    #[test]
    fn key_value_splits_at_the_first_equals() {
        assert_eq!(key_value("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(key_value("a="), Ok(("a".into(), String::new())));
        assert_eq!(key_value("ab"), Err(FlagValueError("Missing \"=\" value in argument: ab".into())));
    }
}
