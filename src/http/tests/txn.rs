//! `/v1/txn` end to end.

mod common;

use ballast_http::testing::run_with_server;
use ballast_http::ServerOptions;
use common::*;

#[test]
fn write_then_read_only_txn() {
    run_with_server(ServerOptions::default(), |backend, addr, _| async move {
        let mut c = connect(addr).await;
        let body = br#"[{"KV":{"Verb":"set","Key":"a","Value":"aGVsbG8=","Flags":3}},
                        {"kv":{"verb":"set","key":"b","value":null}},
                        {"KV":{"Verb":"delete","Key":"zzz"}}]"#;
        let r = req(&mut c, "PUT", "/v1/txn", body).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let j = r.json();
        assert_eq!(j["Errors"], serde_json::Value::Null);
        let results = j["Results"].as_array().unwrap();
        assert_eq!(results.len(), 2, "delete verbs add no result");
        assert_eq!(results[0]["KV"]["Key"], "a");
        assert_eq!(
            results[0]["KV"]["Value"],
            serde_json::Value::Null,
            "set results carry no value"
        );
        assert_eq!(results[0]["KV"]["Flags"], 3);
        assert!(r
            .text()
            .starts_with("{\"Results\":[{\"KV\":{\"LockIndex\":0,\"Key\":\"a\""));
        let proposals = backend.proposals.get();

        // Read-only: served from the snapshot, no proposal, QueryMeta fields.
        let r = req(
            &mut c,
            "PUT",
            "/v1/txn",
            br#"[{"KV":{"Verb":"get","Key":"a"}}]"#,
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(backend.proposals.get(), proposals);
        let j = r.json();
        assert_eq!(j["Results"][0]["KV"]["Value"], "aGVsbG8=");
        assert_eq!(j["Index"], 1);
        assert_eq!(j["KnownLeader"], true);
        assert_eq!(j["LastContact"], 0);
        assert_eq!(r.header("X-Consul-Knownleader"), Some("true"));
        assert_eq!(
            r.header("X-Consul-Index"),
            None,
            "txn reads do not block, no index"
        );
        assert!(r.text().ends_with("\"ConsistencyLevel\":\"\",\"NotModified\":false,\"Backend\":0,\"ResultsFilteredByACLs\":false}"));

        // Read-only txns honour consistency flags; writes ignore them.
        let r = req(
            &mut c,
            "PUT",
            "/v1/txn?stale&consistent",
            br#"[{"KV":{"Verb":"get","Key":"a"}}]"#,
        )
        .await;
        assert_eq!(r.status, 400);
        let r = req(
            &mut c,
            "PUT",
            "/v1/txn?stale&consistent",
            br#"[{"KV":{"Verb":"set","Key":"c"}}]"#,
        )
        .await;
        assert_eq!(r.status, 200);
        let b = backend.barriers.get();
        let r = req(
            &mut c,
            "PUT",
            "/v1/txn?consistent",
            br#"[{"KV":{"Verb":"get-tree","Key":"a"}}]"#,
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(backend.barriers.get(), b + 1);
        assert_eq!(r.json()["Results"].as_array().unwrap().len(), 1);
    });
}

#[test]
fn rollback_is_409_and_applies_nothing() {
    run_with_server(ServerOptions::default(), |_backend, addr, _| async move {
        let mut c = connect(addr).await;
        let body = br#"[{"KV":{"Verb":"set","Key":"x","Value":"MQ=="}},
                        {"KV":{"Verb":"cas","Key":"y","Value":"Mg==","Index":99}}]"#;
        let r = req(&mut c, "PUT", "/v1/txn", body).await;
        assert_eq!(r.status, 409, "{}", r.text());
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        let j = r.json();
        assert_eq!(j["Results"], serde_json::Value::Null);
        assert_eq!(j["Errors"][0]["OpIndex"], 1);
        assert!(!j["Errors"][0]["What"].as_str().unwrap().is_empty());
        assert!(r
            .text()
            .starts_with("{\"Results\":null,\"Errors\":[{\"OpIndex\":1,\"What\":"));
        assert_eq!(req(&mut c, "GET", "/v1/kv/x", b"").await.status, 404);

        let r = req(
            &mut c,
            "PUT",
            "/v1/txn",
            br#"[{"KV":{"Verb":"get","Key":"nope"}}]"#,
        )
        .await;
        assert_eq!(r.status, 409);
        assert_eq!(r.json()["Errors"][0]["What"], "key \"nope\" doesn't exist");
        // Empty key pre-check, before Raft.
        let r = req(
            &mut c,
            "PUT",
            "/v1/txn",
            br#"[{"KV":{"Verb":"set","Key":""}}]"#,
        )
        .await;
        assert_eq!(r.status, 409);
        assert_eq!(r.json()["Errors"][0]["What"], "Must provide key");
        let r = req(
            &mut c,
            "PUT",
            "/v1/txn",
            br#"[{"KV":{"Verb":"frobnicate","Key":"k"}}]"#,
        )
        .await;
        assert_eq!(r.status, 409, "{}", r.text());
    });
}

