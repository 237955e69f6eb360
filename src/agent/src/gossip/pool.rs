//! One gossip pool (LAN or WAN) on the control shard: the sans-IO core driven by a UDP
//! socket, a TCP listener for push-pull, and its timers. Packets are sealed with the
//! pool's keyring when encryption is on. Everything here is single-threaded (Rc/RefCell)
//! and never holds a borrow across an await.
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ballast_gossip::{Config, Event, Gossip, Output};
use ballast_keyring::Keyring;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::{TcpListener, TcpStream, UdpSocket};

use super::framing::{unwrap, wrap, MAX_STREAM_BYTES};
use super::view::MembersView;
use crate::control::Notify;
use crate::lifecycle::ShutdownFlag;

/// memberlist's TCPTimeout: a push-pull that takes longer is abandoned.
const STREAM_TIMEOUT: Duration = Duration::from_secs(10);
/// Member lists are republished at most this often (events coalesce).
const PUBLISH_EVERY: Duration = Duration::from_millis(100);
/// Queries this agent may have open at once (keyring operations).
const MAX_OPEN_QUERIES: usize = 16;
/// At most one decryption-failure line per this interval (a peer with another key would
/// otherwise flood the log).
const DECRYPT_LOG_EVERY: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    Lan,
    Wan,
}

impl PoolKind {
    pub fn label(self) -> &'static str {
        match self {
            PoolKind::Lan => "lan",
            PoolKind::Wan => "wan",
        }
    }
}

/// Answers to one query this agent started: (from, payload) pairs until it is done.
#[derive(Default)]
pub struct QueryWait {
    pub responses: Vec<(String, Vec<u8>)>,
    pub done: bool,
    wake: Rc<Notify>,
}

pub struct Pool {
    pub kind: PoolKind,
    core: RefCell<Gossip>,
    udp: UdpSocket,
    pub keyring: RefCell<Option<Keyring>>,
    pub keyring_path: Option<PathBuf>,
    source_ip: Option<std::net::IpAddr>,
    wake: Notify,
    epoch: Instant,
    pub view: Arc<MembersView>,
    dirty: Cell<bool>,
    flushing: Cell<bool>,
    queries: RefCell<HashMap<u64, Rc<RefCell<QueryWait>>>>,
    /// Events the owner wants besides publishing (coordinates, keyring queries).
    on_event: RefCell<Option<Box<dyn Fn(&Rc<Pool>, Event)>>>,
    last_decrypt_log: Cell<Option<Instant>>,
    decrypt_failures: Cell<u64>,
}

impl Pool {
    /// Binds UDP and TCP on `bind` (same port, as Serf does) and starts the pool's tasks.
    pub fn start(
        kind: PoolKind,
        cfg: Config,
        bind: SocketAddr,
        keyring: Option<Keyring>,
        keyring_path: Option<PathBuf>,
        view: Arc<MembersView>,
        shutdown: ShutdownFlag,
    ) -> Result<Rc<Pool>, String> {
        let udp = UdpSocket::bind(bind).map_err(|e| format!("binding the Serf {} port {bind} (udp): {e}", kind.label()))?;
        let tcp = TcpListener::bind(bind).map_err(|e| format!("binding the Serf {} port {bind} (tcp): {e}", kind.label()))?;
        let epoch = Instant::now();
        let source_ip = Some(bind.ip()).filter(|ip| !ip.is_unspecified());
        let pool = Rc::new(Pool {
            kind,
            core: RefCell::new(Gossip::new(cfg, Duration::ZERO, rand::random())),
            udp,
            keyring: RefCell::new(keyring),
            keyring_path,
            source_ip,
            wake: Notify::default(),
            epoch,
            view,
            dirty: Cell::new(true),
            flushing: Cell::new(false),
            queries: RefCell::default(),
            on_event: RefCell::new(None),
            last_decrypt_log: Cell::new(None),
            decrypt_failures: Cell::new(0),
        });
        glommio::spawn_local(recv_loop(pool.clone(), shutdown.clone())).detach();
        glommio::spawn_local(timer_loop(pool.clone(), shutdown.clone())).detach();
        glommio::spawn_local(accept_loop(pool.clone(), tcp, shutdown)).detach();
        Ok(pool)
    }

