//! A service definition from an agent config file (Consul's config.ServiceDefinition) turned
//! into the api.AgentServiceRegistration the agent API takes, as Consul's ServicesFromFiles
//! does: keys match case-insensitively (mapstructure), the old CamelCase check keys are
//! translated, values must have the right type, unknown keys are errors, and a service from a
//! file always carries Weights (1/1 unless set).
use serde_json::{Map, Value};

use crate::services::api::{ServiceAddress, ServiceRegistration, Weights};

/// Consul's TranslateKeys for config files: CamelCase aliases of snake_case check keys.
fn translate(key: &str) -> String {
    let lower = key.to_ascii_lowercase();
    match lower.as_str() {
        "deregistercriticalserviceafter" => "deregister_critical_service_after".to_string(),
        "dockercontainerid" => "docker_container_id".to_string(),
        "scriptargs" => "args".to_string(),
        "serviceid" => "service_id".to_string(),
        "tlsskipverify" => "tls_skip_verify".to_string(),
        _ => lower,
    }
}

/// The Go type names mapstructure reports.
fn go_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

fn type_error(path: &str, want: &str, v: &Value) -> String {
    format!("'{path}' expected type '{want}', got unconvertible type '{}'", go_kind(v))
}

fn string(path: &str, v: &Value) -> Result<String, String> {
    v.as_str().map(str::to_string).ok_or_else(|| type_error(path, "string", v))
}

fn int(path: &str, v: &Value) -> Result<i64, String> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
            .ok_or_else(|| type_error(path, "int", v)),
        _ => Err(type_error(path, "int", v)),
    }
}

fn boolean(path: &str, v: &Value) -> Result<bool, String> {
    v.as_bool().ok_or_else(|| type_error(path, "bool", v))
}

fn string_list(path: &str, v: &Value) -> Result<Vec<String>, String> {
    let Value::Array(items) = v else { return Err(type_error(path, "[]string", v)) };
    items.iter().enumerate().map(|(i, item)| string(&format!("{path}[{i}]"), item)).collect()
}

/// One object. HCL1 decodes a block as a list of objects, which Consul patches back into an
/// object for single-valued keys, so a one-element list is accepted too.
fn object<'a>(path: &str, v: &'a Value) -> Result<&'a Map<String, Value>, String> {
    match v {
        Value::Object(m) => Ok(m),
        Value::Array(items) if items.len() == 1 && items[0].is_object() => object(path, &items[0]),
        _ => Err(type_error(path, "map[string]interface {}", v)),
    }
}

/// A list of objects; a single object (one HCL block) counts as a list of one.
pub fn objects<'a>(path: &str, v: &'a Value) -> Result<Vec<&'a Map<String, Value>>, String> {
    match v {
        Value::Object(m) => Ok(vec![m]),
        Value::Array(items) => {
            items.iter().enumerate().map(|(i, item)| object(&format!("{path}[{i}]"), item)).collect()
        }
        _ => Err(type_error(path, "[]interface {}", v)),
    }
}

fn string_map(path: &str, v: &Value) -> Result<std::collections::BTreeMap<String, String>, String> {
    object(path, v)?.iter().map(|(k, val)| Ok((k.clone(), string(&format!("{path}[{k}]"), val)?))).collect()
}

