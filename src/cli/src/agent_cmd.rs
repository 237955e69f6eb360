//! `ballast agent`: Consul's agent flags into a [`ballast_config::LoadOpts`], load and
//! validate, print the warnings, then hand over to the agent.
use clap::{ArgMatches, CommandFactory, Parser};

use ballast_config::{load, Config, LoadOpts, RuntimeConfig};

use crate::flags::go_bool;
use crate::help::command_help;
use crate::parse::parse_with;
use crate::Io;

const USAGE: &str = "
Usage: ballast agent [options]

  Starts the ballast agent and runs until an interrupt is received. The
  agent represents a single node in a cluster.
";

/// Consul agent flags (agent/config/flags.go) that ballast does not implement: named in the
/// error instead of Go's generic "flag provided but not defined".
const CONSUL_ONLY_FLAGS: &[&str] = &[
    "alt-domain", "allow-write-http-from", "auto-reload-config", "check_output_max_size",
    "default-query-time", "disable-host-node-id", "domain", "grpc-tls-port", "log-file", "log-rotate-bytes",
    "log-rotate-duration", "log-rotate-max-files", "max-query-time",
    "primary-gateway", "protocol", "raft-protocol", "recursor", "rejoin", "segment", "serf-lan-allowed-cidrs",
    "serf-wan-allowed-cidrs", "syslog", "ui", "ui-content-path", "ui-dir",
];

