//! Request heads (httparse) and chunked bodies, with Go `net/http`'s
//! acceptance rules where clients could notice a difference.

use crate::params::path_unescape;

/// Most headers one request may carry; more is answered with 431.
pub const MAX_HEADERS: usize = 64;

/// What the connection needs to know about one request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    /// The path as sent (still escaped), used for routing and cleaning.
    pub raw_path: String,
    /// Go's `URL.Path`: the unescaped path.
    pub path: String,
    pub raw_query: String,
    pub content_length: Option<u64>,
    pub chunked: bool,
    /// Whether the connection may serve another request after this one.
    pub keep_alive: bool,
    pub expect_continue: bool,
    pub consul_token: Option<String>,
    pub authorization: Option<String>,
    pub cache_control: Option<String>,
    /// `X-Consul-Partition` (an Enterprise header Consul CE refuses).
    pub consul_partition: Option<String>,
    /// `Accept` (the agent health endpoints answer `text/plain` on request).
    pub accept: Option<String>,
}

/// Why a head was refused; each maps to the status Go's server sends
/// before closing the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadError {
    /// 431: too many headers (the size limit is enforced by the reader).
    TooManyHeaders,
    /// 400, with Go's optional detail.
    Bad(Option<&'static str>),
    /// 501: a transfer coding other than chunked.
    UnsupportedTransferEncoding,
}

/// Parse a complete head from the start of `buf`. `Ok(None)` = need more.
/// On success returns the head and its length in bytes.
pub fn parse_head(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooManyHeaders),
        Err(_) => return Err(HeadError::Bad(None)),
    };
    let method = req.method.unwrap_or("").to_string();
    let target = req.path.unwrap_or("");
    let minor = req.version.unwrap_or(1);

    let mut content_length: Option<u64> = None;
    let mut chunked = false;
    let mut has_host = false;
    let mut conn_close = false;
    let mut conn_keep_alive = false;
    let mut expect_continue = false;
    let mut consul_token = None;
    let mut authorization = None;
    let mut cache_control = None;
    let mut consul_partition = None;
    let mut accept = None;
    for h in req.headers.iter() {
        let value = std::str::from_utf8(h.value).unwrap_or("").trim();
        let name = h.name;
        if name.eq_ignore_ascii_case("content-length") {
            let v: u64 = parse_decimal(value).ok_or(HeadError::Bad(Some("bad Content-Length")))?;
            if content_length.is_some_and(|prev| prev != v) {
                return Err(HeadError::Bad(None));
            }
            content_length = Some(v);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            if value.eq_ignore_ascii_case("chunked") {
                chunked = true;
            } else if !value.eq_ignore_ascii_case("identity") {
                return Err(HeadError::UnsupportedTransferEncoding);
            }
        } else if name.eq_ignore_ascii_case("host") {
            has_host = true;
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value.split(',') {
                let t = token.trim();
                conn_close |= t.eq_ignore_ascii_case("close");
                conn_keep_alive |= t.eq_ignore_ascii_case("keep-alive");
            }
        } else if name.eq_ignore_ascii_case("expect") {
            expect_continue = value.eq_ignore_ascii_case("100-continue");
        } else if name.eq_ignore_ascii_case("x-consul-token") {
            consul_token.get_or_insert_with(|| value.to_string());
        } else if name.eq_ignore_ascii_case("authorization") {
            authorization.get_or_insert_with(|| value.to_string());
        } else if name.eq_ignore_ascii_case("cache-control") {
            cache_control.get_or_insert_with(|| value.to_string());
        } else if name.eq_ignore_ascii_case("x-consul-partition") {
            consul_partition.get_or_insert_with(|| value.to_string());
        } else if name.eq_ignore_ascii_case("accept") {
            accept.get_or_insert_with(|| value.to_string());
        }
    }
    if minor >= 1 && !has_host {
        return Err(HeadError::Bad(Some("missing required Host header")));
    }
    if chunked {
        // RFC 7230 3.3.3: Transfer-Encoding overrides Content-Length.
        content_length = None;
    }
    let (raw_path, raw_query) = split_target(target).ok_or(HeadError::Bad(None))?;
    let path = path_unescape(raw_path).ok_or(HeadError::Bad(None))?;
    let keep_alive = if minor >= 1 {
        !conn_close
    } else {
        conn_keep_alive && !conn_close
    };
    Ok(Some((
        RequestHead {
            method,
            raw_path: raw_path.to_string(),
            path,
            raw_query: raw_query.to_string(),
            content_length,
            chunked,
            keep_alive,
            expect_continue,
            consul_token,
            authorization,
            cache_control,
            consul_partition,
            accept,
        },
        len,
    )))
}

fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Origin form (`/p?q`) or absolute form (`http://h/p?q`).
fn split_target(target: &str) -> Option<(&str, &str)> {
    let rest = if target.starts_with('/') {
        target
    } else {
        let after_scheme = target.split_once("://")?.1;
        match after_scheme.find(['/', '?']) {
            Some(i) if after_scheme.as_bytes()[i] == b'/' => &after_scheme[i..],
            _ => return None,
        }
    };
    Some(rest.split_once('?').unwrap_or((rest, "")))
}

/// A chunked body over its limit, or malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkError {
    TooLarge,
    Malformed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    Size,
    Data(u64),
    DataEnd,
    Trailer,
    Done,
}

/// Incremental `Transfer-Encoding: chunked` decoder.
#[derive(Debug)]
pub struct ChunkedDecoder {
    state: ChunkState,
    max_body: usize,
    /// Bytes of trailer section seen, bounded like a head.
    trailer_bytes: usize,
}

/// Longest chunk-size line (with extensions) or trailer line we accept.
const MAX_CHUNK_LINE: usize = 4096;

impl ChunkedDecoder {
    pub fn new(max_body: usize) -> Self {
        ChunkedDecoder {
            state: ChunkState::Size,
            max_body,
            trailer_bytes: 0,
        }
    }

