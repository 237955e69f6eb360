//! Consul's `CheckHTTP` as one request (following redirects like Go's
//! http.Client unless DisableRedirects): 2xx passing, 429 warning, anything
//! else or any error critical. Output: `HTTP <method> <url>: <status>
//! Output: <last OutputMaxSize bytes of the body>`, or Go's error text.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ballast_store::catalog::HealthCheckDefinition;
use base64::Engine;
use futures_lite::AsyncWriteExt;

use crate::goerr::url_error;
use crate::http_wire::{Conn, Head, Reader};
use crate::net::dial_host_port;
use crate::outcome::Outcome;
use crate::output::TailBuffer;
use crate::tls::{handshake, TlsSettings};
use crate::url::Url;
use crate::{DEFAULT_BUF_SIZE, MAX_REDIRECTS, USER_AGENT};

/// What an HTTP check sends and how.
#[derive(Clone, Debug, Default)]
pub struct HttpProbe {
    pub url: String,
    /// `""` means GET.
    pub method: String,
    /// Multi-valued headers as in the definition. `Host` sets the Host
    /// header; User-Agent and Accept get Consul's defaults when absent.
    pub headers: BTreeMap<String, Vec<String>>,
    pub body: String,
    pub disable_redirects: bool,
    pub tls: TlsSettings,
    /// Body bytes kept for the output; 0 means [`DEFAULT_BUF_SIZE`].
    pub output_max_size: usize,
}

impl HttpProbe {
    /// From a check definition; `output_max_size` as computed by
    /// [`crate::effective_output_max_size`]. TLS roots default to the system's.
    pub fn from_definition(def: &HealthCheckDefinition, output_max_size: usize) -> Self {
        HttpProbe {
            url: def.http.clone(),
            method: def.method.clone(),
            headers: def.header.clone(),
            body: def.body.clone(),
            disable_redirects: def.disable_redirects,
            tls: TlsSettings {
                skip_verify: def.tls_skip_verify,
                server_name: def.tls_server_name.clone(),
                roots: None,
            },
            output_max_size,
        }
    }
}

/// Runs the check once; `timeout` bounds everything (connect, redirects,
/// body), like Go's `http.Client.Timeout` (see [`crate::probe_timeout`]).
pub async fn probe_http(spec: &HttpProbe, timeout: Duration) -> Outcome {
    let method = if spec.method.is_empty() {
        "GET"
    } else {
        spec.method.as_str()
    };
    let deadline = Instant::now() + timeout;
    let max = if spec.output_max_size == 0 {
        DEFAULT_BUF_SIZE
    } else {
        spec.output_max_size
    };
    let mut body = TailBuffer::new(max);
    match run(spec, method, deadline, &mut body).await {
        Ok(head) => {
            let text = format!(
                "HTTP {method} {}: {} Output: {}",
                spec.url,
                head.status_text(),
                body.text()
            );
            match head.code {
                200..=299 => Outcome::passing(text),
                429 => Outcome::warning(text),
                _ => Outcome::critical(text),
            }
        }
        Err(text) => Outcome::critical(text),
    }
}

/// One hop of the exchange.
struct Hop {
    url: Url,
    /// The URL as Go's errors show it.
    shown: String,
    method: String,
    body: Vec<u8>,
    host_override: Option<String>,
    headers: Vec<(String, String)>,
}