#[derive(Parser, Debug)]
#[command(name = "agent", args_override_self = true)]
struct AgentArgs {
    /// Sets the advertise address to use.
    #[arg(verbatim_doc_comment, long)]
    advertise: Option<String>,
    /// Sets address to advertise on WAN instead of -advertise address.
    #[arg(verbatim_doc_comment, long = "advertise-wan")]
    advertise_wan: Option<String>,
    /// Sets the bind address for cluster communication.
    #[arg(verbatim_doc_comment, long)]
    bind: Option<String>,
    /// Sets server to bootstrap mode.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    bootstrap: Option<bool>,
    /// Sets server to expect bootstrap mode.
    #[arg(verbatim_doc_comment, long = "bootstrap-expect")]
    bootstrap_expect: Option<i64>,
    /// Sets the address to bind for client access. This includes RPC, DNS, HTTP, HTTPS and gRPC
    /// (if configured).
    #[arg(verbatim_doc_comment, long)]
    client: Option<String>,
    /// Path to a directory to read configuration files from. This will read every file ending
    /// in '.json' as configuration in this directory in alphabetical order. Can be specified
    /// multiple times.
    #[arg(verbatim_doc_comment, long = "config-dir", action = clap::ArgAction::Append)]
    config_dir: Vec<String>,
    /// Path to a file in JSON or HCL format with a matching file extension. Can be specified
    /// multiple times.
    #[arg(verbatim_doc_comment, long = "config-file", action = clap::ArgAction::Append)]
    config_file: Vec<String>,
    /// Config files are in this format irrespective of their extension. Must be 'hcl' or 'json'
    #[arg(verbatim_doc_comment, long = "config-format", value_name = "string")]
    config_format: Option<String>,
    /// Path to a data directory to store agent state.
    #[arg(verbatim_doc_comment, long = "data-dir")]
    data_dir: Option<String>,
    /// Datacenter of the agent.
    #[arg(verbatim_doc_comment, long)]
    datacenter: Option<String>,
    /// Starts the agent in development mode.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    dev: Option<bool>,
    /// Disables the backing up of the keyring to a file.
    #[arg(verbatim_doc_comment, long = "disable-keyring-file", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    disable_keyring_file: Option<bool>,
    /// Enables health check scripts.
    #[arg(verbatim_doc_comment, long = "enable-script-checks", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    enable_script_checks: Option<bool>,
    /// Enables health check scripts from configuration file.
    #[arg(verbatim_doc_comment, long = "enable-local-script-checks", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    enable_local_script_checks: Option<bool>,
    /// An arbitrary metadata key/value pair for this node, of the format `key:value`. Can
    /// be specified multiple times.
    #[arg(verbatim_doc_comment, long = "node-meta", value_name = "key:value", action = clap::ArgAction::Append)]
    node_meta: Vec<String>,
    /// DNS port to use.
    #[arg(verbatim_doc_comment, long = "dns-port")]
    dns_port: Option<i64>,
    /// Provides the gossip encryption key.
    #[arg(verbatim_doc_comment, long)]
    encrypt: Option<String>,
    /// Sets the gRPC API port to listen on.
    #[arg(verbatim_doc_comment, long = "grpc-port")]
    grpc_port: Option<i64>,
    /// hcl config fragment. Can be specified multiple times.
    #[arg(verbatim_doc_comment, long, action = clap::ArgAction::Append)]
    hcl: Vec<String>,
    /// Sets the HTTP API port to listen on.
    #[arg(verbatim_doc_comment, long = "http-port")]
    http_port: Option<i64>,
    /// Sets the HTTPS API port to listen on.
    #[arg(verbatim_doc_comment, long = "https-port")]
    https_port: Option<i64>,
    /// Address of an agent to join at start time. Can be specified multiple times.
    #[arg(verbatim_doc_comment, long, action = clap::ArgAction::Append)]
    join: Vec<String>,
    /// Address of an agent to join -wan at start time. Can be specified multiple times.
    #[arg(verbatim_doc_comment, long = "join-wan", action = clap::ArgAction::Append)]
    join_wan: Vec<String>,
    /// Output logs in JSON format.
    #[arg(verbatim_doc_comment, long = "log-json", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    log_json: Option<bool>,
    /// Log level of the agent.
    #[arg(verbatim_doc_comment, long = "log-level")]
    log_level: Option<String>,
    /// Name of this node. Must be unique in the cluster.
    #[arg(verbatim_doc_comment, long)]
    node: Option<String>,
    /// A unique ID for this node across space and time. Defaults to a randomly-generated ID that
    /// persists in the data-dir.
    #[arg(verbatim_doc_comment, long = "node-id")]
    node_id: Option<String>,
    /// Path to file to store agent PID.
    #[arg(verbatim_doc_comment, long = "pid-file")]
    pid_file: Option<String>,
    /// (ballast) Where executors run: 'auto' (pinned, one per core), 'unbound', or a
    /// comma-separated list of cores such as 0,1.
    #[arg(verbatim_doc_comment, long)]
    placement: Option<String>,
    /// Address of an agent to join at start time with retries enabled. Can be specified
    /// multiple times.
    #[arg(verbatim_doc_comment, long = "retry-join", action = clap::ArgAction::Append)]
    retry_join: Vec<String>,
    /// Address of an agent to join -wan at start time with retries enabled. Can be specified
    /// multiple times.
    #[arg(verbatim_doc_comment, long = "retry-join-wan", action = clap::ArgAction::Append)]
    retry_join_wan: Vec<String>,
    /// Time to wait between join attempts.
    #[arg(verbatim_doc_comment, long = "retry-interval")]
    retry_interval: Option<String>,
    /// Time to wait between join -wan attempts.
    #[arg(verbatim_doc_comment, long = "retry-interval-wan")]
    retry_interval_wan: Option<String>,
    /// Maximum number of join attempts. Defaults to 0, which will retry indefinitely.
    #[arg(verbatim_doc_comment, long = "retry-max")]
    retry_max: Option<i64>,
    /// Maximum number of join -wan attempts. Defaults to 0, which will retry indefinitely.
    #[arg(verbatim_doc_comment, long = "retry-max-wan")]
    retry_max_wan: Option<i64>,
    /// (Enterprise-only) This flag is used to make the server not participate in the Raft
    /// quorum, and have it only receive the data replication stream. This can be used to add
    /// read scalability to a cluster in cases where a high volume of reads to servers are
    /// needed.
    #[arg(verbatim_doc_comment, long = "read-replica", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    read_replica: Option<bool>,
    /// (Enterprise-only) DEPRECATED: -read-replica should be used instead
    #[arg(verbatim_doc_comment, long = "non-voting-server", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    non_voting_server: Option<bool>,
    /// Address to bind Serf LAN listeners to.
    #[arg(verbatim_doc_comment, long = "serf-lan-bind")]
    serf_lan_bind: Option<String>,
    /// Sets the Serf LAN port to listen on.
    #[arg(verbatim_doc_comment, long = "serf-lan-port")]
    serf_lan_port: Option<i64>,
    /// Address to bind Serf WAN listeners to.
    #[arg(verbatim_doc_comment, long = "serf-wan-bind")]
    serf_wan_bind: Option<String>,
    /// Sets the Serf WAN port to listen on.
    #[arg(verbatim_doc_comment, long = "serf-wan-port")]
    serf_wan_port: Option<i64>,
    /// Switches agent to server mode.
    #[arg(verbatim_doc_comment, long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    server: Option<bool>,
    /// Sets the server port to listen on.
    #[arg(verbatim_doc_comment, long = "server-port")]
    server_port: Option<i64>,
    /// (ballast) Number of service-catalog shards. Defaults to one per executor.
    #[arg(verbatim_doc_comment, long = "service-shards")]
    service_shards: Option<i64>,
    #[arg(verbatim_doc_comment, hide = true)]
    extra: Vec<String>,
}

