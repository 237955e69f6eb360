//! What ballast does with each configuration key that Consul knows but ballast does not
//! implement: accept it (with a warning) when the value cannot change anything ballast does,
//! refuse it otherwise. Keys Consul does not know at all are rejected by the decoder.
use serde_json::Value;

/// The verdict on one known-but-unimplemented key, given its value.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Accepted; the string is the warning to show.
    Ignored(String),
    /// Refused; the string is the error.
    Unsupported(String),
}

#[derive(Clone, Copy)]
enum Rule {
    /// Has no observable effect in ballast whatever its value.
    Ignore,
    /// Consul itself warns and ignores it.
    Deprecated,
    /// Harmless only with this value (ballast behaves as Consul does with it).
    OnlyBool(bool),
    /// Harmless only with this string value (Consul's default).
    OnlyStr(&'static str),
    /// Harmless only when every value in the block is `false` (`acl { enabled = false }`).
    AllFalse,
    /// Harmless only when the port is disabled (<= 0).
    PortOff,
    /// Anything but an empty value needs a feature ballast lacks.
    Unsupported,
}

/// Top-level keys of Consul's config file format (agent/config/config.go) that ballast does not
/// implement. Keys ballast implements are handled by the decoder before this is consulted.
fn top_level_rule(key: &str) -> Option<Rule> {
    use Rule::*;
    Some(match key {
        // Nothing in ballast reads these: update checks, keyrings, Consul's RPC/streaming
        // internals, storage-engine tuning, and Consul's non-user keys (which Consul overrides).
        "disable_update_check" | "disable_anonymous_signature" | "disable_host_node_id" | "enable_central_service_config" | "syslog_facility"
        | "protocol" | "snapshot_agent" | "raft_boltdb" | "raft_logstore" | "reporting" | "rpc"
        | "use_streaming_backend" | "cache" | "acl_disabled_ttl"
        | "consul" | "revision"
        | "segment_limit" | "segment_name_limit" | "sync_coordinate_interval_min"
        | "sync_coordinate_rate_target" | "version" | "version_prerelease"
        | "version_metadata" | "build_date" => Ignore,
        "acl_enforce_version_8" => Deprecated,
        "ui" | "enable_syslog"
        | "enable_debug" | "rejoin_after_leave" | "translate_wan_addrs" | "disable_coordinates"
        | "enable_acl_replication" | "verify_incoming"
        | "verify_incoming_rpc" | "verify_incoming_https" | "verify_outgoing"
        | "verify_server_hostname" | "enable_agent_tls_for_checks"
        | "disable_http_unprintable_char_filter" | "auto_reload_config"
        | "tls_prefer_server_cipher_suites"
        | "leave_on_terminate" | "acl_enable_key_list_policy" => OnlyBool(false),
        // ballast never leaves the cluster on a signal, which is Consul's server default.
        // Gossip with an `encrypt` key always encrypts and verifies both ways (Consul's default);
        // the plaintext transition modes are not implemented.
        "skip_leave_on_interrupt" | "disable_remote_exec" | "encrypt_verify_incoming"
        | "encrypt_verify_outgoing" => OnlyBool(true),
        "domain" => OnlyStr("consul."),
        "default_query_time" => OnlyStr("300s"),
        "max_query_time" => OnlyStr("600s"),
        "acl" | "connect" | "ui_config" | "auto_encrypt" | "auto_config" | "audit" | "peering" => {
            AllFalse
        }
        "acl_agent_master_token" | "acl_agent_token" | "acl_datacenter" | "acl_default_policy"
        | "acl_down_policy" | "acl_master_token" | "acl_replication_token" | "acl_token"
        | "acl_ttl" | "addresses" | "advertise_addr_ipv4" | "advertise_addr_ipv6"
        | "advertise_addr_wan_ipv4" | "advertise_addr_wan_ipv6"
        | "advertise_reconnect_timeout" | "alt_domain" | "autopilot" | "ca_file" | "ca_path"
        | "cert_file" | "check" | "checks" | "check_output_max_size"
        | "cloud" | "config_entries" | "dns_config" | "experiments" | "http_config" | "key_file" | "license_path" | "locality" | "log_file"
        | "log_rotate_bytes" | "log_rotate_duration" | "log_rotate_max_files"
        | "partition" | "primary_datacenter" | "primary_gateways" | "primary_gateways_interval"
        | "recursors" | "segment" | "segments" | "serf_lan_allowed_cidrs"
        | "serf_wan_allowed_cidrs" | "server_name" | "server_rejoin_age_max" | "service"
        | "services" | "session_ttl_min" | "tagged_addresses" | "telemetry"
        | "tls" | "tls_cipher_suites" | "tls_min_version" | "ui_content_path" | "ui_dir"
        | "unix_sockets" | "watches" | "xds" => Unsupported,
        _ => return None,
    })
}

/// Known keys inside blocks ballast partly implements (`ports`, `performance`, `limits`).
fn nested_rule(block: &str, key: &str) -> Option<Rule> {
    use Rule::*;
    Some(match (block, key) {
        // Connect proxy port ranges: only used for sidecar registration, which needs Connect.
        ("ports", "proxy_min_port" | "proxy_max_port" | "sidecar_min_port" | "sidecar_max_port")
        | ("ports", "expose_min_port" | "expose_max_port") => Ignore,
        ("ports", "grpc_tls") => PortOff,
        ("performance", "leave_drain_time" | "rpc_hold_timeout")
        | ("performance", "grpc_keepalive_interval" | "grpc_keepalive_timeout") => Ignore,
        // Consul's server-to-server RPC limits: ballast does not speak Consul's RPC.
        ("limits", "rpc_handshake_timeout" | "rpc_client_timeout" | "rpc_max_burst")
        | ("limits", "rpc_max_conns_per_client" | "rpc_rate") => Ignore,
        ("limits", "http_max_conns_per_client" | "https_handshake_timeout" | "request_limits") => {
            Unsupported
        }
        _ => return None,
    })
}

/// The verdict for `path` (`"acl"` or `"ports.grpc_tls"`), or None if Consul has no such key.
pub fn verdict(path: &str, value: &Value) -> Option<Verdict> {
    let rule = match path.split_once('.') {
        None => top_level_rule(path)?,
        Some((block, key)) => nested_rule(block, key)?,
    };
    let ignored = || {
        Verdict::Ignored(format!("config key {path:?} has no effect in ballast and is ignored"))
    };
    let harmless = match rule {
        Rule::Ignore => true,
        Rule::Deprecated => {
            return Some(Verdict::Ignored(format!(
                "config key {path:?} is deprecated and should be removed"
            )))
        }
        Rule::OnlyBool(b) => value.as_bool() == Some(b),
        Rule::OnlyStr(s) => value.as_str() == Some(s),
        Rule::AllFalse => all_false(value),
        Rule::PortOff => value.as_i64().is_some_and(|p| p <= 0),
        Rule::Unsupported => false,
    };
    // An empty value (`recursors = []`, `node_meta = {}`) asks for nothing either way.
    if harmless || is_empty(value) {
        Some(ignored())
    } else {
        Some(Verdict::Unsupported(format!(
            "config key {path:?} is not supported by ballast yet (value: {})",
            short(value)
        )))
    }
}

fn all_false(v: &Value) -> bool {
    match v {
        Value::Bool(b) => !b,
        Value::Object(m) => !m.is_empty() && m.values().all(all_false),
        // A block written twice in HCL arrives as a list of objects.
        Value::Array(a) => !a.is_empty() && a.iter().all(all_false),
        _ => false,
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.iter().all(is_empty),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}...", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn harmless_values_are_ignored_with_a_warning() {
        assert!(matches!(verdict("ui", &json!(false)), Some(Verdict::Ignored(_))));
        assert!(matches!(verdict("acl", &json!({"enabled": false})), Some(Verdict::Ignored(_))));
        assert!(matches!(verdict("disable_update_check", &json!(true)), Some(Verdict::Ignored(_))));
        assert!(matches!(verdict("recursors", &json!([])), Some(Verdict::Ignored(_))));
        assert!(matches!(verdict("ports.grpc_tls", &json!(-1)), Some(Verdict::Ignored(_))));
    }

