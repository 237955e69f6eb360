//! Parked blocking queries cost memory, not CPU: 2,000 of them, RSS growth
//! per parked connection reported and bounded.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ballast_http::testing::{rss_bytes, run_with_server};
use ballast_http::ServerOptions;
use common::*;

const N: usize = 2000;

#[test]
fn parked_queries_are_cheap() {
    run_with_server(
        ServerOptions::default(),
        |_backend, addr, opts| async move {
            let mut c = connect(addr).await;
            req(&mut c, "PUT", "/v1/kv/mem", b"v1").await;
            let idx = index_of(&req(&mut c, "GET", "/v1/kv/mem", b"").await);
            for _ in 0..50 {
                req(&mut c, "GET", "/v1/kv/mem", b"").await; // warm allocator paths
            }
            let base = rss_bytes();

            let release = Arc::new(AtomicBool::new(false));
            let ok = Arc::new(AtomicUsize::new(0));
            let finished = Arc::new(AtomicBool::new(false));
            let (rel, okc, fin) = (release.clone(), ok.clone(), finished.clone());
            let client = std::thread::spawn(move || {
                let request =
                    format!("GET /v1/kv/mem?index={idx}&wait=120s HTTP/1.1\r\nHost: h\r\n\r\n");
                let mut socks = Vec::with_capacity(N);
                for _ in 0..N {
                    let mut s = TcpStream::connect(addr).expect("connect");
                    s.write_all(request.as_bytes()).expect("send");
                    socks.push(s);
                }
                while !rel.load(Ordering::Acquire) {
                    std::thread::sleep(Duration::from_millis(5));
                }
                for mut s in socks {
                    let mut buf = [0u8; 64];
                    let mut got = 0;
                    while got < 12 {
                        match s.read(&mut buf[got..]) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => got += n,
                        }
                    }
                    if buf.starts_with(b"HTTP/1.1 200") {
                        okc.fetch_add(1, Ordering::AcqRel);
                    }
                }
                fin.store(true, Ordering::Release);
            });

            let stats = opts.stats.clone();
            eventually("all parked", || stats.parked.get() == N).await;
            let grown = rss_bytes().saturating_sub(base);
            let per = grown / N as u64;
            println!(
                "{N} parked blocking queries: RSS +{} KiB, {per} bytes each",
                grown / 1024
            );
            assert_eq!(opts.stats.connections.get(), N + 1);
            assert!(per < 16 * 1024, "parked query costs {per} bytes");

            req(&mut c, "PUT", "/v1/kv/mem", b"v2").await;
            release.store(true, Ordering::Release);
            let fin = finished.clone();
            eventually("client read all", move || fin.load(Ordering::Acquire)).await;
            client.join().expect("client thread");
            assert_eq!(
                ok.load(Ordering::Acquire),
                N,
                "every parked query answered 200"
            );
            assert_eq!(opts.stats.parked.get(), 0);
        },
    );
}
