//! HTTP/1.1 on the wire for checks: one request per connection
//! (`Connection: close`, as Consul disables keep-alives), response head via
//! httparse, body framing by Content-Length, chunked or close.

use futures_lite::{AsyncRead, AsyncReadExt, AsyncWrite};

use crate::output::TailBuffer;

/// Any stream a check talks HTTP over: plain TCP or TLS.
pub(crate) trait Conn: AsyncRead + AsyncWrite + Unpin {}
impl<T: AsyncRead + AsyncWrite + Unpin> Conn for T {}

/// Go's limit would be 10 MB; a health endpoint's head is tiny.
const MAX_HEAD_BYTES: usize = 1 << 20;
const MAX_HEADERS: usize = 128;
const MAX_LINE_BYTES: usize = 64 * 1024;

/// A response's status line and headers.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub code: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// Go's `Response.Status`: `200 OK` (just the code when no reason).
    pub fn status_text(&self) -> String {
        if self.reason.is_empty() {
            self.code.to_string()
        } else {
            format!("{} {}", self.code, self.reason)
        }
    }

    /// The first value of a header, any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Buffered reading of one response from a connection.
pub(crate) struct Reader<'a> {
    conn: &'a mut dyn Conn,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
}

impl<'a> Reader<'a> {
    pub fn new(conn: &'a mut dyn Conn) -> Self {
        Reader {
            conn,
            buf: Vec::with_capacity(8192),
            pos: 0,
            eof: false,
        }
    }

    /// Reads more bytes; false at end of stream.
    async fn fill(&mut self) -> Result<bool, String> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        let mut chunk = [0u8; 8192];
        let n = self
            .conn
            .read(&mut chunk)
            .await
            .map_err(|e| read_error_text(&e))?;
        if n == 0 {
            self.eof = true;
            return Ok(false);
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(true)
    }

    /// The final response head (1xx interim responses other than 101 are
    /// skipped, as Go's transport does).
    pub async fn read_head(&mut self) -> Result<Head, String> {
        loop {
            let head = self.read_one_head().await?;
            if (100..200).contains(&head.code) && head.code != 101 {
                continue;
            }
            return Ok(head);
        }
    }

    async fn read_one_head(&mut self) -> Result<Head, String> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut resp = httparse::Response::new(&mut headers);
            match resp.parse(&self.buf[self.pos..]) {
                Ok(httparse::Status::Complete(len)) => {
                    let head = Head {
                        code: resp.code.unwrap_or(0),
                        reason: resp.reason.unwrap_or("").to_string(),
                        headers: resp
                            .headers
                            .iter()
                            .map(|h| {
                                (
                                    h.name.to_string(),
                                    String::from_utf8_lossy(h.value).into_owned(),
                                )
                            })
                            .collect(),
                    };
                    self.pos += len;
                    return Ok(head);
                }
                Ok(httparse::Status::Partial) => {
                    if self.buf.len() - self.pos > MAX_HEAD_BYTES {
                        return Err(format!("net/http: server response headers exceeded {MAX_HEAD_BYTES} bytes; aborted"));
                    }
                }
                Err(e) => {
                    // Show the whole first line, as Go does.
                    while !self.buf[self.pos..].contains(&b'\n') && self.buf.len() - self.pos < 4096
                    {
                        if !self.fill().await.unwrap_or(false) {
                            break;
                        }
                    }
                    let start = &self.buf[self.pos..];
                    let line = start.split(|&b| b == b'\n').next().unwrap_or(start);
                    return Err(format!(
                        "net/http: HTTP/1.x transport connection broken: malformed HTTP response {} ({e})",
                        ballast_store::go_quote(String::from_utf8_lossy(line).trim_end())
                    ));
                }
            }
            if !self.fill().await? {
                return Err(if self.buf.len() == self.pos {
                    "EOF".to_string()
                } else {
                    "unexpected EOF".to_string()
                });
            }
        }
    }

    /// Streams the body into `sink`. A body cut short is an error (Consul
    /// only logs it; the output keeps what arrived).
    pub async fn read_body(
        &mut self,
        head: &Head,
        method: &str,
        sink: &mut TailBuffer,
    ) -> Result<(), String> {
        if method.eq_ignore_ascii_case("HEAD")
            || head.code < 200
            || head.code == 204
            || head.code == 304
        {
            return Ok(());
        }
        let chunked = head
            .header("Transfer-Encoding")
            .map(|te| {
                te.rsplit(',')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case("chunked")
            })
            .unwrap_or(false);
        if chunked {
            return self.read_chunked(sink).await;
        }
        if let Some(len) = head.header("Content-Length") {
            let len: u64 = len
                .trim()
                .parse()
                .map_err(|_| format!("bad Content-Length {}", ballast_store::go_quote(len)))?;
            return self.copy_exact(len, sink).await;
        }
        loop {
            self.drain_into(sink, u64::MAX);
            if !self.fill().await? {
                return Ok(());
            }
        }
    }

    /// Moves up to `max` buffered bytes into `sink`; returns how many.
    fn drain_into(&mut self, sink: &mut TailBuffer, max: u64) -> u64 {
        let avail = (self.buf.len() - self.pos) as u64;
        let n = avail.min(max) as usize;
        sink.write(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        n as u64
    }

    async fn copy_exact(&mut self, mut len: u64, sink: &mut TailBuffer) -> Result<(), String> {
        loop {
            len -= self.drain_into(sink, len);
            if len == 0 {
                return Ok(());
            }
            if !self.fill().await? {
                return Err("unexpected EOF".to_string());
            }
        }
    }

    async fn read_line(&mut self) -> Result<String, String> {
        loop {
            if let Some(i) = self.buf[self.pos..].iter().position(|&b| b == b'\n') {
                let line = String::from_utf8_lossy(&self.buf[self.pos..self.pos + i])
                    .trim_end_matches('\r')
                    .to_string();
                self.pos += i + 1;
                return Ok(line);
            }
            if self.buf.len() - self.pos > MAX_LINE_BYTES {
                return Err("http chunk length too large".to_string());
            }
            if !self.fill().await? {
                return Err("unexpected EOF".to_string());
            }
        }
    }

    async fn read_chunked(&mut self, sink: &mut TailBuffer) -> Result<(), String> {
        loop {
            let line = self.read_line().await?;
            let size_text = line.split(';').next().unwrap_or("").trim();
            let size = u64::from_str_radix(size_text, 16)
                .map_err(|_| "invalid byte in chunk length".to_string())?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !self.read_line().await?.is_empty() {}
                return Ok(());
            }
            self.copy_exact(size, sink).await?;
            if !self.read_line().await?.is_empty() {
                return Err("malformed chunked encoding".to_string());
            }
        }
    }
}