pub fn help() -> String {
    command_help(USAGE, &AgentArgs::command())
}

/// Parses the agent flags into load options; errors are printed and mapped to an exit code.
fn load_opts(args: &[String], io: &mut Io) -> Result<LoadOpts, i32> {
    let explain = |name: &str| {
        CONSUL_ONLY_FLAGS.contains(&name).then(|| format!("flag -{name} is not supported by ballast yet"))
    };
    let (a, matches) = parse_with::<AgentArgs>(args, &help(), io, explain)?;
    if !a.extra.is_empty() {
        io.error(&format!("==> Unexpected extra arguments: {:?}", a.extra));
        return Err(1);
    }
    let flags = Config {
        datacenter: a.datacenter,
        node_name: a.node,
        node_id: a.node_id,
        server: a.server,
        bootstrap: a.bootstrap,
        bootstrap_expect: a.bootstrap_expect,
        data_dir: a.data_dir,
        bind_addr: a.bind,
        advertise_addr: a.advertise,
        client_addr: a.client,
        ports: ballast_config::PortsConfig {
            dns: a.dns_port,
            http: a.http_port,
            https: a.https_port,
            serf_lan: a.serf_lan_port,
            serf_wan: a.serf_wan_port,
            server: a.server_port,
            grpc: a.grpc_port,
        },
        log_level: a.log_level,
        log_json: a.log_json,
        pid_file: a.pid_file,
        retry_join: a.retry_join,
        retry_interval: a.retry_interval,
        retry_max: a.retry_max,
        read_replica: a.read_replica.or(a.non_voting_server),
        start_join: a.join,
        placement: a.placement,
        service_shards: a.service_shards,
        encrypt: a.encrypt,
        disable_keyring_file: a.disable_keyring_file,
        serf_lan: a.serf_lan_bind,
        serf_wan: a.serf_wan_bind,
        advertise_addr_wan: a.advertise_wan,
        retry_join_wan: a.retry_join_wan,
        retry_interval_wan: a.retry_interval_wan,
        retry_max_wan: a.retry_max_wan,
        start_join_wan: a.join_wan,
        enable_script_checks: a.enable_script_checks,
        enable_local_script_checks: a.enable_local_script_checks,
        // Consul's flag: `key:value`, the value empty when there is no colon.
        node_meta: a
            .node_meta
            .iter()
            .map(|kv| match kv.split_once(':') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (kv.clone(), String::new()),
            })
            .collect(),
        ..Config::default()
    };
    Ok(LoadOpts {
        flags,
        config_files: config_paths_in_order(&matches),
        config_format: a.config_format,
        dev: a.dev.unwrap_or(false),
        hcl: a.hcl,
    })
}

/// -config-file and -config-dir feed one list in Consul, in command-line order.
fn config_paths_in_order(m: &ArgMatches) -> Vec<std::path::PathBuf> {
    let mut all: Vec<(usize, String)> = Vec::new();
    for id in ["config_file", "config_dir"] {
        if let (Some(idx), Some(vals)) = (m.indices_of(id), m.get_many::<String>(id)) {
            all.extend(idx.zip(vals.cloned()));
        }
    }
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, p)| p.into()).collect()
}

