//! A small blocking HTTP/1.1 client for the API commands: one request per connection
//! (`Connection: close`), over TCP or a unix socket, reading Content-Length, chunked or
//! until-close bodies. No TLS: `https://` addresses are refused with a clear error.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;

/// The largest response accepted; a KV export of the biggest allowed store fits well within.
const MAX_BODY: usize = 1 << 30;
const MAX_HEADER_LINE: usize = 64 * 1024;
const MAX_HEADERS: usize = 256;

/// Where the agent's HTTP API listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// host:port
    Tcp(String),
    /// Path of a unix socket.
    Unix(String),
}

impl Endpoint {
    /// Parses Consul's `-http-addr` / CONSUL_HTTP_ADDR forms: `http://host:port`, `host:port`,
    /// `unix:///path`. `https` needs TLS, which this client does not have.
    pub fn parse(addr: &str, ssl: bool) -> Result<Endpoint, String> {
        let (scheme, rest) = match addr.split_once("://") {
            Some((s, r)) => (s.to_string(), r),
            None => (if ssl { "https".to_string() } else { "http".to_string() }, addr),
        };
        match scheme.as_str() {
            "http" => Ok(Endpoint::Tcp(rest.trim_end_matches('/').to_string())),
            "unix" => Ok(Endpoint::Unix(rest.to_string())),
            "https" => Err("HTTPS is not supported by the ballast CLI yet; use an http:// address".to_string()),
            other => Err(format!("Unknown protocol scheme: {other}")),
        }
    }

    /// The URL prefix Go's client would show in errors ("http://127.0.0.1:8500").
    pub fn url_base(&self) -> String {
        match self {
            Endpoint::Tcp(h) => format!("http://{h}"),
            Endpoint::Unix(_) => "http://127.0.0.1".to_string(),
        }
    }

    fn host_header(&self) -> &str {
        match self {
            Endpoint::Tcp(h) => h,
            Endpoint::Unix(_) => "127.0.0.1",
        }
    }
}

pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Sends one request and reads the whole response. `path_and_query` is already escaped.
/// Errors read like Go's net/http (`Get "http://...": dial tcp ...: connect: connection refused`).
pub fn request(
    ep: &Endpoint,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<Response, String> {
    let go_method = go_method_name(method);
    let url = format!("{}{}", ep.url_base(), path_and_query);
    let wrap = |e: String| format!("{go_method} \"{url}\": {e}");
    let mut head = format!("{method} {path_and_query} HTTP/1.1\r\nHost: {}\r\n", ep.host_header());
    head.push_str("User-Agent: ballast-cli\r\nAccept-Encoding: identity\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        head.push_str(&format!("Content-Length: {}\r\n", b.len()));
    } else if method == "PUT" || method == "POST" {
        head.push_str("Content-Length: 0\r\n");
    }
    head.push_str("\r\n");
    let mut payload = head.into_bytes();
    if let Some(b) = body {
        payload.extend_from_slice(b);
    }
    match ep {
        Endpoint::Tcp(host) => {
            let mut s = TcpStream::connect(host.as_str()).map_err(|e| wrap(dial_error("tcp", host, &e)))?;
            let _ = s.set_nodelay(true);
            s.write_all(&payload).map_err(|e| wrap(go_io_text(&e)))?;
            read_response(BufReader::new(s)).map_err(wrap)
        }
        Endpoint::Unix(path) => {
            let mut s = UnixStream::connect(path).map_err(|e| wrap(dial_error("unix", path, &e)))?;
            s.write_all(&payload).map_err(|e| wrap(go_io_text(&e)))?;
            read_response(BufReader::new(s)).map_err(wrap)
        }
    }
}

fn go_method_name(m: &str) -> String {
    let mut chars = m.chars();
    match chars.next() {
        Some(f) => f.to_string() + &chars.as_str().to_ascii_lowercase(),
        None => String::new(),
    }
}

fn dial_error(net: &str, addr: &str, e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound => {
            format!("dial {net} {addr}: connect: {}", go_io_text(e))
        }
        _ => format!("dial {net} {addr}: {}", go_io_text(e)),
    }
}

/// An OS error as Go prints it: the C library's text with a lower-case first letter.
pub fn go_io_text(e: &std::io::Error) -> String {
    let Some(code) = e.raw_os_error() else { return e.to_string() };
    // SAFETY: strerror returns a valid NUL-terminated string for any code; copied at once.
    let ptr = unsafe { libc::strerror(code) };
    if ptr.is_null() {
        return e.to_string();
    }
    let s = unsafe { std::ffi::CStr::from_ptr(ptr) }.to_string_lossy().into_owned();
    let mut chars = s.chars();
    match chars.next() {
        Some(f) => f.to_lowercase().chain(chars).collect(),
        None => s,
    }
}