#[test]
fn malformed_and_oversized() {
    run_with_server(ServerOptions::default(), |backend, addr, _| async move {
        let mut c = connect(addr).await;
        let cases: &[(&[u8], &str)] = &[
            (b"", "Failed to parse body: EOF"),
            (b"{\"KV\":1}", "Failed to parse body: json: cannot unmarshal object into Go value of type api.TxnOps"),
            (br#"[{"KV":{"Verb":"set","Key":"a","Junk":1}}]"#, "Failed to parse body: json: unknown field \"Junk\""),
            (br#"[{"KV":{"Verb":"set","Key":"a","Value":"%%%"}}]"#, "Failed to parse body: illegal base64 data at input byte 0"),
        ];
        for (body, text) in cases {
            let r = req(&mut c, "PUT", "/v1/txn", body).await;
            assert_eq!((r.status, r.text().as_str()), (400, *text));
        }
        let ops: Vec<String> = (0..129)
            .map(|i| format!(r#"{{"KV":{{"Verb":"set","Key":"k{i}"}}}}"#))
            .collect();
        let r = req(
            &mut c,
            "PUT",
            "/v1/txn",
            format!("[{}]", ops.join(",")).as_bytes(),
        )
        .await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (413, "Transaction contains too many operations (129 > 128)")
        );

        let value = "A".repeat(524_292); // decodes to 393219 bytes: under the limit
        let r = req(
            &mut c,
            "PUT",
            "/v1/txn",
            format!(r#"[{{"KV":{{"Verb":"set","Key":"v","Value":"{value}"}}}}]"#).as_bytes(),
        )
        .await;
        assert_eq!(r.status, 413);
        assert!(r.text().starts_with("Request body(524336 bytes) too large, max size: 524288 bytes. See https://www.consul.io/docs/agent/config/config-files#txn_max_req_len."), "{}", r.text());
        assert_eq!(backend.proposals.get(), 0);
        assert_eq!(
            r.header("Connection"),
            Some("close"),
            "unread body: connection closes"
        );

        let r = once(addr, "GET", "/v1/txn", b"").await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (405, "method GET not allowed")
        );
        assert_eq!(r.header("Allow"), Some("OPTIONS,PUT"));
    });
}

#[test]
fn txn_value_limit_uses_kv_max() {
    let opts = ServerOptions {
        kv_max_value_size: 4,
        ..ServerOptions::default()
    };
    run_with_server(opts, |_backend, addr, _| async move {
        let r = once(
            addr,
            "PUT",
            "/v1/txn",
            br#"[{"KV":{"Verb":"set","Key":"big","Value":"aGVsbG8="}}]"#,
        )
        .await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (413, "Value for key \"big\" is too large (5 > 4 bytes)")
        );
    });
}