/// Parses and validates the agent configuration without starting anything (also used by
/// tests): the config and the warnings, or the exit code after printing the error.
pub fn configure(args: &[String], io: &mut Io) -> Result<(RuntimeConfig, Vec<String>), i32> {
    let opts = load_opts(args, io)?;
    match load(&opts) {
        Ok(r) => Ok((r.config, r.warnings)),
        Err(e) => {
            io.error(&format!("==> {e}"));
            Err(1)
        }
    }
}

pub fn run(args: &[String], io: &mut Io) -> i32 {
    let (config, warnings) = match configure(args, io) {
        Ok(c) => c,
        Err(code) => return code,
    };
    for w in &warnings {
        io.error(&format!("[WARN]  agent: {w}"));
    }
    let _ = io.err.flush();
    start_agent(config)
}

/// The single place the CLI hands over to the agent.
fn start_agent(config: RuntimeConfig) -> i32 {
    ballast_agent::run(config)
}


#[cfg(test)]
mod tests {
    use super::*;

    fn configure_args(args: &[&str]) -> (Result<(RuntimeConfig, Vec<String>), i32>, String) {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (mut out, mut err, mut inp) = (Vec::new(), Vec::new(), std::io::empty());
        let r = configure(&args, &mut Io { out: &mut out, err: &mut err, stdin: &mut inp });
        (r, String::from_utf8(err).unwrap())
    }

    /// Go's flag package lets a later single-value flag replace an earlier one (test
    /// harnesses append their own `-log-level`); repeatable flags still accumulate.
    #[test]
    fn a_repeated_single_value_flag_takes_the_last_value() {
        let (r, err) = configure_args(&["-dev", "-log-level=warn", "-log-level=debug", "-retry-join=a", "-retry-join=b"]);
        let (c, _) = r.unwrap_or_else(|_| panic!("{err}"));
        assert_eq!(c.log_level, "debug");
        assert_eq!(c.retry_join, vec!["a", "b"]);
    }

    #[test]
    fn consul_style_agent_flags_reach_the_config() {
        let (r, err) = configure_args(&[
            "-dev", "-datacenter", "dc9", "-node=n1", "-http-port", "18500", "-dns-port=-1",
            "-retry-join", "10.0.0.1", "-retry-join=10.0.0.2", "-join", "10.0.0.3", "-log-json",
            "-placement=unbound", "-service-shards", "3", "-client", "127.0.0.1 127.0.0.2",
        ]);
        let (c, _) = r.unwrap_or_else(|_| panic!("{err}"));
        assert!(c.dev && c.server && c.bootstrap);
        assert_eq!(c.datacenter, "dc9");
        assert_eq!(c.node_name, "n1");
        assert_eq!((c.ports.http, c.ports.dns), (18500, -1));
        assert_eq!(c.retry_join, vec!["10.0.0.1", "10.0.0.2"]);
        assert_eq!(c.start_join, vec!["10.0.0.3"]);
        assert!(c.log_json);
        assert_eq!(c.placement, ballast_config::Placement::Unbound);
        assert_eq!(c.service_shards, Some(3));
        assert_eq!(c.client_addrs.len(), 2);
    }

    #[test]
    fn gossip_flags_reach_the_config() {
        let key = "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=";
        let (r, err) = configure_args(&[
            "-dev", "-encrypt", key, "-disable-keyring-file=false", "-serf-lan-bind", "127.0.0.2",
            "-serf-wan-bind=127.0.0.3", "-advertise-wan", "198.51.100.7", "-join-wan", "dc2-a",
            "-join-wan=dc2-b", "-retry-join-wan", "dc3-a", "-retry-interval-wan=45s", "-retry-max-wan", "4",
            "-serf-wan-port=18302", "-hcl", "retry_join_wan = [\"dc3-hcl\"]",
        ]);
        let (c, _) = r.unwrap_or_else(|_| panic!("{err}"));
        assert_eq!(c.encrypt.as_deref(), Some(key));
        // -dev turns the keyring file off; the flag turns it back on.
        assert!(!c.disable_keyring_file);
        assert_eq!(c.serf_bind_lan, Some("127.0.0.2".parse().unwrap()));
        assert_eq!(c.serf_bind_wan, Some("127.0.0.3".parse().unwrap()));
        assert_eq!(c.advertise_addr_wan, Some("198.51.100.7".parse().unwrap()));
        assert_eq!(c.start_join_wan, vec!["dc2-a", "dc2-b"]);
        assert_eq!(c.retry_join_wan, vec!["dc3-a", "dc3-hcl"]);
        assert_eq!(c.retry_interval_wan, std::time::Duration::from_secs(45));
        assert_eq!(c.retry_max_wan, 4);
        assert_eq!(c.ports.serf_wan, 18302);
        let (r, _) = configure_args(&["-dev", "-disable-keyring-file"]);
        assert!(r.unwrap().0.disable_keyring_file);
    }

