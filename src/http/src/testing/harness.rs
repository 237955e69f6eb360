//! Run a server on 127.0.0.1 in a glommio LocalExecutor for a test.

use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;

use glommio::net::TcpListener;
use glommio::{LocalExecutorBuilder, Placement};

use super::backend::TestBackend;
use crate::server::{serve, ServerOptions};

/// glommio needs >= 512 KiB of locked memory and reports the failure only
/// at join: raise the soft RLIMIT_MEMLOCK to the hard limit first.
pub fn raise_memlock_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_MEMLOCK, &lim);
        }
    }
}

/// Resident set size of this process (from /proc/self/statm).
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Start a server with `opts` (and a fresh [`TestBackend`]) on an
/// ephemeral port, run `test` against it, and tear everything down.
/// Panics in `test` fail the caller.
pub fn run_with_server<F, Fut>(opts: ServerOptions, test: F)
where
    F: FnOnce(Rc<TestBackend>, SocketAddr, ServerOptions) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + 'static,
{
    raise_memlock_limit();
    // ServerOptions holds an Rc: rebuild it inside the executor thread.
    let limits = SendableOptions::from(&opts);
    drop(opts);
    let handle = LocalExecutorBuilder::new(Placement::Unbound)
        .name("http-test")
        .spawn(move || async move {
            let opts = limits.into_options();
            let backend = TestBackend::new();
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
            let addr = listener.local_addr().expect("local addr");
            let server = glommio::spawn_local(serve(listener, backend.clone(), opts.clone()));
            test(backend, addr, opts).await;
            drop(server);
        })
        .expect("spawn executor");
    if let Err(e) = handle.join() {
        panic!("test executor failed: {e:?}");
    }
}

/// The plain-data part of [`ServerOptions`], to cross into the executor.
struct SendableOptions {
    datacenter: String,
    max_header_bytes: usize,
    kv_max_value_size: usize,
    txn_max_req_len: usize,
    txn_max_ops: usize,
    header_read_timeout: std::time::Duration,
    body_read_timeout: std::time::Duration,
    idle_timeout: std::time::Duration,
    write_timeout: std::time::Duration,
    default_query_time: std::time::Duration,
    max_query_time: std::time::Duration,
    max_connections: usize,
}

impl From<&ServerOptions> for SendableOptions {
    fn from(o: &ServerOptions) -> Self {
        SendableOptions {
            datacenter: o.datacenter.clone(),
            max_header_bytes: o.max_header_bytes,
            kv_max_value_size: o.kv_max_value_size,
            txn_max_req_len: o.txn_max_req_len,
            txn_max_ops: o.txn_max_ops,
            header_read_timeout: o.header_read_timeout,
            body_read_timeout: o.body_read_timeout,
            idle_timeout: o.idle_timeout,
            write_timeout: o.write_timeout,
            default_query_time: o.default_query_time,
            max_query_time: o.max_query_time,
            max_connections: o.max_connections,
        }
    }
}

impl SendableOptions {
    fn into_options(self) -> ServerOptions {
        ServerOptions {
            datacenter: self.datacenter,
            max_header_bytes: self.max_header_bytes,
            kv_max_value_size: self.kv_max_value_size,
            txn_max_req_len: self.txn_max_req_len,
            txn_max_ops: self.txn_max_ops,
            header_read_timeout: self.header_read_timeout,
            body_read_timeout: self.body_read_timeout,
            idle_timeout: self.idle_timeout,
            write_timeout: self.write_timeout,
            default_query_time: self.default_query_time,
            max_query_time: self.max_query_time,
            max_connections: self.max_connections,
            ..ServerOptions::default()
        }
    }
}
