//! KV endpoint end to end: verbs, parameters, status codes, JSON shapes.

mod common;

use ballast_http::testing::run_with_server;
use ballast_http::{BackendError, LeaderStatus, ServerOptions};
use common::*;

#[test]
fn put_get_and_json_shape() {
    run_with_server(ServerOptions::default(), |backend, addr, _| async move {
        let mut c = connect(addr).await;
        let r = req(&mut c, "PUT", "/v1/kv/app/config?flags=42", b"hello").await;
        assert_eq!((r.status, r.text().as_str()), (200, "true"));
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        assert_eq!(r.header("Vary"), Some("Accept-Encoding"));

        let r = req(&mut c, "GET", "/v1/kv/app/config", b"").await;
        assert_eq!(r.status, 200);
        let idx = index_of(&r);
        assert_eq!(
            r.text(),
            format!(
                "[{{\"LockIndex\":0,\"Key\":\"app/config\",\"Flags\":42,\"Value\":\"aGVsbG8=\",\"CreateIndex\":{idx},\"ModifyIndex\":{idx}}}]"
            )
        );
        assert_eq!(r.header("X-Consul-Knownleader"), Some("true"));
        assert_eq!(r.header("X-Consul-Lastcontact"), Some("0"));
        assert_eq!(r.header("X-Consul-Effective-Consistency"), Some("leader"));
        assert!(
            r.headers.iter().any(|(n, _)| n == "X-Consul-Index"),
            "Go-canonical case on the wire"
        );
        assert!(r.header("Date").is_some());

        // Empty body stores nil: Value null.
        let r = req(&mut c, "PUT", "/v1/kv/empty", b"").await;
        assert_eq!(r.text(), "true");
        let r = req(&mut c, "GET", "/v1/kv/empty", b"").await;
        assert_eq!(r.json()[0]["Value"], serde_json::Value::Null);

        // Pretty: 4-space indent and trailing newline.
        let r = req(&mut c, "GET", "/v1/kv/app/config?pretty", b"").await;
        assert!(r
            .text()
            .starts_with("[\n    {\n        \"LockIndex\": 0,\n"));
        assert!(r.text().ends_with("}\n]\n"));
        assert!(backend.proposals.get() >= 2);
    });
}

#[test]
fn misses_raw_and_missing_key() {
    run_with_server(ServerOptions::default(), |_backend, addr, _| async move {
        let mut c = connect(addr).await;
        let r = req(&mut c, "GET", "/v1/kv/nope", b"").await;
        assert_eq!(r.status, 404);
        assert!(r.body.is_empty());
        assert!(index_of(&r) >= 1, "404 carries an index, never 0");
        assert_eq!(r.header("X-Consul-Knownleader"), Some("true"));

        let r = req(&mut c, "GET", "/v1/kv/", b"").await;
        assert_eq!((r.status, r.text().as_str()), (400, "Missing key name"));
        assert_eq!(r.header("Content-Type"), Some("text/plain; charset=utf-8"));

        req(&mut c, "PUT", "/v1/kv/raw", b"<b>bytes</b>\x00\x01").await;
        let r = req(&mut c, "GET", "/v1/kv/raw?raw", b"").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"<b>bytes</b>\x00\x01");
        assert_eq!(r.header("Content-Type"), Some("text/plain"));
        assert_eq!(r.header("X-Content-Type-Options"), Some("nosniff"));
        assert_eq!(r.header("Content-Security-Policy"), Some("sandbox"));

        // Keys with slashes and escapes come from the decoded path.
        let r = req(&mut c, "PUT", "/v1/kv/a%2Fb/c%20d", b"x").await;
        assert_eq!(r.text(), "true");
        let r = req(&mut c, "GET", "/v1/kv/a/b/c%20d", b"").await;
        assert_eq!(r.json()[0]["Key"], "a/b/c d");
        // Go escapes <, > and & in JSON strings.
        req(&mut c, "PUT", "/v1/kv/x%3Cy%3E%26", b"v").await;
        let r = req(&mut c, "GET", "/v1/kv/x%3Cy%3E%26", b"").await;
        assert!(r.text().contains("\"Key\":\"x\\u003cy\\u003e\\u0026\""));
    });
}

