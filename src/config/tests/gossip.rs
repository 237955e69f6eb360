//! The gossip keys (encrypt, keyring file, Serf bind/advertise addresses, WAN joins, reconnect
//! timeouts, gossip_lan / gossip_wan tuning): decoding from JSON and HCL, merge order with the
//! flags, Consul's defaults and dev values, and Consul's error texts.
use std::net::IpAddr;
use std::time::Duration;

use ballast_config::{load, Config, GossipConfig, GossipTuning, LoadOpts, RuntimeConfig};

mod support;
use support::TempDir;

const KEY16: &str = "i0P+gFTkLPg0h53eNYjydg==";
const KEY32: &str = "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn ms(n: u64) -> Option<Duration> {
    Some(Duration::from_millis(n))
}

fn flags(t: &TempDir) -> Config {
    Config { data_dir: Some(t.path().join("data").display().to_string()), ..Config::default() }
}

/// Loads one config file (plus the data_dir flag) and returns the config or the error text.
fn load_file(name: &str, text: &str) -> Result<RuntimeConfig, String> {
    let t = TempDir::new();
    let f = t.write(name, text);
    load(&LoadOpts { flags: flags(&t), config_files: vec![f], ..LoadOpts::default() })
        .map(|r| r.config)
        .map_err(|e| e.to_string())
}

fn load_json_err(text: &str) -> String {
    match load_file("c.json", text) {
        Ok(c) => panic!("expected an error for {text}, got {c:?}"),
        Err(e) => e,
    }
}

#[test]
fn defaults_match_consul() {
    let t = TempDir::new();
    let c = load(&LoadOpts { flags: flags(&t), ..LoadOpts::default() }).unwrap().config;
    assert_eq!(c.encrypt, None);
    assert!(!c.disable_keyring_file);
    assert_eq!((c.serf_bind_lan, c.serf_bind_wan, c.advertise_addr_wan), (None, None, None));
    assert!(c.retry_join_wan.is_empty() && c.start_join_wan.is_empty());
    assert_eq!(c.retry_interval_wan, Duration::from_secs(30));
    assert_eq!(c.retry_max_wan, 0);
    assert_eq!(c.reconnect_timeout, Duration::from_secs(72 * 3600));
    assert_eq!(c.reconnect_timeout_wan, Duration::from_secs(72 * 3600));
    assert_eq!(c.gossip_lan, GossipTuning::default());
    // Consul's default.go copies the LAN pool's gossip_nodes (3) into gossip_wan.
    assert_eq!(c.gossip_wan, GossipTuning { gossip_nodes: Some(3), ..GossipTuning::default() });
}

#[test]
fn dev_mode_uses_consul_dev_source() {
    let c = load(&LoadOpts { dev: true, ..LoadOpts::default() }).unwrap().config;
    assert!(c.disable_keyring_file);
    let fast = GossipTuning {
        gossip_interval: ms(100),
        probe_interval: ms(100),
        probe_timeout: ms(100),
        suspicion_mult: Some(3),
        ..GossipTuning::default()
    };
    assert_eq!(c.gossip_lan, fast);
    assert_eq!(c.gossip_wan, GossipTuning { gossip_nodes: Some(3), ..fast });
    // A file still overrides the dev values key by key.
    let t = TempDir::new();
    let f = t.write("g.hcl", "gossip_lan { probe_timeout = \"250ms\" }\ndisable_keyring_file = false\n");
    let c = load(&LoadOpts { dev: true, config_files: vec![f], ..LoadOpts::default() }).unwrap().config;
    assert_eq!(c.gossip_lan.probe_timeout, ms(250));
    assert_eq!(c.gossip_lan.probe_interval, ms(100));
    assert!(!c.disable_keyring_file);
}

