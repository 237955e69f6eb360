//! Consul's `CheckTCP`: passing when a connection (and, with
//! `tcp_use_tls`, a TLS handshake) succeeds before the timeout.

use std::time::{Duration, Instant};

use futures_lite::AsyncWriteExt;

use crate::net::{dial, split_host_port};
use crate::outcome::Outcome;
use crate::tls::{handshake, TlsSettings};

/// `TCP connect <addr>: Success`, or critical with Go's dial error
/// (`dial tcp 127.0.0.1:1: connect: connection refused`).
pub async fn probe_tcp(addr: &str, timeout: Duration) -> Outcome {
    let deadline = Instant::now() + timeout;
    match dial(addr, deadline).await {
        Ok(stream) => {
            drop(stream);
            Outcome::passing(format!("TCP connect {addr}: Success"))
        }
        Err(e) => Outcome::critical(e.go_text()),
    }
}

/// `tcp_use_tls`: `TCP+TLS connect <addr>: Success` once the handshake
/// completes; the dial error or Go's TLS error text otherwise.
pub async fn probe_tcp_tls(addr: &str, tls: &TlsSettings, timeout: Duration) -> Outcome {
    let deadline = Instant::now() + timeout;
    let host = match split_host_port(addr) {
        Ok((host, _)) => host,
        Err(e) => return Outcome::critical(e.go_text()),
    };
    let stream = match dial(addr, deadline).await {
        Ok(s) => s,
        Err(e) => return Outcome::critical(e.go_text()),
    };
    let remaining = deadline.saturating_duration_since(Instant::now());
    let result = glommio::timer::timeout(remaining, async {
        Ok::<_, glommio::GlommioError<()>>(handshake(stream, tls, &host).await)
    })
    .await;
    match result {
        Ok(Ok(mut conn)) => {
            // Best effort close_notify, as tls.Conn.Close sends one.
            let _ = glommio::timer::timeout(Duration::from_millis(100), async {
                let _ = conn.close().await;
                Ok::<_, glommio::GlommioError<()>>(())
            })
            .await;
            Outcome::passing(format!("TCP+TLS connect {addr}: Success"))
        }
        Ok(Err(text)) => Outcome::critical(text),
        Err(_) => Outcome::critical("tls: handshake timeout (i/o timeout)".to_string()),
    }
}
