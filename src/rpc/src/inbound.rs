//! The inbound side: accepts connections (bounded), checks the preamble, and runs the
//! lane's reader. Raft and snapshot lanes deliver to `on_inbound` synchronously, so
//! nothing queues here: a slow owner slows the TCP reader and the sender's queue bounds
//! the rest. The Rpc lane is in `inbound_calls.rs`.
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use ballast_raft::{Message, NodeId};
use futures_lite::FutureExt;
use glommio::net::{TcpListener, TcpStream};
use glommio::Task;

use crate::error::WireError;
use crate::inbound_calls::serve_calls;
use crate::io::{read_preamble, tune_socket, write_all_deadline, ConnError, FrameReader};
use crate::signal::StopSignal;
use crate::snapshot::SnapshotAssembler;
use crate::stats::{bump, ServerStats};
use crate::wire::{self, WireLane};
use crate::TransportOptions;

/// What the transport delivers to its owner.
#[derive(Debug)]
pub enum Inbound {
    /// A Raft message. For Append, `msg.body.entries` is filled from the frames
    /// (verified), and `frames` holds the exact frame bytes received (to be written to
    /// the log as they are); `None` for every other message and for an empty Append.
    Raft {
        msg: Message,
        frames: Option<Vec<u8>>,
    },
    /// A complete InstallSnapshot: the message and the whole snapshot, reassembled from
    /// chunks and length-checked.
    Snapshot { msg: Message, data: Vec<u8> },
}

/// Called with the sender's id (from the connection preamble, checked against `msg.from`).
pub type OnInbound = Rc<dyn Fn(NodeId, Inbound)>;
/// Answers one call; runs concurrently with other calls of the same connection.
pub type OnCall = Rc<dyn Fn(Vec<u8>) -> Pin<Box<dyn Future<Output = Vec<u8>>>>>;
/// Takes over an Http-lane connection (its preamble already read, nothing more).
pub type OnHttp = Rc<dyn Fn(TcpStream)>;

/// Handles inbound connections; [`serve`] feeds it from a listener, or hand it
/// accepted streams yourself with [`Server::handle_connection`]. Cheap to clone.
#[derive(Clone)]
pub struct Server {
    inner: Rc<ServerInner>,
}

pub(crate) struct ServerInner {
    pub(crate) self_id: NodeId,
    pub(crate) on_inbound: OnInbound,
    pub(crate) on_call: OnCall,
    pub(crate) opts: TransportOptions,
    stop: Rc<StopSignal>,
    pub(crate) stats: Counters,
    on_http: std::cell::RefCell<Option<OnHttp>>,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub accepted: Cell<u64>,
    pub refused_over_limit: Cell<u64>,
    pub bad_preambles: Cell<u64>,
    pub protocol_errors: Cell<u64>,
    pub raft_delivered: Cell<u64>,
    pub snapshots_delivered: Cell<u64>,
    pub calls_answered: Cell<u64>,
    pub calls_refused_overloaded: Cell<u64>,
    pub active_conns: Cell<u64>,
}

impl Server {
    pub fn new(
        self_id: NodeId,
        on_inbound: OnInbound,
        on_call: OnCall,
        opts: TransportOptions,
    ) -> Server {
        Server {
            inner: Rc::new(ServerInner {
                self_id,
                on_inbound,
                on_call,
                opts,
                stop: Rc::default(),
                stats: Counters::default(),
                on_http: Default::default(),
            }),
        }
    }

