//! Snapshot streaming: reassembly byte for byte, refusal of oversized snapshots, one
//! stream per peer at a time, and failure reported through the future.
mod common;

use std::rc::Rc;

use ballast_raft::{ConfState, MessageBody, SnapshotMeta};
use ballast_rpc::{Inbound, SendError, Transport, TransportOptions};
use common::*;

fn install(from: u64, to: u64) -> ballast_raft::Message {
    let meta = SnapshotMeta {
        index: 42,
        term: 7,
        conf: ConfState {
            voters: vec![1, 2, 3],
            learners: vec![4],
            ..Default::default()
        },
    };
    msg(from, to, MessageBody::InstallSnapshot { meta })
}

#[test]
fn a_few_megabytes_reassemble_byte_identical() {
    run(async {
        let (_h, addr, got) = server(2, TransportOptions::default());
        let t = Transport::new(
            1,
            TransportOptions {
                snapshot_chunk_bytes: 256 * 1024,
                ..Default::default()
            },
        );
        t.set_peer(2, addr);
        let data = Rc::new(bytes(3 * 1024 * 1024 + 17, 5));
        let done = t.send_snapshot(install(1, 2), data.clone()).unwrap();
        // One stream per peer at a time.
        assert!(matches!(
            t.send_snapshot(install(1, 2), data.clone()),
            Err(SendError::SnapshotInProgress(2))
        ));
        done.await.expect("snapshot acked");
        {
            let received = got.borrow();
            assert_eq!(received.len(), 1);
            match &received[0] {
                (1, Inbound::Snapshot { msg, data: d }) => {
                    assert_eq!(*msg, install(1, 2));
                    assert!(d[..] == data[..], "reassembled data differs");
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        let s = t.stats().snapshot;
        assert_eq!(
            (s.sent_msgs, s.sent_bytes, s.dropped_msgs),
            (1, data.len() as u64, 0)
        );
        // Free again once done; an empty snapshot works too.
        t.send_snapshot(install(1, 2), Rc::new(Vec::new()))
            .unwrap()
            .await
            .unwrap();
        assert!(matches!(&got.borrow()[1], (1, Inbound::Snapshot { data, .. }) if data.is_empty()));
    });
}

#[test]
fn an_oversized_snapshot_is_refused_by_the_receiver() {
    run(async {
        let (_h, addr, got) = server(
            2,
            TransportOptions {
                max_snapshot_bytes: 1 << 20,
                ..Default::default()
            },
        );
        let t = Transport::new(1, TransportOptions::default());
        t.set_peer(2, addr);
        let err = t
            .send_snapshot(install(1, 2), Rc::new(bytes(2 << 20, 1)))
            .unwrap()
            .await
            .unwrap_err();
        match err {
            SendError::Stream { peer: 2, reason } => {
                assert!(reason.contains("refused"), "{reason}")
            }
            other => panic!("unexpected {other}"),
        }
        assert!(got.borrow().is_empty());
        assert_eq!(t.stats().snapshot.dropped_msgs, 1);
    });
}

#[test]
fn snapshot_errors_at_once_or_through_the_future() {
    run(async {
        let t = Transport::new(1, TransportOptions::default());
        let data = Rc::new(vec![1u8; 10]);
        assert!(matches!(
            t.send_snapshot(install(1, 2), data.clone()),
            Err(SendError::UnknownPeer(2))
        ));
        t.set_peer(2, closed_port());
        assert!(matches!(
            t.send_snapshot(heartbeat(1, 2, 0), data.clone()),
            Err(SendError::NotASnapshot(2))
        ));
        let err = t
            .send_snapshot(install(1, 2), data.clone())
            .unwrap()
            .await
            .unwrap_err();
        assert!(matches!(err, SendError::Stream { peer: 2, .. }), "{err}");
        // The failed stream no longer blocks the next one.
        assert!(t.send_snapshot(install(1, 2), data).is_ok());
    });
}
