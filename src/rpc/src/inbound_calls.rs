//! The server side of the Rpc lane: each request runs `on_call` in its own task (at most
//! `max_inbound_calls_per_conn` per connection; over it the request is answered
//! `Overloaded` at once), and a writer sends responses back as they complete, in any
//! order. The reader stops reading while the response queue is full, so a client that
//! does not read its responses is held back by TCP instead of growing memory. When the
//! connection ends, its running calls are cancelled (their tasks dropped).
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::future::poll_fn;
use std::rc::{Rc, Weak};
use std::task::Poll;

use glommio::net::TcpStream;
use glommio::Task;

use crate::inbound::ServerInner;
use crate::io::{split, write_all_deadline, ConnError, FrameReader, Half};
use crate::signal::WakerSlot;
use crate::stats::bump;
use crate::wire::{self, CallStatus};

struct CallsConn {
    max_running: usize,
    max_body: usize,
    responses: RefCell<VecDeque<Vec<u8>>>,
    running: RefCell<HashMap<u64, Task<()>>>,
    /// Calls whose task finished; their handles are dropped by the reader.
    finished: RefCell<Vec<u64>>,
    next_seq: Cell<u64>,
    writer: WakerSlot,
    reader: WakerSlot,
}

impl CallsConn {
    fn push_response(&self, frame: Vec<u8>) {
        self.responses.borrow_mut().push_back(frame);
        self.writer.wake();
    }

    fn respond(&self, id: u64, status: CallStatus, payload: &[u8]) {
        let frame =
            wire::encode_call_response(id, status, payload, self.max_body).unwrap_or_else(|e| {
                let why = format!("response not sent: {e}");
                wire::encode_call_response(id, CallStatus::Error, why.as_bytes(), usize::MAX)
                    .unwrap_or_default()
            });
        self.push_response(frame);
    }

    fn reap_finished(&self) {
        let done: Vec<u64> = self.finished.borrow_mut().drain(..).collect();
        let mut running = self.running.borrow_mut();
        for seq in done {
            running.remove(&seq);
        }
    }
}

pub(crate) async fn serve_calls(
    inner: &Rc<ServerInner>,
    stream: TcpStream,
) -> Result<(), ConnError> {
    let max_running = inner.opts.max_inbound_calls_per_conn.max(1);
    let conn = Rc::new(CallsConn {
        max_running,
        max_body: inner.opts.max_frame_bytes,
        responses: RefCell::default(),
        running: RefCell::default(),
        finished: RefCell::default(),
        next_seq: Cell::new(0),
        writer: WakerSlot::default(),
        reader: WakerSlot::default(),
    });
    let (reader, mut writer) = split(stream);
    let write_timeout = inner.opts.write_timeout;
    let writing = async {
        loop {
            let batch = poll_fn(|cx| {
                let mut q = conn.responses.borrow_mut();
                if q.is_empty() {
                    conn.writer.register(cx);
                    return Poll::Pending;
                }
                let mut out = Vec::new();
                for f in q.drain(..) {
                    out.extend_from_slice(&f);
                }
                Poll::Ready(out)
            })
            .await;
            conn.reader.wake();
            write_all_deadline(&mut writer, &batch, write_timeout).await?;
        }
    };
    let result = futures_lite::future::or(writing, read_requests(inner, &conn, reader)).await;
    // Cancel what is still running: nobody will read its answer.
    let running: Vec<Task<()>> = conn.running.borrow_mut().drain().map(|(_, t)| t).collect();
    drop(running);
    result
}

async fn read_requests(
    inner: &Rc<ServerInner>,
    conn: &Rc<CallsConn>,
    reader: Half,
) -> Result<(), ConnError> {
    let mut frames = FrameReader::new(reader, inner.opts.max_frame_bytes);
    loop {
        // Backpressure: one queued response per allowed running call at most.
        poll_fn(|cx| {
            if conn.responses.borrow().len() < conn.max_running {
                Poll::Ready(())
            } else {
                conn.reader.register(cx);
                Poll::Pending
            }
        })
        .await;
        let Some(body) = frames.next().await? else {
            return Ok(());
        };
        let (id, request) = wire::decode_call_request(body)?;
        conn.reap_finished();
        if conn.running.borrow().len() >= conn.max_running {
            bump(&inner.stats.calls_refused_overloaded, 1);
            let why = format!(
                "{} calls already running on this connection",
                conn.max_running
            );
            conn.respond(id, CallStatus::Overloaded, why.as_bytes());
            continue;
        }
        let seq = conn.next_seq.get();
        conn.next_seq.set(seq + 1);
        let answer = (inner.on_call)(request.to_vec());
        let weak: Weak<CallsConn> = Rc::downgrade(conn);
        let server = Rc::downgrade(inner);
        let task = glommio::spawn_local(async move {
            let response = answer.await;
            if let Some(c) = weak.upgrade() {
                c.respond(id, CallStatus::Ok, &response);
                c.finished.borrow_mut().push(seq);
            }
            if let Some(s) = server.upgrade() {
                bump(&s.stats.calls_answered, 1);
            }
        });
        conn.running.borrow_mut().insert(seq, task);
        glommio::yield_if_needed().await;
    }
}