const FULL_JSON: &str = r#"{
  "encrypt": "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=",
  "disable_keyring_file": true,
  "bind_addr": "10.0.0.5",
  "serf_lan": "10.0.1.5",
  "serf_wan": "10.0.2.5",
  "advertise_addr_wan": "198.51.100.7",
  "retry_join_wan": ["dc2-a", "dc2-b"],
  "start_join_wan": "dc3-a",
  "retry_interval_wan": "45s",
  "retry_max_wan": 7,
  "reconnect_timeout": "12h",
  "reconnect_timeout_wan": "100h",
  "gossip_lan": {"gossip_nodes": 5, "gossip_interval": "250ms", "probe_interval": "2s",
                 "probe_timeout": "700ms", "suspicion_mult": 6, "retransmit_mult": 2},
  "gossip_wan": {"gossip_nodes": 6, "gossip_interval": "1s", "probe_interval": "8s",
                 "probe_timeout": "4s", "suspicion_mult": 7, "retransmit_mult": 5}
}"#;

const FULL_HCL: &str = r#"
encrypt              = "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s="
disable_keyring_file = true
bind_addr            = "10.0.0.5"
serf_lan             = "10.0.1.5"
serf_wan             = "10.0.2.5"
advertise_addr_wan   = "198.51.100.7"
retry_join_wan       = ["dc2-a", "dc2-b"]
start_join_wan       = ["dc3-a"]
retry_interval_wan   = "45s"
retry_max_wan        = 7
reconnect_timeout    = "12h"
reconnect_timeout_wan = "100h"
gossip_lan {
  gossip_nodes    = 5
  gossip_interval = "250ms"
  probe_interval  = "2s"
  probe_timeout   = "700ms"
  suspicion_mult  = 6
  retransmit_mult = 2
}
gossip_wan = {
  gossip_nodes = 6, gossip_interval = "1s", probe_interval = "8s"
  probe_timeout = "4s", suspicion_mult = 7, retransmit_mult = 5
}
"#;

fn assert_full(c: &RuntimeConfig) {
    assert_eq!(c.encrypt.as_deref(), Some(KEY32));
    assert!(c.disable_keyring_file);
    assert_eq!(c.serf_bind_lan, Some(ip("10.0.1.5")));
    assert_eq!(c.serf_bind_wan, Some(ip("10.0.2.5")));
    assert_eq!(c.advertise_addr_wan, Some(ip("198.51.100.7")));
    assert_eq!(c.advertise_addr, Some(ip("10.0.0.5")));
    assert_eq!(c.retry_join_wan, vec!["dc2-a", "dc2-b"]);
    assert_eq!(c.start_join_wan, vec!["dc3-a"]);
    assert_eq!(c.retry_interval_wan, Duration::from_secs(45));
    assert_eq!(c.retry_max_wan, 7);
    assert_eq!(c.reconnect_timeout, Duration::from_secs(12 * 3600));
    assert_eq!(c.reconnect_timeout_wan, Duration::from_secs(100 * 3600));
    let lan = GossipTuning {
        gossip_nodes: Some(5),
        gossip_interval: ms(250),
        probe_interval: ms(2000),
        probe_timeout: ms(700),
        suspicion_mult: Some(6),
        retransmit_mult: Some(2),
    };
    let wan = GossipTuning {
        gossip_nodes: Some(6),
        gossip_interval: ms(1000),
        probe_interval: ms(8000),
        probe_timeout: ms(4000),
        suspicion_mult: Some(7),
        retransmit_mult: Some(5),
    };
    assert_eq!((&c.gossip_lan, &c.gossip_wan), (&lan, &wan));
}

#[test]
fn every_gossip_key_from_a_json_file() {
    let c = load_file("gossip.json", FULL_JSON).unwrap();
    assert_full(&c);
}

#[test]
fn every_gossip_key_from_an_hcl_file() {
    let c = load_file("gossip.hcl", FULL_HCL).unwrap();
    assert_full(&c);
}

