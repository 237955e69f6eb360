//! A follower's half of forwarding: writes, linearizable reads and operator requests go to
//! the leader over the call lane, each with a deadline. The follower answers its client
//! itself once it applied the entry (so a client always reads its own write next).
use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use ballast_rpc::CallError;

use ballast_http::BackendError;

use super::notify::Notify;
use super::proto::{decode_response, encode_request, Request, Response};
use super::state::{Control, Forward};
use crate::messages::{OperatorOp, OperatorReply, ToService, WriteFailure};

/// Consul's rpc_hold_timeout: how long a forwarded request may take end to end.
const FORWARD_DEADLINE: Duration = Duration::from_secs(7);

pub fn spawn_forward(ctl: &Rc<RefCell<Control>>, notify: &Rc<Notify>, fwd: Forward) {
    let (addr, transport) = {
        let mut c = ctl.borrow_mut();
        let Some(addr) = c.leader_addr() else {
            fail(&c, fwd, WriteFailure::NoLeader);
            return;
        };
        if matches!(fwd, Forward::Write { .. }) {
            c.forwarding += 1;
        }
        (addr, c.transport.clone())
    };
    let (ctl, notify) = (ctl.clone(), notify.clone());
    glommio::spawn_local(async move {
        let request = match &fwd {
            Forward::Write { cmd, .. } => Request::Propose { cmd: cmd.clone() },
            Forward::Read { .. } => Request::ReadIndex,
            Forward::Operator { op: OperatorOp::RemovePeer { by_id, key }, .. } => {
                Request::RemovePeer { by_id: *by_id, key: key.clone() }
            }
            Forward::Operator { op: OperatorOp::TransferLeader { to }, .. } => Request::TransferLeader { to: to.clone() },
            Forward::Operator { op: OperatorOp::Configuration, .. } => Request::RaftConfiguration,
        };
        let (answer, addr) = call_leader(&ctl, &transport, addr, &request).await;
        let mut c = ctl.borrow_mut();
        match (fwd, answer) {
            (Forward::Write { shard, id, .. }, Ok(Response::Proposed { index, term })) => {
                c.forwarded_write_placed(shard, id, index, term)
            }
            (Forward::Read { shard, id }, Ok(Response::ReadIndex { index })) => c.forwarded_read_placed(shard, id, index),
            (Forward::Operator { shard, id, .. }, Ok(Response::Done)) => {
                c.reply(shard, ToService::OperatorDone { id, result: Ok(OperatorReply::Done) })
            }
            (Forward::Operator { shard, id, .. }, Ok(Response::Configuration { servers, leader, index })) => {
                let info = super::view_sync::from_wire(servers, leader, index);
                c.reply(shard, ToService::OperatorDone { id, result: Ok(OperatorReply::Configuration(info)) })
            }
            (fwd, Ok(other)) => {
                if matches!(fwd, Forward::Write { .. }) {
                    c.forwarding = c.forwarding.saturating_sub(1);
                }
                fail(&c, fwd, response_failure(other))
            }
            (fwd, Err(e)) => {
                if matches!(fwd, Forward::Write { .. }) {
                    c.forwarding = c.forwarding.saturating_sub(1);
                }
                fail(&c, fwd, WriteFailure::Forward(format!("rpc error making call: forwarding to the leader at {addr}: {e}")))
            }
        }
        drop(c);
        notify.signal();
    })
    .detach();
}

/// Sends `req` to the leader. While the request provably reached no leader (the
/// connection could not be made, or the server answered that it does not lead), waits for
/// the cluster to elect one and tries again, within Consul's hold time: a client of a
/// follower sees a leader change as latency, not as an error. Anything else (the request
/// may have been carried out) is final.
async fn call_leader(ctl: &Rc<RefCell<Control>>, transport: &ballast_rpc::Transport, mut addr: SocketAddr, req: &Request) -> (Result<Response, String>, SocketAddr) {
    let deadline = Instant::now() + FORWARD_DEADLINE;
    let bytes = encode_request(req);
    let mut pause = Duration::from_millis(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (answer, retry) = match transport.call(addr, bytes.clone(), Some(left)).await {
            Ok(b) => {
                let r = decode_response(&b);
                let not_leader = matches!(r, Ok(Response::NotLeader { .. }));
                (r, not_leader)
            }
            Err(e @ CallError::Connect(_)) => (Err(e.to_string()), true),
            Err(e) => {
                tracing::debug!(%addr, "forwarding failed: {e:?}");
                return (Err(e.to_string()), addr);
            }
        };
        if !retry || Instant::now() + pause >= deadline {
            return (answer, addr);
        }
        glommio::timer::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
        let next = match &answer {
            Ok(Response::NotLeader { leader: Some(l) }) => l.address.parse().ok(),
            _ => ctl.borrow().leader_addr(),
        };
        if let Some(a) = next {
            addr = a;
        }
    }
}

fn response_failure(r: Response) -> WriteFailure {
    match r {
        Response::NotLeader { .. } => WriteFailure::NoLeader,
        Response::Error { code: 429, message } => WriteFailure::Overloaded(message),
        Response::Error { code: 503, .. } => WriteFailure::ShuttingDown,
        Response::Error { message, .. } if message == "No cluster leader" => WriteFailure::NoLeader,
        Response::Error { message, .. } => WriteFailure::Forward(message),
        other => WriteFailure::Forward(format!("unexpected answer from the leader: {other:?}")),
    }
}

fn fail(c: &Control, fwd: Forward, why: WriteFailure) {
    match fwd {
        Forward::Write { shard, id, .. } => c.reply(shard, ToService::Written { id, result: Err(why) }),
        Forward::Read { shard, id } => c.reply(shard, ToService::ReadReady { id, result: Err(why) }),
        Forward::Operator { shard, id, .. } => {
            let err = match why {
                WriteFailure::NoLeader => BackendError::NoLeader,
                WriteFailure::Overloaded(m) => BackendError::Overloaded(m),
                WriteFailure::ShuttingDown => BackendError::ShuttingDown,
                other => BackendError::Internal(super::state::describe(&other)),
            };
            c.reply(shard, ToService::OperatorDone { id, result: Err(err) })
        }
    }
}
