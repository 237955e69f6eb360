//! Loading real Consul-style config files through the public API: merge order, formats,
//! unknown and unsupported keys, and Consul's validation errors.
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ballast_config::{load, Config, LoadOpts, Placement};

mod support;
use support::TempDir;

fn flags_with_data_dir(dir: &Path) -> Config {
    Config { data_dir: Some(dir.join("data").display().to_string()), ..Config::default() }
}

fn load_err(opts: &LoadOpts) -> String {
    match load(opts) {
        Ok(r) => panic!("expected an error, got {:?}", r.config),
        Err(e) => e.to_string(),
    }
}

#[test]
fn defaults_match_consul() {
    let t = TempDir::new();
    let r = load(&LoadOpts { flags: flags_with_data_dir(t.path()), ..LoadOpts::default() }).unwrap();
    let c = r.config;
    assert_eq!(c.datacenter, "dc1");
    assert!(!c.server && !c.bootstrap && !c.dev);
    assert_eq!(c.bind_addr, "0.0.0.0".parse::<IpAddr>().unwrap());
    assert_eq!(c.advertise_addr, None);
    assert_eq!(c.client_addrs, vec!["127.0.0.1".parse::<IpAddr>().unwrap()]);
    assert_eq!((c.ports.http, c.ports.https, c.ports.dns, c.ports.grpc), (8500, -1, 8600, -1));
    assert_eq!((c.ports.serf_lan, c.ports.serf_wan, c.ports.server), (8301, 8302, 8300));
    assert_eq!(c.log_level, "info");
    assert_eq!(c.raft_multiplier, 5);
    assert_eq!(c.raft_snapshot_threshold, 16384);
    assert_eq!(c.raft_snapshot_interval, Duration::from_secs(30));
    assert_eq!(c.raft_trailing_logs, 10240);
    assert_eq!((c.kv_max_value_size, c.txn_max_req_len), (524288, 524288));
    assert_eq!(c.placement, Placement::Auto);
    assert!(!c.node_name.is_empty());
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn dev_mode_defaults_and_no_data_dir_needed() {
    let r = load(&LoadOpts { dev: true, ..LoadOpts::default() }).unwrap();
    let c = r.config;
    assert!(c.dev && c.server && c.bootstrap);
    assert_eq!(c.bind_addr, "127.0.0.1".parse::<IpAddr>().unwrap());
    assert_eq!(c.advertise_addr, Some("127.0.0.1".parse().unwrap()));
    assert_eq!(c.raft_multiplier, 1);
    assert_eq!(c.ports.grpc, 8502);
    assert_eq!(c.log_level, "debug");
    assert_eq!(c.data_dir, None);
}

#[test]
fn data_dir_is_required_without_dev() {
    assert_eq!(load_err(&LoadOpts::default()), "data_dir cannot be empty");
}

#[test]
fn real_consul_json_file() {
    let t = TempDir::new();
    let f = t.write(
        "server.json",
        r#"{
  "datacenter": "East-1",
  "data_dir": "/opt/consul",
  "node_name": "consul-server-1",
  "node_id": "ADF4238A-882B-9DDC-4A9D-5B6758E4159E",
  "server": true,
  "bootstrap_expect": 3,
  "bind_addr": "10.0.0.5",
  "client_addr": "127.0.0.1 10.0.0.5",
  "ports": {"http": 8501, "dns": -1, "grpc": 8502},
  "log_level": "WARN",
  "log_json": true,
  "performance": {"raft_multiplier": 1},
  "limits": {"kv_max_value_size": 1048576, "txn_max_req_len": 2097152},
  "raft_snapshot_threshold": 8192,
  "raft_snapshot_interval": "1m30s",
  "raft_trailing_logs": 20000,
  "retry_join": ["10.0.0.6", "10.0.0.7"],
  "disable_update_check": true,
  "ui_config": {"enabled": false}
}"#,
    );
    let r = load(&LoadOpts { config_files: vec![f], ..LoadOpts::default() }).unwrap();
    let c = r.config;
    assert_eq!(c.datacenter, "east-1");
    assert_eq!(c.data_dir, Some(PathBuf::from("/opt/consul")));
    assert_eq!(c.node_name, "consul-server-1");
    assert_eq!(c.node_id.as_deref(), Some("ADF4238A-882B-9DDC-4A9D-5B6758E4159E"));
    assert!(c.server && !c.bootstrap);
    assert_eq!(c.bootstrap_expect, 3);
    assert_eq!(c.bind_addr, "10.0.0.5".parse::<IpAddr>().unwrap());
    assert_eq!(c.advertise_addr, Some("10.0.0.5".parse().unwrap()));
    assert_eq!(c.client_addrs.len(), 2);
    assert_eq!((c.ports.http, c.ports.dns, c.ports.grpc), (8501, -1, 8502));
    assert_eq!(c.log_level, "warn");
    assert!(c.log_json);
    assert_eq!(c.raft_multiplier, 1);
    assert_eq!((c.kv_max_value_size, c.txn_max_req_len), (1048576, 2097152));
    assert_eq!(c.raft_snapshot_threshold, 8192);
    assert_eq!(c.raft_snapshot_interval, Duration::from_secs(90));
    assert_eq!(c.raft_trailing_logs, 20000);
    assert_eq!(c.retry_join, vec!["10.0.0.6", "10.0.0.7"]);
    // The two harmless keys are accepted with a warning each, plus Consul's bootstrap note.
    assert_eq!(
        r.warnings,
        vec![
            "config key \"disable_update_check\" has no effect in ballast and is ignored".to_string(),
            "config key \"ui_config\" has no effect in ballast and is ignored".to_string(),
            "bootstrap_expect > 0: expecting 3 servers".to_string(),
        ]
    );
}