    pub fn set_on_event(&self, f: Box<dyn Fn(&Rc<Pool>, Event)>) {
        *self.on_event.borrow_mut() = Some(f);
    }

    pub fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    /// Runs `f` on the core, then sends what it produced.
    pub fn with_core<T>(self: &Rc<Self>, f: impl FnOnce(&mut Gossip, Duration) -> T) -> T {
        let now = self.now();
        let out = f(&mut self.core.borrow_mut(), now);
        self.flush();
        self.wake.signal();
        out
    }

    pub fn core(&self) -> std::cell::Ref<'_, Gossip> {
        self.core.borrow()
    }

    /// Sends every packet the core has queued and handles its events. Not re-entrant: an
    /// event handler that drives the core (say, a new ack payload) leaves what that
    /// produced to the loop already running, so no event is ever handled out of order or
    /// while the handler itself is busy.
    pub fn flush(self: &Rc<Self>) {
        if self.flushing.replace(true) {
            return;
        }
        loop {
            let next = self.core.borrow_mut().poll_output();
            match next {
                None => break,
                Some(Output::Packet { to, bytes }) => self.send_packet(to, &bytes),
                Some(Output::Event(ev)) => self.handle_event(ev),
            }
        }
        self.flushing.set(false);
    }

    fn send_packet(self: &Rc<Self>, to: SocketAddr, plain: &[u8]) {
        let sealed = match wrap(self.keyring.borrow().as_ref(), plain) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(pool = self.kind.label(), "memberlist: failed to encrypt packet: {e}");
                return;
            }
        };
        let pool = self.clone();
        // A datagram send does not block; its own task keeps the caller synchronous.
        glommio::spawn_local(async move {
            if let Err(e) = pool.udp.send_to(&sealed, to).await {
                tracing::debug!(pool = pool.kind.label(), "memberlist: failed to send packet to {to}: {e}");
            }
        })
        .detach();
    }

    fn handle_event(self: &Rc<Self>, ev: Event) {
        match &ev {
            Event::Join(m) => {
                self.dirty.set(true);
                tracing::info!(pool = self.kind.label(), member = %m.name, addr = %m.addr, "serf: EventMemberJoin");
            }
            Event::Update(m) => {
                self.dirty.set(true);
                tracing::debug!(pool = self.kind.label(), member = %m.name, "serf: EventMemberUpdate");
            }
            Event::Leave(m) => {
                self.dirty.set(true);
                tracing::info!(pool = self.kind.label(), member = %m.name, "serf: EventMemberLeave");
            }
            Event::Failed(m) => {
                self.dirty.set(true);
                tracing::info!(pool = self.kind.label(), member = %m.name, "serf: EventMemberFailed");
            }
            Event::Reap(m) => {
                self.dirty.set(true);
                tracing::info!(pool = self.kind.label(), member = %m.name, "serf: EventMemberReap");
            }
            Event::QueryResponse { id, from, payload } => {
                if let Some(w) = self.queries.borrow().get(id) {
                    let mut w = w.borrow_mut();
                    w.responses.push((from.clone(), payload.clone()));
                    w.wake.signal();
                }
                return;
            }
            Event::QueryDone { id } => {
                if let Some(w) = self.queries.borrow_mut().remove(id) {
                    let mut w = w.borrow_mut();
                    w.done = true;
                    w.wake.signal();
                }
                return;
            }
            _ => {}
        }
        // flush() is not re-entrant, so the hook never runs inside itself.
        let hook = self.on_event.borrow();
        if let Some(h) = hook.as_ref() {
            h(self, ev);
        }
    }

    /// Starts a query and returns where its answers collect; `None` when too many are open.
    pub fn start_query(self: &Rc<Self>, name: &str, payload: Vec<u8>, timeout: Duration) -> Option<Rc<RefCell<QueryWait>>> {
        if self.queries.borrow().len() >= MAX_OPEN_QUERIES {
            return None;
        }
        let now = self.now();
        let id = self.core.borrow_mut().query(name, payload, timeout, now);
        let w = Rc::new(RefCell::new(QueryWait::default()));
        // Registered before the outputs go: answers in this very flush must find it.
        self.queries.borrow_mut().insert(id, w.clone());
        self.flush();
        self.wake.signal();
        Some(w)
    }

    /// Waits for the next answer (or the end) of a query.
    pub async fn query_progress(w: &Rc<RefCell<QueryWait>>) {
        let wake = {
            let b = w.borrow();
            if b.done {
                return;
            }
            b.wake.clone()
        };
        wake.wait().await;
    }

    /// Push-pull with `addr`: our state out, theirs back. `join` marks a join.
    pub async fn push_pull(self: &Rc<Self>, addr: SocketAddr, join: bool) -> Result<(), String> {
        let request = {
            let now = self.now();
            self.core.borrow_mut().push_pull_request(join, now)
        };
        let sealed = wrap(self.keyring.borrow().as_ref(), &request)?;
        let exchange = async {
            let mut s = ballast_rpc::connect_plain(addr, STREAM_TIMEOUT, self.source_ip).await.map_err(|e| e.to_string())?;
            write_frame(&mut s, &sealed).await?;
            // An agent that cannot decrypt what we sent hangs up without a word.
            read_frame(&mut s).await.map_err(|e| {
                format!("{e} (the remote agent closed the connection without an answer: check that both use the same gossip encryption key)")
            })
        };
        let reply = match crate::deadline::within(STREAM_TIMEOUT, exchange).await {
            Some(r) => r?,
            None => return Err(format!("push/pull with {addr} timed out")),
        };
        let plain = unwrap(self.keyring.borrow().as_ref(), &reply)?;
        let now = self.now();
        let result = self.core.borrow_mut().handle_push_pull_reply(addr, &plain, now);
        self.flush();
        self.wake.signal();
        result.map_err(|e| format!("bad push/pull reply from {addr}: {e:?}"))
    }

    fn note_decrypt_failure(&self, from: SocketAddr, what: &str, err: &str) {
        self.decrypt_failures.set(self.decrypt_failures.get() + 1);
        let now = Instant::now();
        if self.last_decrypt_log.get().is_none_or(|t| now.duration_since(t) >= DECRYPT_LOG_EVERY) {
            self.last_decrypt_log.set(Some(now));
            tracing::error!(
                pool = self.kind.label(),
                "memberlist: failed to decrypt {what} from {from}: {err} (the agents do not share a gossip key; \
                 see `ballast keyring -list` and the -encrypt key; {} such failures so far)",
                self.decrypt_failures.get()
            );
        }
    }

    fn publish_if_dirty(&self) {
        if !self.dirty.replace(false) {
            return;
        }
        let core = self.core.borrow();
        let wan = self.kind == PoolKind::Wan;
        let mut members: Vec<ballast_http::Member> = core.members().map(super::member_json).collect();
        members.sort_by(|a, b| a.name.cmp(&b.name));
        self.view.publish_members(wan, members);
        if !wan {
            self.view.publish_servers(core.members().filter_map(super::known_server).collect());
        }
    }
}