    #[test]
    fn gossip_flag_errors_use_consul_text() {
        let (r, err) = configure_args(&["-dev", "-encrypt", "this is not a valid key"]);
        assert_eq!(r.unwrap_err(), 1);
        assert_eq!(err, "==> encrypt has invalid key: illegal base64 data at input byte 4\n");
        let (_, err) = configure_args(&["-dev", "-retry-join-wan", "provider=gce tag_value=consul"]);
        assert_eq!(
            err,
            "==> retry_join_wan: cloud auto-join (\"provider=gce tag_value=consul\") is not supported by ballast yet\n"
        );
        let (_, err) = configure_args(&["-dev", "-join-wan", "provider=aws"]);
        assert_eq!(err, "==> start_join_wan: cloud auto-join (\"provider=aws\") is not supported by ballast yet\n");
        let (_, err) = configure_args(&["-dev", "-advertise-wan", "0.0.0.0"]);
        assert_eq!(err, "==> Advertise WAN address cannot be 0.0.0.0, :: or [::]\n");
        let (_, err) = configure_args(&["-dev", "-retry-max-wan=x"]);
        assert!(err.starts_with("invalid value \"x\" for flag -retry-max-wan: parse error\n"), "{err}");
    }

    #[test]
    fn config_file_and_dir_keep_command_line_order() {
        let dir = std::env::temp_dir().join(format!("ballast-cli-agent-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("d")).unwrap();
        std::fs::write(dir.join("d/a.json"), r#"{"datacenter": "from-dir"}"#).unwrap();
        std::fs::write(dir.join("f.hcl"), "datacenter = \"from-file\"\nports { http = 8501 dns = 8601 }\n").unwrap();
        let d = dir.join("d").display().to_string();
        let f = dir.join("f.hcl").display().to_string();
        let (r, _) = configure_args(&["-dev", "-config-file", &f, "-config-dir", &d]);
        let (c, _) = r.unwrap();
        assert_eq!(c.datacenter, "from-dir");
        assert_eq!((c.ports.http, c.ports.dns), (8501, 8601));
        let (r, _) = configure_args(&["-dev", "-config-dir", &d, "-config-file", &f]);
        assert_eq!(r.unwrap().0.datacenter, "from-file");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn config_errors_print_like_consul_and_exit_1() {
        let (r, err) = configure_args(&["-server", "-bootstrap-expect=3", "-bootstrap"]);
        assert_eq!(r.unwrap_err(), 1);
        assert_eq!(err, "==> data_dir cannot be empty\n");
        let (r, err) = configure_args(&["-dev", "-bootstrap-expect=3"]);
        assert_eq!(r.unwrap_err(), 1);
        assert_eq!(err, "==> 'bootstrap_expect > 0' not allowed in dev mode\n");
    }

    #[test]
    fn flag_errors_use_go_wording() {
        let (r, err) = configure_args(&["-dev", "-nosuch"]);
        assert_eq!(r.unwrap_err(), 1);
        assert!(err.starts_with("flag provided but not defined: -nosuch\n"), "{err}");
        assert!(err.contains("Usage: ballast agent [options]"), "{err}");
        let (_, err) = configure_args(&["-ui"]);
        assert!(err.starts_with("flag -ui is not supported by ballast yet\n"), "{err}");
        let (_, err) = configure_args(&["-http-port=abc"]);
        assert!(err.starts_with("invalid value \"abc\" for flag -http-port: parse error\n"), "{err}");
        let (_, err) = configure_args(&["-server=maybe"]);
        assert!(err.starts_with("invalid value \"maybe\" for flag -server: parse error\n"), "{err}");
    }
}
