//! probe_tcp / probe_tcp_tls against real listeners on 127.0.0.1.

mod common;

use std::net::TcpListener;
use std::time::Duration;

use ballast_checks::{probe_tcp, probe_tcp_tls, TlsSettings, CRITICAL, PASSING};
use common::*;

const TIMEOUT: Duration = Duration::from_secs(10);

#[test]
fn connect_success_is_passing() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let out = run({
        let addr = addr.clone();
        async move { probe_tcp(&addr, TIMEOUT).await }
    });
    assert_eq!(
        (out.status, out.output),
        (PASSING, format!("TCP connect {addr}: Success"))
    );
}

#[test]
fn ipv6_and_names_resolve() {
    if let Ok(listener) = TcpListener::bind("[::1]:0") {
        let addr = listener.local_addr().unwrap().to_string();
        assert!(addr.starts_with("[::1]:"));
        let out = run({
            let addr = addr.clone();
            async move { probe_tcp(&addr, TIMEOUT).await }
        });
        assert_eq!(out.status, PASSING, "{}", out.output);
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let out = run(async move { probe_tcp(&format!("localhost:{port}"), TIMEOUT).await });
    // localhost may resolve to ::1 first; the dialer then tries 127.0.0.1.
    assert_eq!(
        (out.status, out.output),
        (PASSING, format!("TCP connect localhost:{port}: Success"))
    );
}

#[test]
fn refused_is_critical_with_go_text() {
    let port = free_port();
    let out = run(async move { probe_tcp(&format!("127.0.0.1:{port}"), TIMEOUT).await });
    assert_eq!(
        (out.status, out.output),
        (
            CRITICAL,
            format!("dial tcp 127.0.0.1:{port}: connect: connection refused")
        )
    );
}

#[test]
fn bad_addresses_are_critical() {
    let out = run(async { probe_tcp("127.0.0.1", TIMEOUT).await });
    assert_eq!(
        (out.status, out.output.as_str()),
        (
            CRITICAL,
            "dial tcp: address 127.0.0.1: missing port in address"
        )
    );
    let out = run(async { probe_tcp("no-such-host.invalid:80", Duration::from_secs(5)).await });
    assert_eq!(out.status, CRITICAL);
    assert!(
        out.output
            .starts_with("dial tcp: lookup no-such-host.invalid: "),
        "{}",
        out.output
    );
}

/// A listener (backlog 0, never accepting) whose queue is full: further
/// SYNs are dropped, so a connect hangs until its timeout.
fn full_listener() -> (TcpListener, std::net::SocketAddr, Vec<std::net::TcpStream>) {
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket calls on a descriptor owned here.
    let fd = unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0);
        let mut sa: libc::sockaddr_in = std::mem::zeroed();
        sa.sin_family = libc::AF_INET as libc::sa_family_t;
        sa.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        assert_eq!(
            libc::bind(
                fd,
                &sa as *const _ as *const libc::sockaddr,
                std::mem::size_of_val(&sa) as u32
            ),
            0
        );
        assert_eq!(libc::listen(fd, 0), 0);
        std::os::fd::OwnedFd::from_raw_fd(fd)
    };
    let listener = TcpListener::from(fd);
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::new();
    for _ in 0..16 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
            Ok(s) => held.push(s),
            Err(_) => break,
        }
    }
    (listener, addr, held)
}

#[test]
fn a_connect_that_hangs_times_out_critical() {
    let (_listener, addr, _held) = full_listener();
    let out = run(async move { probe_tcp(&addr.to_string(), Duration::from_millis(200)).await });
    assert_eq!(
        (out.status, out.output),
        (CRITICAL, format!("dial tcp {addr}: i/o timeout"))
    );
}

#[test]
fn tls_handshake_success_and_failure() {
    let cert = test_cert();
    let addr = https_server(&cert, "").to_string();
    let skip = TlsSettings {
        skip_verify: true,
        ..Default::default()
    };
    let out = run({
        let addr = addr.clone();
        async move { probe_tcp_tls(&addr, &skip, TIMEOUT).await }
    });
    assert_eq!(
        (out.status, out.output),
        (PASSING, format!("TCP+TLS connect {addr}: Success"))
    );

    let trusted = TlsSettings {
        roots: Some(roots_for(&cert)),
        ..Default::default()
    };
    let out = run({
        let addr = addr.clone();
        async move { probe_tcp_tls(&addr, &trusted, TIMEOUT).await }
    });
    assert_eq!(out.status, PASSING, "{}", out.output);

    let out = run({
        let addr = addr.clone();
        async move { probe_tcp_tls(&addr, &TlsSettings::default(), TIMEOUT).await }
    });
    assert_eq!(
        (out.status, out.output.as_str()),
        (
            CRITICAL,
            "tls: failed to verify certificate: x509: certificate signed by unknown authority"
        )
    );

    // A plain TCP server that never speaks TLS: the handshake times out.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_addr = silent.local_addr().unwrap().to_string();
    let out = run(async move {
        probe_tcp_tls(
            &silent_addr,
            &TlsSettings::default(),
            Duration::from_millis(200),
        )
        .await
    });
    assert_eq!(out.status, CRITICAL);
    drop(silent);
}
