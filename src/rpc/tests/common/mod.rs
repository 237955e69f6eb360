//! Test helpers: a glommio executor per test (with a stall guard), a recorder for
//! inbound deliveries, message builders, and "wait until" with a generous safety net.
#![allow(dead_code)]
use std::cell::RefCell;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use ballast_raft::{Entry, EntryKind, Message, MessageBody, NodeId};
use ballast_rpc::{serve, Inbound, OnCall, OnInbound, ServeHandle, TransportOptions};
use glommio::net::TcpListener;
use glommio::{LocalExecutorBuilder, Placement};

/// Runs `fut` on a fresh glommio executor on this thread. A ticking task bounds every
/// park (glommio 0.9 lost-wakeup work-around, see shards/src/stall_guard.rs), and a
/// safety net fails a test that hangs instead of hanging cargo.
pub fn run<T: 'static>(fut: impl Future<Output = T> + 'static) -> T {
    ballast_storage::raise_memlock_limit().expect("raise RLIMIT_MEMLOCK");
    let ex = LocalExecutorBuilder::new(Placement::Unbound)
        .make()
        .expect("glommio executor");
    ex.run(async move {
        glommio::spawn_local(async {
            loop {
                glommio::timer::sleep(Duration::from_millis(10)).await;
            }
        })
        .detach();
        futures_lite::future::or(fut, async {
            glommio::timer::sleep(Duration::from_secs(120)).await;
            panic!("test did not finish within its safety net");
        })
        .await
    })
}

/// Polls `cond` until it holds (no timing assertion: the safety net in `run` bounds it).
pub async fn until(mut cond: impl FnMut() -> bool) {
    while !cond() {
        glommio::timer::sleep(Duration::from_millis(5)).await;
    }
}

pub fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("bind")
}

/// An address nothing listens on (bound, then closed).
pub fn closed_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

pub type Received = Rc<RefCell<Vec<(NodeId, Inbound)>>>;

pub fn recorder() -> (Received, OnInbound) {
    let got: Received = Rc::default();
    let g = got.clone();
    (
        got,
        Rc::new(move |from, inbound| g.borrow_mut().push((from, inbound))),
    )
}

/// Answers `b"echo:" + request`.
pub fn echo() -> OnCall {
    Rc::new(|req: Vec<u8>| -> Pin<Box<dyn Future<Output = Vec<u8>>>> {
        Box::pin(async move {
            let mut out = b"echo:".to_vec();
            out.extend_from_slice(&req);
            out
        })
    })
}

/// Never answers.
pub fn never() -> OnCall {
    Rc::new(|_req: Vec<u8>| -> Pin<Box<dyn Future<Output = Vec<u8>>>> {
        Box::pin(futures_lite::future::pending())
    })
}

/// A server for node `id` on a fresh port, recording what it receives.
pub fn server(id: NodeId, opts: TransportOptions) -> (ServeHandle, SocketAddr, Received) {
    let l = listener();
    let addr = l.local_addr().unwrap();
    let (got, on_inbound) = recorder();
    (serve(l, id, on_inbound, echo(), opts), addr, got)
}

pub fn msg(from: NodeId, to: NodeId, body: MessageBody) -> Message {
    Message {
        from,
        to,
        term: 7,
        body,
    }
}

pub fn heartbeat(from: NodeId, to: NodeId, read_ctx: u64) -> Message {
    msg(
        from,
        to,
        MessageBody::Heartbeat {
            commit: 3,
            read_ctx,
        },
    )
}

pub fn entries(lo: u64, n: u64, len: usize) -> Vec<Entry> {
    (lo..lo + n)
        .map(|index| Entry {
            term: 7,
            index,
            kind: EntryKind::Normal,
            data: (0..len)
                .map(|i| (i as u64 ^ index.wrapping_mul(31)) as u8)
                .collect(),
        })
        .collect()
}

pub fn append(from: NodeId, to: NodeId, entries: Vec<Entry>) -> Message {
    let prev_index = entries.first().map_or(0, |e| e.index - 1);
    msg(
        from,
        to,
        MessageBody::Append {
            prev_index,
            prev_term: 7,
            entries,
            commit: 1,
        },
    )
}

/// Deterministic pseudo-random bytes.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}