#[test]
fn real_consul_hcl_file_with_hcl1_one_line_block() {
    let t = TempDir::new();
    let f = t.write(
        "agent.hcl",
        r#"
# Consul agent configuration
datacenter = "dc2"
data_dir   = "/var/lib/consul"
server     = true
bootstrap  = true
bind_addr  = "192.168.1.10"
ports { http = 8600 dns = 8700 }
performance {
  raft_multiplier = 2
}
limits { kv_max_value_size = 1024, txn_max_req_len = 4096 }
retry_join = ["192.168.1.11"]
start_join = ["192.168.1.12"]
"#,
    );
    let r = load(&LoadOpts { config_files: vec![f], ..LoadOpts::default() }).unwrap();
    let c = r.config;
    assert_eq!(c.datacenter, "dc2");
    assert!(c.server && c.bootstrap);
    assert_eq!((c.ports.http, c.ports.dns), (8600, 8700));
    assert_eq!(c.raft_multiplier, 2);
    assert_eq!((c.kv_max_value_size, c.txn_max_req_len), (1024, 4096));
    assert_eq!(c.retry_join, vec!["192.168.1.11"]);
    assert_eq!(c.start_join, vec!["192.168.1.12"]);
    assert_eq!(r.warnings, vec!["bootstrap = true: do not enable unless necessary".to_string()]);
}

