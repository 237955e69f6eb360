use std::collections::BTreeMap;

use ballast_store::catalog::{ServiceAddress, Weights};

use crate::{decode_check_registration, decode_check_update, decode_service_registration, LocalError};

const SEC: i64 = 1_000_000_000;

fn bad(body: &str) -> String {
    match decode_service_registration(body.as_bytes()) {
        Err(e) => {
            assert_eq!(e.status(), 400);
            e.to_string()
        }
        Ok(d) => panic!("decoded {d:?}"),
    }
}

#[test]
fn py_consul_service_register_with_http_check() {
    // consul.Agent.Service.register(name, service_id=, address=, port=, tags=,
    // meta=, check=Check.http(...), weights=, enable_tag_override=True)
    let body = r#"{"name": "web", "enabletagoverride": true, "id": "web-1", "address": "10.0.0.5",
        "port": 8080, "tags": ["v1", "primary"], "meta": {"version": "1.2"},
        "checks": [{"http": "http://10.0.0.5:8080/health", "interval": "10s", "timeout": "1s",
                    "DeregisterCriticalServiceAfter": "90m", "header": {"x-foo": ["bar", "baz"]}},
                   {"tcp": "10.0.0.5:8080", "interval": "5s"}],
        "weights": {"Passing": 10, "Warning": 1}}"#;
    let d = decode_service_registration(body.as_bytes()).unwrap();
    assert_eq!(d.name, "web");
    assert_eq!(d.id, "web-1");
    assert!(d.enable_tag_override);
    assert_eq!(d.address, "10.0.0.5");
    assert_eq!(d.port, 8080);
    assert_eq!(d.tags, vec!["v1", "primary"]);
    assert_eq!(d.meta.get("version").map(String::as_str), Some("1.2"));
    assert_eq!(d.weights, Some(Weights { passing: 10, warning: 1 }));
    assert_eq!(d.checks.len(), 2);
    let http = &d.checks[0];
    assert_eq!(http.http, "http://10.0.0.5:8080/health");
    assert_eq!(http.interval_ns, 10 * SEC);
    assert_eq!(http.timeout_ns, SEC);
    assert_eq!(http.deregister_critical_service_after_ns, 90 * 60 * SEC);
    assert_eq!(http.header.get("x-foo"), Some(&vec!["bar".to_string(), "baz".to_string()]));
    assert_eq!(http.check_type(), "http");
    assert_eq!(d.checks[1].tcp, "10.0.0.5:8080");
    assert_eq!(d.checks[1].check_type(), "tcp");
}

#[test]
fn py_consul_check_helpers_decode() {
    let body = r#"{"name": "svc", "checks": [
        {"args": ["/bin/check", "-q"], "interval": "30s"},
        {"ttl": "10s"},
        {"grpc": "127.0.0.1:9090/health", "grpc_use_tls": true, "tls_skip_verify": true, "interval": "10s"},
        {"docker_container_id": "abc123", "shell": "/bin/sh", "args": ["check"], "interval": "10s"}
    ]}"#;
    let d = decode_service_registration(body.as_bytes()).unwrap();
    assert_eq!(d.checks[0].script_args, vec!["/bin/check", "-q"]);
    assert_eq!(d.checks[0].check_type(), "script");
    assert_eq!(d.checks[1].ttl_ns, 10 * SEC);
    assert_eq!(d.checks[1].check_type(), "ttl");
    assert!(d.checks[2].grpc_use_tls && d.checks[2].tls_skip_verify);
    assert_eq!(d.checks[2].check_type(), "grpc");
    assert_eq!(d.checks[3].docker_container_id, "abc123");
    assert_eq!(d.checks[3].check_type(), "docker");
}

