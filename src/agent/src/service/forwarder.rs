//! A client agent's path to the servers: every request its HTTP API does not answer
//! itself goes, as HTTP/1.1, over a connection to a server's RPC port (the Http lane),
//! and the response comes back as the server wrote it. Like Consul's client, it sticks to
//! one server and moves to the next one when that fails. Connections are pooled per
//! server and bounded; a request that finds the bound reached gets 429 at once.
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ballast_http::{decode_forwarded_response, encode_forwarded_request, Request, Response};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;

use crate::gossip::MembersView;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A plain request's answer must come within this; a blocking query may wait up to
/// Consul's max_query_time (10 min) plus its jitter, so it gets more.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const BLOCKING_TIMEOUT: Duration = Duration::from_secs(11 * 60);
/// Idle pooled connections older than this are closed rather than reused (the server
/// closes idle connections after 5 minutes; never race it).
const IDLE_REUSE: Duration = Duration::from_secs(60);
/// Open connections to servers from one shard (each carries one request at a time, so
/// this bounds the requests in flight, parked blocking queries included).
const MAX_OPEN: usize = 4096;
const MAX_IDLE_PER_SERVER: usize = 64;
const MAX_RESPONSE_BYTES: usize = 64 << 20;

pub struct Forwarder {
    view: Arc<MembersView>,
    source_ip: Option<IpAddr>,
    idle: RefCell<HashMap<SocketAddr, Vec<(TcpStream, Instant)>>>,
    open: std::rc::Rc<Cell<usize>>,
    /// Index (into the server list) of the server this shard uses now.
    preferred: Cell<usize>,
}

struct OpenGuard(std::rc::Rc<Cell<usize>>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

enum Failure {
    /// Nothing reached the server: safe to try another one.
    NotSent(String),
    /// The request may have been carried out.
    Unknown(String),
}

impl Forwarder {
    pub fn new(view: Arc<MembersView>, source_ip: Option<IpAddr>) -> Forwarder {
        Forwarder {
            view,
            source_ip,
            idle: RefCell::default(),
            open: Default::default(),
            preferred: Cell::new(rand::random::<u16>() as usize),
        }
    }

    pub async fn forward(&self, req: &Request) -> Response {
        let servers = self.view.servers();
        if servers.is_empty() {
            return Response::text(500, "No known Consul servers");
        }
        let bytes = encode_forwarded_request(req);
        let blocking = req.raw_query.split('&').any(|p| p.starts_with("index="));
        let timeout = if blocking { BLOCKING_TIMEOUT } else { REQUEST_TIMEOUT };
        // Reads may be retried anywhere; a write only when it provably reached nobody.
        let idempotent = matches!(req.method.as_str(), "GET" | "HEAD");
        let mut last_error = String::new();
        for attempt in 0..servers.len().min(3) {
            let index = self.preferred.get().wrapping_add(attempt) % servers.len();
            let addr = servers[index].rpc;
            match self.exchange(addr, &bytes, timeout, idempotent).await {
                Ok(resp) => {
                    self.preferred.set(index);
                    return resp;
                }
                Err(Failure::NotSent(e)) => {
                    tracing::debug!(server = %addr, "forwarding to a server failed, trying the next: {e}");
                    last_error = e;
                }
                Err(Failure::Unknown(e)) if idempotent => {
                    tracing::debug!(server = %addr, "forwarded read failed, trying the next server: {e}");
                    last_error = e;
                }
                Err(Failure::Unknown(e)) => {
                    self.preferred.set(index.wrapping_add(1));
                    return Response::text(500, format!("rpc error making call: {e}"));
                }
            }
            self.preferred.set(index.wrapping_add(1));
        }
        Response::text(500, format!("rpc error making call: {last_error}"))
    }

    async fn exchange(&self, addr: SocketAddr, bytes: &[u8], timeout: Duration, idempotent: bool) -> Result<Response, Failure> {
        let head_only = bytes.starts_with(b"HEAD ");
        let reused = self.take_idle(addr);
        let (mut stream, guard, was_reused) = match reused {
            Some((s, g)) => (s, g, true),
            None => {
                if self.open.get() >= MAX_OPEN {
                    return Err(Failure::NotSent("too many requests in flight to the servers".into()));
                }
                self.open.set(self.open.get() + 1);
                let guard = OpenGuard(self.open.clone());
                let s = ballast_rpc::connect_http_lane(addr, CONNECT_TIMEOUT, self.source_ip)
                    .await
                    .map_err(|e| Failure::NotSent(e.to_string()))?;
                (s, guard, false)
            }
        };
        let result = crate::deadline::within(timeout, round_trip(&mut stream, bytes, head_only)).await;
        if let Some(Err((n, e))) = &result {
            tracing::debug!(server = %addr, reused = was_reused, read = n, "forwarded request failed: {e}");
        }
        match result {
            Some(Ok(resp)) => {
                self.put_idle(addr, stream, guard);
                Ok(resp)
            }
            // A reused connection the server had closed (it restarted): a read goes again
            // on a fresh connection; a write may have been done, so it does not.
            Some(Err((0, e))) if was_reused && idempotent => {
                drop(guard);
                tracing::debug!(server = %addr, "pooled connection was closed: {e}");
                Box::pin(self.exchange(addr, bytes, timeout, idempotent)).await
            }
            Some(Err((_, e))) => Err(Failure::Unknown(e)),
            None => Err(Failure::Unknown(format!("timed out waiting for {addr}"))),
        }
    }

    fn take_idle(&self, addr: SocketAddr) -> Option<(TcpStream, OpenGuard)> {
        let mut idle = self.idle.borrow_mut();
        let list = idle.get_mut(&addr)?;
        while let Some((s, since)) = list.pop() {
            // A server that restarted (or died) closed its end while the connection sat
            // idle: never send a request into it.
            if since.elapsed() < IDLE_REUSE && !ballast_rpc::peer_closed(&s) {
                return Some((s, OpenGuard(self.open.clone())));
            }
            self.open.set(self.open.get().saturating_sub(1));
        }
        None
    }

    fn put_idle(&self, addr: SocketAddr, stream: TcpStream, guard: OpenGuard) {
        let mut idle = self.idle.borrow_mut();
        let list = idle.entry(addr).or_default();
        if list.len() < MAX_IDLE_PER_SERVER {
            list.push((stream, Instant::now()));
            // The pooled connection keeps its place in the open count.
            std::mem::forget(guard);
        }
    }
}

/// Writes the request and reads one response; on error, how many bytes came back.
async fn round_trip(stream: &mut TcpStream, bytes: &[u8], head_only: bool) -> Result<Response, (usize, String)> {
    stream.write_all(bytes).await.map_err(|e| (0, format!("write: {e}")))?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut chunk).await.map_err(|e| (buf.len(), format!("read: {e}")))?;
        if n == 0 {
            return Err((buf.len(), "connection closed by the server".into()));
        }
        buf.extend_from_slice(&chunk[..n]);
        match decode_forwarded_response(&buf, MAX_RESPONSE_BYTES, head_only) {
            Ok(Some((resp, used))) if used == buf.len() => return Ok(resp),
            Ok(Some(_)) => return Err((buf.len(), "unexpected bytes after the response".into())),
            Ok(None) => {}
            Err(e) => return Err((buf.len(), e)),
        }
    }
}
