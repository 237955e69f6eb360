//! probe_http against real servers on 127.0.0.1.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use ballast_checks::{probe_http, HttpProbe, TlsSettings, CRITICAL, PASSING, WARNING};
use common::*;

const TIMEOUT: Duration = Duration::from_secs(10);

fn get(url: String) -> HttpProbe {
    HttpProbe {
        url,
        ..Default::default()
    }
}

#[test]
fn status_codes_map_like_consul() {
    let cases = [
        ("200 OK", PASSING),
        ("201 Created", PASSING),
        ("250 Whatever", PASSING),
        ("299 Edge", PASSING),
        ("429 Too Many Requests", WARNING),
        ("300 Multiple Choices", CRITICAL),
        ("400 Bad Request", CRITICAL),
        ("500 Internal Server Error", CRITICAL),
    ];
    for (status, expected) in cases {
        let (addr, _) = http_server(move |_| response(status, "body text"));
        let url = format!("http://{addr}/health");
        let out = run({
            let url = url.clone();
            async move { probe_http(&get(url), TIMEOUT).await }
        });
        assert_eq!(out.status, expected, "{status}");
        assert_eq!(
            out.output,
            format!("HTTP GET {url}: {status} Output: body text")
        );
        assert!(!out.immediate);
    }
}

#[test]
fn sends_consul_default_and_given_headers() {
    let (addr, seen) = http_server(|_| response("200 OK", ""));
    let url = format!("http://{addr}/path?q=1");
    let out = run(async move { probe_http(&get(url), TIMEOUT).await });
    assert_eq!(out.status, PASSING);
    let req = seen.lock().unwrap()[0].clone();
    assert!(req.starts_with("GET /path?q=1 HTTP/1.1\r\n"), "{req}");
    assert!(req.contains(&format!("Host: {addr}\r\n")), "{req}");
    assert!(req.contains("User-Agent: Consul Health Check\r\n"), "{req}");
    assert!(req.contains("Accept: text/plain, text/*, */*\r\n"), "{req}");
    assert!(req.contains("Connection: close\r\n"), "{req}");

    let (addr, seen) = http_server(|_| response("200 OK", ""));
    let mut headers = BTreeMap::new();
    headers.insert(
        "X-Multi".to_string(),
        vec!["b".to_string(), "c".to_string()],
    );
    headers.insert("Host".to_string(), vec!["virtual.example".to_string()]);
    headers.insert("User-Agent".to_string(), vec!["mine".to_string()]);
    let spec = HttpProbe {
        url: format!("http://{addr}/"),
        headers,
        ..Default::default()
    };
    let out = run(async move { probe_http(&spec, TIMEOUT).await });
    assert_eq!(out.status, PASSING);
    let req = seen.lock().unwrap()[0].clone();
    assert!(req.contains("Host: virtual.example\r\n"), "{req}");
    assert!(req.contains("X-Multi: b\r\nX-Multi: c\r\n"), "{req}");
    assert!(
        req.contains("User-Agent: mine\r\n") && !req.contains("Consul Health Check"),
        "{req}"
    );
}

#[test]
fn method_and_body_are_sent() {
    // TestCheckHTTPBody: the server echoes the body.
    let (addr, _) = http_server(|r| response("200 OK", &format!("{} {}", r.method, r.body)));
    for method in ["GET", "POST", "abc"] {
        let spec = HttpProbe {
            url: format!("http://{addr}/"),
            method: method.to_string(),
            body: "{\"foo\":\"bar\"}".to_string(),
            ..Default::default()
        };
        let out = run(async move { probe_http(&spec, TIMEOUT).await });
        assert_eq!(out.status, PASSING);
        assert!(
            out.output
                .starts_with(&format!("HTTP {method} http://{addr}/: 200 OK")),
            "{}",
            out.output
        );
        assert!(
            out.output
                .ends_with(&format!("{method} {{\"foo\":\"bar\"}}")),
            "{}",
            out.output
        );
    }
}

