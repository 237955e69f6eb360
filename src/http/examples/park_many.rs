//! Park N blocking queries (default 10,000) on one server shard and report
//! the server's RSS growth. The clients run in a child process so their
//! memory is not counted.
//!
//!     cargo run --release -p ballast-http --features testing --example park_many -- 10000

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use ballast_http::testing::{raise_memlock_limit, rss_bytes, TestBackend};
use ballast_http::{serve, ServerOptions};
use ballast_store::Command as StoreCommand;
use glommio::{LocalExecutorBuilder, Placement};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("client") {
        let addr: SocketAddr = args[2].parse().expect("addr");
        let n: usize = args[3].parse().expect("n");
        let index: u64 = args[4].parse().expect("index");
        std::process::exit(run_clients(addr, n, index));
    }
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    raise_memlock_limit();
    LocalExecutorBuilder::new(Placement::Unbound)
        .spawn(move || async move { run_server(n).await })
        .expect("executor")
        .join()
        .expect("join");
}

async fn run_server(n: usize) {
    let backend = TestBackend::new();
    let opts = ServerOptions {
        max_connections: n + 100,
        ..ServerOptions::default()
    };
    let stats = opts.stats.clone();
    let listener = glommio::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let _server = glommio::spawn_local(serve(listener, backend.clone(), opts));
    backend.apply(&StoreCommand::KvSet {
        key: "park".into(),
        value: Some(b"v1".to_vec()),
        flags: 0,
    });
    let index = backend.next_index() - 1;
    glommio::timer::sleep(Duration::from_millis(100)).await;
    let base = rss_bytes();

    let exe = std::env::current_exe().expect("exe");
    let mut child = Command::new(exe)
        .args([
            "client",
            &addr.to_string(),
            &n.to_string(),
            &index.to_string(),
        ])
        .stdout(Stdio::inherit())
        .spawn()
        .expect("spawn clients");
    let mut waited = 0;
    while stats.parked.get() < n {
        glommio::timer::sleep(Duration::from_millis(50)).await;
        waited += 1;
        if waited > 2400 {
            eprintln!("only {} of {n} parked after 120 s", stats.parked.get());
            let _ = child.kill();
            std::process::exit(1);
        }
    }
    // Let the allocator settle, then measure.
    glommio::timer::sleep(Duration::from_millis(200)).await;
    let grown = rss_bytes().saturating_sub(base);
    println!(
        "parked {n} blocking queries over {} connections: server RSS {} KiB -> {} KiB, +{} KiB = {} bytes per parked query",
        stats.connections.get(),
        base / 1024,
        (base + grown) / 1024,
        grown / 1024,
        grown / n as u64
    );
    backend.apply(&StoreCommand::KvSet {
        key: "park".into(),
        value: Some(b"v2".to_vec()),
        flags: 0,
    });
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                println!(
                    "clients finished: {status}; parked now {}",
                    stats.parked.get()
                );
                break;
            }
            Ok(None) => glommio::timer::sleep(Duration::from_millis(20)).await,
            Err(e) => panic!("wait: {e}"),
        }
    }
}

fn run_clients(addr: SocketAddr, n: usize, index: u64) -> i32 {
    let request = format!("GET /v1/kv/park?index={index}&wait=5m HTTP/1.1\r\nHost: h\r\n\r\n");
    let mut socks = Vec::with_capacity(n);
    for _ in 0..n {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.write_all(request.as_bytes()).expect("send");
        socks.push(s);
    }
    let mut ok = 0;
    for mut s in socks {
        let mut buf = [0u8; 64];
        let mut got = 0;
        while got < 12 {
            match s.read(&mut buf[got..]) {
                Ok(0) | Err(_) => break,
                Ok(k) => got += k,
            }
        }
        ok += usize::from(buf.starts_with(b"HTTP/1.1 200"));
    }
    println!("clients: {ok} of {n} answered 200 after the change");
    i32::from(ok != n)
}
