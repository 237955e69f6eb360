//! HTTP/1.1 server behaviour and routing, end to end over loopback.

mod common;

use ballast_http::testing::run_with_server;
use ballast_http::ServerOptions;
use common::*;

#[test]
fn routing_404_405_options_redirects() {
    run_with_server(ServerOptions::default(), |_b, addr, _| async move {
        let mut c = connect(addr).await;
        let r = req(&mut c, "GET", "/v1/nope", b"").await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (
                404,
                "Invalid URL path: not a recognized HTTP API endpoint\n"
            )
        );
        assert_eq!(r.header("Vary"), None, "index handler is not wrapped");
        let r = req(&mut c, "GET", "/v1/txn/", b"").await;
        assert_eq!(r.status, 404);
        let r = req(&mut c, "GET", "/foo", b"").await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (404, "Invalid URL path: if attempting to use the HTTP API, ensure the path starts with '/v1/'\n")
        );
        let r = req(&mut c, "GET", "/", b"").await;
        assert_eq!(r.status, 200);
        assert!(r.text().starts_with("Consul Agent"));

        let r = req(&mut c, "PATCH", "/v1/kv/a", b"").await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (405, "method PATCH not allowed")
        );
        assert_eq!(r.header("Allow"), Some("OPTIONS,GET,PUT,DELETE"));
        assert_eq!(r.header("Vary"), Some("Accept-Encoding"));
        let r = req(&mut c, "HEAD", "/v1/kv/a", b"").await;
        assert_eq!(r.status, 405, "HEAD is not a registered method in Consul");
        assert!(r.body.is_empty());
        let r = req(&mut c, "OPTIONS", "/v1/kv/a", b"").await;
        assert_eq!((r.status, r.body.len()), (200, 0));
        assert_eq!(r.header("Allow"), Some("OPTIONS,GET,PUT,DELETE"));
        let r = req(&mut c, "OPTIONS", "/v1/status/leader", b"").await;
        assert_eq!(r.header("Allow"), Some("OPTIONS,GET"));
        let r = req(&mut c, "POST", "/v1/agent/self", b"").await;
        assert_eq!((r.status, r.header("Allow")), (405, Some("OPTIONS,GET")));

        let r = req(&mut c, "GET", "/v1/kv?recurse", b"").await;
        assert_eq!(
            (r.status, r.header("Location")),
            (301, Some("/v1/kv/?recurse"))
        );
        let r = req(&mut c, "GET", "/v1/kv/a//b", b"").await;
        assert_eq!((r.status, r.header("Location")), (301, Some("/v1/kv/a/b")));
        let r = req(&mut c, "GET", "/v1/kv/a/../b", b"").await;
        assert_eq!((r.status, r.header("Location")), (301, Some("/v1/kv/b")));
        // Encoded slashes are not cleaned (Go 1.22+ mux cleans the escaped path).
        let r = req(&mut c, "GET", "/v1/kv/a%2F%2Fb", b"").await;
        assert_eq!(r.status, 404);
        // Non-printable characters in the path.
        let r = req(&mut c, "GET", "/v1/kv/a%0Ab", b"").await;
        assert_eq!((r.status, r.body.len()), (400, 0));
    });
}

#[test]
fn status_and_agent_endpoints() {
    run_with_server(ServerOptions::default(), |_b, addr, _| async move {
        let mut c = connect(addr).await;
        let r = req(&mut c, "GET", "/v1/status/leader", b"").await;
        assert_eq!((r.status, r.text().as_str()), (200, "\"127.0.0.1:8300\""));
        let r = req(&mut c, "GET", "/v1/status/peers", b"").await;
        assert_eq!(r.text(), "[\"127.0.0.1:8300\"]");
        let r = req(&mut c, "GET", "/v1/status/peers?dc=other", b"").await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (500, "No path to datacenter")
        );
        let r = req(&mut c, "GET", "/v1/status/leader?index=x", b"").await;
        assert_eq!((r.status, r.text().as_str()), (400, "Invalid index"));

        let r = req(&mut c, "GET", "/v1/agent/self", b"").await;
        assert_eq!(r.status, 200);
        let j = r.json();
        assert_eq!(j["Config"]["NodeName"], "node-1");
        assert_eq!(j["Config"]["Datacenter"], "dc1");
        assert_eq!(j["DebugConfig"]["SessionTTLMin"], "10s");
        assert_eq!(j["Member"]["Addr"], "127.0.0.1");
        assert!(j.get("xDS").is_none());
        assert!(r.text().starts_with("{\"Config\":{\"Datacenter\":\"dc1\",\"PrimaryDatacenter\":\"dc1\",\"NodeName\":\"node-1\",\"NodeID\":"));

        let r = req(&mut c, "GET", "/v1/agent/members", b"").await;
        let j = r.json();
        assert_eq!(j[0]["Name"], "node-1");
        assert_eq!(j[0]["Status"], 1);
        assert_eq!(j[0]["Tags"]["role"], "consul");
        assert!(r
            .text()
            .starts_with("[{\"Name\":\"node-1\",\"Addr\":\"127.0.0.1\",\"Port\":8301,\"Tags\":{"));
        let r = req(&mut c, "GET", "/v1/agent/members?wan=1", b"").await;
        assert_eq!(r.json()[0]["Port"], 8302);
        let r = req(&mut c, "GET", "/v1/agent/members?wan=1&segment=x", b"").await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (400, "Cannot provide a segment with wan=true")
        );
        // Agent endpoints do not parse consistency flags.
        assert_eq!(
            req(&mut c, "GET", "/v1/agent/self?stale&consistent", b"")
                .await
                .status,
            200
        );
    });
}

