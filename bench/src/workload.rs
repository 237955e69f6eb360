//! What is measured: the target system, the operation, the key space and the
//! value. Every request a run will send is encoded once, up front, into a
//! `Plan`, so the timed loop only copies bytes.

use std::fmt;

use base64::Engine as _;

/// The system under test and the protocol used to reach it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// Consul's HTTP API (ballast or Consul itself).
    Consul,
    /// etcd's native v3 gRPC API.
    Etcd,
    /// etcd's v3 JSON gateway (`POST /v3/kv/put`, `/v3/kv/range`), which
    /// decodes JSON and calls etcd's own gRPC server over loopback.
    EtcdGateway,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Consul => "consul",
            Target::Etcd => "etcd",
            Target::EtcdGateway => "etcd-gateway",
        }
    }

    pub fn is_http(self) -> bool {
        !matches!(self, Target::Etcd)
    }
}

/// Read consistency, named after Consul's query modes. On etcd, `default` and
/// `consistent` are linearizable ranges and `stale` is a serializable range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadLevel {
    Default,
    Stale,
    Consistent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// Write one value per request (durable: acknowledged after commit).
    Put,
    /// Read with the default consistency (Consul: leader lease; etcd: linearizable).
    Get,
    /// Stale read (Consul `?stale`; etcd serializable).
    GetStale,
    /// Strongly consistent read (Consul `?consistent`; etcd linearizable).
    GetConsistent,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::Put => "put",
            Workload::Get => "get",
            Workload::GetStale => "get-stale",
            Workload::GetConsistent => "get-consistent",
        }
    }

    pub fn read_level(self) -> Option<ReadLevel> {
        match self {
            Workload::Put => None,
            Workload::Get => Some(ReadLevel::Default),
            Workload::GetStale => Some(ReadLevel::Stale),
            Workload::GetConsistent => Some(ReadLevel::Consistent),
        }
    }

    /// What the operation is called on the target, for the report.
    pub fn mode_on(self, target: Target) -> &'static str {
        match (self.read_level(), target) {
            (None, _) => "put",
            (Some(ReadLevel::Default), Target::Consul) => "default",
            (Some(ReadLevel::Stale), Target::Consul) => "stale",
            (Some(ReadLevel::Consistent), Target::Consul) => "consistent",
            (Some(ReadLevel::Stale), _) => "serializable",
            (Some(_), _) => "linearizable",
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct PlanError(pub String);

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PlanError {}

/// The requests for one key, in the form its target needs.
#[derive(Debug, Clone)]
pub enum KeyRequests {
    /// Whole HTTP/1.1 requests: the measured one and the PUT that preloads it.
    Http { measured: Vec<u8>, preload: Vec<u8> },
    /// Raw key bytes for gRPC messages (the value lives in the plan).
    Grpc { key: Vec<u8> },
}

/// Everything a connection needs to issue the run's requests.
#[derive(Debug, Clone)]
pub struct Plan {
    pub target: Target,
    pub workload: Workload,
    pub value: Vec<u8>,
    pub keys: Vec<KeyRequests>,
}

/// Key names: `<prefix><index>`, zero-padded so all keys have one length.
pub fn key_name(prefix: &str, index: usize, count: usize) -> String {
    let width = count.saturating_sub(1).to_string().len();
    format!("{prefix}{index:0width$}")
}

/// A value of `size` printable bytes (so every target stores it verbatim).
pub fn make_value(size: usize) -> Vec<u8> {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..size).map(|i| ALPHABET[i % ALPHABET.len()]).collect()
}

/// Characters allowed in a key prefix: those that need no URL escaping, so the
/// HTTP path is the key as written.
fn prefix_is_url_safe(prefix: &str) -> bool {
    prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b))
}

impl Plan {
    pub fn new(
        target: Target,
        workload: Workload,
        host: &str,
        key_prefix: &str,
        key_count: usize,
        value_size: usize,
    ) -> Result<Plan, PlanError> {
        if key_count == 0 {
            return Err(PlanError("the key space needs at least one key".into()));
        }
        if !prefix_is_url_safe(key_prefix) || key_prefix.starts_with('/') {
            return Err(PlanError(format!(
                "key prefix {key_prefix:?} must use only A-Z a-z 0-9 / - _ . and not start with /"
            )));
        }
        let value = make_value(value_size);
        let keys = (0..key_count)
            .map(|i| {
                let key = key_name(key_prefix, i, key_count);
                match target {
                    Target::Consul => KeyRequests::Http {
                        measured: consul_request(workload, host, &key, &value),
                        preload: consul_request(Workload::Put, host, &key, &value),
                    },
                    Target::EtcdGateway => KeyRequests::Http {
                        measured: gateway_request(workload, host, &key, &value),
                        preload: gateway_request(Workload::Put, host, &key, &value),
                    },
                    Target::Etcd => KeyRequests::Grpc { key: key.into_bytes() },
                }
            })
            .collect();
        Ok(Plan { target, workload, value, keys })
    }
}

