//! Fuzz-style robustness: random and mutated bytes into every decoder entry
//! point. Nothing may panic, and a rejected input must change nothing.

use std::net::SocketAddr;
use std::time::Duration;

use ballast_gossip::{Config, Gossip};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn node(name: &str, port: u16, now: Duration) -> Gossip {
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    Gossip::new(Config::lan(name, addr), now, 1)
}

/// Real traffic to mutate: a ping exchange, gossip, a query, push-pull.
fn corpus() -> Vec<Vec<u8>> {
    let t = Duration::from_secs(1);
    let mut a = node("a", 1, t);
    let mut b = node("b", 2, t);
    let mut out = Vec::new();
    let req = a.push_pull_request(true, t);
    out.push(req.clone());
    let reply = b.handle_push_pull("127.0.0.1:1".parse().unwrap(), &req, t).unwrap();
    out.push(reply.clone());
    a.handle_push_pull_reply("127.0.0.1:2".parse().unwrap(), &reply, t).unwrap();
    a.query("q", b"payload".to_vec(), Duration::ZERO, t);
    for s in 1..30 {
        let now = t + Duration::from_millis(200 * s);
        a.tick(now);
        b.tick(now);
        while let Some(o) = a.poll_output() {
            if let ballast_gossip::Output::Packet { bytes, .. } = o {
                let _ = b.handle_packet("127.0.0.1:1".parse().unwrap(), &bytes, now);
                out.push(bytes);
            }
        }
        while let Some(o) = b.poll_output() {
            if let ballast_gossip::Output::Packet { bytes, .. } = o {
                let _ = a.handle_packet("127.0.0.1:2".parse().unwrap(), &bytes, now);
                out.push(bytes);
            }
        }
    }
    assert!(out.len() > 4, "corpus has real packets");
    out
}

fn mutate(rng: &mut StdRng, base: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    for _ in 0..rng.gen_range(1..6) {
        match rng.gen_range(0..5) {
            0 if !v.is_empty() => {
                let i = rng.gen_range(0..v.len());
                v[i] = rng.gen();
            }
            1 if !v.is_empty() => {
                let i = rng.gen_range(0..v.len());
                v.truncate(i);
            }
            2 => {
                let i = rng.gen_range(0..=v.len());
                v.insert(i, rng.gen());
            }
            3 if !v.is_empty() => {
                let i = rng.gen_range(0..v.len());
                v[i] = [0, 0x7f, 0x80, 0xff][rng.gen_range(0..4)];
            }
            _ => {
                let i = rng.gen_range(0..=v.len());
                let n = rng.gen_range(0..16);
                let junk: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
                v.splice(i..i, junk);
            }
        }
    }
    v
}

fn snapshot(g: &Gossip) -> String {
    let mut m: Vec<String> = g.members().map(|m| format!("{m:?}")).collect();
    m.sort();
    format!("{m:?} {} {} {}", g.num_alive(), g.local_health(), g.broadcast_queue_len())
}

#[test]
fn decoders_never_panic_and_rejects_change_nothing() {
    let seed: u64 = std::env::var("GOSSIP_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(99);
    println!("[fuzz] seed {seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let corpus = corpus();
    let now = Duration::from_secs(100);
    let from: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let mut g = node("target", 3, now);
    let (mut ok, mut err) = (0u32, 0u32);
    for case in 0..40_000u32 {
        let bytes = if case % 4 == 0 {
            let n = rng.gen_range(0..200);
            (0..n).map(|_| rng.gen()).collect::<Vec<u8>>()
        } else {
            let base = &corpus[rng.gen_range(0..corpus.len())];
            mutate(&mut rng, base)
        };
        let before = snapshot(&g);
        let r = match case % 3 {
            0 => g.handle_packet(from, &bytes, now).map(|_| ()),
            1 => g.handle_push_pull(from, &bytes, now).map(|_| ()),
            _ => g.handle_push_pull_reply(from, &bytes, now),
        };
        match r {
            Ok(()) => ok += 1,
            Err(_) => {
                err += 1;
                assert_eq!(before, snapshot(&g), "a rejected input changed state (case {case})");
            }
        }
        while g.poll_output().is_some() {}
        if case % 1000 == 0 {
            g.tick(now + Duration::from_millis(case as u64));
        }
    }
    println!("[fuzz] 40000 cases: {ok} accepted, {err} rejected");
    assert!(err > 10_000 && ok > 100, "both paths exercised");
}