#[test]
fn config_dir_files_merge_in_lexical_order_and_flags_win() {
    let t = TempDir::new();
    let dir = TempDir::new();
    dir.write("b.hcl", "datacenter = \"dc-b\"\nnode_name = \"from-b\"\nretry_join = [\"b\"]\n");
    dir.write("a.json", r#"{"datacenter": "dc-a", "log_level": "debug", "retry_join": ["a"]}"#);
    dir.write("README.md", "not config");
    std::fs::create_dir(dir.path().join("sub.json")).unwrap();
    let later = t.write("later.json", r#"{"node_name": "from-later", "retry_join": ["later"]}"#);

    let mut flags = flags_with_data_dir(t.path());
    flags.retry_join = vec!["flag".into()];
    let opts = LoadOpts {
        flags: flags.clone(),
        config_files: vec![dir.path().to_path_buf(), later.clone()],
        ..LoadOpts::default()
    };
    let r = load(&opts).unwrap();
    assert_eq!(r.config.datacenter, "dc-b", "b.hcl is read after a.json");
    assert_eq!(r.config.node_name, "from-later", "-config-file given later wins");
    assert_eq!(r.config.log_level, "debug");
    // Consul prepends list-valued flags, then appends each file's list in order.
    assert_eq!(r.config.retry_join, vec!["flag", "a", "b", "later"]);
    assert!(r.warnings.iter().any(|w| w.contains("README.md") && w.starts_with("skipping file")));

    // A scalar flag beats every file; an -hcl fragment beats the flags.
    flags.datacenter = Some("dc-flag".into());
    let r = load(&LoadOpts { flags: flags.clone(), ..opts.clone() }).unwrap();
    assert_eq!(r.config.datacenter, "dc-flag");
    let r = load(&LoadOpts { flags, hcl: vec!["datacenter = \"dc-hcl\"".into()], ..opts }).unwrap();
    assert_eq!(r.config.datacenter, "dc-hcl");
}

#[test]
fn config_format_forces_the_parser() {
    let t = TempDir::new();
    let f = t.write("agent.conf", "datacenter = \"forced\"\n");
    let opts = LoadOpts {
        flags: flags_with_data_dir(t.path()),
        config_files: vec![f],
        config_format: Some("hcl".into()),
        ..LoadOpts::default()
    };
    assert_eq!(load(&opts).unwrap().config.datacenter, "forced");
    let bad = LoadOpts { config_format: Some("yaml".into()), ..opts };
    assert_eq!(load_err(&bad), "config: -config-format must be either 'hcl' or 'json'");
}

#[test]
fn unknown_keys_are_rejected_like_consul() {
    let t = TempDir::new();
    let f = t.write("bad.json", r#"{"data_dir": "/x", "datacentre": "dc1"}"#);
    let err = load_err(&LoadOpts { config_files: vec![f.clone()], ..LoadOpts::default() });
    assert_eq!(
        err,
        format!("failed to parse {}: 1 error occurred:\n\t* invalid config key datacentre\n\n", f.display())
    );
    let g = t.write("bad.hcl", "data_dir = \"/x\"\nports { http = 1 htp = 2 }\nfoo = 1\n");
    let err = load_err(&LoadOpts { config_files: vec![g.clone()], ..LoadOpts::default() });
    assert_eq!(
        err,
        format!(
            "failed to parse {}: 2 errors occurred:\n\t* invalid config key foo\n\t* invalid config key ports.htp\n\n",
            g.display()
        )
    );
}

#[test]
fn unsupported_consul_keys_name_the_key() {
    let t = TempDir::new();
    let f = t.write("acl.hcl", "data_dir = \"/x\"\nacl { enabled = true default_policy = \"deny\" }\n");
    let err = load_err(&LoadOpts { config_files: vec![f], ..LoadOpts::default() });
    assert!(err.contains("config key \"acl\" is not supported by ballast yet"), "{err}");
    let g = t.write("dns.json", r#"{"data_dir": "/x", "recursors": ["8.8.8.8"]}"#);
    let err = load_err(&LoadOpts { config_files: vec![g], ..LoadOpts::default() });
    assert!(err.contains("config key \"recursors\" is not supported by ballast yet"), "{err}");
}

#[test]
fn type_errors_read_like_mapstructure() {
    let t = TempDir::new();
    let f = t.write("types.json", r#"{"data_dir": "/x", "bootstrap_expect": "3"}"#);
    let err = load_err(&LoadOpts { config_files: vec![f.clone()], ..LoadOpts::default() });
    assert_eq!(
        err,
        format!(
            "failed to parse {}: 1 error(s) decoding:\n\n* 'bootstrap_expect' expected type 'int', got unconvertible type 'string', value: '3'",
            f.display()
        )
    );
    let g = t.write("syntax.json", "{\"data_dir\": ");
    assert!(load_err(&LoadOpts { config_files: vec![g.clone()], ..LoadOpts::default() })
        .starts_with(&format!("failed to parse {}: ", g.display())));
}

#[test]
fn missing_config_file_is_reported() {
    let err = load_err(&LoadOpts { config_files: vec!["/nonexistent/c.json".into()], ..LoadOpts::default() });
    assert_eq!(
        err,
        "config: Open failed on /nonexistent/c.json. open /nonexistent/c.json: no such file or directory"
    );
}

fn flag_err(f: impl FnOnce(&mut Config), dev: bool) -> String {
    let t = TempDir::new();
    let mut flags = flags_with_data_dir(t.path());
    f(&mut flags);
    load_err(&LoadOpts { flags, dev, ..LoadOpts::default() })
}

#[test]
fn bootstrap_validation_matches_consul() {
    assert_eq!(
        flag_err(|c| c.bootstrap = Some(true), false),
        "'bootstrap = true' requires 'server = true'"
    );
    assert_eq!(
        flag_err(|c| c.bootstrap_expect = Some(3), false),
        "'bootstrap_expect > 0' requires 'server = true'"
    );
    assert_eq!(
        flag_err(|c| { c.server = Some(true); c.bootstrap = Some(true); c.bootstrap_expect = Some(3) }, false),
        "'bootstrap_expect > 0' and 'bootstrap = true' are mutually exclusive"
    );
    assert_eq!(
        flag_err(|c| c.bootstrap_expect = Some(3), true),
        "'bootstrap_expect > 0' not allowed in dev mode"
    );
    assert_eq!(
        flag_err(|c| c.bootstrap_expect = Some(-1), false),
        "bootstrap_expect cannot be -1. Must be greater than or equal to zero"
    );
}

#[test]
fn bootstrap_expect_one_means_bootstrap() {
    let t = TempDir::new();
    let mut flags = flags_with_data_dir(t.path());
    flags.server = Some(true);
    flags.bootstrap_expect = Some(1);
    let r = load(&LoadOpts { flags, ..LoadOpts::default() }).unwrap();
    assert!(r.config.bootstrap);
    assert_eq!(r.config.bootstrap_expect, 0);
    assert!(r.warnings.contains(&"BootstrapExpect is set to 1; this is the same as Bootstrap mode.".to_string()));
}

#[test]
fn value_validation_matches_consul() {
    assert_eq!(flag_err(|c| c.ports.http = Some(70000), false), "ports.http: invalid port: 70000");
    assert_eq!(
        flag_err(|c| c.raft_multiplier = Some(11), false),
        "performance.raft_multiplier cannot be 11. Must be between 1 and 10"
    );
    assert_eq!(
        flag_err(|c| c.datacenter = Some("dc 1".into()), false),
        "datacenter can only contain lowercase alphanumeric, - or _ characters. received: \"dc 1\""
    );
    assert_eq!(
        flag_err(|c| c.advertise_addr = Some("0.0.0.0".into()), false),
        "Advertise address cannot be 0.0.0.0, :: or [::]"
    );
    assert_eq!(flag_err(|c| c.client_addr = Some("localhost".into()), false), "client_addr: invalid ip address: localhost");
    assert_eq!(
        flag_err(|c| c.bind_addr = Some("10.0.0.1 10.0.0.2".into()), false),
        "bind_addr cannot contain multiple addresses. Use 'addresses.{dns,http,https}' instead."
    );
    assert_eq!(
        flag_err(|c| c.ports.http = Some(8600), false),
        "HTTP address 127.0.0.1:8600 already configured for DNS"
    );
    assert_eq!(
        flag_err(|c| c.log_level = Some("loud".into()), false),
        "Invalid log level: loud. Valid log levels are: [TRACE DEBUG INFO WARN ERR ERROR]"
    );
    assert_eq!(
        flag_err(|c| c.raft_snapshot_interval = Some("5".into()), false),
        "raft_snapshot_interval: invalid duration: \"5\": time: missing unit in duration \"5\""
    );
    assert!(flag_err(|c| c.retry_join = vec!["provider=aws tag_key=x".into()], false).contains("cloud auto-join"));
    assert!(flag_err(|c| c.placement = Some("fast".into()), false).starts_with("placement: invalid value"));
}

#[test]
fn data_dir_that_is_a_file_is_rejected() {
    let t = TempDir::new();
    let file = t.write("plain", "x");
    let flags = Config { data_dir: Some(file.display().to_string()), ..Config::default() };
    assert_eq!(
        load_err(&LoadOpts { flags, ..LoadOpts::default() }),
        format!("data_dir {:?} is not a directory", file.display().to_string())
    );
}

#[test]
fn ballast_keys_placement_and_service_shards() {
    let t = TempDir::new();
    let f = t.write("b.hcl", "data_dir = \"/x\"\nplacement = \"0,1\"\nservice_shards = 4\n");
    let r = load(&LoadOpts { config_files: vec![f], ..LoadOpts::default() }).unwrap();
    assert_eq!(r.config.placement, Placement::Cores(vec![0, 1]));
    assert_eq!(r.config.service_shards, Some(4));
    let mut flags = flags_with_data_dir(t.path());
    flags.placement = Some("unbound".into());
    let r = load(&LoadOpts { flags, ..LoadOpts::default() }).unwrap();
    assert_eq!(r.config.placement, Placement::Unbound);
}

#[test]
fn repeated_hcl_blocks_merge() {
    let t = TempDir::new();
    let f = t.write("r.hcl", "data_dir = \"/x\"\nports {\n  http = 1234\n}\nports {\n  dns = 5353\n}\n");
    let r = load(&LoadOpts { config_files: vec![f], ..LoadOpts::default() }).unwrap();
    assert_eq!((r.config.ports.http, r.config.ports.dns), (1234, 5353));
}