#[test]
fn recurse_keys_and_separator() {
    run_with_server(ServerOptions::default(), |_backend, addr, _| async move {
        let mut c = connect(addr).await;
        let r = req(&mut c, "GET", "/v1/kv/?keys", b"").await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (200, "[]"),
            "empty root lists as []"
        );
        let r = req(&mut c, "GET", "/v1/kv/none/?keys", b"").await;
        assert_eq!(r.status, 404);
        let r = req(&mut c, "GET", "/v1/kv/?recurse", b"").await;
        assert_eq!(r.status, 404);

        for k in ["web/a", "web/b/c", "web/b/d", "webx", "other"] {
            assert_eq!(
                req(&mut c, "PUT", &format!("/v1/kv/{k}"), k.as_bytes())
                    .await
                    .text(),
                "true"
            );
        }
        let r = req(&mut c, "GET", "/v1/kv/web?recurse", b"").await;
        let keys: Vec<String> = r
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["Key"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(keys, ["web/a", "web/b/c", "web/b/d", "webx"]);
        let r = req(&mut c, "GET", "/v1/kv/web/?keys&separator=/", b"").await;
        assert_eq!(r.json(), serde_json::json!(["web/a", "web/b/"]));
        let r = req(&mut c, "GET", "/v1/kv/web/?keys&seperator=/", b"").await;
        assert_eq!(r.json(), serde_json::json!(["web/a", "web/b/"]));
        let r = req(&mut c, "GET", "/v1/kv/?keys", b"").await;
        assert_eq!(
            r.json(),
            serde_json::json!(["other", "web/a", "web/b/c", "web/b/d", "webx"])
        );
        // ?raw does not apply to recurse.
        let r = req(&mut c, "GET", "/v1/kv/web/b?recurse&raw", b"").await;
        assert_eq!(r.header("Content-Type"), Some("application/json"));
    });
}

#[test]
fn cas_delete_and_conflicts() {
    run_with_server(ServerOptions::default(), |_backend, addr, _| async move {
        let mut c = connect(addr).await;
        assert_eq!(
            req(&mut c, "PUT", "/v1/kv/k?cas=0", b"1").await.text(),
            "true"
        );
        assert_eq!(
            req(&mut c, "PUT", "/v1/kv/k?cas=0", b"2").await.text(),
            "false"
        );
        let idx = req(&mut c, "GET", "/v1/kv/k", b"").await.json()[0]["ModifyIndex"]
            .as_u64()
            .unwrap();
        assert_eq!(
            req(&mut c, "PUT", &format!("/v1/kv/k?cas={}", idx + 100), b"3")
                .await
                .text(),
            "false"
        );
        assert_eq!(
            req(&mut c, "PUT", &format!("/v1/kv/k?cas={idx}"), b"3")
                .await
                .text(),
            "true"
        );
        let idx2 = req(&mut c, "GET", "/v1/kv/k", b"").await.json()[0]["ModifyIndex"]
            .as_u64()
            .unwrap();
        assert!(idx2 > idx);

        assert_eq!(
            req(&mut c, "DELETE", &format!("/v1/kv/k?cas={idx}"), b"")
                .await
                .text(),
            "false"
        );
        assert_eq!(
            req(&mut c, "DELETE", &format!("/v1/kv/k?cas={idx2}"), b"")
                .await
                .text(),
            "true"
        );
        assert_eq!(req(&mut c, "GET", "/v1/kv/k", b"").await.status, 404);
        assert_eq!(req(&mut c, "DELETE", "/v1/kv/k", b"").await.text(), "true");

        let r = req(&mut c, "PUT", "/v1/kv/k?release=s&cas=1", b"").await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (400, "Conflicting flags: cas=1&release=s")
        );
        let r = req(&mut c, "DELETE", "/v1/kv/k?recurse&cas=1", b"").await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (400, "Conflicting flags: cas=1&recurse=")
        );
        let r = req(&mut c, "DELETE", "/v1/kv/", b"").await;
        assert_eq!((r.status, r.text().as_str()), (400, "Missing key name"));
        let r = req(&mut c, "PUT", "/v1/kv/", b"x").await;
        assert_eq!((r.status, r.text().as_str()), (400, "Missing key name"));

        // Unknown session: the store's answer, as Consul's 500.
        let r = req(&mut c, "PUT", "/v1/kv/lock?acquire=nosuch", b"").await;
        assert_eq!(r.status, 500);
        assert!(r.text().contains("invalid session"), "{}", r.text());

        for k in ["t/a", "t/b", "tt"] {
            req(&mut c, "PUT", &format!("/v1/kv/{k}"), b"v").await;
        }
        assert_eq!(
            req(&mut c, "DELETE", "/v1/kv/t/?recurse", b"").await.text(),
            "true"
        );
        let r = req(&mut c, "GET", "/v1/kv/t?recurse", b"").await;
        assert_eq!(r.json().as_array().unwrap().len(), 1);
        assert_eq!(
            req(&mut c, "DELETE", "/v1/kv/?recurse", b"").await.text(),
            "true"
        );
        assert_eq!(req(&mut c, "GET", "/v1/kv/?recurse", b"").await.status, 404);
    });
}

