//! A minimal keep-alive HTTP/1.1 client on a tokio `TcpStream`.
//!
//! Why hand-written: the load generator shares the two cores with the server
//! it measures, so every cycle the client spends is stolen from the server.
//! Requests are pre-encoded bytes (see `workload`), and a response is parsed
//! in place in one reusable buffer: no per-request allocation on the hot path.

use std::fmt;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest response (headers + body) accepted; anything larger is an error
/// rather than unbounded buffering.
pub const MAX_RESPONSE_BYTES: usize = 16 << 20;
const MAX_HEADERS: usize = 64;
const READ_CHUNK: usize = 16 << 10;

#[derive(Debug)]
pub enum HttpError {
    Io(std::io::Error),
    /// The server closed the connection before a full response arrived.
    Closed,
    Malformed(&'static str),
    TooLarge,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Io(e) => write!(f, "io: {e}"),
            HttpError::Closed => write!(f, "connection closed mid-response"),
            HttpError::Malformed(what) => write!(f, "malformed response: {what}"),
            HttpError::TooLarge => write!(f, "response larger than {MAX_RESPONSE_BYTES} bytes"),
        }
    }
}

impl std::error::Error for HttpError {}

impl From<std::io::Error> for HttpError {
    fn from(e: std::io::Error) -> Self {
        HttpError::Io(e)
    }
}

/// What the caller needs from a response: its status and body.
#[derive(Debug, PartialEq, Eq)]
pub struct Response<'a> {
    pub status: u16,
    pub body: &'a [u8],
    /// `X-Consul-Index`, when the server sent one (blocking queries need it).
    pub consul_index: Option<u64>,
}

/// How the body of a response is framed (RFC 9112 §6.3, the cases a JSON API
/// server uses).
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Framing {
    Length(usize),
    Chunked,
    /// No length and not chunked: the body runs until the server closes.
    UntilClose,
}

/// The parsed head of a response.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
struct Head {
    status: u16,
    head_len: usize,
    framing: Framing,
    close: bool,
    consul_index: Option<u64>,
}

/// Parses a response head from `buf`. `Ok(None)` means more bytes are needed.
fn parse_head(buf: &[u8]) -> Result<Option<Head>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let head_len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(HttpError::Malformed("response head")),
    };
    let status = resp.code.ok_or(HttpError::Malformed("status"))?;
    let http10 = resp.version == Some(0);
    let mut length = None;
    let mut chunked = false;
    let mut close = http10;
    let mut consul_index = None;
    for h in resp.headers.iter() {
        if h.name.eq_ignore_ascii_case("x-consul-index") {
            consul_index = std::str::from_utf8(h.value).ok().and_then(|t| t.trim().parse().ok());
        } else if h.name.eq_ignore_ascii_case("content-length") {
            let text = std::str::from_utf8(h.value).map_err(|_| HttpError::Malformed("content-length"))?;
            let n: usize = text.trim().parse().map_err(|_| HttpError::Malformed("content-length"))?;
            length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = h.value.split(|b| *b == b',').any(|t| trim_ascii(t).eq_ignore_ascii_case(b"chunked"));
        } else if h.name.eq_ignore_ascii_case("connection") {
            for token in h.value.split(|b| *b == b',') {
                let token = trim_ascii(token);
                if token.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    close = false;
                }
            }
        }
    }
    // 1xx, 204 and 304 never carry a body.
    let bodiless = (100..200).contains(&status) || status == 204 || status == 304;
    let framing = if bodiless {
        Framing::Length(0)
    } else if chunked {
        Framing::Chunked
    } else if let Some(n) = length {
        if n > MAX_RESPONSE_BYTES {
            return Err(HttpError::TooLarge);
        }
        Framing::Length(n)
    } else {
        Framing::UntilClose
    };
    Ok(Some(Head { status, head_len, framing, close, consul_index }))
}

fn trim_ascii(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if first.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = s {
        if last.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    s
}

/// Decodes a chunked body that starts at `buf[0]`. On success returns the
/// decoded body and how many bytes of `buf` it used; `Ok(None)` means more
/// bytes are needed. Chunk extensions and trailers are skipped.
pub fn decode_chunked(buf: &[u8], out: &mut Vec<u8>) -> Result<Option<usize>, HttpError> {
    out.clear();
    let mut pos = 0;
    loop {
        let Some(line_end) = find_crlf(&buf[pos..]) else { return Ok(None) };
        let line = &buf[pos..pos + line_end];
        let size_text = line.split(|b| *b == b';').next().unwrap_or(line);
        let size_text = std::str::from_utf8(trim_ascii(size_text)).map_err(|_| HttpError::Malformed("chunk size"))?;
        let size = usize::from_str_radix(size_text, 16).map_err(|_| HttpError::Malformed("chunk size"))?;
        pos += line_end + 2;
        if size == 0 {
            // Trailer section: header lines until an empty line.
            loop {
                let Some(end) = find_crlf(&buf[pos..]) else { return Ok(None) };
                pos += end + 2;
                if end == 0 {
                    return Ok(Some(pos));
                }
            }
        }
        if out.len() + size > MAX_RESPONSE_BYTES {
            return Err(HttpError::TooLarge);
        }
        if buf.len() < pos + size + 2 {
            return Ok(None);
        }
        out.extend_from_slice(&buf[pos..pos + size]);
        if &buf[pos + size..pos + size + 2] != b"\r\n" {
            return Err(HttpError::Malformed("chunk terminator"));
        }
        pos += size + 2;
    }
}

fn find_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n")
}