fn read_error_text(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        return "unexpected EOF".to_string();
    }
    format!("read: {}", crate::goerr::errno_text(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An in-memory connection serving canned bytes in small pieces.
    struct Canned {
        data: Vec<u8>,
        at: usize,
    }

    impl AsyncRead for Canned {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
            buf: &mut [u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            let n = buf.len().min(3).min(self.data.len() - self.at);
            let at = self.at;
            buf[..n].copy_from_slice(&self.data[at..at + n]);
            self.at += n;
            std::task::Poll::Ready(Ok(n))
        }
    }

    impl AsyncWrite for Canned {
        fn poll_write(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            b: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            std::task::Poll::Ready(Ok(b.len()))
        }
        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn poll_close(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    }

    fn read(raw: &str, method: &str) -> (Result<Head, String>, String, Result<(), String>) {
        futures_lite::future::block_on(async {
            let mut conn = Canned {
                data: raw.as_bytes().to_vec(),
                at: 0,
            };
            let mut r = Reader::new(&mut conn);
            let head = r.read_head().await;
            let mut sink = TailBuffer::new(1024);
            let body = match &head {
                Ok(h) => r.read_body(h, method, &mut sink).await,
                Err(_) => Ok(()),
            };
            (head, sink.text(), body)
        })
    }

    #[test]
    fn content_length_body() {
        let (head, body, res) = read(
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA",
            "GET",
        );
        let head = head.unwrap();
        assert_eq!(head.status_text(), "200 OK");
        assert_eq!((body.as_str(), res), ("hello", Ok(())));
    }

    #[test]
    fn chunked_body_with_trailers_and_interim_response() {
        let raw = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 429 Too Many Requests\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\nT: v\r\n\r\n";
        let (head, body, res) = read(raw, "GET");
        assert_eq!(head.unwrap().status_text(), "429 Too Many Requests");
        assert_eq!((body.as_str(), res), ("Wikipedia", Ok(())));
    }

    #[test]
    fn body_until_close_and_short_body() {
        let (_, body, res) = read("HTTP/1.0 200 Fine\r\n\r\nall of it", "GET");
        assert_eq!((body.as_str(), res), ("all of it", Ok(())));
        let (_, body, res) = read("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "GET");
        assert_eq!(
            (body.as_str(), res),
            ("short", Err("unexpected EOF".to_string()))
        );
        let (_, body, _) = read("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "HEAD");
        assert_eq!(body, "");
    }

    #[test]
    fn broken_responses_are_errors() {
        assert_eq!(read("", "GET").0.unwrap_err(), "EOF");
        assert_eq!(
            read("HTTP/1.1 200 OK\r\nX: y", "GET").0.unwrap_err(),
            "unexpected EOF"
        );
        let garbage = read("garbage\r\n\r\n", "GET").0.unwrap_err();
        assert!(
            garbage.contains("malformed HTTP response \"garbage\""),
            "{garbage}"
        );
        assert_eq!(
            read("HTTP/1.1 200\r\n\r\n", "GET").0.unwrap().status_text(),
            "200"
        );
    }
}
