//! Go's error texts for dial and HTTP client failures, which Consul stores
//! verbatim as check output (`err.Error()`).

use std::io;

/// Go's text for an errno: glibc's strerror with a lower-case first letter
/// (Go's syscall table spells them that way: "connection refused").
pub(crate) fn errno_text(err: &io::Error) -> String {
    let Some(code) = err.raw_os_error() else {
        return lower_first(&err.to_string());
    };
    // std's Display is "<strerror> (os error N)".
    let text = io::Error::from_raw_os_error(code).to_string();
    let text = match text.rfind(" (os error ") {
        Some(i) => &text[..i],
        None => &text,
    };
    lower_first(text)
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Why a TCP dial failed, rendered as Go's `*net.OpError`.
#[derive(Debug)]
pub(crate) enum DialError {
    /// net.SplitHostPort failed: `address <addr>: <why>`.
    Address { addr: String, why: &'static str },
    /// The port is not a number.
    UnknownPort { port: String },
    /// Name resolution failed.
    Lookup { host: String, why: String },
    /// connect(2) failed on the resolved address.
    Connect { addr: String, err: io::Error },
    /// The deadline passed while dialing `addr`.
    Timeout { addr: String },
}

impl DialError {
    /// `dial tcp 127.0.0.1:1: connect: connection refused`, ...
    pub(crate) fn go_text(&self) -> String {
        match self {
            DialError::Address { addr, why } => format!("dial tcp: address {addr}: {why}"),
            DialError::UnknownPort { port } => format!("dial tcp: lookup tcp/{port}: unknown port"),
            DialError::Lookup { host, why } => format!("dial tcp: lookup {host}: {why}"),
            DialError::Connect { addr, err } => {
                format!("dial tcp {addr}: connect: {}", errno_text(err))
            }
            DialError::Timeout { addr } => format!("dial tcp {addr}: i/o timeout"),
        }
    }
}

/// net/url's `Error.Op` for a client request: the method with only its
/// first letter upper case ("Get", "Post").
pub(crate) fn url_error_op(method: &str) -> String {
    let mut chars = method.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(|c| c.to_lowercase()))
            .collect(),
        None => String::new(),
    }
}

/// `*url.Error`: `Get "http://host/path": <err>`.
pub(crate) fn url_error(method: &str, url: &str, err: &str) -> String {
    format!(
        "{} {}: {}",
        url_error_op(method),
        ballast_store::go_quote(url),
        err
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_texts_are_go_spelled() {
        let refused = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(errno_text(&refused), "connection refused");
        let e = DialError::Connect {
            addr: "127.0.0.1:1".into(),
            err: refused,
        };
        assert_eq!(
            e.go_text(),
            "dial tcp 127.0.0.1:1: connect: connection refused"
        );
        assert_eq!(
            DialError::Timeout {
                addr: "[::1]:80".into()
            }
            .go_text(),
            "dial tcp [::1]:80: i/o timeout"
        );
        assert_eq!(
            DialError::Address {
                addr: "foo".into(),
                why: "missing port in address"
            }
            .go_text(),
            "dial tcp: address foo: missing port in address"
        );
    }

    #[test]
    fn url_errors_quote_the_url() {
        assert_eq!(url_error_op("GET"), "Get");
        assert_eq!(url_error_op("abc"), "Abc");
        assert_eq!(
            url_error("POST", "http://a/b", "EOF"),
            "Post \"http://a/b\": EOF"
        );
    }
}