/// One keep-alive connection. Not usable after an error: the caller reconnects.
pub struct HttpConn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Start of unparsed bytes in `buf` (left over from the previous response).
    start: usize,
    /// Decoded body when the response was chunked.
    chunked_body: Vec<u8>,
    /// Set when the server asked to close: the next request must reconnect.
    pub must_reconnect: bool,
}

impl HttpConn {
    pub async fn connect(addr: &str) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        // Requests are single small writes; Nagle would only add delay.
        stream.set_nodelay(true)?;
        Ok(HttpConn {
            stream,
            buf: Vec::with_capacity(READ_CHUNK),
            start: 0,
            chunked_body: Vec::new(),
            must_reconnect: false,
        })
    }

    /// Sends one pre-encoded request and reads its response.
    pub async fn request(&mut self, request: &[u8]) -> Result<Response<'_>, HttpError> {
        self.stream.write_all(request).await?;
        // Drop the bytes of the previous response, keep anything after it.
        self.buf.drain(..self.start);
        self.start = 0;
        let head = loop {
            if let Some(head) = parse_head(&self.buf)? {
                if (100..200).contains(&head.status) {
                    // Interim response (e.g. 100 Continue): skip it.
                    self.buf.drain(..head.head_len);
                    continue;
                }
                break head;
            }
            self.fill().await?;
        };
        self.must_reconnect = head.close;
        let body_start = head.head_len;
        match head.framing {
            Framing::Length(n) => {
                while self.buf.len() < body_start + n {
                    self.fill().await?;
                }
                self.start = body_start + n;
                Ok(Response { status: head.status, consul_index: head.consul_index, body: &self.buf[body_start..body_start + n] })
            }
            Framing::Chunked => loop {
                if let Some(used) = decode_chunked(&self.buf[body_start..], &mut self.chunked_body)? {
                    self.start = body_start + used;
                    return Ok(Response { status: head.status, consul_index: head.consul_index, body: &self.chunked_body });
                }
                self.fill().await?;
            },
            Framing::UntilClose => {
                loop {
                    match self.fill().await {
                        Ok(()) => {}
                        Err(HttpError::Closed) => break,
                        Err(e) => return Err(e),
                    }
                }
                self.must_reconnect = true;
                self.start = self.buf.len();
                Ok(Response { status: head.status, consul_index: head.consul_index, body: &self.buf[body_start..] })
            }
        }
    }

    /// Reads more bytes into the buffer; `Closed` at end of stream.
    async fn fill(&mut self) -> Result<(), HttpError> {
        if self.buf.len() >= MAX_RESPONSE_BYTES {
            return Err(HttpError::TooLarge);
        }
        // read_buf fills spare capacity without zeroing it first.
        self.buf.reserve(READ_CHUNK);
        let n = self.stream.read_buf(&mut self.buf).await?;
        if n == 0 {
            return Err(HttpError::Closed);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_with_content_length() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Type: application/json\r\n\r\ntrue";
        let head = parse_head(raw).unwrap().unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(head.framing, Framing::Length(4));
        assert!(!head.close);
        assert_eq!(&raw[head.head_len..], b"true");
    }

    #[test]
    fn partial_head_needs_more() {
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Len").unwrap(), None);
    }

    #[test]
    fn connection_close_and_http10() {
        let head = parse_head(b"HTTP/1.1 500 x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").unwrap().unwrap();
        assert!(head.close);
        let head = parse_head(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").unwrap().unwrap();
        assert!(head.close);
        let head = parse_head(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(!head.close);
    }

    #[test]
    fn chunked_and_no_length_framing() {
        let head = parse_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").unwrap().unwrap();
        assert_eq!(head.framing, Framing::Chunked);
        let head = parse_head(b"HTTP/1.1 200 OK\r\n\r\n").unwrap().unwrap();
        assert_eq!(head.framing, Framing::UntilClose);
        let head = parse_head(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap().unwrap();
        assert_eq!(head.framing, Framing::Length(0));
    }

    #[test]
    fn garbage_and_bad_length_are_errors() {
        assert!(parse_head(b"NOT HTTP AT ALL\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n").is_err());
        assert!(matches!(
            parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n"),
            Err(HttpError::TooLarge)
        ));
    }

    #[test]
    fn chunked_body_decodes_with_extensions_and_trailers() {
        let raw = b"4;ext=1\r\ntrue\r\n3\r\n!!!\r\n0\r\nX-Trailer: y\r\n\r\nNEXT";
        let mut out = Vec::new();
        let used = decode_chunked(raw, &mut out).unwrap().unwrap();
        assert_eq!(out, b"true!!!");
        assert_eq!(&raw[used..], b"NEXT");
    }

    #[test]
    fn chunked_body_incomplete_and_malformed() {
        let mut out = Vec::new();
        assert_eq!(decode_chunked(b"4\r\ntr", &mut out).unwrap(), None);
        assert_eq!(decode_chunked(b"4\r\ntrue\r\n0\r\n", &mut out).unwrap(), None);
        assert!(decode_chunked(b"zz\r\n", &mut out).is_err());
        assert!(decode_chunked(b"4\r\ntrueXX0\r\n\r\n", &mut out).is_err());
    }
}
