//! Socket plumbing: connect with a deadline, writes with a deadline, a frame reader with
//! a bounded buffer, and read/write halves of one stream for a single-threaded executor.
use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::os::unix::io::AsRawFd;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_lite::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use glommio::net::TcpStream;

use crate::error::WireError;
use crate::wire::{self, WireLane};

/// Smallest read buffer; a frame's buffer grows as its bytes arrive, never ahead of them.
const MIN_READ_BUF: usize = 64 * 1024;
/// A buffer grown past this for one big frame is released once that frame is consumed.
const KEEP_READ_BUF: usize = 1 << 20;

/// Why a connection ended.
#[derive(Debug)]
pub(crate) enum ConnError {
    Io(io::Error),
    Wire(WireError),
    /// The peer closed the connection where a frame boundary was expected.
    Closed,
}

impl std::fmt::Display for ConnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnError::Io(e) => write!(f, "{e}"),
            ConnError::Wire(e) => write!(f, "{e}"),
            ConnError::Closed => write!(f, "connection closed by peer"),
        }
    }
}

impl From<io::Error> for ConnError {
    fn from(e: io::Error) -> Self {
        ConnError::Io(e)
    }
}

impl From<WireError> for ConnError {
    fn from(e: WireError) -> Self {
        ConnError::Wire(e)
    }
}

/// Runs `fut`, or fails with `TimedOut` after `limit`.
pub(crate) async fn with_deadline<T>(
    limit: Duration,
    what: &str,
    fut: impl std::future::Future<Output = io::Result<T>>,
) -> io::Result<T> {
    futures_lite::future::or(fut, async {
        glommio::timer::sleep(limit).await;
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("{what} took longer than {limit:?}"),
        ))
    })
    .await
}

pub(crate) async fn write_all_deadline<W: AsyncWrite + Unpin>(
    w: &mut W,
    buf: &[u8],
    limit: Duration,
) -> io::Result<()> {
    with_deadline(limit, "socket write", w.write_all(buf)).await
}

/// Connects, sets TCP_NODELAY and writes the preamble for `lane`.
pub(crate) async fn connect(
    addr: SocketAddr,
    lane: WireLane,
    self_id: u64,
    connect_timeout: Duration,
    write_timeout: Duration,
    source: Option<std::net::IpAddr>,
) -> io::Result<TcpStream> {
    let mut stream = match source.filter(|ip| !ip.is_unspecified() && ip.is_ipv4() == addr.is_ipv4()) {
        Some(ip) => connect_from(ip, addr, connect_timeout).await,
        None => TcpStream::connect_timeout(addr, connect_timeout).await.map_err(|e| io::Error::other(e.to_string())),
    }
    .map_err(|e| io::Error::other(format!("connect to {addr}: {e}")))?;
    tune_socket(&stream)?;
    write_all_deadline(
        &mut stream,
        &wire::encode_preamble(lane, self_id),
        write_timeout,
    )
    .await
    .map_err(|e| io::Error::new(e.kind(), format!("write preamble to {addr}: {e}")))?;
    Ok(stream)
}

/// TCP_NODELAY (Raft messages are small and latency-bound) and keepalive (so a peer
/// that vanished without a FIN does not hold a connection, or an inbound slot, forever).
pub(crate) fn tune_socket(stream: &TcpStream) -> io::Result<()> {
    stream
        .set_nodelay(true)
        .map_err(|e| io::Error::other(format!("set TCP_NODELAY: {e}")))?;
    let fd = stream.as_raw_fd();
    for (level, name, value) in [
        (libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1),
        (libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, 30),
        (libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, 5),
        (libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 3),
    ] {
        let v: libc::c_int = value;
        // SAFETY: setsockopt reads `size_of::<c_int>()` bytes from a valid pointer to `v`.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                level,
                name,
                &v as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::other(format!(
                "setsockopt({name}): {}",
                io::Error::last_os_error()
            )));
        }
    }
    Ok(())
}

/// True when the peer already closed or reset a connection we only write to. Checked
/// before each write on one-way lanes: writing into a connection the peer closed (say,
/// it restarted) would "succeed" into the kernel buffer and lose the batch.
pub fn peer_closed(stream: &TcpStream) -> bool {
    let mut byte = 0u8;
    // SAFETY: recv writes at most 1 byte into `byte`; MSG_DONTWAIT never blocks.
    let n = unsafe {
        libc::recv(
            stream.as_raw_fd(),
            &mut byte as *mut u8 as *mut libc::c_void,
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    match n {
        0 => true,
        n if n > 0 => false, // the peer never writes on these lanes, but it is alive
        _ => {
            let e = io::Error::last_os_error();
            !matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            )
        }
    }
}

/// Reads the preamble of an inbound connection within `limit`.
pub(crate) async fn read_preamble<R: AsyncRead + Unpin>(
    r: &mut R,
    limit: Duration,
) -> Result<wire::Preamble, ConnError> {
    let mut buf = [0u8; wire::PREAMBLE_LEN];
    with_deadline(limit, "reading the preamble", r.read_exact(&mut buf)).await?;
    Ok(wire::decode_preamble(&buf)?)
}

/// Reads whole, CRC-checked frames. Memory: at most one frame (`max_body` + header) plus
/// what one read returns, and only as much as has actually arrived.
pub(crate) struct FrameReader<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    max_body: usize,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub(crate) fn new(inner: R, max_body: usize) -> Self {
        FrameReader {
            inner,
            buf: Vec::new(),
            start: 0,
            end: 0,
            max_body,
        }
    }

    pub(crate) fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The next frame's body; `Ok(None)` on a clean close between frames.
    pub(crate) async fn next(&mut self) -> Result<Option<&[u8]>, ConnError> {
        loop {
            if let Some(len) = wire::split_frame(&self.buf[self.start..self.end], self.max_body)? {
                let body = self.start + wire::FRAME_HEADER_LEN..self.start + len;
                self.start += len;
                return Ok(Some(&self.buf[body]));
            }
            self.make_room()?;
            let n = self.inner.read(&mut self.buf[self.end..]).await?;
            if n == 0 {
                return if self.start == self.end {
                    Ok(None)
                } else {
                    Err(ConnError::Closed)
                };
            }
            self.end += n;
        }
    }

    /// Moves the partial frame to the front and grows the buffer, by doubling, toward
    /// the partial frame's announced length (bounded by `max_body`).
    fn make_room(&mut self) -> Result<(), ConnError> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == 0 && self.buf.len() > KEEP_READ_BUF {
            self.buf = Vec::new();
        }
        let need = wire::frame_len(&self.buf[..self.end], self.max_body)?
            .unwrap_or(wire::FRAME_HEADER_LEN)
            .max(MIN_READ_BUF);
        if self.end == self.buf.len() || self.buf.len() < MIN_READ_BUF {
            let target = (self.buf.len() * 2)
                .max(MIN_READ_BUF)
                .min(need.max(self.end + 1));
            self.buf.resize(target, 0);
        }
        Ok(())
    }
}

