//! `keyring` and `keygen` against a canned agent: requests, bodies, output, exit codes.
mod common;

use base64::Engine;
use common::{dead_addr, ok_empty, response, run, FakeAgent};

const K1: &str = "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=";
const K2: &str = "HS5lJ+XuTlYKWaeGYyG+/A9k3XkvDwy7Cu5sTlYKWae=";

/// /v1/operator/keyring as Consul answers it: the WAN pool, then each LAN pool.
fn list_body() -> String {
    format!(
        r#"[{{"WAN":true,"Datacenter":"dc1","Segment":"","Messages":{{}},"Keys":{{"{K1}":3}},"PrimaryKeys":{{"{K1}":3}},"NumNodes":3}},
{{"WAN":false,"Datacenter":"dc1","Segment":"","Messages":{{"node-4":"No installed keys could decrypt the message"}},"Keys":{{"{K2}":1,"{K1}":5}},"PrimaryKeys":{{"{K1}":5}},"NumNodes":5}}]"#
    )
}

#[test]
fn list_prints_each_pool() {
    let agent = FakeAgent::start(vec![response("200 OK", &list_body())]);
    let o = run(&["keyring", &agent.flag(), "-list"]);
    assert_eq!((o.code, o.err.as_str()), (0, ""));
    let want = format!(
        "==> Gathering installed encryption keys...\n\nWAN:\n  {K1} [3/3]\n\ndc1 (LAN):\n  ===> node-4: No installed keys could decrypt the message\n  {K2} [1/5]\n  {K1} [5/5]\n"
    );
    assert_eq!(o.out, want);
    let req = agent.next();
    assert_eq!((req.method.as_str(), req.path.as_str(), req.body.len()), ("GET", "/v1/operator/keyring", 0));
}

#[test]
fn list_primary_local_only_and_relay_factor() {
    let agent = FakeAgent::start(vec![response("200 OK", &list_body())]);
    let o = run(&["keyring", &agent.flag(), "-list-primary", "-relay-factor", "2", "-token=tok"]);
    assert_eq!(o.code, 0, "{}", o.err);
    let want = format!("==> Gathering installed primary encryption keys...\n\nWAN:\n  {K1} [3/3]\n\ndc1 (LAN):\n  ===> node-4: No installed keys could decrypt the message\n  {K1} [5/5]\n");
    assert_eq!(o.out, want);
    let req = agent.next();
    assert_eq!(req.path, "/v1/operator/keyring?relay-factor=2");
    assert_eq!(req.header("X-Consul-Token"), Some("tok"));

    let agent = FakeAgent::start(vec![response("200 OK", "[]")]);
    let o = run(&["keyring", &agent.flag(), "-list", "-local-only"]);
    assert_eq!((o.code, o.out.as_str()), (0, "==> Gathering installed encryption keys...\n"));
    assert_eq!(agent.next().path, "/v1/operator/keyring?local-only=true");
}

#[test]
fn install_use_remove_send_the_key_as_json() {
    let agent = FakeAgent::start(vec![ok_empty(), ok_empty(), ok_empty()]);
    let cases = [
        ("-install", "POST", "==> Installing new gossip encryption key...\n"),
        ("-use", "PUT", "==> Changing primary gossip encryption key...\n"),
        ("-remove", "DELETE", "==> Removing gossip encryption key...\n"),
    ];
    for (flag, method, said) in cases {
        let o = run(&["keyring", &agent.flag(), &format!("{flag}={K2}"), "-relay-factor=1"]);
        assert_eq!((o.code, o.out.as_str(), o.err.as_str()), (0, said, ""), "{flag}");
        let req = agent.next();
        assert_eq!((req.method.as_str(), req.path.as_str()), (method, "/v1/operator/keyring?relay-factor=1"));
        assert_eq!(String::from_utf8(req.body.clone()).unwrap(), format!("{{\"Key\":\"{K2}\"}}\n"));
        assert_eq!(req.header("Content-Type"), Some("application/json"));
    }
}

#[test]
fn agent_errors_are_prefixed_error() {
    let agent = FakeAgent::start(vec![response("500 Internal Server Error", "Removing the primary key is not allowed")]);
    let o = run(&["keyring", &agent.flag(), &format!("-remove={K1}")]);
    assert_eq!(o.code, 1);
    assert_eq!(o.out, "==> Removing gossip encryption key...\n");
    assert_eq!(o.err, "error: Unexpected response code: 500 (Removing the primary key is not allowed)\n");
    let addr = dead_addr();
    let o = run(&["keyring", "-list", &format!("-http-addr={addr}")]);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.err,
        format!("error: Get \"http://{addr}/v1/operator/keyring\": dial tcp {addr}: connect: connection refused\n")
    );
}

#[test]
fn argument_checks_happen_before_any_request() {
    let dead = format!("-http-addr={}", dead_addr());
    let o = run(&["keyring", &dead]);
    assert_eq!((o.code, o.out.as_str()), (1, ""));
    assert!(o.err.starts_with("Usage: ballast keyring [options]\n"), "{}", o.err);
    assert!(o.err.contains("  -relay-factor=<int>\n"), "{}", o.err);
    assert_eq!(run(&["keyring", &dead, "-list", "-install=x"]).err, "Only a single action is allowed\n");
    assert_eq!(run(&["keyring", &dead, "-list", "-list-primary"]).code, 1);
    for bad in ["-relay-factor=6", "-relay-factor=-1"] {
        let o = run(&["keyring", &dead, "-list", bad]);
        assert_eq!((o.code, o.err.as_str()), (1, "Error parsing relay factor: Relay factor must be in range: [0, 5]\n"));
    }
    for action in ["-install=x", "-list-primary"] {
        let o = run(&["keyring", &dead, action, "-local-only"]);
        assert_eq!((o.code, o.err.as_str()), (1, "Error validating local-only: local-only can only be set for list requests\n"));
    }
    let o = run(&["keyring", "-list", "-relay-factor=x"]);
    assert_eq!(o.code, 1);
    assert!(o.err.starts_with("invalid value \"x\" for flag -relay-factor: parse error\n"), "{}", o.err);
}

#[test]
fn keygen_prints_a_fresh_32_byte_key() {
    let a = run(&["keygen"]);
    let b = run(&["keygen"]);
    assert_eq!((a.code, a.err.as_str()), (0, ""));
    assert!(a.out.ends_with('\n') && a.out.len() == 45, "{:?}", a.out);
    let key = base64::engine::general_purpose::STANDARD.decode(a.out.trim_end()).unwrap();
    assert_eq!(key.len(), 32);
    assert_ne!(a.out, b.out);
    let h = run(&["keygen", "-h"]);
    assert_eq!(h.code, 0);
    assert_eq!(
        h.err,
        "Usage: ballast keygen\n\n  Generates a new 32-byte encryption key that can be used to configure the\n  agent to encrypt traffic. The output of this command is already\n  in the proper format that the agent expects.\n"
    );
    assert!(run(&["keygen", "-x"]).err.starts_with("flag provided but not defined: -x\n"));
}