#[test]
fn output_keeps_the_last_output_max_size_bytes() {
    // TestCheckMaxOutputSize and the 4 KiB default.
    let (addr, _) = http_server(|_| {
        let mut body = "y".repeat(100);
        body.push_str(&"x".repeat(8192 - 100));
        response("200 OK", &body)
    });
    let url = format!("http://{addr}/v1/agent/self");
    let spec = HttpProbe {
        url: url.clone(),
        output_max_size: 32,
        ..Default::default()
    };
    let out = run(async move { probe_http(&spec, TIMEOUT).await });
    assert_eq!(
        out.output,
        format!("HTTP GET {url}: 200 OK Output: {}", "x".repeat(32))
    );
    let spec = get(url.clone());
    let out = run(async move { probe_http(&spec, TIMEOUT).await });
    let prefix = format!("HTTP GET {url}: 200 OK Output: ");
    assert_eq!(out.output.len(), prefix.len() + 4096);
}

#[test]
fn chunked_responses_are_read() {
    let (addr, _) = http_server(|_| {
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
            .to_vec()
    });
    let out = run(async move { probe_http(&get(format!("http://{addr}/")), TIMEOUT).await });
    assert_eq!(
        (out.status, out.output.ends_with("Output: abcde")),
        (PASSING, true),
        "{}",
        out.output
    );
}

#[test]
fn a_silent_server_times_out_critical() {
    let (addr, _) = http_server(|_| {
        std::thread::sleep(Duration::from_secs(3));
        response("200 OK", "too late")
    });
    let url = format!("http://{addr}/");
    let out = run({
        let url = url.clone();
        async move { probe_http(&get(url), Duration::from_millis(200)).await }
    });
    assert_eq!(out.status, CRITICAL);
    assert_eq!(
        out.output,
        format!("Get \"{url}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)")
    );
}

#[test]
fn a_body_cut_by_the_timeout_keeps_status_and_partial_output() {
    // The head and part of the body arrive, then the server stalls with the
    // connection open: Consul logs the read error and reports the status.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        use std::io::Write;
        let (mut conn, _) = listener.accept().unwrap();
        let _ = read_request(&mut conn);
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
        std::thread::sleep(Duration::from_secs(5));
    });
    let out = run(async move {
        probe_http(&get(format!("http://{addr}/")), Duration::from_millis(300)).await
    });
    assert_eq!(out.status, PASSING);
    assert!(out.output.ends_with("Output: partial"), "{}", out.output);
}

#[test]
fn connection_refused_is_critical_with_go_text() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let out = run({
        let url = url.clone();
        async move { probe_http(&get(url), TIMEOUT).await }
    });
    assert_eq!(out.status, CRITICAL);
    assert_eq!(
        out.output,
        format!("Get \"{url}\": dial tcp 127.0.0.1:{port}: connect: connection refused")
    );
}

#[test]
fn bad_urls_are_critical() {
    let out = run(async { probe_http(&get("ftp://127.0.0.1/".into()), TIMEOUT).await });
    assert_eq!(
        (out.status, out.output.as_str()),
        (
            CRITICAL,
            "Get \"ftp://127.0.0.1/\": unsupported protocol scheme \"ftp\""
        )
    );
}

#[test]
fn redirects_are_followed() {
    let (target, _) = http_server(|_| response("200 OK", "server1"));
    let (addr, _) =
        http_server(move |_| redirect("301 Moved Permanently", &format!("http://{target}/final")));
    let url = format!("http://{addr}/");
    let out = run({
        let url = url.clone();
        async move { probe_http(&get(url), TIMEOUT).await }
    });
    assert_eq!(out.status, PASSING);
    // Consul names the URL it was given, with the final response.
    assert_eq!(
        out.output,
        format!("HTTP GET {url}: 200 OK Output: server1")
    );
}

#[test]
fn redirects_are_not_followed_when_disabled() {
    // TestCheckHTTP_DisableRedirects
    let (target, _) = http_server(|_| response("200 OK", "server1"));
    let (addr, _) = http_server(move |_| {
        format!("HTTP/1.1 301 Moved Permanently\r\nLocation: http://{target}/\r\nContent-Length: 15\r\n\r\nmoved elsewhere").into_bytes()
    });
    let spec = HttpProbe {
        url: format!("http://{addr}/"),
        disable_redirects: true,
        ..Default::default()
    };
    let out = run(async move { probe_http(&spec, TIMEOUT).await });
    assert_eq!(out.status, CRITICAL);
    assert!(
        out.output
            .contains("301 Moved Permanently Output: moved elsewhere"),
        "{}",
        out.output
    );
    assert!(!out.output.contains("server1"));
}