#[test]
fn gossip_keys_are_accepted_without_warnings() {
    let t = TempDir::new();
    let f = t.write("gossip.json", FULL_JSON);
    let r = load(&LoadOpts { flags: flags(&t), config_files: vec![f], ..LoadOpts::default() }).unwrap();
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn flags_merge_in_consul_order() {
    let t = TempDir::new();
    let dir = TempDir::new();
    dir.write(
        "a.json",
        r#"{"encrypt": "i0P+gFTkLPg0h53eNYjydg==", "retry_join_wan": ["file-a"], "start_join_wan": ["file-s"],
            "serf_lan": "10.0.1.1", "retry_max_wan": 2, "gossip_wan": {"probe_interval": "9s", "gossip_nodes": 8}}"#,
    );
    dir.write("b.hcl", "retry_join_wan = [\"file-b\"]\ngossip_wan { probe_timeout = \"5s\" }\n");
    let mut f = flags(&t);
    f.encrypt = Some(KEY32.into());
    f.retry_join_wan = vec!["flag".into()];
    f.start_join_wan = vec!["flag-s".into()];
    f.serf_lan = Some("10.0.1.2".into());
    f.retry_interval_wan = Some("1m".into());
    f.gossip_wan = GossipConfig { gossip_nodes: Some(9), ..GossipConfig::default() };
    let opts = LoadOpts {
        flags: f,
        config_files: vec![dir.path().to_path_buf()],
        hcl: vec!["serf_lan = \"10.0.1.3\"\nretry_join_wan = [\"hcl\"]".into()],
        ..LoadOpts::default()
    };
    let c = load(&opts).unwrap().config;
    // List flags come before the files, scalar flags beat the files, -hcl beats the flags.
    assert_eq!(c.retry_join_wan, vec!["flag", "file-a", "file-b", "hcl"]);
    assert_eq!(c.start_join_wan, vec!["flag-s", "file-s"]);
    assert_eq!(c.encrypt.as_deref(), Some(KEY32));
    assert_eq!(c.serf_bind_lan, Some(ip("10.0.1.3")));
    assert_eq!(c.retry_interval_wan, Duration::from_secs(60));
    assert_eq!(c.retry_max_wan, 2);
    // gossip_wan merges key by key across every source.
    assert_eq!(
        c.gossip_wan,
        GossipTuning {
            gossip_nodes: Some(9),
            probe_interval: ms(9000),
            probe_timeout: ms(5000),
            ..GossipTuning::default()
        }
    );
}

