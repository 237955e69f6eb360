//! The inbound server refuses what it must: wrong preambles, too many connections.
mod common;

use std::time::Duration;

use ballast_rpc::wire::{encode_preamble, WireLane};
use ballast_rpc::TransportOptions;
use common::*;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;

/// Reads until EOF or error; true when the server closed the connection.
async fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return true,
            Ok(_) => continue,
        }
    }
}

#[test]
fn garbage_preambles_are_refused() {
    run(async {
        let (h, addr, got) = server(2, TransportOptions::default());
        let mut bad_version = encode_preamble(WireLane::Data, 1);
        bad_version[4] = 9;
        let mut bad_lane = encode_preamble(WireLane::Data, 1);
        bad_lane[5] = 77;
        let cases: [&[u8]; 4] = [
            b"GET / HTTP/1.1\r\n\r\n",
            b"BLSX\x01\x02abcdefgh",
            &bad_version,
            &bad_lane,
        ];
        for (i, case) in cases.iter().enumerate() {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(case).await.unwrap();
            assert!(closed_by_server(&mut s).await);
            assert_eq!(h.server().stats().bad_preambles, i as u64 + 1);
        }
        assert!(got.borrow().is_empty());
    });
}

#[test]
fn a_silent_connection_is_closed_after_the_preamble_deadline() {
    run(async {
        let opts = TransportOptions {
            connect_timeout: Duration::from_millis(50),
            ..Default::default()
        };
        let (h, addr, _) = server(2, opts);
        let mut s = TcpStream::connect(addr).await.unwrap();
        assert!(closed_by_server(&mut s).await);
        assert_eq!(h.server().stats().bad_preambles, 1);
    });
}

#[test]
fn inbound_connections_are_bounded() {
    run(async {
        let (h, addr, _) = server(
            2,
            TransportOptions {
                max_inbound_conns: 1,
                ..Default::default()
            },
        );
        let mut first = TcpStream::connect(addr).await.unwrap();
        first
            .write_all(&encode_preamble(WireLane::Rpc, 1))
            .await
            .unwrap();
        until(|| h.server().stats().active_conns == 1).await;
        let mut second = TcpStream::connect(addr).await.unwrap();
        assert!(closed_by_server(&mut second).await);
        assert_eq!(h.server().stats().refused_over_limit, 1);
        drop(first);
        until(|| h.server().stats().active_conns == 0).await;
    });
}

#[test]
fn a_corrupted_frame_closes_the_connection() {
    run(async {
        let (h, addr, got) = server(2, TransportOptions::default());
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(&encode_preamble(WireLane::Priority, 1))
            .await
            .unwrap();
        let mut frame = ballast_rpc::wire::encode_raft(&heartbeat(1, 2, 5), &[], 1 << 20).unwrap();
        let last = frame.len() - 1;
        frame[last] ^= 0x40;
        s.write_all(&frame).await.unwrap();
        assert!(closed_by_server(&mut s).await);
        assert_eq!(h.server().stats().protocol_errors, 1);
        assert!(got.borrow().is_empty());
    });
}