#[test]
fn bad_parameters() {
    run_with_server(ServerOptions::default(), |_backend, addr, _| async move {
        let mut c = connect(addr).await;
        let cases: &[(&str, &str, u16, &str)] = &[
            ("GET", "/v1/kv/a?index=abc", 400, "Invalid index"),
            ("GET", "/v1/kv/a?index=-1", 400, "Invalid index"),
            ("GET", "/v1/kv/a?wait=10", 400, "Invalid wait time"),
            ("GET", "/v1/kv/a?wait=1x", 400, "Invalid wait time"),
            ("PUT", "/v1/kv/a?wait=abc", 400, "Invalid wait time"),
            (
                "GET",
                "/v1/kv/a?stale&consistent",
                400,
                "Cannot specify ?stale with ?consistent, conflicting semantics.",
            ),
            (
                "PUT",
                "/v1/kv/a?flags=abc",
                500,
                "strconv.ParseUint: parsing \"abc\": invalid syntax",
            ),
            (
                "PUT",
                "/v1/kv/a?cas=-3",
                500,
                "strconv.ParseUint: parsing \"-3\": invalid syntax",
            ),
            (
                "DELETE",
                "/v1/kv/a?cas=x",
                500,
                "strconv.ParseUint: parsing \"x\": invalid syntax",
            ),
            ("GET", "/v1/kv/a?dc=elsewhere", 500, "No path to datacenter"),
            ("PUT", "/v1/kv/a?dc=elsewhere", 500, "No path to datacenter"),
        ];
        for (method, target, status, body) in cases {
            let r = req(&mut c, method, target, b"v").await;
            assert_eq!(
                (r.status, r.text().as_str()),
                (*status, *body),
                "{method} {target}"
            );
        }
        // Accepted variants.
        for target in [
            "/v1/kv/a?wait=1.5s&index=0",
            "/v1/kv/a?wait=1500ms",
            "/v1/kv/a?wait=5m",
            "/v1/kv/a?wait=1h2m",
            "/v1/kv/a?wait=10%C2%B5s",
            "/v1/kv/a?stale=",
            "/v1/kv/a?consistent=1",
            "/v1/kv/a?dc=dc1&token=secret",
        ] {
            assert_eq!(
                req(&mut c, "GET", target, b"").await.status,
                404,
                "{target}"
            );
        }
        // A malformed query string is Consul's bare 500.
        let r = req(&mut c, "GET", "/v1/kv/a?x=%zz", b"").await;
        assert_eq!((r.status, r.body.len()), (500, 0));
        // Tokens in headers are accepted and ignored.
        c.send_raw(b"GET /v1/kv/a HTTP/1.1\r\nHost: h\r\nX-Consul-Token: t\r\nAuthorization: Bearer x\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(c.read_response(false).await.unwrap().status, 404);
    });
}

#[test]
fn body_over_limit_writes_nothing() {
    run_with_server(ServerOptions::default(), |backend, addr, _| async move {
        let big = vec![b'x'; 524_289];
        let r = once(addr, "PUT", "/v1/kv/big", &big).await;
        assert_eq!(r.status, 413);
        assert_eq!(
            r.text(),
            "Request body(524289 bytes) too large, max size: 524288 bytes. See https://www.consul.io/docs/agent/config/config-files#kv_max_value_size."
        );
        assert_eq!(backend.proposals.get(), 0);
        assert_eq!(once(addr, "GET", "/v1/kv/big", b"").await.status, 404);
        // Exactly at the limit is fine.
        let ok = vec![b'y'; 524_288];
        assert_eq!(once(addr, "PUT", "/v1/kv/big", &ok).await.text(), "true");
        let r = once(addr, "GET", "/v1/kv/big?raw", b"").await;
        assert_eq!(r.body.len(), 524_288);
    });
}

#[test]
fn consistency_modes() {
    run_with_server(ServerOptions::default(), |backend, addr, _| async move {
        let mut c = connect(addr).await;
        req(&mut c, "PUT", "/v1/kv/k", b"v").await;
        let before = backend.barriers.get();
        let r = req(&mut c, "GET", "/v1/kv/k?consistent", b"").await;
        assert_eq!(
            r.header("X-Consul-Effective-Consistency"),
            Some("consistent")
        );
        assert_eq!(backend.barriers.get(), before + 1);

        // A follower that knows the leader: stale reads locally, default
        // takes a barrier, headers tell the truth.
        backend.set_leader(LeaderStatus {
            is_leader: false,
            known_leader: true,
            last_contact_ms: 42,
            leader_addr: Some("10.0.0.1:8300".into()),
        });
        let r = req(&mut c, "GET", "/v1/kv/k?stale", b"").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("X-Consul-Lastcontact"), Some("42"));
        assert_eq!(r.header("X-Consul-Effective-Consistency"), Some("stale"));
        let b = backend.barriers.get();
        assert_eq!(req(&mut c, "GET", "/v1/kv/k", b"").await.status, 200);
        assert_eq!(backend.barriers.get(), b + 1);
        let r = req(&mut c, "GET", "/v1/status/leader", b"").await;
        assert_eq!(r.text(), "\"10.0.0.1:8300\"");

        // No leader at all: stale still works, default and writes fail.
        backend.set_leader(LeaderStatus {
            is_leader: false,
            known_leader: false,
            last_contact_ms: 9000,
            leader_addr: None,
        });
        let r = req(&mut c, "GET", "/v1/kv/k?stale", b"").await;
        assert_eq!(
            (r.status, r.header("X-Consul-Knownleader")),
            (200, Some("false"))
        );
        let r = req(&mut c, "GET", "/v1/kv/k", b"").await;
        assert_eq!((r.status, r.text().as_str()), (500, "No cluster leader"));
        let r = req(&mut c, "PUT", "/v1/kv/k", b"v").await;
        assert_eq!((r.status, r.text().as_str()), (500, "No cluster leader"));
        let r = req(&mut c, "GET", "/v1/status/leader", b"").await;
        assert_eq!(r.text(), "\"\"");

        backend.set_leader(LeaderStatus {
            is_leader: true,
            known_leader: true,
            last_contact_ms: 0,
            leader_addr: None,
        });
        *backend.fail_next_propose.borrow_mut() =
            Some(BackendError::Overloaded("rate limit exceeded".into()));
        let r = req(&mut c, "PUT", "/v1/kv/k", b"v").await;
        assert_eq!((r.status, r.text().as_str()), (429, "rate limit exceeded"));
    });
}
