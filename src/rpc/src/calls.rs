//! The client side of calls: one connection per destination address on the Rpc lane,
//! many calls multiplexed on it by request id. Each call has a slot; a call whose future
//! is dropped (or whose deadline passes) forgets its slot and any unsent request, so a
//! late response is ignored. Slots per address are bounded by `max_calls_in_flight`.
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::future::poll_fn;
use std::net::SocketAddr;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use ballast_raft::NodeId;

use crate::error::CallError;
use crate::io::{connect, split, write_all_deadline, ConnError, FrameReader, Half};
use crate::signal::WakerSlot;
use crate::stats::{bump, Counters};
use crate::wire::{self, CallStatus, WireLane};
use crate::TransportOptions;

pub(crate) struct CallConn {
    addr: SocketAddr,
    state: RefCell<CallState>,
    writer: WakerSlot,
}

#[derive(Default)]
struct CallState {
    pending: HashMap<u64, Slot>,
    /// Encoded request frames not yet written, with their ids.
    unsent: VecDeque<(u64, Vec<u8>)>,
    next_id: u64,
    /// Set once the connection is over: the transport then opens a new one.
    dead: bool,
}

#[derive(Default)]
struct Slot {
    result: Option<Result<Vec<u8>, CallError>>,
    waker: Option<Waker>,
}

impl CallConn {
    pub(crate) fn new(addr: SocketAddr) -> Rc<Self> {
        Rc::new(CallConn {
            addr,
            state: RefCell::default(),
            writer: WakerSlot::default(),
        })
    }

    pub(crate) fn is_dead(&self) -> bool {
        self.state.borrow().dead
    }

    /// Registers a call and queues its request. Fails at once over the in-flight bound.
    pub(crate) fn start(&self, request: &[u8], opts: &TransportOptions) -> Result<u64, CallError> {
        let mut st = self.state.borrow_mut();
        if st.dead {
            return Err(CallError::Closed);
        }
        if st.pending.len() >= opts.max_calls_in_flight {
            return Err(CallError::Overloaded(format!(
                "{} calls already in flight to {}",
                st.pending.len(),
                self.addr
            )));
        }
        let id = st.next_id;
        let frame = wire::encode_call_request(id, request, opts.max_frame_bytes).map_err(|_| {
            CallError::TooLarge {
                bytes: request.len(),
                max: opts.max_frame_bytes,
            }
        })?;
        st.next_id = st.next_id.wrapping_add(1);
        st.pending.insert(id, Slot::default());
        st.unsent.push_back((id, frame));
        drop(st);
        self.writer.wake();
        Ok(id)
    }

