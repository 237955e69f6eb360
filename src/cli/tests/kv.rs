//! The kv commands end to end against a tiny HTTP server started here on 127.0.0.1, which
//! records each request and answers with canned Consul responses.
mod common;

use common::{response, run, FakeAgent, Outcome};

fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Outcome {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut input = stdin;
    let code = ballast_cli::run(&args, &mut ballast_cli::Io { out: &mut out, err: &mut err, stdin: &mut input });
    Outcome { code, out: String::from_utf8(out).unwrap(), err: String::from_utf8(err).unwrap() }
}

const PAIR_FOO: &str = r#"[{"LockIndex":0,"Key":"foo","Flags":42,"Value":"YmFy","CreateIndex":10,"ModifyIndex":12}]"#;

#[test]
fn put_writes_and_prints_success() {
    let agent = FakeAgent::start(vec![response("200 OK", "true")]);
    let addr = format!("-http-addr={}", agent.addr);
    let o = run(&["kv", "put", &addr, "foo", "bar"]);
    assert_eq!((o.code, o.out.as_str(), o.err.as_str()), (0, "Success! Data written to: foo\n", ""));
    let req = agent.next();
    assert_eq!((req.method.as_str(), req.path.as_str(), req.body.as_slice()), ("PUT", "/v1/kv/foo", &b"bar"[..]));
    assert_eq!(req.header("X-Consul-Token"), None);
}

#[test]
fn put_cas_failure_and_query_parameters() {
    let agent = FakeAgent::start(vec![response("200 OK", "false")]);
    let addr = format!("http://{}", agent.addr);
    let o = run(&["kv", "put", "-http-addr", &addr, "-cas", "-modify-index=7", "-flags", "42", "-token=s3cret", "foo", "bar"]);
    assert_eq!((o.code, o.out.as_str(), o.err.as_str()), (1, "", "Error! Did not write to foo: CAS failed\n"));
    let req = agent.next();
    assert_eq!(req.path, "/v1/kv/foo?cas=7&flags=42");
    assert_eq!(req.header("X-Consul-Token"), Some("s3cret"));
}