async fn run(
    spec: &HttpProbe,
    method: &str,
    deadline: Instant,
    sink: &mut TailBuffer,
) -> Result<Head, String> {
    let fail = |url: &str, err: String| url_error(method, url, &err);
    if !is_token(method) {
        return Err(format!(
            "net/http: invalid method {}",
            ballast_store::go_quote(method)
        ));
    }
    let url = Url::parse(&spec.url).map_err(|e| {
        if e.starts_with("parse ") {
            e
        } else {
            fail(&spec.url, e)
        }
    })?;
    let (host_override, initial_headers) =
        initial_headers(&spec.headers).map_err(|e| fail(&spec.url, e))?;
    let mut hop = Hop {
        url,
        shown: spec.url.clone(),
        method: method.to_string(),
        body: spec.body.as_bytes().to_vec(),
        host_override,
        headers: initial_headers.clone(),
    };
    let mut sent = 0usize;
    loop {
        let mut conn = send(&hop, &spec.tls, deadline)
            .await
            .map_err(|e| fail(&hop.shown, e))?;
        sent += 1;
        let mut reader = Reader::new(&mut *conn);
        let head = within(deadline, reader.read_head())
            .await
            .map_err(|e| fail(&hop.shown, e))?;
        let (next_method, keep_body) = match head.code {
            301..=303 if hop.method == "GET" || hop.method == "HEAD" => (hop.method.clone(), false),
            301..=303 => ("GET".to_string(), false),
            307 | 308 => (hop.method.clone(), true),
            _ => return finish(reader, head, &hop.method, deadline, sink).await,
        };
        let Some(location) = head.header("Location").map(str::to_string) else {
            return finish(reader, head, &hop.method, deadline, sink).await;
        };
        let next_url = hop.url.join(&location).map_err(|e| {
            fail(
                &hop.shown,
                format!(
                    "failed to parse Location header {}: {e}",
                    ballast_store::go_quote(&location)
                ),
            )
        })?;
        if spec.disable_redirects {
            return finish(reader, head, &hop.method, deadline, sink).await;
        }
        if sent >= MAX_REDIRECTS {
            return Err(fail(
                &location,
                format!("stopped after {MAX_REDIRECTS} redirects"),
            ));
        }
        drop(reader);
        hop = next_hop(
            &hop,
            next_url,
            &location,
            next_method,
            keep_body,
            &initial_headers,
        );
    }
}

/// The final response: its body goes into `sink` until it ends or the
/// deadline passes; read errors only shorten the output (Consul logs them).
async fn finish(
    mut reader: Reader<'_>,
    head: Head,
    method: &str,
    deadline: Instant,
    sink: &mut TailBuffer,
) -> Result<Head, String> {
    let _ = within(deadline, reader.read_body(&head, method, sink)).await;
    Ok(head)
}

/// Dials, handshakes if https, writes the request.
async fn send(hop: &Hop, tls: &TlsSettings, deadline: Instant) -> Result<Box<dyn Conn>, String> {
    let stream = dial_host_port(&hop.url.host, &hop.url.port.to_string(), deadline)
        .await
        .map_err(|e| e.go_text())?;
    let mut conn: Box<dyn Conn> = if hop.url.is_https() {
        Box::new(
            within(deadline, async {
                handshake(stream, tls, &hop.url.host).await
            })
            .await?,
        )
    } else {
        Box::new(stream)
    };
    let request = encode(hop);
    within(deadline, async {
        conn.write_all(&request)
            .await
            .map_err(|e| format!("write: {}", crate::goerr::errno_text(&e)))?;
        conn.flush()
            .await
            .map_err(|e| format!("write: {}", crate::goerr::errno_text(&e)))
    })
    .await?;
    Ok(conn)
}

/// Runs `f` until `deadline`; past it, Go's client-timeout text.
async fn within<T>(
    deadline: Instant,
    f: impl std::future::Future<Output = Result<T, String>>,
) -> Result<T, String> {
    let remaining = deadline.saturating_duration_since(Instant::now());
    if remaining.is_zero() {
        return Err(TIMEOUT_TEXT.to_string());
    }
    match glommio::timer::timeout(remaining, async {
        Ok::<_, glommio::GlommioError<()>>(f.await)
    })
    .await
    {
        Ok(result) => result,
        Err(_) => Err(TIMEOUT_TEXT.to_string()),
    }
}

const TIMEOUT_TEXT: &str =
    "context deadline exceeded (Client.Timeout exceeded while awaiting headers)";