/// Converts one service definition at `path` ("service", "services[1]").
pub fn service(path: &str, def: &Map<String, Value>) -> Result<ServiceRegistration, String> {
    let mut svc = ServiceRegistration { weights: Some(Weights { passing: 1, warning: 1 }), ..Default::default() };
    for (raw_key, v) in def {
        let key = translate(raw_key);
        let p = format!("{path}.{key}");
        match key.as_str() {
            "kind" => svc.kind = string(&p, v)?,
            "id" => svc.id = string(&p, v)?,
            "name" => svc.name = string(&p, v)?,
            "tags" => svc.tags = string_list(&p, v)?,
            "address" => svc.address = string(&p, v)?,
            "socket_path" => svc.socket_path = string(&p, v)?,
            "port" => svc.port = int(&p, v)?,
            "meta" => svc.meta = string_map(&p, v)?,
            "enable_tag_override" => svc.enable_tag_override = boolean(&p, v)?,
            "namespace" => svc.namespace = string(&p, v)?,
            "partition" => svc.partition = string(&p, v)?,
            // The registration API carries no token; the CLI's -token is what authorizes it.
            "token" => drop(string(&p, v)?),
            "tagged_addresses" => {
                for (name, addr) in object(&p, v)? {
                    let ap = format!("{p}[{name}]");
                    svc.tagged_addresses.insert(name.clone(), tagged_address(&ap, object(&ap, addr)?)?);
                }
            }
            "weights" => {
                let w = svc.weights.get_or_insert_with(Weights::default);
                for (k, val) in object(&p, v)? {
                    match translate(k).as_str() {
                        "passing" => w.passing = int(&format!("{p}.passing"), val)?,
                        "warning" => w.warning = int(&format!("{p}.warning"), val)?,
                        other => return Err(format!("invalid config key {p}.{other}")),
                    }
                }
            }
            "check" => svc.check = Some(check(&p, object(&p, v)?)?),
            "checks" => {
                let list = objects(&p, v)?;
                let converted: Result<Vec<_>, String> =
                    list.iter().enumerate().map(|(i, c)| check(&format!("{p}[{i}]"), c)).collect();
                svc.checks = Some(converted?);
            }
            "proxy" | "connect" => {
                return Err(format!("{p}: Connect is not supported by ballast"));
            }
            _ => return Err(format!("invalid config key {p}")),
        }
    }
    Ok(svc)
}

fn tagged_address(path: &str, m: &Map<String, Value>) -> Result<ServiceAddress, String> {
    let mut out = ServiceAddress::default();
    for (k, v) in m {
        match translate(k).as_str() {
            "address" => out.address = string(&format!("{path}.address"), v)?,
            "port" => out.port = int(&format!("{path}.port"), v)?,
            other => return Err(format!("invalid config key {path}.{other}")),
        }
    }
    Ok(out)
}