#[test]
fn put_data_after_the_key_may_start_with_a_dash_or_come_from_stdin() {
    let agent = FakeAgent::start(vec![response("200 OK", "true"), response("200 OK", "true")]);
    let addr = format!("-http-addr={}", agent.addr);
    let o = run(&["kv", "put", &addr, "k", "-value"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(agent.next().body, b"-value");
    let o = run_with_stdin(&["kv", "put", &addr, "k", "-"], b"from stdin\n");
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(agent.next().body, b"from stdin\n");
}

#[test]
fn put_acquire_needs_a_session_and_sends_it() {
    let o = run(&["kv", "put", "-acquire", "k", "v"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Error! Missing -session (required with -acquire and -release)\n"));
    let agent = FakeAgent::start(vec![response("200 OK", "true")]);
    let addr = format!("-http-addr={}", agent.addr);
    let o = run(&["kv", "put", &addr, "-acquire", "-session=abc-123", "k", "v"]);
    assert_eq!((o.code, o.out.as_str()), (0, "Success! Lock acquired on: k\n"));
    assert_eq!(agent.next().path, "/v1/kv/k?acquire=abc-123");
    let o = run(&["kv", "put", "-cas", "k", "v"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Must specify -modify-index with -cas!\n"));
}

#[test]
fn get_prints_the_raw_value_with_dc_and_stale() {
    let agent = FakeAgent::start(vec![response("200 OK", PAIR_FOO)]);
    let addr = format!("-http-addr={}", agent.addr);
    let o = run(&["kv", "get", &addr, "-datacenter=dc2", "-stale", "/foo"]);
    assert_eq!((o.code, o.out.as_str(), o.err.as_str()), (0, "bar\n", ""));
    let req = agent.next();
    assert_eq!((req.method.as_str(), req.path.as_str()), ("GET", "/v1/kv/foo?dc=dc2&stale="));
}

#[test]
fn get_missing_key_is_an_error() {
    let agent = FakeAgent::start(vec![response("404 Not Found", "")]);
    let addr = format!("-http-addr={}", agent.addr);
    let o = run(&["kv", "get", &addr, "foo"]);
    assert_eq!((o.code, o.out.as_str(), o.err.as_str()), (1, "", "Error! No key exists at: foo\n"));
    let o = run(&["kv", "get"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Error! Missing KEY argument\n"));
    let o = run(&["kv", "get", "a", "b"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Too many arguments (expected 1, got 2)\n"));
}

#[test]
fn get_detailed_layout_matches_consul() {
    let agent = FakeAgent::start(vec![response("200 OK", PAIR_FOO)]);
    let addr = format!("-http-addr={}", agent.addr);
    let o = run(&["kv", "get", &addr, "-detailed", "foo"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(
        o.out,
        "CreateIndex      10\nFlags            42\nKey              foo\nLockIndex        0\nModifyIndex      12\nSession          -\nValue            bar\n"
    );
}

#[test]
fn get_recurse_keys_and_base64() {
    let list = r#"[{"Key":"p/a","Value":"MQ==","Flags":0,"CreateIndex":1,"ModifyIndex":1,"LockIndex":0},
                   {"Key":"p/b","Value":null,"Flags":0,"CreateIndex":2,"ModifyIndex":2,"LockIndex":0}]"#;
    let agent = FakeAgent::start(vec![
        response("200 OK", list),
        response("200 OK", list),
        response("200 OK", r#"["p/a","p/sub/"]"#),
    ]);
    let addr = format!("-http-addr={}", agent.addr);
    let o = run(&["kv", "get", &addr, "-recurse", "p/"]);
    assert_eq!((o.code, o.out.as_str()), (0, "p/a:1\np/b:\n"));
    assert_eq!(agent.next().path, "/v1/kv/p/?recurse=");
    let o = run(&["kv", "get", &addr, "-recurse", "-base64", "p/"]);
    assert_eq!(o.out, "p/a:MQ==\np/b:\n");
    agent.next();
    let o = run(&["kv", "get", &addr, "-keys", "p/"]);
    assert_eq!((o.code, o.out.as_str()), (0, "p/a\np/sub/\n"));
    assert_eq!(agent.next().path, "/v1/kv/p/?keys=&separator=%2F");
}

#[test]
fn delete_variants() {
    let agent = FakeAgent::start(vec![response("200 OK", "true"), response("200 OK", "true"), response("200 OK", "false")]);
    let addr = format!("-http-addr={}", agent.addr);
    let o = run(&["kv", "delete", &addr, "-recurse", "p"]);
    assert_eq!((o.code, o.out.as_str()), (0, "Success! Deleted keys with prefix: p\n"));
    let req = agent.next();
    assert_eq!((req.method.as_str(), req.path.as_str()), ("DELETE", "/v1/kv/p?recurse="));
    let o = run(&["kv", "delete", &addr, "k"]);
    assert_eq!((o.code, o.out.as_str()), (0, "Success! Deleted key: k\n"));
    assert_eq!(agent.next().path, "/v1/kv/k");
    let o = run(&["kv", "delete", &addr, "-cas", "-modify-index=5", "k"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Error! Did not delete key k: CAS failed\n"));
    assert_eq!(agent.next().path, "/v1/kv/k?cas=5");
    let o = run(&["kv", "delete", "-modify-index=5", "k"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Cannot specify -modify-index without -cas!\n"));
}

#[test]
fn export_prints_consul_json() {
    let list = r#"[{"Key":"a<b","Value":"MQ==","Flags":3,"CreateIndex":1,"ModifyIndex":1,"LockIndex":0}]"#;
    let agent = FakeAgent::start(vec![response("200 OK", list), response("404 Not Found", "")]);
    let addr = format!("-http-addr={}", agent.addr);
    let o = run(&["kv", "export", &addr, "a"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(o.out, "[\n\t{\n\t\t\"key\": \"a\\u003cb\",\n\t\t\"flags\": 3,\n\t\t\"value\": \"MQ==\"\n\t}\n]\n");
    let o = run(&["kv", "export", &addr]);
    assert_eq!((o.code, o.out.as_str()), (0, "[]\n"));
    assert_eq!(agent.next().path, "/v1/kv/a?recurse=");
}

#[test]
fn import_writes_each_entry_in_order() {
    let agent = FakeAgent::start(vec![response("200 OK", "true"), response("200 OK", "true")]);
    let addr = format!("-http-addr={}", agent.addr);
    let data = r#"[{"key":"x","flags":9,"value":"aGk="},{"key":"y","flags":0,"value":""}]"#;
    let o = run_with_stdin(&["kv", "import", &addr, "-"], data.as_bytes());
    assert_eq!((o.code, o.out.as_str(), o.err.as_str()), (0, "Imported: x\nImported: y\n", ""));
    let first = agent.next();
    assert_eq!((first.path.as_str(), first.body.as_slice()), ("/v1/kv/x?flags=9", &b"hi"[..]));
    assert_eq!(agent.next().path, "/v1/kv/y");
    let o = run(&["kv", "import"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Error! Missing DATA argument\n"));
}

#[test]
fn agent_errors_and_unreachable_agent() {
    let agent = FakeAgent::start(vec![response("500 Internal Server Error", "boom")]);
    let addr = format!("-http-addr={}", agent.addr);
    let o = run(&["kv", "get", &addr, "foo"]);
    assert_eq!((o.code, o.err.as_str()), (1, "Error querying Consul agent: Unexpected response code: 500 (boom)\n"));

    let addr = common::dead_addr();
    let o = run(&["kv", "get", "-http-addr", &addr, "foo"]);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.err,
        format!("Error querying Consul agent: Get \"http://{addr}/v1/kv/foo\": dial tcp {addr}: connect: connection refused\n")
    );
    let o = run(&["kv", "get", "-http-addr=https://127.0.0.1:8501", "foo"]);
    assert!(o.err.starts_with("Error connecting to Consul agent: HTTPS is not supported"), "{}", o.err);
}

#[test]
fn chunked_responses_and_escaped_keys() {
    let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n[{\"Ke\r\n1d\r\ny\":\"a b/c?d\",\"Value\":\"dg==\"}]\r\n0\r\n\r\n".to_string();
    let agent = FakeAgent::start(vec![chunked]);
    let addr = format!("-http-addr={}", agent.addr);
    let o = run(&["kv", "get", &addr, "a b/c?d"]);
    assert_eq!((o.code, o.out.as_str()), (0, "v\n"), "{}", o.err);
    assert_eq!(agent.next().path, "/v1/kv/a%20b/c%3Fd");
}

#[test]
fn token_file_is_read_and_trimmed() {
    let agent = FakeAgent::start(vec![response("200 OK", PAIR_FOO)]);
    let path = std::env::temp_dir().join(format!("ballast-cli-token-{}", std::process::id()));
    std::fs::write(&path, "  file-token\n").unwrap();
    let addr = format!("-http-addr={}", agent.addr);
    let tf = format!("-token-file={}", path.display());
    let o = run(&["kv", "get", &addr, "-token=flag-token", &tf, "foo"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(agent.next().header("X-Consul-Token"), Some("file-token"));
    let _ = std::fs::remove_file(&path);
}