#[test]
fn empty_values_mean_unset() {
    let c = load_file("e.json", r#"{"encrypt": "", "serf_lan": "", "serf_wan": "", "advertise_addr_wan": ""}"#)
        .unwrap();
    assert_eq!(c.encrypt, None);
    assert_eq!((c.serf_bind_lan, c.serf_bind_wan, c.advertise_addr_wan), (None, None, None));
}

#[test]
fn reconnect_timeouts_follow_consul() {
    // Consul 1.x has no minimum (its own full-config test uses 23739s); 0 keeps serf's 72h.
    let c = load_file("r.json", r#"{"reconnect_timeout": "4h", "reconnect_timeout_wan": "0s"}"#).unwrap();
    assert_eq!(c.reconnect_timeout, Duration::from_secs(4 * 3600));
    assert_eq!(c.reconnect_timeout_wan, Duration::from_secs(72 * 3600));
    assert_eq!(
        load_json_err(r#"{"reconnect_timeout": "3 days"}"#),
        "reconnect_timeout: invalid duration: \"3 days\": time: unknown unit \" days\" in duration \"3 days\""
    );
}

#[test]
fn encrypt_errors_use_consul_text() {
    assert_eq!(
        load_json_err(r#"{"encrypt": "this is not a valid key"}"#),
        "encrypt has invalid key: illegal base64 data at input byte 4"
    );
    assert_eq!(
        load_json_err(r#"{"encrypt": "Zm9vYmFy"}"#),
        "Failed to configure keyring: Invalid key: key size must be 16, 24 or 32 bytes"
    );
    assert_eq!(
        load_json_err(r#"{"encrypt": "Zm9vYmFy", "disable_keyring_file": true}"#),
        "Failed to configure keyring: key size must be 16, 24 or 32 bytes"
    );
    assert_eq!(load_file("k.hcl", &format!("encrypt = \"{KEY16}\"")).unwrap().encrypt.as_deref(), Some(KEY16));
}

#[test]
fn address_errors_use_consul_text() {
    assert_eq!(
        load_json_err(r#"{"advertise_addr_wan": "0.0.0.0"}"#),
        "Advertise WAN address cannot be 0.0.0.0, :: or [::]"
    );
    assert_eq!(load_json_err(r#"{"advertise_addr_wan": "[::]"}"#), "Advertise WAN address cannot be 0.0.0.0, :: or [::]");
    assert_eq!(load_json_err(r#"{"serf_lan": "unix:///tmp/x"}"#), "serf_lan cannot be a unix socket");
    assert_eq!(
        load_json_err(r#"{"serf_lan": "10.0.0.1 10.0.0.2"}"#),
        "serf_lan: multiple addresses found: 10.0.0.1 10.0.0.2"
    );
    assert_eq!(load_json_err(r#"{"serf_wan": "nope"}"#), "serf_wan: invalid ip address: nope");
    assert_eq!(
        load_json_err(r#"{"advertise_addr_wan": "300.1.1.1"}"#),
        "advertise_addr_wan: invalid ip address: 300.1.1.1"
    );
}

#[test]
fn wan_advertise_address_takes_part_in_the_uniqueness_check() {
    let err = load_json_err(
        r#"{"bind_addr": "10.0.0.5", "advertise_addr_wan": "10.0.0.9", "client_addr": "10.0.0.9",
            "ports": {"serf_wan": 8500}}"#,
    );
    assert_eq!(err, "Serf Advertise WAN address 10.0.0.9:8500 already configured for HTTP");
    // A disabled WAN port claims nothing.
    load_file(
        "ok.json",
        r#"{"advertise_addr_wan": "10.0.0.9", "client_addr": "10.0.0.9", "ports": {"serf_wan": -1, "http": 8302}}"#,
    )
    .unwrap();
}

#[test]
fn join_wan_refuses_what_ballast_lacks() {
    assert_eq!(
        load_json_err(r#"{"retry_join_wan": ["provider=aws tag_key=consul"]}"#),
        "retry_join_wan: cloud auto-join (\"provider=aws tag_key=consul\") is not supported by ballast yet"
    );
    assert_eq!(
        load_json_err(r#"{"start_join_wan": ["{{ GetPrivateIP }}"]}"#),
        "start_join_wan: go-sockaddr templates (\"{{ GetPrivateIP }}\") are not supported by ballast yet"
    );
    assert_eq!(load_json_err(r#"{"retry_max_wan": -1}"#), "retry_max_wan cannot be -1");
    assert_eq!(
        load_json_err(r#"{"retry_interval_wan": "soon"}"#),
        "retry_interval_wan: invalid duration: \"soon\": time: invalid duration \"soon\""
    );
}

#[test]
fn gossip_block_errors() {
    // Consul's error names these durations with two dots.
    assert_eq!(
        load_json_err(r#"{"gossip_lan": {"probe_interval": "5"}}"#),
        "gossip_lan..probe_interval: invalid duration: \"5\": time: missing unit in duration \"5\""
    );
    assert_eq!(
        load_json_err(r#"{"gossip_wan": {"gossip_nodes": -1}}"#),
        "gossip_wan.gossip_nodes cannot be -1. Must be greater than or equal to zero"
    );
    let err = load_json_err(r#"{"gossip_lan": {"gossip_nodes": "x"}}"#);
    assert!(
        err.ends_with("* 'gossip_lan.gossip_nodes' expected type 'int', got unconvertible type 'string', value: 'x'"),
        "{err}"
    );
    let err = load_json_err(r#"{"gossip_lan": {"push_pull_interval": "30s"}}"#);
    assert!(err.ends_with("invalid config key gossip_lan.push_pull_interval\n\n"), "{err}");
    let err = load_json_err(r#"{"disable_keyring_file": "yes"}"#);
    assert!(err.contains("'disable_keyring_file' expected type 'bool'"), "{err}");
}

#[test]
fn plaintext_gossip_transition_modes_are_refused() {
    let err = load_json_err(r#"{"encrypt_verify_incoming": false}"#);
    assert!(err.contains("\"encrypt_verify_incoming\" is not supported by ballast yet"), "{err}");
    load_file("ok.json", r#"{"encrypt_verify_outgoing": true}"#).unwrap();
}