    /// Takes over an accepted connection: spawns its task on the current executor.
    /// Over `max_inbound_conns` (or once stopped) the connection is closed at once.
    pub fn handle_connection(&self, stream: TcpStream) {
        let s = &self.inner.stats;
        if self.inner.stop.is_stopped()
            || s.active_conns.get() >= self.inner.opts.max_inbound_conns as u64
        {
            bump(&s.refused_over_limit, 1);
            tracing::debug!("inbound connection refused: {} open", s.active_conns.get());
            return;
        }
        bump(&s.accepted, 1);
        bump(&s.active_conns, 1);
        let inner = self.inner.clone();
        let stopped = self.inner.stop.wait();
        glommio::spawn_local(async move {
            let _active = ActiveGuard(inner.clone());
            let peer = stream
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_default();
            let run = async { Some(run_connection(&inner, stream).await) };
            if let Some(Err(e)) = run
                .or(async {
                    stopped.await;
                    None
                })
                .await
            {
                match e {
                    ConnError::Wire(e) => {
                        bump(&inner.stats.protocol_errors, 1);
                        tracing::warn!(%peer, "closing inbound connection: {e}");
                    }
                    other => tracing::debug!(%peer, "inbound connection ended: {other}"),
                }
            }
        })
        .detach();
    }

    /// Who serves Http-lane connections; without one they are closed at once.
    pub fn set_http_handoff(&self, on_http: OnHttp) {
        *self.inner.on_http.borrow_mut() = Some(on_http);
    }

    /// Closes every connection this server handles and refuses new ones.
    pub fn stop(&self) {
        self.inner.stop.stop();
    }

    pub fn stats(&self) -> ServerStats {
        let s = &self.inner.stats;
        ServerStats {
            accepted: s.accepted.get(),
            refused_over_limit: s.refused_over_limit.get(),
            bad_preambles: s.bad_preambles.get(),
            protocol_errors: s.protocol_errors.get(),
            raft_delivered: s.raft_delivered.get(),
            snapshots_delivered: s.snapshots_delivered.get(),
            calls_answered: s.calls_answered.get(),
            calls_refused_overloaded: s.calls_refused_overloaded.get(),
            active_conns: s.active_conns.get(),
        }
    }
}

struct ActiveGuard(Rc<ServerInner>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        let c = &self.0.stats.active_conns;
        c.set(c.get().saturating_sub(1));
    }
}

async fn run_connection(inner: &Rc<ServerInner>, mut stream: TcpStream) -> Result<(), ConnError> {
    tune_socket(&stream)?;
    let preamble = match read_preamble(&mut stream, inner.opts.connect_deadline()).await {
        Ok(p) => p,
        Err(e) => {
            bump(&inner.stats.bad_preambles, 1);
            tracing::debug!("refusing inbound connection: {e}");
            return Ok(());
        }
    };
    match preamble.lane {
        WireLane::Priority | WireLane::Data => read_raft(inner, stream, preamble.sender).await,
        WireLane::Snapshot => read_snapshots(inner, stream, preamble.sender).await,
        WireLane::Rpc => serve_calls(inner, stream).await,
        WireLane::Http => {
            let handoff = inner.on_http.borrow().clone();
            match handoff {
                Some(h) => h(stream),
                None => tracing::debug!("refusing an http-lane connection: nobody serves it here"),
            }
            Ok(())
        }
    }
}

fn check_sender(msg: &Message, sender: NodeId) -> Result<(), WireError> {
    if msg.from != sender {
        return Err(WireError::Protocol(format!(
            "{} from {} on a connection opened by {sender}",
            msg.body.kind(),
            msg.from
        )));
    }
    Ok(())
}

async fn read_raft(
    inner: &ServerInner,
    stream: TcpStream,
    sender: NodeId,
) -> Result<(), ConnError> {
    let mut reader = FrameReader::new(stream, inner.opts.max_frame_bytes);
    while let Some(body) = reader.next().await? {
        let (msg, frames) = wire::decode_raft(body)?;
        check_sender(&msg, sender)?;
        if msg.to != inner.self_id {
            tracing::debug!(
                to = msg.to,
                me = inner.self_id,
                "dropping a message for another node"
            );
            continue;
        }
        bump(&inner.stats.raft_delivered, 1);
        (inner.on_inbound)(sender, Inbound::Raft { msg, frames });
        // A fast sender must not starve the executor's other tasks (heartbeat lanes).
        glommio::yield_if_needed().await;
    }
    Ok(())
}

