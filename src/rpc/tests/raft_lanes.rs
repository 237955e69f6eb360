//! Raft messages between two transports over real sockets: every lane, Append frames
//! byte for byte, lane independence, queue bounds, reconnects and address changes.
mod common;

use std::rc::Rc;
use std::time::Duration;

use ballast_raft::MessageBody;
use ballast_rpc::{lane_of, Inbound, Lane, SendError, Server, Transport, TransportOptions};
use common::*;

#[test]
fn lane_of_routes_each_kind() {
    let hb = MessageBody::Heartbeat {
        commit: 0,
        read_ctx: 0,
    };
    assert_eq!(lane_of(&hb), Lane::Priority);
    assert_eq!(lane_of(&MessageBody::TimeoutNow), Lane::Priority);
    assert_eq!(
        lane_of(&MessageBody::VoteResp { reject: true }),
        Lane::Priority
    );
    assert_eq!(
        lane_of(&MessageBody::AppendResp {
            reject: false,
            index: 1,
            reject_hint: 0,
            hint_term: 0
        }),
        Lane::Data
    );
    assert_eq!(
        lane_of(&MessageBody::InstallSnapshot {
            meta: Default::default()
        }),
        Lane::Snapshot
    );
}

#[test]
fn two_transports_exchange_messages_on_every_raft_lane() {
    run(async {
        let (_h1, addr1, got1) = server(1, TransportOptions::default());
        let (_h2, addr2, got2) = server(2, TransportOptions::default());
        let t1 = Transport::new(1, TransportOptions::default());
        let t2 = Transport::new(2, TransportOptions::default());
        t1.set_peer(2, addr2);
        t2.set_peer(1, addr1);
        assert_eq!(t1.peers(), vec![(2, addr2)]);

        let vote = msg(
            1,
            2,
            MessageBody::Vote {
                last_index: 5,
                last_term: 4,
                transfer: false,
            },
        );
        let ents = entries(6, 3, 100);
        let frames = ballast_storage::encode_frames(&ents).unwrap();
        let app = append(1, 2, ents.clone());
        t1.send(vote.clone(), None).unwrap();
        t1.send(heartbeat(1, 2, 9), None).unwrap();
        t1.send(app.clone(), Some(frames.clone())).unwrap();
        let resp = msg(
            2,
            1,
            MessageBody::AppendResp {
                reject: false,
                index: 8,
                reject_hint: 0,
                hint_term: 0,
            },
        );
        t2.send(resp.clone(), None).unwrap();

        until(|| got2.borrow().len() == 3 && got1.borrow().len() == 1).await;
        let got2 = got2.borrow();
        let appended = got2.iter().find_map(|(from, i)| match i {
            Inbound::Raft { msg, frames } if matches!(msg.body, MessageBody::Append { .. }) => {
                assert_eq!(*from, 1);
                Some((msg.clone(), frames.clone()))
            }
            _ => None,
        });
        let (got_app, got_frames) = appended.expect("append delivered");
        assert_eq!(
            got_app, app,
            "entries rebuilt from the frames equal the originals"
        );
        assert_eq!(
            got_frames.as_deref(),
            Some(&frames[..]),
            "frames byte-identical"
        );
        assert!(got2
            .iter()
            .any(|(_, i)| matches!(i, Inbound::Raft { msg, frames: None } if *msg == vote)));
        assert!(got2
            .iter()
            .any(|(_, i)| matches!(i, Inbound::Raft { msg, .. } if *msg == heartbeat(1, 2, 9))));
        assert!(
            matches!(&got1.borrow()[0], (2, Inbound::Raft { msg, frames: None }) if *msg == resp)
        );

        let s = t1.stats();
        assert_eq!(s.priority.sent_msgs, 2);
        assert_eq!(s.data.sent_msgs, 1);
        assert_eq!(s.priority.dropped_msgs + s.data.dropped_msgs, 0);
    });
}