    #[test]
    fn effective_values_are_refused_naming_the_key() {
        match verdict("acl", &json!({"enabled": true})) {
            Some(Verdict::Unsupported(msg)) => assert!(msg.contains("\"acl\""), "{msg}"),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(verdict("ui", &json!(true)), Some(Verdict::Unsupported(_))));
        assert!(matches!(verdict("recursors", &json!(["8.8.8.8"])), Some(Verdict::Unsupported(_))));
        assert!(matches!(verdict("encrypt_verify_incoming", &json!(false)), Some(Verdict::Unsupported(_))));
        assert!(matches!(verdict("encrypt_verify_outgoing", &json!(true)), Some(Verdict::Ignored(_))));
        assert!(matches!(verdict("ports.grpc_tls", &json!(8503)), Some(Verdict::Unsupported(_))));
    }

    #[test]
    fn unknown_keys_have_no_verdict() {
        assert_eq!(verdict("no_such_key", &json!(1)), None);
        assert_eq!(verdict("ports.nope", &json!(1)), None);
        // Implemented keys are decoded before the verdicts are consulted.
        for key in ["encrypt", "serf_lan", "gossip_wan", "retry_join_wan", "reconnect_timeout"] {
            assert_eq!(verdict(key, &json!("x")), None, "{key}");
        }
    }
}