/// One half of a stream shared by a reader and a writer task. Each poll borrows the
/// stream only for its duration; glommio keeps separate read and write sources.
pub(crate) struct Half(Rc<RefCell<TcpStream>>);

pub(crate) fn split(stream: TcpStream) -> (Half, Half) {
    let shared = Rc::new(RefCell::new(stream));
    (Half(shared.clone()), Half(shared))
}

impl AsyncRead for Half {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0.borrow_mut()).poll_read(cx, buf)
    }
}

impl AsyncWrite for Half {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0.borrow_mut()).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0.borrow_mut()).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0.borrow_mut()).poll_close(cx)
    }
}

/// A non-blocking connect from `source` (port chosen by the kernel): glommio's connect has
/// no source address. Completion is polled on the executor's timer (connections are
/// rare: once per peer and lane), never waited for with a blocking call.
async fn connect_from(source: std::net::IpAddr, addr: SocketAddr, limit: Duration) -> io::Result<TcpStream> {
    use std::os::fd::{FromRawFd, OwnedFd};
    let domain = if addr.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    // SAFETY: plain socket(2); the descriptor is owned by `fd` from here on.
    let raw = unsafe { libc::socket(domain, libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let (local, local_len) = sockaddr(SocketAddr::new(source, 0));
    // SAFETY: `local` is a valid sockaddr of `local_len` bytes.
    if unsafe { libc::bind(raw, (&local as *const libc::sockaddr_storage).cast(), local_len) } < 0 {
        return Err(io::Error::other(format!("bind source {source}: {}", io::Error::last_os_error())));
    }
    let (remote, remote_len) = sockaddr(addr);
    // SAFETY: as above.
    if unsafe { libc::connect(raw, (&remote as *const libc::sockaddr_storage).cast(), remote_len) } < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(e);
        }
    }
    let deadline = std::time::Instant::now() + limit;
    loop {
        let mut pfd = libc::pollfd { fd: raw, events: libc::POLLOUT, revents: 0 };
        // SAFETY: one valid pollfd, zero timeout (never blocks).
        let n = unsafe { libc::poll(&mut pfd, 1, 0) };
        if n > 0 {
            let mut err: libc::c_int = 0;
            let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
            // SAFETY: SO_ERROR into a c_int of the given length.
            unsafe { libc::getsockopt(raw, libc::SOL_SOCKET, libc::SO_ERROR, (&mut err as *mut libc::c_int).cast(), &mut len) };
            if err != 0 {
                return Err(io::Error::from_raw_os_error(err));
            }
            break;
        }
        if std::time::Instant::now() >= deadline {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out"));
        }
        glommio::timer::sleep(Duration::from_millis(1)).await;
    }
    use std::os::fd::IntoRawFd;
    // SAFETY: a connected stream socket handed over to glommio, which owns it from here.
    Ok(unsafe { TcpStream::from_raw_fd(fd.into_raw_fd()) })
}

fn sockaddr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero is a valid sockaddr_storage.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(a.ip().octets()) },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_in fits in sockaddr_storage.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr { s6_addr: a.ip().octets() },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_in6 fits in sockaddr_storage.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// A connection to a server's RPC port on the Http lane: a client agent forwarding its
/// HTTP API. Plain HTTP/1.1 follows the preamble.
pub async fn connect_http_lane(addr: SocketAddr, connect_timeout: Duration, source: Option<std::net::IpAddr>) -> io::Result<TcpStream> {
    connect(addr, WireLane::Http, 0, connect_timeout, connect_timeout, source).await
}

/// A plain TCP connection leaving from `source` (when it is a concrete address of the
/// same family), with TCP_NODELAY: gossip's push-pull uses it.
pub async fn connect_plain(addr: SocketAddr, connect_timeout: Duration, source: Option<std::net::IpAddr>) -> io::Result<TcpStream> {
    let stream = match source.filter(|ip| !ip.is_unspecified() && ip.is_ipv4() == addr.is_ipv4()) {
        Some(ip) => connect_from(ip, addr, connect_timeout).await,
        None => TcpStream::connect_timeout(addr, connect_timeout).await.map_err(|e| io::Error::other(e.to_string())),
    }
    .map_err(|e| io::Error::other(format!("dial tcp {addr}: {e}")))?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}