async fn read_snapshots(
    inner: &ServerInner,
    stream: TcpStream,
    sender: NodeId,
) -> Result<(), ConnError> {
    let opts = &inner.opts;
    let mut assembler = SnapshotAssembler::new(opts.max_snapshot_bytes);
    let mut reader = FrameReader::new(stream, opts.max_frame_bytes);
    loop {
        let fed = match reader.next().await? {
            None => return Ok(()),
            Some(body) => assembler.feed(body).and_then(|done| match done {
                Some((msg, data)) => check_sender(&msg, sender).map(|()| Some((msg, data))),
                None => Ok(None),
            }),
        };
        match fed {
            Ok(None) => glommio::yield_if_needed().await,
            Ok(Some((msg, data))) => {
                tracing::debug!(from = sender, bytes = data.len(), "snapshot received");
                bump(&inner.stats.snapshots_delivered, 1);
                (inner.on_inbound)(sender, Inbound::Snapshot { msg, data });
                let ack = wire::encode_snapshot_ack(Ok(()), opts.max_frame_bytes);
                write_all_deadline(reader.get_mut(), &ack, opts.write_timeout).await?;
            }
            Err(e) => {
                // Tell the sender why before closing; best effort.
                let ack = wire::encode_snapshot_ack(Err(&e.to_string()), opts.max_frame_bytes);
                let _ = write_all_deadline(reader.get_mut(), &ack, opts.write_timeout).await;
                return Err(e.into());
            }
        }
    }
}

/// Accepting connections on a listener. Serving stops when this handle is dropped or
/// [`ServeHandle::stop`] is called: the listener closes and so does every connection.
/// Awaiting the handle waits until then. Use [`ServeHandle::detach`] to serve for the
/// life of the executor.
#[must_use = "dropping the handle stops serving"]
pub struct ServeHandle {
    server: Server,
    accept: Option<Task<()>>,
}

impl ServeHandle {
    pub fn server(&self) -> &Server {
        &self.server
    }

    pub fn stop(self) {}

    /// Serves until the executor ends (or `server().stop()` is called).
    pub fn detach(mut self) {
        if let Some(t) = self.accept.take() {
            t.detach();
        }
    }
}

impl Drop for ServeHandle {
    fn drop(&mut self) {
        if self.accept.is_some() {
            self.server.stop();
        }
    }
}

impl Future for ServeHandle {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.accept.as_mut() {
            Some(t) => Pin::new(t).poll(cx),
            None => Poll::Ready(()),
        }
    }
}

/// Accepts connections on `listener` (see [`ServeHandle`] for how it stops). Raft and
/// snapshot lanes deliver to `on_inbound`; the Rpc lane runs `on_call` for each request,
/// concurrently (bounded per connection by `max_inbound_calls_per_conn`), and writes
/// each response back when it is ready, in any order. Must run on a glommio executor.
pub fn serve(
    listener: TcpListener,
    self_id: NodeId,
    on_inbound: OnInbound,
    on_call: OnCall,
    opts: TransportOptions,
) -> ServeHandle {
    let server = Server::new(self_id, on_inbound, on_call, opts);
    let accept = glommio::spawn_local(accept_loop(listener, server.clone()));
    ServeHandle {
        server,
        accept: Some(accept),
    }
}

async fn accept_loop(listener: TcpListener, server: Server) {
    let stop = server.inner.stop.clone();
    let mut failing = false;
    loop {
        let next = async { Some(listener.accept().await) }.or(async {
            stop.wait().await;
            None
        });
        match next.await {
            None => break,
            Some(Ok(stream)) => {
                failing = false;
                server.handle_connection(stream);
            }
            Some(Err(e)) => {
                // E.g. out of file descriptors: warn once per streak and do not spin.
                if !failing {
                    tracing::warn!("accept failed: {e}");
                }
                failing = true;
                glommio::timer::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    tracing::debug!("stopped accepting connections");
}
