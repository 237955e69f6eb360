//! The control shard's side of the server-to-server transport: Raft messages in and out
//! (log entries as the exact frames on disk, snapshots streamed), and the leader's
//! answers to calls from other servers. Thin glue: the decisions are in the Raft core
//! and in `state.rs` / `membership.rs` / `discovery.rs`.
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use ballast_raft::{Message, MessageBody, NodeId};
use ballast_rpc::Inbound;
use glommio::channels::local_channel;

use super::notify::Notify;
use super::proto::{decode_request, encode_response, Request, Response};
use super::state::Control;
use crate::messages::OperatorOp;

pub fn on_inbound(ctl: &Rc<RefCell<Control>>, notify: &Notify, _from: NodeId, inbound: Inbound) {
    let mut c = ctl.borrow_mut();
    let msg = match inbound {
        Inbound::Raft { msg, frames } => {
            if let (Some(f), MessageBody::Append { entries, .. }) = (&frames, &msg.body) {
                c.frames.insert_batch(entries, f);
            }
            msg
        }
        Inbound::Snapshot { msg, data } => {
            if let MessageBody::InstallSnapshot { meta } = &msg.body {
                c.received_snapshot = Some((meta.index, data));
            }
            msg
        }
    };
    let kind = msg.body.kind();
    if let Err(e) = c.raft.step(msg) {
        tracing::debug!("raft refused a {kind} message: {e}");
    }
    drop(c);
    notify.signal();
}

/// Sends what a Ready produced. Appends carry the frames this server wrote (or received);
/// a snapshot streams on its own lane and reports back to the core when done.
pub fn send_messages(ctl: &Rc<RefCell<Control>>, notify: &Rc<Notify>, msgs: Vec<Message>) {
    for msg in msgs {
        let mut c = ctl.borrow_mut();
        match &msg.body {
            MessageBody::Append { entries, .. } if !entries.is_empty() => match c.frames.frames_for(entries) {
                Ok(frames) => {
                    let _ = c.transport.send(msg, Some(frames));
                }
                Err(e) => tracing::warn!("cannot frame entries for {}: {e}", msg.to),
            },
            MessageBody::InstallSnapshot { meta } => {
                let to = msg.to;
                let data = match &c.snapshot_bytes {
                    Some((index, bytes)) if *index == meta.index => bytes.clone(),
                    _ => {
                        tracing::warn!(to, index = meta.index, "no snapshot data in memory for that index");
                        c.raft.report_snapshot(to, false);
                        continue;
                    }
                };
                match c.transport.send_snapshot(msg, data) {
                    Ok(done) => {
                        let (ctl, notify) = (ctl.clone(), notify.clone());
                        glommio::spawn_local(async move {
                            let ok = done.await.is_ok();
                            if !ok {
                                tracing::warn!(to, "sending a snapshot failed");
                            }
                            ctl.borrow_mut().raft.report_snapshot(to, ok);
                            notify.signal();
                        })
                        .detach();
                    }
                    Err(_) => c.raft.report_snapshot(to, false),
                }
            }
            _ => {
                let _ = c.transport.send(msg, None);
            }
        }
    }
}

/// Answers a call from another server.
pub fn handle_call(ctl: Rc<RefCell<Control>>, notify: Rc<Notify>, bytes: Vec<u8>) -> Pin<Box<dyn Future<Output = Vec<u8>>>> {
    Box::pin(async move {
        let request = match decode_request(&bytes) {
            Ok(r) => r,
            Err(message) => return encode_response(&Response::Error { code: 400, message }),
        };
        let response = match request {
            Request::Hello { me, datacenter, bootstrap_expect: _, read_replica: _ } => ctl.borrow_mut().hello(me, datacenter),
            Request::Propose { cmd } => ctl.borrow_mut().propose_forwarded(cmd),
            Request::Join { me, read_replica } => ctl.borrow_mut().join(me, read_replica),
            Request::ReadIndex => {
                let (tx, rx) = local_channel::new_bounded(1);
                ctl.borrow_mut().read_forwarded(tx);
                notify.signal();
                rx.recv().await.unwrap_or(Response::Error { code: 503, message: "agent is shutting down".into() })
            }
            Request::RemovePeer { by_id, key } => operate(&ctl, &notify, OperatorOp::RemovePeer { by_id, key }).await,
            Request::TransferLeader { to } => operate(&ctl, &notify, OperatorOp::TransferLeader { to }).await,
            Request::RaftConfiguration => super::view_sync::to_wire(&mut ctl.borrow_mut()),
        };
        notify.signal();
        encode_response(&response)
    })
}

async fn operate(ctl: &Rc<RefCell<Control>>, notify: &Notify, op: OperatorOp) -> Response {
    let (tx, rx) = local_channel::new_bounded(1);
    ctl.borrow_mut().operate_forwarded(op, tx);
    notify.signal();
    rx.recv().await.unwrap_or(Response::Error { code: 503, message: "agent is shutting down".into() })
}