/// The Host override and the headers every hop starts from.
type InitialHeaders = (Option<String>, Vec<(String, String)>);

/// Splits the definition's headers into the Host override and the rest,
/// adding Consul's User-Agent and Accept defaults.
fn initial_headers(
    given: &BTreeMap<String, Vec<String>>,
) -> Result<InitialHeaders, String> {
    let first = |name: &str| {
        given
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.first())
            .filter(|v| !v.is_empty())
    };
    let host = first("Host").cloned();
    let mut headers = Vec::new();
    for (name, values) in given {
        if !is_token(name) {
            return Err(format!(
                "net/http: invalid header field name {}",
                ballast_store::go_quote(name)
            ));
        }
        if name.eq_ignore_ascii_case("Host") {
            continue;
        }
        let defaulted = (name.eq_ignore_ascii_case("User-Agent")
            || name.eq_ignore_ascii_case("Accept"))
            && first(name).is_none();
        if defaulted {
            continue;
        }
        for v in values {
            headers.push((name.clone(), v.clone()));
        }
    }
    if first("User-Agent").is_none() {
        headers.push(("User-Agent".to_string(), USER_AGENT.to_string()));
    }
    if first("Accept").is_none() {
        headers.push(("Accept".to_string(), "text/plain, text/*, */*".to_string()));
    }
    Ok((host, headers))
}

/// Go's redirect request: method and body by status, the initial headers
/// (credentials dropped when the host changes), a Referer, the custom Host
/// only for a relative Location.
fn next_hop(
    prev: &Hop,
    url: Url,
    location: &str,
    method: String,
    keep_body: bool,
    initial: &[(String, String)],
) -> Hop {
    let location_is_absolute = location.contains("://") || location.starts_with("//");
    let host_override = match &prev.host_override {
        Some(h) if *h != prev.url.authority && !location_is_absolute => Some(h.clone()),
        _ => None,
    };
    let same_host = url.host.eq_ignore_ascii_case(&prev.url.host)
        || url
            .host
            .to_ascii_lowercase()
            .ends_with(&format!(".{}", prev.url.host.to_ascii_lowercase()));
    let mut headers: Vec<(String, String)> = initial
        .iter()
        .filter(|(k, _)| same_host || !SENSITIVE.iter().any(|s| k.eq_ignore_ascii_case(s)))
        .cloned()
        .collect();
    let explicit_referer = headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("Referer"));
    let downgrade = prev.url.is_https() && !url.is_https();
    if !explicit_referer && !downgrade {
        headers.push(("Referer".to_string(), prev.url.display()));
    }
    Hop {
        shown: url.display(),
        url,
        method,
        body: if keep_body {
            prev.body.clone()
        } else {
            Vec::new()
        },
        host_override,
        headers,
    }
}

const SENSITIVE: [&str; 4] = ["Authorization", "Www-Authenticate", "Cookie", "Cookie2"];

fn encode(hop: &Hop) -> Vec<u8> {
    let mut out = String::with_capacity(256);
    let host = hop.host_override.as_deref().unwrap_or(&hop.url.authority);
    out.push_str(&format!(
        "{} {} HTTP/1.1\r\nHost: {}\r\n",
        hop.method,
        hop.url.target,
        clean(host)
    ));
    let mut headers: Vec<&(String, String)> = hop.headers.iter().collect();
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some((_, ua)) = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("User-Agent"))
    {
        out.push_str(&format!("User-Agent: {}\r\n", clean(ua)));
    }
    let sends_length =
        !hop.body.is_empty() || matches!(hop.method.as_str(), "POST" | "PUT" | "PATCH");
    if sends_length {
        out.push_str(&format!("Content-Length: {}\r\n", hop.body.len()));
    }
    let has_auth = headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("Authorization"));
    if let (Some(user), false) = (&hop.url.userinfo, has_auth) {
        let decoded = percent_decode(user);
        let token = base64::engine::general_purpose::STANDARD.encode(decoded);
        out.push_str(&format!("Authorization: Basic {token}\r\n"));
    }
    for (k, v) in headers {
        if EXCLUDED.iter().any(|e| k.eq_ignore_ascii_case(e)) {
            continue;
        }
        out.push_str(&format!("{k}: {}\r\n", clean(v)));
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&hop.body);
    bytes
}

