//! Dialing TCP on a glommio executor: Go's host:port rules, name resolution
//! off the executor thread, one deadline across every resolved address.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Instant;

use glommio::net::TcpStream;

use crate::goerr::DialError;

/// net.SplitHostPort: `host:port`, `[v6]:port`. Returns the host without
/// brackets and the port text.
pub(crate) fn split_host_port(addr: &str) -> Result<(String, String), DialError> {
    let bad = |why| DialError::Address {
        addr: addr.to_string(),
        why,
    };
    let Some(colon) = addr.rfind(':') else {
        return Err(bad("missing port in address"));
    };
    let (host, port) = if addr.starts_with('[') {
        let Some(end) = addr.find(']') else {
            return Err(bad("missing ']' in address"));
        };
        if end + 1 == addr.len() {
            return Err(bad("missing port in address"));
        }
        if end + 1 != colon {
            return Err(bad("missing port in address"));
        }
        (&addr[1..end], &addr[colon + 1..])
    } else {
        let host = &addr[..colon];
        if host.contains(':') {
            return Err(bad("too many colons in address"));
        }
        (host, &addr[colon + 1..])
    };
    if host.contains('[') || host.contains(']') || port.contains('[') || port.contains(']') {
        return Err(bad("unexpected '[' or ']' in address"));
    }
    Ok((host.to_string(), port.to_string()))
}

/// Connects to `host:port` (as text, Go style) before `deadline`.
pub(crate) async fn dial(addr: &str, deadline: Instant) -> Result<TcpStream, DialError> {
    let (host, port) = split_host_port(addr)?;
    dial_host_port(&host, &port, deadline).await
}

/// Connects to `host` (no brackets) and `port` before `deadline`, trying
/// each resolved address in turn as Go's dialer does.
pub(crate) async fn dial_host_port(
    host: &str,
    port: &str,
    deadline: Instant,
) -> Result<TcpStream, DialError> {
    let port_num: u16 = match port.parse() {
        Ok(p) => p,
        Err(_) => {
            return Err(DialError::UnknownPort {
                port: port.to_string(),
            })
        }
    };
    let addrs = resolve(host, port_num, deadline).await?;
    let mut last = None;
    for addr in addrs {
        let shown = addr.to_string();
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(DialError::Timeout { addr: shown });
        }
        match TcpStream::connect_timeout(addr, remaining).await {
            Ok(stream) => {
                // Without it a TLS handshake waits on delayed ACKs (DEPENDENCIES.md).
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(err) => {
                let err: std::io::Error = err.into();
                if err.kind() == std::io::ErrorKind::TimedOut && Instant::now() >= deadline {
                    return Err(DialError::Timeout { addr: shown });
                }
                last = Some(DialError::Connect { addr: shown, err });
            }
        }
    }
    Err(last.unwrap_or_else(|| DialError::Lookup {
        host: host.to_string(),
        why: "no such host".into(),
    }))
}

/// IP literals need no lookup; names go through getaddrinfo on glommio's
/// blocking pool (it is a blocking libc call), bounded by the deadline.
async fn resolve(host: &str, port: u16, deadline: Instant) -> Result<Vec<SocketAddr>, DialError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    // Go dials "" as the local system.
    let name = if host.is_empty() {
        "localhost".to_string()
    } else {
        host.to_string()
    };
    let lookup_name = name.clone();
    let lookup = glommio::executor().spawn_blocking(move || {
        (lookup_name.as_str(), port)
            .to_socket_addrs()
            .map(|a| a.collect::<Vec<_>>())
    });
    let remaining = deadline.saturating_duration_since(Instant::now());
    let result = glommio::timer::timeout(remaining, async { Ok(lookup.await) }).await;
    match result {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(_) => Err(DialError::Lookup {
            host: name,
            why: "no such host".into(),
        }),
        Err(_) => Err(DialError::Lookup {
            host: name,
            why: "i/o timeout".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_go() {
        assert_eq!(
            split_host_port("127.0.0.1:80").unwrap(),
            ("127.0.0.1".into(), "80".into())
        );
        assert_eq!(
            split_host_port("[::1]:8080").unwrap(),
            ("::1".into(), "8080".into())
        );
        assert_eq!(split_host_port(":80").unwrap(), ("".into(), "80".into()));
        let text = |a: &str| split_host_port(a).unwrap_err().go_text();
        assert_eq!(
            text("localhost"),
            "dial tcp: address localhost: missing port in address"
        );
        assert_eq!(
            text("::1:80"),
            "dial tcp: address ::1:80: too many colons in address"
        );
        assert_eq!(
            text("[::1]"),
            "dial tcp: address [::1]: missing port in address"
        );
        assert_eq!(
            text("[::1:80"),
            "dial tcp: address [::1:80: missing ']' in address"
        );
    }
}
