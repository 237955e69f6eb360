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
) -> io::Result<TcpStream> {
    let mut stream = TcpStream::connect_timeout(addr, connect_timeout)
        .await
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
pub(crate) fn peer_closed(stream: &TcpStream) -> bool {
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