fn read_line(r: &mut impl BufRead) -> Result<String, String> {
    let mut buf = Vec::new();
    let n = r
        .by_ref()
        .take(MAX_HEADER_LINE as u64)
        .read_until(b'\n', &mut buf)
        .map_err(|e| go_io_text(&e))?;
    if n == 0 {
        return Err("EOF".to_string());
    }
    if buf.last() != Some(&b'\n') {
        return Err("malformed HTTP response: line too long or truncated".to_string());
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    String::from_utf8(buf).map_err(|_| "malformed HTTP response: header is not UTF-8".to_string())
}

/// Parses a status line, headers and body from `r`.
pub fn read_response(mut r: impl BufRead) -> Result<Response, String> {
    let status_line = read_line(&mut r)?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let status: u16 = match (version.starts_with("HTTP/1."), parts.next().and_then(|s| s.parse().ok())) {
        (true, Some(code)) => code,
        _ => return Err(format!("malformed HTTP response {status_line:?}")),
    };
    let mut content_length: Option<usize> = None;
    let mut chunked = false;
    for _ in 0..MAX_HEADERS {
        let line = read_line(&mut r)?;
        if line.is_empty() {
            let body = if chunked {
                read_chunked(&mut r)?
            } else if let Some(n) = content_length {
                if n > MAX_BODY {
                    return Err(format!("response body too large ({n} bytes)"));
                }
                let mut body = vec![0; n];
                r.read_exact(&mut body).map_err(|_| "unexpected EOF".to_string())?;
                body
            } else {
                let mut body = Vec::new();
                r.take(MAX_BODY as u64 + 1).read_to_end(&mut body).map_err(|e| go_io_text(&e))?;
                if body.len() > MAX_BODY {
                    return Err("response body too large".to_string());
                }
                body
            };
            return Ok(Response { status, body });
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("malformed MIME header line: {line}"));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            content_length = Some(value.parse().map_err(|_| format!("bad Content-Length {value:?}"))?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") && value.eq_ignore_ascii_case("chunked") {
            chunked = true;
        }
    }
    Err("malformed HTTP response: too many headers".to_string())
}

fn read_chunked(r: &mut impl BufRead) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line = read_line(r)?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| format!("bad chunk size {size_text:?}"))?;
        if size == 0 {
            // Trailers, up to the empty line.
            for _ in 0..MAX_HEADERS {
                if read_line(r)?.is_empty() {
                    return Ok(body);
                }
            }
            return Err("malformed chunked trailer".to_string());
        }
        if body.len() + size > MAX_BODY {
            return Err("response body too large".to_string());
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..]).map_err(|_| "unexpected EOF".to_string())?;
        let crlf = read_line(r)?;
        if !crlf.is_empty() {
            return Err("malformed chunked encoding".to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_content_length_and_chunked_bodies() {
        let r = read_response(&b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"[..]).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"hello"[..]));
        let chunked = b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        let r = read_response(&chunked[..]).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (404, &b"abcde"[..]));
        let until_close = read_response(&b"HTTP/1.0 200 OK\r\n\r\nrest"[..]).unwrap();
        assert_eq!(until_close.body, b"rest");
    }

    #[test]
    fn rejects_malformed_responses() {
        assert!(read_response(&b"garbage\r\n\r\n"[..]).is_err());
        assert!(read_response(&b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"[..]).is_err());
        assert!(read_response(&b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"[..]).is_err());
        assert!(read_response(&b""[..]).is_err());
    }

    #[test]
    fn endpoint_forms() {
        assert_eq!(Endpoint::parse("http://127.0.0.1:8500", false), Ok(Endpoint::Tcp("127.0.0.1:8500".into())));
        assert_eq!(Endpoint::parse("10.0.0.1:8500", false), Ok(Endpoint::Tcp("10.0.0.1:8500".into())));
        assert_eq!(Endpoint::parse("unix:///tmp/c.sock", false), Ok(Endpoint::Unix("/tmp/c.sock".into())));
        assert!(Endpoint::parse("https://x:8501", false).is_err());
        assert!(Endpoint::parse("x:8501", true).is_err());
        assert_eq!(Endpoint::parse("ftp://x", false), Err("Unknown protocol scheme: ftp".into()));
    }
}
