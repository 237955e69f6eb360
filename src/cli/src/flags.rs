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