#[test]
fn py_consul_legacy_check_and_docker_script_field() {
    // Check._compat puts a single "check"; the docker helper's "script" key
    // is unknown to Consul >= 1.1 and the strict check decoder rejects it.
    let d = decode_service_registration(br#"{"name": "a", "check": {"ttl": "15s"}}"#).unwrap();
    assert_eq!(d.check.ttl_ns, 15 * SEC);
    assert_eq!(d.check_types().len(), 1);
    assert_eq!(
        bad(r#"{"name": "a", "checks": [{"docker_container_id": "c", "shell": "sh", "script": "x", "interval": "10s"}]}"#),
        "Request decode failed: json: unknown field \"script\""
    );
}

#[test]
fn patroni_registration() {
    // Patroni -> py-consul register(service_name, service_id='<scope>/<name>',
    // address, port, check=Check.http(url, interval, deregister='300.0s') +
    // TLSServerName, tags, enable_tag_override=True)
    let body = r#"{"name": "batman", "enabletagoverride": true, "id": "batman/pg-0", "address": "10.1.0.7",
        "port": 5432, "tags": ["master", "primary"],
        "checks": [{"http": "https://10.1.0.7:8008/master", "interval": "5s",
                    "DeregisterCriticalServiceAfter": "300.0s", "TLSServerName": "pg-0.example"}]}"#;
    let d = decode_service_registration(body.as_bytes()).unwrap();
    assert_eq!(d.id, "batman/pg-0");
    assert!(d.enable_tag_override);
    let c = &d.checks[0];
    assert_eq!(c.interval_ns, 5 * SEC);
    assert_eq!(c.deregister_critical_service_after_ns, 300 * SEC);
    assert_eq!(c.tls_server_name, "pg-0.example");
}

#[test]
fn go_api_registration() {
    // api.AgentServiceRegistration: PascalCase, nil Check/Checks as null,
    // Args serialized as ScriptArgs.
    let body = r#"{"ID":"redis1","Name":"redis","Tags":["primary","v1"],"Port":8000,"Address":"127.0.0.1",
        "TaggedAddresses":{"lan":{"Address":"127.0.0.1","Port":8000},"wan":{"Address":"198.18.0.53","Port":80}},
        "EnableTagOverride":true,"Meta":{"redis_version":"4.0"},"Weights":{"Passing":10,"Warning":1},
        "Check":{"CheckID":"redis-check","Name":"Redis","ScriptArgs":["/usr/local/bin/check_redis.py"],
                 "Interval":"10s","Timeout":"5s","DeregisterCriticalServiceAfter":"1m","SuccessBeforePassing":2,
                 "FailuresBeforeCritical":3},
        "Checks":null,"Proxy":null,"Connect":null}"#;
    let d = decode_service_registration(body.as_bytes()).unwrap();
    assert_eq!(d.id, "redis1");
    assert_eq!(
        d.tagged_addresses,
        BTreeMap::from([
            ("lan".to_string(), ServiceAddress { address: "127.0.0.1".into(), port: 8000 }),
            ("wan".to_string(), ServiceAddress { address: "198.18.0.53".into(), port: 80 }),
        ])
    );
    assert!(d.checks.is_empty());
    assert_eq!(d.check.check_id, "redis-check");
    assert_eq!(d.check.script_args, vec!["/usr/local/bin/check_redis.py"]);
    assert_eq!(d.check.success_before_passing, 2);
    assert_eq!(d.check.failures_before_critical, 3);
    assert!(d.proxy.is_none() && d.connect.is_none());
}

#[test]
fn snake_case_aliases_and_numeric_durations() {
    let body = r#"{"Name":"x","enable_tag_override":true,
        "tagged_addresses":{"lan":{"address":"10.0.0.1","port":1}},
        "Checks":[{"script_args":["a"],"interval":1500000000,"deregister_critical_service_after":"2m",
                   "docker_container_id":"d","tls_server_name":"t","h2ping":"h:1"}]}"#;
    let d = decode_service_registration(body.as_bytes()).unwrap();
    assert!(d.enable_tag_override);
    assert_eq!(d.tagged_addresses["lan"], ServiceAddress { address: "10.0.0.1".into(), port: 1 });
    let c = &d.checks[0];
    assert_eq!(c.script_args, vec!["a"]);
    assert_eq!(c.interval_ns, 1_500_000_000);
    assert_eq!(c.deregister_critical_service_after_ns, 120 * SEC);
    assert_eq!(c.docker_container_id, "d");
    assert_eq!(c.tls_server_name, "t");
    assert!(c.h2ping_use_tls, "H2PING defaults to TLS");
    let off = decode_service_registration(br#"{"Name":"x","Check":{"H2PING":"h:1","h2ping_use_tls":false,"Interval":"1s"}}"#)
        .unwrap();
    assert!(!off.check.h2ping_use_tls);
}

