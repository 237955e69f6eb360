//! `load`: Consul's order of sources (agent/config/builder.go), then the conversion of the
//! merged values into a [`RuntimeConfig`].
use std::net::IpAddr;
use std::path::PathBuf;

use crate::decode::decode;
use crate::error::ConfigError;
use crate::fragment::Config;
use crate::runtime::{Placement, RuntimeConfig};
use crate::source::{sources_from_path, Format, Source};
use crate::validate::validate;

/// What the command line hands to [`load`].
#[derive(Clone, Debug, Default)]
pub struct LoadOpts {
    /// Values given as flags (`-server`, `-datacenter`, `-retry-join`, ...).
    pub flags: Config,
    /// `-config-file` and `-config-dir` paths, in the order given on the command line.
    pub config_files: Vec<PathBuf>,
    /// `-config-format`: "json" or "hcl" forces the format of every file.
    pub config_format: Option<String>,
    /// `-dev`.
    pub dev: bool,
    /// `-hcl` fragments, applied after the flags.
    pub hcl: Vec<String>,
}

/// A loaded configuration and the warnings to print before starting.
#[derive(Clone, Debug)]
pub struct LoadResult {
    pub config: RuntimeConfig,
    pub warnings: Vec<String>,
}

/// Loads and validates the agent configuration. Sources are merged in Consul's order:
/// defaults (dev defaults with -dev), list-valued flags, config files (each directory's files
/// in lexical order), scalar flags, then `-hcl` fragments. Later scalars win; lists append.
pub fn load(opts: &LoadOpts) -> Result<LoadResult, ConfigError> {
    let forced = match opts.config_format.as_deref() {
        None | Some("") => None,
        Some(f) => Some(Format::from_flag(f)?),
    };
    let mut warnings = Vec::new();
    let (flag_lists, flag_values) = opts.flags.clone().split_lists_and_values();

    let mut merged = Config::default();
    merged.merge(flag_lists);
    for path in &opts.config_files {
        for source in sources_from_path(path, forced, &mut warnings)? {
            merged.merge(decode_source(&source, &mut warnings)?);
        }
    }
    merged.merge(flag_values);
    for (i, fragment) in opts.hcl.iter().enumerate() {
        let source = Source { name: format!("flags-{i}.hcl"), format: Format::Hcl, data: fragment.clone() };
        merged.merge(decode_source(&source, &mut warnings)?);
    }

    let mut config = build(merged, opts.dev, &mut warnings)?;
    validate(&config, &mut warnings)?;
    // Consul's dev-mode server elects itself without -bootstrap; say so explicitly for the agent.
    if config.dev && config.server && config.bootstrap_expect == 0 {
        config.bootstrap = true;
    }
    Ok(LoadResult { config, warnings })
}

/// Parses and decodes one source; errors are prefixed the way Consul prefixes them.
pub fn decode_source(source: &Source, warnings: &mut Vec<String>) -> Result<Config, ConfigError> {
    let tree = source
        .parse()
        .map_err(|e| ConfigError::new(format!("failed to parse {}: {e}", source.name)))?;
    let decoded = decode(&tree).map_err(|e| ConfigError::new(format!("failed to parse {}: {e}", source.name)))?;
    warnings.extend(decoded.warnings);
    Ok(decoded.config)
}

