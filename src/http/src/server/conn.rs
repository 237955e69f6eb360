//! One client connection: keep-alive loop, head and body reading with
//! deadlines, the handler raced against client disconnect, response write.
//!
//! Memory: a connection parked in a blocking query holds no read buffer
//! (it is released before the handler runs when nothing is pipelined),
//! only a 64-byte probe that notices the client going away.

use std::pin::pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_lite::{future, AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;

use super::parse::{parse_head, ChunkError, ChunkedDecoder, HeadError, RequestHead};
use super::response::{encode_response, protocol_error, Response};
use super::timer::{until, within};
use super::{GaugeGuard, ServerCtx};
use crate::backend::Backend;

/// A request body as the server read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Complete(Vec<u8>),
    /// Over the server's body limit and left unread (the connection closes
    /// after the response). `content_length` is `None` for chunked bodies.
    TooLarge {
        content_length: Option<u64>,
    },
}

/// One parsed request, as handlers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// Escaped path as sent (routing, cleaning).
    pub raw_path: String,
    /// Unescaped path (Go's `URL.Path`): KV keys come from here.
    pub path: String,
    pub raw_query: String,
    pub consul_token: Option<String>,
    pub authorization: Option<String>,
    pub cache_control: Option<String>,
    pub consul_partition: Option<String>,
    pub accept: Option<String>,
    pub body: Body,
}

impl Request {
    fn new(head: RequestHead, body: Body) -> Request {
        Request {
            method: head.method,
            raw_path: head.raw_path,
            path: head.path,
            raw_query: head.raw_query,
            consul_token: head.consul_token,
            authorization: head.authorization,
            cache_control: head.cache_control,
            consul_partition: head.consul_partition,
            accept: head.accept,
            body,
        }
    }
}

/// Smallest read into the connection buffer.
const READ_CHUNK: usize = 4096;
/// How long a closing connection drains unread input so the kernel does
/// not reset it before the client read our last response (Go does the same).
const LINGER: Duration = Duration::from_millis(500);

// A short-lived return value: boxing the head would cost an allocation per request.
#[allow(clippy::large_enum_variant)]
enum Next {
    Head(RequestHead),
    /// Client closed, went idle or too slow: close without a response.
    Close,
    /// Protocol error: send these bytes and close.
    Reply(Vec<u8>),
}

pub(crate) async fn serve_connection<B: Backend>(mut stream: TcpStream, ctx: Rc<ServerCtx<B>>) {
    let stats = ctx.opts.stats.clone();
    let _open = GaugeGuard::new(&stats, |s| &s.connections);
    // Without NODELAY small responses wait for delayed ACKs (tens of ms).
    let _ = stream.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let head = match read_head(&mut stream, &mut buf, &ctx).await {
            Next::Head(h) => h,
            Next::Close => return,
            Next::Reply(bytes) => {
                let _ = within(ctx.opts.write_timeout, stream.write_all(&bytes)).await;
                linger_close(&mut stream).await;
                return;
            }
        };
        let head_only = head.method == "HEAD";
        let keep_alive_requested = head.keep_alive;
        let Some((body, must_close)) = read_body(&mut stream, &mut buf, &head, &ctx).await else {
            return;
        };
        let keep_alive = keep_alive_requested && !must_close;
        release_idle_buffer(&mut buf);
        let request = Request::new(head, body);
        let response = {
            let _running = GaugeGuard::new(&stats, |s| &s.in_flight);
            match run_handler(&mut stream, &mut buf, &ctx, request).await {
                Some(r) => r,
                None => return, // client went away: the handler was dropped
            }
        };
        stats.requests_total.set(stats.requests_total.get() + 1);
        let mut out = Vec::new();
        encode_response(&response, !keep_alive, head_only, &mut out);
        drop(response);
        match within(ctx.opts.write_timeout, stream.write_all(&out)).await {
            Some(Ok(())) => {}
            _ => return,
        }
        drop(out);
        if !keep_alive {
            linger_close(&mut stream).await;
            return;
        }
        release_idle_buffer(&mut buf);
    }
}

/// Drop the buffer's memory when it holds nothing (the common case between
/// requests and while parked), or shrink it when mostly empty.
fn release_idle_buffer(buf: &mut Vec<u8>) {
    if buf.is_empty() {
        *buf = Vec::new();
    } else if buf.capacity() > 2 * buf.len() + READ_CHUNK {
        buf.shrink_to_fit();
    }
}

/// Read once into the spare end of `buf`; `None` on timeout.
async fn read_into(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    want: usize,
    deadline: Instant,
) -> Option<std::io::Result<usize>> {
    let len = buf.len();
    buf.resize(len + want.max(READ_CHUNK), 0);
    // The buffer is resized outside the timed future so a timeout can
    // never leave zero padding behind.
    let result = until(deadline, stream.read(&mut buf[len..])).await;
    let n = match &result {
        Some(Ok(n)) => *n,
        _ => 0,
    };
    buf.truncate(len + n);
    result
}