    pub fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Decode from `input` into `out`; returns bytes consumed. Call again
    /// with more input until [`is_done`](Self::is_done).
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, ChunkError> {
        let mut pos = 0;
        loop {
            let avail = &input[pos..];
            match self.state {
                ChunkState::Done => return Ok(pos),
                ChunkState::Size => {
                    let Some(nl) = avail.iter().position(|b| *b == b'\n') else {
                        if avail.len() > MAX_CHUNK_LINE {
                            return Err(ChunkError::Malformed);
                        }
                        return Ok(pos);
                    };
                    let size = match httparse::parse_chunk_size(&avail[..=nl]) {
                        Ok(httparse::Status::Complete((_, size))) => size,
                        _ => return Err(ChunkError::Malformed),
                    };
                    pos += nl + 1;
                    if size == 0 {
                        self.state = ChunkState::Trailer;
                    } else {
                        if (out.len() as u64).saturating_add(size) > self.max_body as u64 {
                            return Err(ChunkError::TooLarge);
                        }
                        out.reserve(size as usize);
                        self.state = ChunkState::Data(size);
                    }
                }
                ChunkState::Data(remaining) => {
                    if avail.is_empty() {
                        return Ok(pos);
                    }
                    let take = (remaining as usize).min(avail.len());
                    out.extend_from_slice(&avail[..take]);
                    pos += take;
                    let left = remaining - take as u64;
                    self.state = if left == 0 {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(left)
                    };
                }
                ChunkState::DataEnd => {
                    if avail.len() < 2 {
                        return Ok(pos);
                    }
                    if &avail[..2] != b"\r\n" {
                        return Err(ChunkError::Malformed);
                    }
                    pos += 2;
                    self.state = ChunkState::Size;
                }
                ChunkState::Trailer => {
                    let Some(nl) = avail.iter().position(|b| *b == b'\n') else {
                        if self.trailer_bytes + avail.len() > MAX_CHUNK_LINE {
                            return Err(ChunkError::Malformed);
                        }
                        return Ok(pos);
                    };
                    let line = &avail[..nl];
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    pos += nl + 1;
                    self.trailer_bytes += nl + 1;
                    if self.trailer_bytes > MAX_CHUNK_LINE {
                        return Err(ChunkError::Malformed);
                    }
                    if line.is_empty() {
                        self.state = ChunkState::Done;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(raw: &str) -> RequestHead {
        parse_head(raw.as_bytes()).unwrap().unwrap().0
    }

    #[test]
    fn parses_targets_and_headers() {
        let h =
            head("GET /v1/kv/a%2Fb?recurse&x=1 HTTP/1.1\r\nHost: x\r\nX-Consul-Token: t\r\n\r\n");
        assert_eq!(h.method, "GET");
        assert_eq!(h.raw_path, "/v1/kv/a%2Fb");
        assert_eq!(h.path, "/v1/kv/a/b");
        assert_eq!(h.raw_query, "recurse&x=1");
        assert_eq!(h.consul_token.as_deref(), Some("t"));
        assert!(h.keep_alive);
        let h = head("PUT http://host:8500/v1/txn HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5\r\n\r\n");
        assert_eq!(h.path, "/v1/txn");
        assert!(!h.keep_alive);
        assert_eq!(h.content_length, Some(5));
        let h = head("GET / HTTP/1.0\r\n\r\n");
        assert!(!h.keep_alive);
        let h = head("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assert!(h.keep_alive);
    }

    #[test]
    fn rejects_like_go() {
        let bad = |raw: &str| parse_head(raw.as_bytes()).unwrap_err();
        assert_eq!(
            bad("GET / HTTP/1.1\r\n\r\n"),
            HeadError::Bad(Some("missing required Host header"))
        );
        assert_eq!(
            bad("GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n"),
            HeadError::Bad(None)
        );
        assert_eq!(
            bad("GET * HTTP/1.1\r\nHost: x\r\n\r\n"),
            HeadError::Bad(None)
        );
        assert_eq!(
            bad("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            HeadError::Bad(None)
        );
        assert_eq!(
            bad("PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"),
            HeadError::UnsupportedTransferEncoding
        );
        let mut many = String::from("GET / HTTP/1.1\r\nHost: x\r\n");
        for i in 0..MAX_HEADERS {
            many.push_str(&format!("X-{i}: y\r\n"));
        }
        many.push_str("\r\n");
        assert_eq!(bad(&many), HeadError::TooManyHeaders);
        assert_eq!(parse_head(b"GET / HTTP/1.1\r\nHost:").unwrap(), None);
    }

    #[test]
    fn chunked_bodies_decode_incrementally() {
        let wire = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\nNEXT";
        for split in 1..wire.len() {
            let mut d = ChunkedDecoder::new(100);
            let mut out = Vec::new();
            let mut buf = wire[..split].to_vec();
            let used = d.feed(&buf, &mut out).unwrap();
            buf.drain(..used);
            buf.extend_from_slice(&wire[split..]);
            let used = d.feed(&buf, &mut out).unwrap();
            assert!(d.is_done());
            assert_eq!(out, b"hello world");
            assert_eq!(&buf[used..], b"NEXT");
        }
        let mut d = ChunkedDecoder::new(4);
        assert_eq!(
            d.feed(b"5\r\nhello\r\n", &mut Vec::new()),
            Err(ChunkError::TooLarge)
        );
        let mut d = ChunkedDecoder::new(100);
        assert_eq!(
            d.feed(b"zz\r\n", &mut Vec::new()),
            Err(ChunkError::Malformed)
        );
        let mut d = ChunkedDecoder::new(100);
        assert_eq!(
            d.feed(b"1\r\nab\r\n", &mut Vec::new()),
            Err(ChunkError::Malformed)
        );
    }
}