    pub(crate) fn poll_result(
        &self,
        id: u64,
        cx: &Context<'_>,
    ) -> Poll<Result<Vec<u8>, CallError>> {
        let mut st = self.state.borrow_mut();
        let Some(slot) = st.pending.get_mut(&id) else {
            return Poll::Ready(Err(CallError::Closed));
        };
        match slot.result.take() {
            Some(r) => {
                st.pending.remove(&id);
                Poll::Ready(r)
            }
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    /// The caller gave up (deadline or dropped future): free the slot, unsend the request.
    pub(crate) fn forget(&self, id: u64) {
        let mut st = self.state.borrow_mut();
        if st.pending.remove(&id).is_some() {
            st.unsent.retain(|(i, _)| *i != id);
        }
    }

    fn complete(&self, id: u64, result: Result<Vec<u8>, CallError>) {
        let mut st = self.state.borrow_mut();
        match st.pending.get_mut(&id) {
            Some(slot) => {
                slot.result = Some(result);
                if let Some(w) = slot.waker.take() {
                    w.wake();
                }
            }
            None => tracing::debug!(addr = %self.addr, id, "response for a forgotten call"),
        }
    }

    /// The connection is over: every waiting call fails with `err`.
    pub(crate) fn fail_all(&self, err: CallError) {
        let mut st = self.state.borrow_mut();
        st.dead = true;
        st.unsent.clear();
        for slot in st.pending.values_mut() {
            if slot.result.is_none() {
                slot.result = Some(Err(err.clone()));
                if let Some(w) = slot.waker.take() {
                    w.wake();
                }
            }
        }
        drop(st);
        self.writer.wake();
    }

    async fn next_requests(&self, opts: &TransportOptions) -> Option<Vec<u8>> {
        let idle = async {
            loop {
                glommio::timer::sleep(opts.call_idle_timeout).await;
                if self.state.borrow().pending.is_empty() {
                    return None;
                }
            }
        };
        let work = poll_fn(|cx| {
            let mut st = self.state.borrow_mut();
            if st.dead {
                return Poll::Ready(None);
            }
            if st.unsent.is_empty() {
                self.writer.register(cx);
                return Poll::Pending;
            }
            let mut out = Vec::new();
            for (_, frame) in st.unsent.drain(..) {
                out.extend_from_slice(&frame);
            }
            Poll::Ready(Some(out))
        });
        futures_lite::future::or(work, idle).await
    }
}

/// Runs one call connection until it breaks, idles out or the transport closes it.
pub(crate) async fn drive(
    conn: Rc<CallConn>,
    self_id: NodeId,
    opts: Rc<TransportOptions>,
    counters: Rc<Counters>,
) {
    let addr = conn.addr;
    let err = match connect(
        addr,
        WireLane::Rpc,
        self_id,
        opts.connect_deadline(),
        opts.write_timeout,
        opts.source_ip,
    )
    .await
    {
        Err(e) => {
            bump(&counters.connect_failures, 1);
            tracing::debug!(%addr, "call connection failed: {e}");
            CallError::Connect(e.to_string())
        }
        Ok(stream) => {
            bump(&counters.connects, 1);
            let (reader, mut writer) = split(stream);
            let writing = async {
                while let Some(batch) = conn.next_requests(&opts).await {
                    if let Err(e) =
                        write_all_deadline(&mut writer, &batch, opts.write_timeout).await
                    {
                        return CallError::Disconnected(format!("writing to {addr}: {e}"));
                    }
                }
                CallError::Closed
            };
            futures_lite::future::or(writing, read_responses(&conn, reader, &opts)).await
        }
    };
    tracing::debug!(%addr, "call connection over: {err}");
    conn.fail_all(err);
}

async fn read_responses(conn: &CallConn, reader: Half, opts: &TransportOptions) -> CallError {
    let addr = conn.addr;
    let mut frames = FrameReader::new(reader, opts.max_frame_bytes);
    loop {
        let body = match frames.next().await {
            Ok(Some(body)) => body,
            Ok(None) | Err(ConnError::Closed) => {
                return CallError::Disconnected(format!("{addr} closed the connection"))
            }
            Err(ConnError::Io(e)) => {
                return CallError::Disconnected(format!("reading from {addr}: {e}"))
            }
            Err(ConnError::Wire(e)) => return CallError::Protocol(format!("from {addr}: {e}")),
        };
        match wire::decode_call_response(body) {
            Ok((id, CallStatus::Ok, payload)) => conn.complete(id, Ok(payload.to_vec())),
            Ok((id, CallStatus::Overloaded, why)) => conn.complete(
                id,
                Err(CallError::Overloaded(
                    String::from_utf8_lossy(why).into_owned(),
                )),
            ),
            Ok((id, CallStatus::Error, why)) => conn.complete(
                id,
                Err(CallError::Remote(String::from_utf8_lossy(why).into_owned())),
            ),
            Err(e) => return CallError::Protocol(format!("from {addr}: {e}")),
        }
    }
}

/// Frees a call's slot when its future ends or is dropped.
pub(crate) struct ForgetOnDrop<'a> {
    pub conn: &'a CallConn,
    pub id: u64,
}

impl Drop for ForgetOnDrop<'_> {
    fn drop(&mut self) {
        self.conn.forget(self.id);
    }
}
