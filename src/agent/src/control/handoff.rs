//! Client agents forward their HTTP API over the server port (the Http lane). The control
//! shard only accepts such a connection; it hands the socket to a service shard, which
//! serves it like any HTTP connection, so forwarded requests never run here.
use std::cell::Cell;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::rc::Rc;

use ballast_rpc::OnHttp;
use ballast_shards::QueueSender;

use crate::messages::ToService;

/// Round-robin over the service shards; a shard whose queue is full does not get it (the
/// connection closes and the client agent tries again).
pub fn to_service_shards(links: Vec<QueueSender<ToService>>) -> OnHttp {
    let next = Cell::new(0usize);
    Rc::new(move |stream: glommio::net::TcpStream| {
        if links.is_empty() {
            return;
        }
        // glommio's stream cannot give its descriptor away: duplicate it, and let the
        // original close with the stream.
        // SAFETY: dup(2) of a descriptor the stream owns and keeps open meanwhile.
        let raw = unsafe { libc::dup(stream.as_raw_fd()) };
        drop(stream);
        if raw < 0 {
            tracing::warn!("handing a forwarding connection over: {}", std::io::Error::last_os_error());
            return;
        }
        // SAFETY: `raw` is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let i = next.get() % links.len();
        next.set(i + 1);
        if links[i].try_send(ToService::HttpConn(fd)).is_err() {
            tracing::debug!("service shard {i} is busy: a forwarding connection was closed");
        }
    })
}
