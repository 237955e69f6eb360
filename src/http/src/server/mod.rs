//! The HTTP/1.1 server: accept loop, per-connection state, limits.

mod conn;
pub mod parse;
pub mod response;
mod timer;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use glommio::net::TcpListener;

use crate::backend::Backend;

pub use conn::{Body, Request};
pub use response::Response;

/// Limits and timeouts of one shard's HTTP server.
#[derive(Clone)]
pub struct ServerOptions {
    /// This agent's datacenter: `?dc=` naming another one gets Consul's
    /// 500 `No path to datacenter`.
    pub datacenter: String,
    /// Largest request head (request line + headers); 431 beyond.
    pub max_header_bytes: usize,
    /// `kv_max_value_size`: KV PUT bodies and txn values (413 beyond).
    pub kv_max_value_size: usize,
    /// `txn_max_req_len` (effective limit is the max of this and
    /// `kv_max_value_size`, as in Consul).
    pub txn_max_req_len: usize,
    /// Most operations in one txn.
    pub txn_max_ops: usize,
    /// A request head must arrive within this time of its first byte.
    pub header_read_timeout: Duration,
    /// A request body must arrive within this time after its head.
    pub body_read_timeout: Duration,
    /// Idle keep-alive connections are closed after this.
    pub idle_timeout: Duration,
    /// A response that the client does not read is abandoned after this.
    pub write_timeout: Duration,
    /// Blocking query wait when `?wait` is absent (Consul: 5m).
    pub default_query_time: Duration,
    /// Longest blocking wait (Consul: 10m).
    pub max_query_time: Duration,
    /// Open connections beyond this are closed on accept.
    pub max_connections: usize,
    /// Counters shared with whoever wants to observe this server.
    pub stats: Rc<ServerStats>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            datacenter: "dc1".to_string(),
            max_header_bytes: 64 * 1024,
            kv_max_value_size: ballast_store::KV_MAX_VALUE_SIZE,
            txn_max_req_len: ballast_store::KV_MAX_VALUE_SIZE,
            txn_max_ops: ballast_store::MAX_TXN_OPS,
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(300),
            write_timeout: Duration::from_secs(120),
            default_query_time: Duration::from_secs(300),
            max_query_time: Duration::from_secs(600),
            max_connections: 20_000,
            stats: Rc::new(ServerStats::default()),
        }
    }
}

impl ServerOptions {
    /// Largest body the server reads (larger ones get 413 unread).
    pub fn max_body_bytes(&self) -> usize {
        self.kv_max_value_size.max(self.txn_max_req_len)
    }
}

/// Live counters of one shard's server (single-threaded: `Cell`s).
#[derive(Debug, Default)]
pub struct ServerStats {
    /// Open connections.
    pub connections: Cell<usize>,
    /// Requests whose handler is running (including parked ones).
    pub in_flight: Cell<usize>,
    /// Blocking queries waiting for a change.
    pub parked: Cell<usize>,
    /// Connections accepted since start.
    pub accepted_total: Cell<u64>,
    /// Connections closed on accept because of `max_connections`.
    pub rejected_total: Cell<u64>,
    /// Requests answered since start.
    pub requests_total: Cell<u64>,
}

/// Increments a gauge now and decrements it on drop: futures are dropped
/// mid-await when a client goes away, and the count must still be right.
pub(crate) struct GaugeGuard {
    stats: Rc<ServerStats>,
    which: fn(&ServerStats) -> &Cell<usize>,
}

impl GaugeGuard {
    pub(crate) fn new(stats: &Rc<ServerStats>, which: fn(&ServerStats) -> &Cell<usize>) -> Self {
        let cell = which(stats);
        cell.set(cell.get() + 1);
        GaugeGuard {
            stats: stats.clone(),
            which,
        }
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        let cell = (self.which)(&self.stats);
        cell.set(cell.get().saturating_sub(1));
    }
}

/// Shared by every connection of one server.
pub(crate) struct ServerCtx<B> {
    pub backend: Rc<B>,
    pub opts: ServerOptions,
    /// Rendered bodies of large catalog reads, shared by this shard's watchers.
    pub render_cache: crate::catalog::render_cache::RenderCache,
}

/// Serve Consul's HTTP API on `listener` until the task is dropped.
/// Bind the listener with `glommio::net::TcpListener::bind`, which sets
/// SO_REUSEPORT, so every service shard can bind the same port.
pub async fn serve<B: Backend + 'static>(
    listener: TcpListener,
    backend: Rc<B>,
    opts: ServerOptions,
) -> std::io::Result<()> {
    HttpService::new(backend, opts).serve_listener(listener).await
}

/// One shard's HTTP server: connections from its listeners, and connections
/// handed to it already accepted (a client agent's forwarded requests arrive
/// on the server port and are passed here). Cheap to clone.
pub struct HttpService<B> {
    ctx: Rc<ServerCtx<B>>,
}

impl<B> Clone for HttpService<B> {
    fn clone(&self) -> Self {
        HttpService { ctx: self.ctx.clone() }
    }
}

impl<B: Backend + 'static> HttpService<B> {
    pub fn new(backend: Rc<B>, opts: ServerOptions) -> Self {
        HttpService { ctx: Rc::new(ServerCtx { backend, opts, render_cache: Default::default() }) }
    }

    pub async fn serve_listener(&self, listener: TcpListener) -> std::io::Result<()> {
        loop {
            let stream = match listener.accept().await {
                Ok(s) => s,
                Err(e) => {
                    // EMFILE and friends: back off briefly instead of spinning
                    // or giving up on the listener.
                    tracing::warn!("http: accept failed: {e}");
                    glommio::timer::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            self.serve_stream(stream);
        }
    }

    /// Serves one accepted connection on this executor (closed at once over
    /// `max_connections`).
    pub fn serve_stream(&self, stream: glommio::net::TcpStream) {
        let stats = &self.ctx.opts.stats;
        stats.accepted_total.set(stats.accepted_total.get() + 1);
        if stats.connections.get() >= self.ctx.opts.max_connections {
            stats.rejected_total.set(stats.rejected_total.get() + 1);
            drop(stream);
            return;
        }
        let ctx = self.ctx.clone();
        glommio::spawn_local(async move {
            conn::serve_connection(stream, ctx).await;
        })
        .detach();
    }
}