async fn recv_loop(pool: Rc<Pool>, shutdown: ShutdownFlag) {
    let mut buf = vec![0u8; 65536];
    while !shutdown.is_set() {
        let (n, from) = match pool.udp.recv_from(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(pool = pool.kind.label(), "memberlist: udp receive failed: {e}");
                glommio::timer::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let plain = match unwrap(pool.keyring.borrow().as_ref(), &buf[..n]) {
            Ok(p) => p,
            Err(e) => {
                pool.note_decrypt_failure(from, "packet", &e);
                continue;
            }
        };
        let now = pool.now();
        let result = pool.core.borrow_mut().handle_packet(from, &plain, now);
        if let Err(e) = result {
            tracing::debug!(pool = pool.kind.label(), "memberlist: bad packet from {from}: {e:?}");
        }
        pool.flush();
        pool.wake.signal();
    }
}

async fn timer_loop(pool: Rc<Pool>, shutdown: ShutdownFlag) {
    let mut last_publish = Instant::now();
    while !shutdown.is_set() {
        let wait = {
            let deadline = pool.core.borrow().next_deadline();
            deadline.saturating_sub(pool.now()).min(PUBLISH_EVERY)
        };
        crate::deadline::within(wait, pool.wake.wait()).await;
        let now = pool.now();
        pool.core.borrow_mut().tick(now);
        pool.flush();
        loop {
            let target = pool.core.borrow_mut().take_push_pull_target();
            let Some(addr) = target else { break };
            let p = pool.clone();
            glommio::spawn_local(async move {
                if let Err(e) = p.push_pull(addr, false).await {
                    tracing::debug!(pool = p.kind.label(), "memberlist: push/pull with {addr} failed: {e}");
                }
            })
            .detach();
        }
        if last_publish.elapsed() >= PUBLISH_EVERY {
            last_publish = Instant::now();
            pool.publish_if_dirty();
        }
    }
}

async fn accept_loop(pool: Rc<Pool>, listener: TcpListener, shutdown: ShutdownFlag) {
    // Bounded: a flood of connections waits in the kernel's backlog instead of here.
    let open = Rc::new(Cell::new(0usize));
    const MAX_OPEN_STREAMS: usize = 64;
    while !shutdown.is_set() {
        let stream = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(pool = pool.kind.label(), "memberlist: tcp accept failed: {e}");
                glommio::timer::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        if open.get() >= MAX_OPEN_STREAMS {
            continue; // dropped: the peer retries its push-pull later
        }
        open.set(open.get() + 1);
        let (p, o) = (pool.clone(), open.clone());
        glommio::spawn_local(async move {
            let from = stream.peer_addr().ok();
            let _ = crate::deadline::within(STREAM_TIMEOUT, serve_stream(&p, stream)).await;
            o.set(o.get() - 1);
            let _ = from;
        })
        .detach();
    }
}

async fn serve_stream(pool: &Rc<Pool>, mut s: TcpStream) {
    let Ok(from) = s.peer_addr() else { return };
    let Ok(request) = read_frame(&mut s).await else { return };
    let plain = match unwrap(pool.keyring.borrow().as_ref(), &request) {
        Ok(p) => p,
        Err(e) => {
            pool.note_decrypt_failure(from, "stream", &e);
            return;
        }
    };
    let now = pool.now();
    let reply = pool.core.borrow_mut().handle_push_pull(from, &plain, now);
    pool.flush();
    pool.wake.signal();
    let reply = match reply {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(pool = pool.kind.label(), "memberlist: bad push/pull from {from}: {e:?}");
            return;
        }
    };
    let Ok(sealed) = wrap(pool.keyring.borrow().as_ref(), &reply) else { return };
    let _ = write_frame(&mut s, &sealed).await;
}

async fn write_frame(s: &mut TcpStream, body: &[u8]) -> Result<(), String> {
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    s.write_all(&out).await.map_err(|e| e.to_string())?;
    s.flush().await.map_err(|e| e.to_string())
}

async fn read_frame(s: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).await.map_err(|e| format!("reading push/pull length: {e}"))?;
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_STREAM_BYTES {
        return Err(format!("push/pull message of {len} bytes is over the {MAX_STREAM_BYTES}-byte limit"));
    }
    // Grown as bytes arrive: a length alone never makes us allocate.
    let mut body = Vec::new();
    let got = (&mut *s).take(len as u64).read_to_end(&mut body).await.map_err(|e| format!("reading push/pull body: {e}"))?;
    if got != len {
        return Err(format!("push/pull body ended after {got} of {len} bytes"));
    }
    Ok(body)
}