#[test]
fn post_redirected_by_302_becomes_get_and_307_keeps_method_and_body() {
    let (target, seen) = http_server(|r| response("200 OK", &format!("{}:{}", r.method, r.body)));
    let (a302, _) = http_server(move |_| redirect("302 Found", &format!("http://{target}/a")));
    let (a307, _) =
        http_server(move |_| redirect("307 Temporary Redirect", &format!("http://{target}/b")));
    for (addr, expected) in [(a302, "GET:"), (a307, "POST:payload")] {
        let spec = HttpProbe {
            url: format!("http://{addr}/"),
            method: "POST".into(),
            body: "payload".into(),
            ..Default::default()
        };
        let out = run(async move { probe_http(&spec, TIMEOUT).await });
        assert_eq!(out.status, PASSING);
        assert!(
            out.output
                .starts_with(&format!("HTTP POST http://{addr}/: 200 OK")),
            "{}",
            out.output
        );
        assert!(out.output.ends_with(expected), "{}", out.output);
    }
    let requests = seen.lock().unwrap().clone();
    assert!(requests.iter().all(
        |r| r.contains("User-Agent: Consul Health Check\r\n") && r.contains("Referer: http://")
    ));
}

#[test]
fn redirect_loops_stop_after_ten() {
    let (addr, seen) = http_server(|r| {
        let n: u32 = r.target.trim_start_matches('/').parse().unwrap_or(0);
        redirect("302 Found", &format!("/{}", n + 1))
    });
    let out = run(async move { probe_http(&get(format!("http://{addr}/0")), TIMEOUT).await });
    assert_eq!(
        (out.status, out.output.as_str()),
        (CRITICAL, "Get \"/10\": stopped after 10 redirects")
    );
    assert_eq!(seen.lock().unwrap().len(), 10);
}

#[test]
fn https_with_skip_verify_passes() {
    let cert = test_cert();
    let addr = https_server(&cert, "secure");
    let spec = HttpProbe {
        url: format!("https://{addr}/"),
        tls: TlsSettings {
            skip_verify: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let out = run(async move { probe_http(&spec, TIMEOUT).await });
    assert_eq!(
        (out.status, out.output.as_str()),
        (
            PASSING,
            format!("HTTP GET https://{addr}/: 200 OK Output: secure").as_str()
        )
    );
}

#[test]
fn https_with_an_untrusted_certificate_is_critical() {
    // TestCheckHTTP_TLS_BadVerify: the system roots do not know our CA.
    let cert = test_cert();
    let addr = https_server(&cert, "secure");
    let url = format!("https://{addr}/");
    let out = run({
        let url = url.clone();
        async move { probe_http(&get(url), TIMEOUT).await }
    });
    assert_eq!(out.status, CRITICAL);
    assert_eq!(
        out.output,
        format!("Get \"{url}\": tls: failed to verify certificate: x509: certificate signed by unknown authority")
    );
}

#[test]
fn https_verifies_against_given_roots_and_server_name() {
    let cert = test_cert();
    let addr = https_server(&cert, "secure");
    let roots = roots_for(&cert);
    let trusted = HttpProbe {
        url: format!("https://localhost:{}/", addr.port()),
        tls: TlsSettings {
            roots: Some(roots.clone()),
            ..Default::default()
        },
        ..Default::default()
    };
    let out = run(async move { probe_http(&trusted, TIMEOUT).await });
    assert_eq!(out.status, PASSING, "{}", out.output);

    let wrong_name = HttpProbe {
        url: format!("https://{addr}/"),
        tls: TlsSettings {
            roots: Some(roots),
            server_name: "other.example".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    let out = run(async move { probe_http(&wrong_name, TIMEOUT).await });
    assert_eq!(out.status, CRITICAL);
    assert!(
        out.output.contains("x509: certificate is valid for"),
        "{}",
        out.output
    );
    assert!(out.output.ends_with("not other.example"), "{}", out.output);
}