#[test]
fn pipelining_chunked_expect_and_close() {
    run_with_server(ServerOptions::default(), |_b, addr, _| async move {
        let mut c = connect(addr).await;
        // Three pipelined requests in one write, including a chunked PUT.
        c.send_raw(
            b"PUT /v1/kv/p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n\
              GET /v1/kv/p?raw HTTP/1.1\r\nHost: h\r\n\r\n\
              GET /v1/kv/missing HTTP/1.1\r\nHost: h\r\n\r\n",
        )
        .await
        .unwrap();
        assert_eq!(c.read_response(false).await.unwrap().text(), "true");
        assert_eq!(c.read_response(false).await.unwrap().text(), "abcde");
        assert_eq!(c.read_response(false).await.unwrap().status, 404);

        // Expect: 100-continue gets an interim response before the body.
        c.send_raw(b"PUT /v1/kv/e HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(c.read_response(false).await.unwrap().status, 100);
        c.send_raw(b"ok").await.unwrap();
        assert_eq!(c.read_response(false).await.unwrap().text(), "true");

        // Connection: close is honoured.
        c.send_raw(b"GET /v1/kv/e?raw HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let all = c.read_to_close().await.unwrap();
        let text = String::from_utf8_lossy(&all);
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.contains("\r\nConnection: close\r\n"));
        assert!(text.ends_with("\r\n\r\nok"));

        // HTTP/1.0 without keep-alive closes after one response.
        let mut c = connect(addr).await;
        c.send_raw(b"GET /v1/kv/e?raw HTTP/1.0\r\n\r\n")
            .await
            .unwrap();
        let all = c.read_to_close().await.unwrap();
        assert!(String::from_utf8_lossy(&all).ends_with("ok"));

        // Chunked body over the limit: 413, nothing written.
        let mut c = connect(addr).await;
        let mut raw =
            b"PUT /v1/kv/huge HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        raw.extend_from_slice(format!("{:x}\r\n", 600_000).as_bytes());
        c.send_raw(&raw).await.unwrap();
        let r = c.read_response(false).await.unwrap();
        assert_eq!(r.status, 413);
        assert!(r
            .text()
            .starts_with("Request body too large, max size: 524288 bytes."));
        assert_eq!(once(addr, "GET", "/v1/kv/huge", b"").await.status, 404);
    });
}

#[test]
fn protocol_errors_and_limits() {
    let opts = ServerOptions {
        max_header_bytes: 2048,
        ..ServerOptions::default()
    };
    run_with_server(opts, |_b, addr, _| async move {
        let cases: &[(&[u8], &str)] = &[
            (b"GARBAGE\r\n\r\n", "HTTP/1.1 400 Bad Request"),
            (b"GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request"),
            (
                b"GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n",
                "HTTP/1.1 400 Bad Request",
            ),
            (
                b"PUT /v1/kv/a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n",
                "HTTP/1.1 501 Not Implemented",
            ),
            (
                b"PUT /v1/kv/a HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n",
                "HTTP/1.1 400 Bad Request",
            ),
        ];
        for (raw, start) in cases {
            let mut c = connect(addr).await;
            c.send_raw(raw).await.unwrap();
            let out = c.read_to_close().await.unwrap();
            assert!(
                String::from_utf8_lossy(&out).starts_with(start),
                "{:?} -> {:?}",
                String::from_utf8_lossy(raw),
                String::from_utf8_lossy(&out)
            );
        }
        let mut c = connect(addr).await;
        let big = format!(
            "GET /v1/kv/a HTTP/1.1\r\nHost: h\r\nX-Big: {}\r\n\r\n",
            "y".repeat(4000)
        );
        c.send_raw(big.as_bytes()).await.unwrap();
        let out = c.read_to_close().await.unwrap();
        assert!(String::from_utf8_lossy(&out)
            .starts_with("HTTP/1.1 431 Request Header Fields Too Large"));
    });
}

#[test]
fn disconnect_drops_parked_handler() {
    run_with_server(ServerOptions::default(), |backend, addr, opts| async move {
        let r = once(addr, "PUT", "/v1/kv/w", b"1").await;
        assert_eq!(r.status, 200);
        let idx = index_of(&once(addr, "GET", "/v1/kv/w", b"").await);
        let mut c = connect(addr).await;
        c.send("GET", &format!("/v1/kv/w?index={idx}&wait=60s"), b"")
            .await
            .unwrap();
        let stats = opts.stats.clone();
        eventually("query parked", || stats.parked.get() == 1).await;
        assert_eq!(backend.watches().len(), 1);
        drop(c);
        let stats2 = opts.stats.clone();
        eventually("handler dropped", || {
            stats2.parked.get() == 0 && stats2.in_flight.get() == 0
        })
        .await;
        assert_eq!(backend.watches().len(), 0, "watch unregistered on drop");
        eventually("connection closed", || opts.stats.connections.get() == 0).await;
    });
}

use ballast_http::Backend as _;