/// Written separately (or by us) rather than copied from the definition.
const EXCLUDED: [&str; 6] = [
    "Host",
    "User-Agent",
    "Content-Length",
    "Transfer-Encoding",
    "Trailer",
    "Connection",
];

/// Go replaces newlines in header values with spaces.
fn clean(v: &str) -> String {
    v.replace(['\r', '\n'], " ")
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(headers: &[(&str, &[&str])], method: &str, body: &str) -> Hop {
        let map: BTreeMap<String, Vec<String>> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect();
        let (host_override, headers) = initial_headers(&map).unwrap();
        Hop {
            url: Url::parse("http://u:p%40ss@127.0.0.1:8080/h?x=1").unwrap(),
            shown: String::new(),
            method: method.into(),
            body: body.as_bytes().to_vec(),
            host_override,
            headers,
        }
    }

    #[test]
    fn request_has_consul_defaults() {
        let text = String::from_utf8(encode(&hop(&[], "GET", ""))).unwrap();
        assert_eq!(
            text,
            "GET /h?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: Consul Health Check\r\n\
             Authorization: Basic dTpwQHNz\r\nAccept: text/plain, text/*, */*\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn request_keeps_given_headers_and_host() {
        let h = hop(
            &[
                ("Host", &["a"]),
                ("X-Multi", &["b", "c"]),
                ("User-Agent", &["me"]),
                ("Accept", &["x/y"]),
            ],
            "POST",
            "hi",
        );
        let text = String::from_utf8(encode(&h)).unwrap();
        assert_eq!(
            text,
            "POST /h?x=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: me\r\nContent-Length: 2\r\n\
             Authorization: Basic dTpwQHNz\r\nAccept: x/y\r\nX-Multi: b\r\nX-Multi: c\r\nConnection: close\r\n\r\nhi"
        );
        let empty_post = String::from_utf8(encode(&hop(&[], "PUT", ""))).unwrap();
        assert!(empty_post.contains("Content-Length: 0\r\n"));
    }

    #[test]
    fn bad_header_names_and_methods_are_rejected() {
        let map: BTreeMap<String, Vec<String>> =
            [("bad name".to_string(), vec!["v".to_string()])].into();
        assert_eq!(
            initial_headers(&map).unwrap_err(),
            "net/http: invalid header field name \"bad name\""
        );
        assert!(!is_token("a b"));
        assert!(is_token("abc"));
    }

    #[test]
    fn redirect_drops_credentials_across_hosts() {
        let h = hop(
            &[
                ("Authorization", &["secret"]),
                ("Cookie", &["c"]),
                ("X", &["y"]),
            ],
            "POST",
            "b",
        );
        let initial = h.headers.clone();
        let same = next_hop(
            &h,
            h.url.join("/next").unwrap(),
            "/next",
            "GET".into(),
            false,
            &initial,
        );
        assert!(same.headers.iter().any(|(k, _)| k == "Authorization"));
        assert!(same
            .headers
            .iter()
            .any(|(k, v)| k == "Referer" && v == "http://127.0.0.1:8080/h?x=1"));
        assert!(same.body.is_empty());
        let other = next_hop(
            &h,
            Url::parse("http://other/").unwrap(),
            "http://other/",
            "POST".into(),
            true,
            &initial,
        );
        assert!(!other
            .headers
            .iter()
            .any(|(k, _)| k == "Authorization" || k == "Cookie"));
        assert!(other.headers.iter().any(|(k, _)| k == "X"));
        assert_eq!(other.body, b"b");
    }
}