fn build(mut c: Config, dev: bool, warnings: &mut Vec<String>) -> Result<RuntimeConfig, ConfigError> {
    let mut rt = if dev { RuntimeConfig { bootstrap: false, ..RuntimeConfig::dev() } } else { RuntimeConfig::default() };
    let err = |m: String| Err(ConfigError::new(m));
    let gossip = crate::gossip::take_gossip_keys(&mut c);
    build_checks(&c, &mut rt.checks)?;
    rt.node_meta = std::mem::take(&mut c.node_meta);

    if let Some(dc) = c.datacenter {
        rt.datacenter = dc.to_lowercase();
    }
    if let Some(name) = c.node_name {
        // Consul falls back to the hostname for an empty name, then trims.
        if !name.is_empty() {
            rt.node_name = name;
        }
    }
    rt.node_name = rt.node_name.trim().to_string();
    rt.node_id = c.node_id.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if let Some(v) = c.server {
        rt.server = v;
    }
    if let Some(v) = c.bootstrap {
        rt.bootstrap = v;
    }
    if let Some(n) = c.bootstrap_expect {
        if n < 0 || n > u32::MAX as i64 {
            return err(format!("bootstrap_expect cannot be {n}. Must be greater than or equal to zero"));
        }
        rt.bootstrap_expect = n as u32;
    }
    rt.data_dir = c.data_dir.filter(|d| !d.is_empty()).map(PathBuf::from);

    // Addresses.
    if let Some(bind) = &c.bind_addr {
        let addrs: Vec<&str> = bind.split_whitespace().collect();
        if addrs.is_empty() {
            return err("bind_addr cannot be empty".into());
        }
        if addrs.len() > 1 {
            return err("bind_addr cannot contain multiple addresses. Use 'addresses.{dns,http,https}' instead.".into());
        }
        if addrs[0].starts_with("unix://") {
            return err("bind_addr cannot be a unix socket".into());
        }
        rt.bind_addr = parse_ip("bind_addr", addrs[0])?;
    }
    if let Some(adv) = c.advertise_addr.as_deref().filter(|a| !a.trim().is_empty()) {
        let ip = single_ip("advertise_addr", adv)?;
        if ip.is_unspecified() {
            return err("Advertise address cannot be 0.0.0.0, :: or [::]".into());
        }
        rt.advertise_addr = Some(ip);
    } else if !rt.bind_addr.is_unspecified() {
        rt.advertise_addr = Some(rt.bind_addr);
    } else {
        // Bound to any address with nothing to advertise: the agent detects a private IP.
        rt.advertise_addr = None;
    }
    crate::gossip::check_advertise_wan_not_any(&gossip)?;
    if let Some(client) = &c.client_addr {
        let mut ips = Vec::new();
        for a in client.split_whitespace() {
            if a.starts_with("unix://") {
                return err("client_addr cannot be a unix socket".into());
            }
            ips.push(parse_ip("client_addr", a)?);
        }
        rt.client_addrs = ips;
    }
    if rt.client_addrs.is_empty() {
        warnings.push(
            "client_addr is empty, client services (DNS, HTTP, HTTPS, GRPC) will not be listening for connections".into(),
        );
    }

    crate::gossip::build_gossip(gossip, &mut rt)?;

    // Ports: Consul maps anything <= 0 to -1 ("disabled") and rejects > 65535.
    let ports = [
        ("ports.dns", c.ports.dns, &mut rt.ports.dns),
        ("ports.http", c.ports.http, &mut rt.ports.http),
        ("ports.https", c.ports.https, &mut rt.ports.https),
        ("ports.serf_lan", c.ports.serf_lan, &mut rt.ports.serf_lan),
        ("ports.serf_wan", c.ports.serf_wan, &mut rt.ports.serf_wan),
        ("ports.server", c.ports.server, &mut rt.ports.server),
        ("ports.grpc", c.ports.grpc, &mut rt.ports.grpc),
    ];
    for (name, value, slot) in ports {
        if let Some(p) = value {
            if p > 65535 {
                return err(format!("{name}: invalid port: {p}"));
            }
            *slot = if p <= 0 { -1 } else { p as i32 };
        }
    }

    if let Some(level) = c.log_level {
        rt.log_level = log_level(&level)?;
    }
    if let Some(v) = c.log_json {
        rt.log_json = v;
    }
    rt.pid_file = c.pid_file.filter(|p| !p.is_empty()).map(PathBuf::from);

    if let Some(m) = c.raft_multiplier {
        if !(1..=10).contains(&m) {
            return err(format!("performance.raft_multiplier cannot be {m}. Must be between 1 and 10"));
        }
        rt.raft_multiplier = m as u32;
    }
    if let Some(v) = c.raft_protocol {
        if v != 3 {
            return err(format!("raft_protocol version {v} is not supported by this version of ballast"));
        }
    }
    if let Some(v) = c.raft_snapshot_threshold {
        rt.raft_snapshot_threshold = non_negative("raft_snapshot_threshold", v)?;
    }
    if let Some(s) = c.raft_snapshot_interval {
        rt.raft_snapshot_interval = crate::parse_duration(&s)
            .map_err(|e| ConfigError::new(format!("raft_snapshot_interval: invalid duration: {s:?}: {e}")))?;
    }
    if let Some(v) = c.raft_trailing_logs {
        rt.raft_trailing_logs = non_negative("raft_trailing_logs", v)?;
    }
    if let Some(v) = c.kv_max_value_size {
        rt.kv_max_value_size = non_negative("limits.kv_max_value_size", v)?;
    }
    if let Some(v) = c.txn_max_req_len {
        rt.txn_max_req_len = non_negative("limits.txn_max_req_len", v)?;
    }
    crate::gossip::check_join_addrs("retry_join", &c.retry_join)?;
    crate::gossip::check_join_addrs("start_join", &c.start_join)?;
    rt.retry_join = c.retry_join;
    if let Some(s) = c.retry_interval {
        rt.retry_interval =
            crate::parse_duration(&s).map_err(|e| ConfigError::new(format!("retry_interval: invalid duration: {s:?}: {e}")))?;
    }
    if let Some(n) = c.retry_max {
        rt.retry_max = u32::try_from(n).map_err(|_| ConfigError::new(format!("retry_max cannot be {n}")))?;
    }
    if let Some(v) = c.read_replica {
        rt.read_replica = v;
    }
    rt.start_join = c.start_join;
    if let Some(p) = c.placement {
        rt.placement = crate::parse_placement(&p).map_err(ConfigError::new)?;
    }
    if let Some(n) = c.service_shards {
        // 0 = the HTTP front end shares the control shard's executor (own task queue).
        if n < 0 {
            return err(format!("service_shards cannot be {n}. Must be 0 or more"));
        }
        rt.service_shards = Some(n as usize);
    }
    if rt.bootstrap_expect == 1 {
        rt.bootstrap = true;
        rt.bootstrap_expect = 0;
        warnings.push("BootstrapExpect is set to 1; this is the same as Bootstrap mode.".into());
    }
    Ok(rt)
}