#[test]
fn unknown_service_fields_are_ignored_but_bad_json_is_not() {
    let d = decode_service_registration(br#"{"Name":"x","Bogus":1,"Locality":{"Region":"r"}}"#).unwrap();
    assert_eq!(d.name, "x");
    assert_eq!(bad(""), "Request decode failed: EOF");
    assert_eq!(bad("{\"Name\":"), "Request decode failed: unexpected EOF");
    assert_eq!(bad("{bogus}"), "Request decode failed: invalid character 'b' looking for beginning of value");
    assert_eq!(
        bad(r#"{"Name":"x","Port":"80"}"#),
        "Request decode failed: json: cannot unmarshal string into Go struct field .Port of type int"
    );
    assert_eq!(
        bad(r#"{"Name":"x","Check":{"TTL":"ten"}}"#),
        "Request decode failed: time: invalid duration \"ten\""
    );
    assert_eq!(
        bad(r#"{"Name":"x","Tags":"a"}"#),
        "Request decode failed: json: cannot unmarshal string into Go struct field .Tags of type []string"
    );
}

#[test]
fn first_error_in_document_order_wins() {
    assert_eq!(
        bad(r#"{"Name":5,"Checks":[{"Nope":1}]}"#),
        "Request decode failed: json: cannot unmarshal number into Go struct field .Name of type string"
    );
}

#[test]
fn check_registration_payloads() {
    // py-consul Agent.Check.register(name, check=Check.ttl("10s"), check_id=, notes=, service_id=)
    let d = decode_check_registration(br#"{"name": "mem", "ttl": "10s", "id": "mem-ttl", "notes": "n", "serviceid": "web"}"#)
        .unwrap();
    assert_eq!((d.id.as_str(), d.name.as_str(), d.notes.as_str(), d.service_id.as_str()), ("mem-ttl", "mem", "n", "web"));
    assert_eq!(d.check_type.ttl_ns, 10 * SEC);
    // Go api.AgentCheckRegistration.
    let d = decode_check_registration(
        br#"{"ID":"api","Name":"API","ServiceID":"web","HTTP":"http://x/health","Method":"POST","Interval":"15s","Status":"passing"}"#,
    )
    .unwrap();
    assert_eq!(d.status, "passing");
    assert_eq!(d.check_type.method, "POST");
    // Vault's sealed check registers with the service; here a snake alias.
    let d = decode_check_registration(br#"{"Name":"n","service_id":"svc","TTL":"5s"}"#).unwrap();
    assert_eq!(d.service_id, "svc");
    let e = decode_check_registration(br#"{"Name":"n","TTL":"5s","CheckID":"x"}"#).unwrap_err();
    assert_eq!(e.to_string(), "Request decode failed: json: unknown field \"CheckID\"");
}

#[test]
fn check_update_body() {
    let u = decode_check_update(br#"{"Status":"passing","Output":"all good"}"#).unwrap();
    assert_eq!((u.status.as_str(), u.output.as_str()), ("passing", "all good"));
    let e = decode_check_update(br#"{"Status":"ok"}"#).unwrap_err();
    assert_eq!(e, LocalError::BadRequest("Invalid check status: 'ok'".into()));
    let e = decode_check_update(br#"{"Output":"x"}"#).unwrap_err();
    assert_eq!(e.to_string(), "Invalid check status: ''");
    let e = decode_check_update(br#"{"Status":"passing","Extra":1}"#).unwrap_err();
    assert_eq!(e.to_string(), "Request decode failed: json: unknown field \"Extra\"");
    assert_eq!(e.status(), 400);
}

#[test]
fn hostile_input_never_panics() {
    let deep = "[".repeat(10_000);
    for body in [&deep[..], "\u{0}", "{\"Checks\":[null, 5, \"x\"]}", "{\"Weights\":[]}", "1e999", "[]", "null"] {
        let _ = decode_service_registration(body.as_bytes());
        let _ = decode_check_registration(body.as_bytes());
        let _ = decode_check_update(body.as_bytes());
    }
    assert!(decode_service_registration(&[0xff, 0xfe]).is_err());
}