async fn read_head<B>(stream: &mut TcpStream, buf: &mut Vec<u8>, ctx: &ServerCtx<B>) -> Next {
    let opts = &ctx.opts;
    // Bytes already buffered (pipelining) start the header clock now.
    let mut header_deadline = if buf.is_empty() {
        None
    } else {
        Some(Instant::now() + opts.header_read_timeout)
    };
    loop {
        if !buf.is_empty() {
            match parse_head(buf) {
                Ok(Some((_, len))) if len > opts.max_header_bytes => {
                    return Next::Reply(protocol_error(431, "431 Request Header Fields Too Large"));
                }
                Ok(Some((head, len))) => {
                    buf.drain(..len);
                    return Next::Head(head);
                }
                Ok(None) if buf.len() > opts.max_header_bytes => {
                    return Next::Reply(protocol_error(431, "431 Request Header Fields Too Large"));
                }
                Ok(None) => {}
                Err(HeadError::TooManyHeaders) => {
                    return Next::Reply(protocol_error(431, "431 Request Header Fields Too Large"));
                }
                Err(HeadError::Bad(detail)) => {
                    let body = match detail {
                        Some(d) => format!("400 Bad Request: {d}"),
                        None => "400 Bad Request".to_string(),
                    };
                    return Next::Reply(protocol_error(400, &body));
                }
                Err(HeadError::UnsupportedTransferEncoding) => {
                    return Next::Reply(protocol_error(501, "Unsupported transfer encoding"));
                }
            }
        }
        let deadline = match header_deadline {
            Some(d) => d,
            None => Instant::now() + opts.idle_timeout,
        };
        let want = READ_CHUNK.min(opts.max_header_bytes + 1 - buf.len().min(opts.max_header_bytes));
        match read_into(stream, buf, want, deadline).await {
            Some(Ok(n)) if n > 0 => {
                header_deadline.get_or_insert_with(|| Instant::now() + opts.header_read_timeout);
            }
            // EOF, error, idle or header timeout: Go closes silently too.
            _ => return Next::Close,
        }
    }
}

/// Read the body the head announces. `None` = give up on the connection
/// (client gone, too slow, malformed chunking). The flag says whether the
/// connection must close after the response (body left unread).
async fn read_body<B>(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    head: &RequestHead,
    ctx: &ServerCtx<B>,
) -> Option<(Body, bool)> {
    let max = ctx.opts.max_body_bytes();
    let deadline = Instant::now() + ctx.opts.body_read_timeout;
    if let Some(len) = head.content_length {
        if len > max as u64 {
            return Some((
                Body::TooLarge {
                    content_length: Some(len),
                },
                true,
            ));
        }
        let len = len as usize;
        if len == 0 {
            return Some((Body::Complete(Vec::new()), false));
        }
        if head.expect_continue && buf.len() < len {
            send_continue(stream, deadline).await?;
        }
        buf.reserve(len.saturating_sub(buf.len()));
        while buf.len() < len {
            let want = len - buf.len();
            match read_into(stream, buf, want, deadline).await {
                Some(Ok(n)) if n > 0 => {}
                _ => return None,
            }
        }
        let body = if buf.len() == len {
            std::mem::take(buf)
        } else {
            let rest = buf.split_off(len);
            std::mem::replace(buf, rest)
        };
        return Some((Body::Complete(body), false));
    }
    if !head.chunked {
        return Some((Body::Complete(Vec::new()), false));
    }
    if head.expect_continue {
        send_continue(stream, deadline).await?;
    }
    let mut decoder = ChunkedDecoder::new(max);
    let mut body = Vec::new();
    loop {
        match decoder.feed(buf, &mut body) {
            Ok(used) => {
                buf.drain(..used);
            }
            Err(ChunkError::TooLarge) => {
                return Some((
                    Body::TooLarge {
                        content_length: None,
                    },
                    true,
                ));
            }
            Err(ChunkError::Malformed) => return None,
        }
        if decoder.is_done() {
            return Some((Body::Complete(body), false));
        }
        match read_into(stream, buf, READ_CHUNK * 4, deadline).await {
            Some(Ok(n)) if n > 0 => {}
            _ => return None,
        }
    }
}

async fn send_continue(stream: &mut TcpStream, deadline: Instant) -> Option<()> {
    match until(deadline, stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")).await {
        Some(Ok(())) => Some(()),
        _ => None,
    }
}

enum Step {
    Done(Response),
    Read(std::io::Result<usize>),
}

/// Run the handler while watching the socket: EOF or an error means the
/// client is gone, and returning drops the handler future (unparking a
/// blocking query, releasing its watch). Pipelined bytes that arrive
/// meanwhile are kept for the next request.
async fn run_handler<B: Backend>(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    ctx: &Rc<ServerCtx<B>>,
    request: Request,
) -> Option<Response> {
    let mut handler = pin!(crate::router::dispatch(ctx, request));
    let mut probe = [0u8; 64];
    let probe_limit = ctx.opts.max_header_bytes + ctx.opts.max_body_bytes();
    loop {
        if buf.len() >= probe_limit {
            // Enough pipelined input buffered: stop reading until answered.
            return Some(handler.await);
        }
        let step = future::or(async { Step::Done(handler.as_mut().await) }, async {
            Step::Read(stream.read(&mut probe).await)
        })
        .await;
        match step {
            Step::Done(response) => return Some(response),
            Step::Read(Ok(n)) if n > 0 => buf.extend_from_slice(&probe[..n]),
            Step::Read(_) => return None,
        }
    }
}

/// Half-close, then drain briefly so unread input does not turn our close
/// into a reset that could destroy the response in flight.
async fn linger_close(stream: &mut TcpStream) {
    let _ = stream.close().await;
    let deadline = Instant::now() + LINGER;
    let mut sink = [0u8; 512];
    while let Some(Ok(n)) = until(deadline, stream.read(&mut sink)).await {
        if n == 0 {
            break;
        }
    }
}