fn consul_request(workload: Workload, host: &str, key: &str, value: &[u8]) -> Vec<u8> {
    let query = match workload.read_level() {
        None => {
            let mut req = format!(
                "PUT /v1/kv/{key} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\n\r\n",
                value.len()
            )
            .into_bytes();
            req.extend_from_slice(value);
            return req;
        }
        Some(ReadLevel::Default) => "",
        Some(ReadLevel::Stale) => "?stale",
        Some(ReadLevel::Consistent) => "?consistent",
    };
    format!("GET /v1/kv/{key}{query} HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes()
}

fn gateway_request(workload: Workload, host: &str, key: &str, value: &[u8]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let (path, body) = match workload.read_level() {
        None => (
            "/v3/kv/put",
            serde_json::json!({ "key": b64.encode(key), "value": b64.encode(value) }),
        ),
        Some(ReadLevel::Stale) => (
            "/v3/kv/range",
            serde_json::json!({ "key": b64.encode(key), "serializable": true }),
        ),
        Some(_) => ("/v3/kv/range", serde_json::json!({ "key": b64.encode(key) })),
    };
    let body = body.to_string();
    format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_padded_to_one_width() {
        assert_eq!(key_name("b/", 7, 1), "b/7");
        assert_eq!(key_name("b/", 7, 1000), "b/007");
        assert_eq!(key_name("b/", 999, 1000), "b/999");
    }

    #[test]
    fn value_has_requested_size() {
        let v = make_value(36);
        assert_eq!(v.len(), 36);
        assert!(v.iter().all(|b| b.is_ascii_alphanumeric()));
    }

    #[test]
    fn consul_requests() {
        let plan = Plan::new(Target::Consul, Workload::GetStale, "127.0.0.1:8500", "bench/", 2, 4).unwrap();
        let KeyRequests::Http { measured, preload } = &plan.keys[1] else { panic!("http plan expected") };
        assert_eq!(measured, b"GET /v1/kv/bench/1?stale HTTP/1.1\r\nHost: 127.0.0.1:8500\r\n\r\n");
        assert_eq!(preload, b"PUT /v1/kv/bench/1 HTTP/1.1\r\nHost: 127.0.0.1:8500\r\nContent-Length: 4\r\n\r\n0123");
        let plan = Plan::new(Target::Consul, Workload::GetConsistent, "h", "k", 1, 4).unwrap();
        let KeyRequests::Http { measured, .. } = &plan.keys[0] else { panic!("http plan expected") };
        assert!(measured.starts_with(b"GET /v1/kv/k0?consistent HTTP/1.1\r\n"));
    }

    #[test]
    fn gateway_requests_carry_base64_json() {
        let plan = Plan::new(Target::EtcdGateway, Workload::GetStale, "h", "k", 1, 4).unwrap();
        let KeyRequests::Http { measured, preload } = &plan.keys[0] else { panic!("http plan expected") };
        let text = String::from_utf8(measured.clone()).unwrap();
        assert!(text.starts_with("POST /v3/kv/range HTTP/1.1\r\n"));
        let body: serde_json::Value = serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["key"], "azA="); // "k0"
        assert_eq!(body["serializable"], true);
        let text = String::from_utf8(preload.clone()).unwrap();
        assert!(text.starts_with("POST /v3/kv/put HTTP/1.1\r\n"));
        assert!(text.ends_with(r#""value":"MDEyMw=="}"#) || text.contains(r#""value":"MDEyMw==""#));
    }

    #[test]
    fn bad_plans_are_rejected() {
        assert!(Plan::new(Target::Consul, Workload::Put, "h", "k", 0, 36).is_err());
        assert!(Plan::new(Target::Consul, Workload::Put, "h", "a b", 1, 36).is_err());
        assert!(Plan::new(Target::Consul, Workload::Put, "h", "/abs", 1, 36).is_err());
        assert!(Plan::new(Target::Consul, Workload::Put, "h", "a?b", 1, 36).is_err());
    }

    #[test]
    fn modes_per_target() {
        assert_eq!(Workload::Get.mode_on(Target::Etcd), "linearizable");
        assert_eq!(Workload::GetStale.mode_on(Target::Etcd), "serializable");
        assert_eq!(Workload::GetStale.mode_on(Target::Consul), "stale");
        assert_eq!(Workload::GetConsistent.mode_on(Target::EtcdGateway), "linearizable");
    }
}