/// Parses `-placement` / `placement`: "auto", "unbound", or core numbers ("0,1").
pub fn parse_placement(s: &str) -> Result<Placement, String> {
    match s.trim() {
        "auto" => Ok(Placement::Auto),
        "unbound" => Ok(Placement::Unbound),
        list => {
            let cores: Result<Vec<usize>, _> = list.split(',').map(|c| c.trim().parse::<usize>()).collect();
            match cores {
                Ok(c) if !c.is_empty() => Ok(Placement::Cores(c)),
                _ => Err(format!(
                    "placement: invalid value {s:?}: must be 'auto', 'unbound' or a comma-separated list of core numbers"
                )),
            }
        }
    }
}

fn non_negative(name: &str, v: i64) -> Result<u64, ConfigError> {
    u64::try_from(v)
        .map_err(|_| ConfigError::new(format!("{name} cannot be {v}. Must be greater than or equal to zero")))
}

pub(crate) fn single_ip(name: &str, s: &str) -> Result<IpAddr, ConfigError> {
    let addrs: Vec<&str> = s.split_whitespace().collect();
    if addrs.len() > 1 {
        return Err(ConfigError::new(format!("{name}: multiple addresses found: {}", addrs.join(" "))));
    }
    if addrs[0].starts_with("unix://") {
        return Err(ConfigError::new(format!("{name} cannot be a unix socket")));
    }
    parse_ip(name, addrs[0])
}

fn parse_ip(name: &str, s: &str) -> Result<IpAddr, ConfigError> {
    if s.contains("{{") {
        return Err(ConfigError::new(format!("{name}: go-sockaddr templates ({s:?}) are not supported by ballast yet")));
    }
    // Go's net.ParseIP does not take "[::]", Consul special-cases it.
    let bare = if s == "[::]" { "::" } else { s };
    bare.parse().map_err(|_| ConfigError::new(format!("{name}: invalid ip address: {s}")))
}

/// Consul's allowed levels are TRACE, DEBUG, INFO, WARN, ERR and ERROR, in any case; stored
/// lower case, with ERR folded into "error".
fn log_level(s: &str) -> Result<String, ConfigError> {
    match s.to_ascii_uppercase().as_str() {
        "TRACE" => Ok("trace".into()),
        "DEBUG" => Ok("debug".into()),
        "INFO" => Ok("info".into()),
        "WARN" => Ok("warn".into()),
        "ERR" | "ERROR" => Ok("error".into()),
        _ => Err(ConfigError::new(format!(
            "Invalid log level: {s}. Valid log levels are: [TRACE DEBUG INFO WARN ERR ERROR]"
        ))),
    }
}

/// The top-level check keys (enable_script_checks, check_update_interval, ...).
fn build_checks(c: &Config, out: &mut crate::runtime::ChecksConfig) -> Result<(), ConfigError> {
    let dur = |name: &str, v: &Option<String>, slot: &mut std::time::Duration| -> Result<(), ConfigError> {
        if let Some(s) = v {
            *slot = crate::duration::parse_duration(s).map_err(|e| ConfigError::new(format!("{name}: {e}")))?;
        }
        Ok(())
    };
    if let Some(v) = c.enable_script_checks {
        out.enable_script_checks = v;
    }
    if let Some(v) = c.enable_local_script_checks {
        out.enable_local_script_checks = v;
    }
    if let Some(v) = c.discard_check_output {
        out.discard_check_output = v;
    }
    dur("check_update_interval", &c.check_update_interval, &mut out.check_update_interval)?;
    dur("check_reap_interval", &c.check_reap_interval, &mut out.check_reap_interval)?;
    dur("check_deregister_interval_min", &c.check_deregister_interval_min, &mut out.check_deregister_interval_min)?;
    dur("ae_interval", &c.ae_interval, &mut out.ae_interval)?;
    Ok(())
}