/// How a check field is typed, and its api.AgentServiceCheck JSON name.
enum CheckField {
    Str(&'static str),
    Int(&'static str),
    Bool(&'static str),
    List(&'static str),
    Header,
    /// Known to Consul's config but not part of the agent API body.
    Dropped,
}

fn check_field(key: &str) -> Option<CheckField> {
    use CheckField::*;
    Some(match key {
        "id" => Str("CheckID"),
        "name" => Str("Name"),
        "notes" => Str("Notes"),
        "status" => Str("Status"),
        "args" => List("ScriptArgs"),
        "http" => Str("HTTP"),
        "header" => Header,
        "method" => Str("Method"),
        "body" => Str("Body"),
        "disable_redirects" => Bool("DisableRedirects"),
        "output_max_size" => Int("OutputMaxSize"),
        "tcp" => Str("TCP"),
        "udp" => Str("UDP"),
        "interval" => Str("Interval"),
        "docker_container_id" => Str("DockerContainerID"),
        "shell" => Str("Shell"),
        "grpc" => Str("GRPC"),
        "grpc_use_tls" => Bool("GRPCUseTLS"),
        "tls_server_name" => Str("TLSServerName"),
        "tls_skip_verify" => Bool("TLSSkipVerify"),
        "alias_node" => Str("AliasNode"),
        "alias_service" => Str("AliasService"),
        "timeout" => Str("Timeout"),
        "ttl" => Str("TTL"),
        "h2ping" => Str("H2PING"),
        "h2ping_use_tls" => Bool("H2PingUseTLS"),
        "os_service" => Str("OSService"),
        "success_before_passing" => Int("SuccessBeforePassing"),
        "failures_before_warning" => Int("FailuresBeforeWarning"),
        "failures_before_critical" => Int("FailuresBeforeCritical"),
        "deregister_critical_service_after" => Str("DeregisterCriticalServiceAfter"),
        "service_id" | "token" | "namespace" | "partition" => Dropped,
        _ => return None,
    })
}

/// A check definition as api.AgentServiceCheck JSON; durations are checked here (Consul's
/// builder rejects a bad one) and sent as written.
fn check(path: &str, def: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (raw_key, v) in def {
        let key = translate(raw_key);
        let p = format!("{path}.{key}");
        let Some(field) = check_field(&key) else { return Err(format!("invalid config key {p}")) };
        match field {
            CheckField::Str(name) => {
                let s = string(&p, v)?;
                if matches!(key.as_str(), "interval" | "timeout" | "ttl" | "deregister_critical_service_after") {
                    ballast_config::parse_duration(&s).map_err(|e| format!("{p}: {e}"))?;
                }
                out.insert(name.to_string(), Value::String(s));
            }
            CheckField::Int(name) => {
                out.insert(name.to_string(), Value::from(int(&p, v)?));
            }
            CheckField::Bool(name) => {
                out.insert(name.to_string(), Value::Bool(boolean(&p, v)?));
            }
            CheckField::List(name) => {
                out.insert(name.to_string(), Value::from(string_list(&p, v)?));
            }
            CheckField::Header => {
                let mut headers = Map::new();
                for (h, vals) in object(&p, v)? {
                    headers.insert(h.clone(), Value::from(string_list(&format!("{p}[{h}]"), vals)?));
                }
                out.insert("Header".to_string(), Value::Object(headers));
            }
            CheckField::Dropped => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn svc(v: Value) -> Result<ServiceRegistration, String> {
        service("service", v.as_object().unwrap())
    }

    #[test]
    fn converts_fields_case_insensitively_with_default_weights() {
        let s = svc(json!({
            "ID": "web1", "Name": "web", "tags": ["a", "b"], "port": 80, "address": "10.0.0.5",
            "meta": {"team": "x"}, "enable_tag_override": true,
            "tagged_addresses": {"lan": {"address": "10.0.0.5", "port": 80}},
        }))
        .unwrap();
        assert_eq!((s.id.as_str(), s.name.as_str(), s.port, s.address.as_str()), ("web1", "web", 80, "10.0.0.5"));
        assert_eq!(s.tags, ["a", "b"]);
        assert_eq!(s.meta["team"], "x");
        assert!(s.enable_tag_override);
        assert_eq!(s.tagged_addresses["lan"], ServiceAddress { address: "10.0.0.5".into(), port: 80 });
        assert_eq!(s.weights, Some(Weights { passing: 1, warning: 1 }));
        assert_eq!((s.check.clone(), s.checks.clone()), (None, None));
    }

    #[test]
    fn converts_checks_with_translated_keys() {
        let s = svc(json!({
            "name": "web", "weights": {"passing": 3},
            "check": {"id": "c1", "http": "http://x/", "interval": "10s", "TLSSkipVerify": true,
                      "header": {"X-A": ["1"]}, "ScriptArgs": ["/bin/true"]},
            "checks": [{"ttl": "30s", "DeregisterCriticalServiceAfter": "90m"}],
        }))
        .unwrap();
        assert_eq!(s.weights, Some(Weights { passing: 3, warning: 1 }));
        assert_eq!(
            Value::Object(s.check.unwrap()),
            json!({"CheckID": "c1", "HTTP": "http://x/", "Interval": "10s", "TLSSkipVerify": true,
                   "Header": {"X-A": ["1"]}, "ScriptArgs": ["/bin/true"]})
        );
        assert_eq!(
            Value::Array(s.checks.unwrap().into_iter().map(Value::Object).collect()),
            json!([{"TTL": "30s", "DeregisterCriticalServiceAfter": "90m"}])
        );
    }

    #[test]
    fn rejects_unknown_keys_wrong_types_and_bad_durations() {
        assert_eq!(svc(json!({"name": "web", "colour": "red"})).unwrap_err(), "invalid config key service.colour");
        assert_eq!(
            svc(json!({"port": "80"})).unwrap_err(),
            "'service.port' expected type 'int', got unconvertible type 'string'"
        );
        assert_eq!(
            svc(json!({"tags": ["a", 1]})).unwrap_err(),
            "'service.tags[1]' expected type 'string', got unconvertible type 'int'"
        );
        assert_eq!(svc(json!({"check": {"nope": 1}})).unwrap_err(), "invalid config key service.check.nope");
        assert!(svc(json!({"check": {"interval": "10 parsecs"}})).unwrap_err().starts_with("service.check.interval: "));
        assert!(svc(json!({"connect": {"native": true}})).unwrap_err().contains("Connect is not supported"));
    }

    #[test]
    fn one_element_lists_stand_for_blocks() {
        let s = svc(json!({"name": "web", "check": [{"ttl": "5s"}], "meta": [{"a": "b"}]})).unwrap();
        assert_eq!(s.check.unwrap()["TTL"], "5s");
        assert_eq!(s.meta["a"], "b");
    }
}