#[test]
fn append_without_frames_is_framed_by_the_transport() {
    run(async {
        let (_h, addr, got) = server(2, TransportOptions::default());
        let t = Transport::new(1, TransportOptions::default());
        t.set_peer(2, addr);
        let ents = entries(1, 4, 33);
        let app = append(1, 2, ents.clone());
        t.send(app.clone(), None).unwrap();
        let empty = append(1, 2, Vec::new());
        t.send(empty.clone(), None).unwrap();
        until(|| got.borrow().len() == 2).await;
        let got = got.borrow();
        match &got[0].1 {
            Inbound::Raft {
                msg,
                frames: Some(f),
            } => {
                assert_eq!(*msg, app);
                assert_eq!(*f, ballast_storage::encode_frames(&ents).unwrap());
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(&got[1].1, Inbound::Raft { msg, frames: None } if *msg == empty));
    });
}

#[test]
fn send_refuses_unknown_peers_and_misplaced_frames() {
    run(async {
        let t = Transport::new(1, TransportOptions::default());
        assert_eq!(
            t.send(heartbeat(1, 9, 0), None),
            Err(SendError::UnknownPeer(9))
        );
        t.set_peer(2, closed_port());
        assert!(matches!(
            t.send(heartbeat(1, 2, 0), Some(vec![0; 16])),
            Err(SendError::Encode(_))
        ));
        let snap = msg(
            1,
            2,
            MessageBody::InstallSnapshot {
                meta: Default::default(),
            },
        );
        assert!(matches!(t.send(snap, None), Err(SendError::Encode(_))));
        assert_eq!(t.stats().priority.dropped_msgs, 2);
    });
}

/// The peer accepts the Data connection but never reads it: appends pile up behind a
/// full socket, yet a heartbeat on the Priority lane still gets through. The stuck lane
/// also stays within its byte bound, refusing the excess.
#[test]
fn heartbeat_passes_while_the_data_lane_is_stuck() {
    run(async {
        let l = common::listener();
        let addr = l.local_addr().unwrap();
        let (got, on_inbound) = recorder();
        let server = Server::new(2, on_inbound, echo(), TransportOptions::default());
        let stalled = Rc::new(std::cell::RefCell::new(Vec::new()));
        let st = stalled.clone();
        glommio::spawn_local(async move {
            loop {
                let s = l.accept().await.unwrap();
                let mut pre = [0u8; 14];
                while s.peek(&mut pre).await.unwrap() < 14 {
                    glommio::timer::sleep(Duration::from_millis(1)).await;
                }
                if pre[5] == 2 {
                    st.borrow_mut().push(s); // the Data lane: held, never read
                } else {
                    server.handle_connection(s);
                }
            }
        })
        .detach();

        let opts = TransportOptions {
            write_timeout: Duration::from_secs(600), // stay stuck instead of reconnecting
            data_queue_bytes: 48 << 20,
            ..TransportOptions::default()
        };
        let t = Transport::new(1, opts);
        t.set_peer(2, addr);
        // 40 appends of 1 MiB: more than the socket buffers (4 MiB send + 32 MiB receive
        // at most here) can absorb, so the lane is necessarily stuck.
        let ents = entries(1, 1, 1 << 20);
        let frames = ballast_storage::encode_frames(&ents).unwrap();
        for _ in 0..40 {
            t.send(append(1, 2, ents.clone()), Some(frames.clone()))
                .unwrap();
        }
        // Over the byte bound: refused and counted.
        let mut refused = 0;
        for _ in 0..20 {
            if let Err(e) = t.send(append(1, 2, ents.clone()), Some(frames.clone())) {
                assert_eq!(
                    e,
                    SendError::QueueFull {
                        peer: 2,
                        lane: Lane::Data
                    }
                );
                refused += 1;
            }
        }
        assert!(refused >= 12, "at most 48 MiB queue: refused {refused}");
        assert!(t.stats().data.queued_bytes <= 48 << 20);

        until(|| stalled.borrow().len() == 1).await; // the data connection is open
        t.send(heartbeat(1, 2, 77), None).unwrap();
        until(|| !got.borrow().is_empty()).await;
        assert!(
            matches!(&got.borrow()[0].1, Inbound::Raft { msg, .. } if *msg == heartbeat(1, 2, 77))
        );
        let s = t.stats();
        assert!(s.data.sent_msgs < 40, "data lane was stuck: {s:?}");
        assert!(s.data.queued_msgs > 0);
        assert_eq!(s.data.dropped_msgs, refused);
    });
}

#[test]
fn queue_to_an_unreachable_peer_is_bounded() {
    run(async {
        let opts = TransportOptions {
            priority_queue_msgs: 16,
            data_queue_msgs: 1000,
            data_queue_bytes: 64 * 1024,
            connect_timeout: Duration::from_millis(200),
            ..TransportOptions::default()
        };
        let t = Transport::new(1, opts);
        t.set_peer(2, closed_port());
        let accepted = (0..100)
            .filter(|i| t.send(heartbeat(1, 2, *i), None).is_ok())
            .count();
        assert_eq!(accepted, 16);
        let s = t.stats();
        assert_eq!((s.priority.dropped_msgs, s.priority.queued_msgs), (84, 16));

        // The writer keeps failing to connect; the queue stays at its bound meanwhile.
        until(|| t.stats().connect_failures >= 2).await;
        for i in 0..100 {
            let _ = t.send(heartbeat(1, 2, i), None);
        }
        let s = t.stats();
        assert!(s.priority.queued_msgs <= 16, "{s:?}");
        assert!(s.priority.dropped_msgs >= 184, "{s:?}");
        assert_eq!(s.priority.sent_msgs, 0);

        // Byte bound on the data lane: ~10 KiB appends, 64 KiB queue.
        let ents = entries(1, 1, 10_000);
        let frames = ballast_storage::encode_frames(&ents).unwrap();
        let ok = (0..50)
            .filter(|_| {
                t.send(append(1, 2, ents.clone()), Some(frames.clone()))
                    .is_ok()
            })
            .count();
        assert!(ok <= 6, "{ok} appends of 10 KiB fit a 64 KiB queue");
        assert!(t.stats().data.queued_bytes <= 64 * 1024);
        assert_eq!(t.stats().data.dropped_msgs, 50 - ok as u64);
    });
}

#[test]
fn reconnects_after_the_listener_restarts() {
    run(async {
        let (h, addr, got) = server(2, TransportOptions::default());
        let t = Transport::new(1, TransportOptions::default());
        t.set_peer(2, addr);
        t.send(heartbeat(1, 2, 1), None).unwrap();
        until(|| got.borrow().len() == 1).await;

        h.server().stop();
        h.await; // the listener is closed once the accept loop ended

        let l = glommio::net::TcpListener::bind(addr).expect("rebind the same port");
        let (got2, on_inbound) = recorder();
        let _h2 = ballast_rpc::serve(l, 2, on_inbound, echo(), TransportOptions::default());
        // Messages written into the dead connection are lost (Raft retries); keep
        // sending until one arrives over a new connection.
        let mut n = 2;
        while got2.borrow().is_empty() {
            let _ = t.send(heartbeat(1, 2, n), None);
            n += 1;
            glommio::timer::sleep(Duration::from_millis(20)).await;
        }
        assert!(t.stats().connects >= 2);
    });
}

#[test]
fn address_change_moves_the_lanes() {
    run(async {
        let (_a, addr_a, got_a) = server(2, TransportOptions::default());
        let (_b, addr_b, got_b) = server(2, TransportOptions::default());
        let t = Transport::new(1, TransportOptions::default());
        t.set_peer(2, addr_a);
        t.send(heartbeat(1, 2, 1), None).unwrap();
        until(|| got_a.borrow().len() == 1).await;
        t.set_peer(2, addr_b);
        assert_eq!(t.peers(), vec![(2, addr_b)]);
        t.send(heartbeat(1, 2, 2), None).unwrap();
        until(|| got_b.borrow().len() == 1).await;
        assert_eq!(got_a.borrow().len(), 1);
        t.remove_peer(2);
        assert_eq!(
            t.send(heartbeat(1, 2, 3), None),
            Err(SendError::UnknownPeer(2))
        );
    });
}

#[test]
fn message_from_a_node_other_than_the_connection_sender_closes_it() {
    run(async {
        let (h, addr, got) = server(2, TransportOptions::default());
        let t = Transport::new(5, TransportOptions::default()); // claims to be node 5
        t.set_peer(2, addr);
        t.send(heartbeat(1, 2, 1), None).unwrap(); // but the message says node 1
        until(|| h.server().stats().protocol_errors == 1).await;
        assert!(got.borrow().is_empty());
    });
}

/// A peer that accepts but never reads (like a SIGSTOPped process): each stuck write
/// hits the write deadline, the connection is dropped, the batch is counted as
/// dropped, and the queue stays bounded throughout.
#[test]
fn a_peer_that_stops_reading_costs_drops_not_a_wedge() {
    run(async {
        let l = common::listener();
        let addr = l.local_addr().unwrap();
        let held = Rc::new(std::cell::RefCell::new(Vec::new()));
        let h = held.clone();
        glommio::spawn_local(async move {
            loop {
                let s = l.accept().await.unwrap();
                h.borrow_mut().push(s);
            }
        })
        .detach();
        let opts = TransportOptions {
            write_timeout: Duration::from_millis(100),
            data_queue_bytes: 16 << 20,
            ..TransportOptions::default()
        };
        let t = Transport::new(1, opts);
        t.set_peer(2, addr);
        let ents = entries(1, 1, 1 << 20);
        let frames = ballast_storage::encode_frames(&ents).unwrap();
        let mut refused = 0u64;
        while t.stats().disconnects < 2 {
            for _ in 0..8 {
                if t.send(append(1, 2, ents.clone()), Some(frames.clone()))
                    .is_err()
                {
                    refused += 1;
                }
            }
            assert!(t.stats().data.queued_bytes <= 16 << 20);
            glommio::timer::sleep(Duration::from_millis(20)).await;
        }
        let s = t.stats();
        assert!(
            s.data.dropped_msgs > refused,
            "stuck batches were counted: {s:?}"
        );
        assert!(
            held.borrow().len() >= 2,
            "it reconnected after dropping the stuck connection"
        );
        // Other lanes keep working meanwhile (their writes are not stuck behind data).
        t.send(heartbeat(1, 2, 1), None).unwrap();
        until(|| t.stats().priority.sent_msgs == 1).await;
    });
}
