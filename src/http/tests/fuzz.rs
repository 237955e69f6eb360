//! Random and mutated input: decoders never panic; the server answers
//! with a well-formed response or closes, and keeps serving.

mod common;

use std::time::Duration;

use ballast_http::duration::parse_go_duration;
use ballast_http::params::{QueryOptions, QueryParams};
use ballast_http::testing::run_with_server;
use ballast_http::txn_json::parse_txn_body;
use ballast_http::{parse_head, ChunkedDecoder, ServerOptions};
use common::*;
use futures_lite::AsyncWriteExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const SEEDS: &[&[u8]] = &[
    b"GET /v1/kv/a?recurse&index=5&wait=1s HTTP/1.1\r\nHost: h\r\n\r\n",
    b"PUT /v1/kv/a?cas=0&flags=7 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
    b"PUT /v1/txn HTTP/1.1\r\nHost: h\r\nContent-Length: 44\r\n\r\n[{\"KV\":{\"Verb\":\"set\",\"Key\":\"k\",\"Value\":\"\"}}]",
    b"PUT /v1/kv/c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    b"DELETE /v1/kv/a?recurse HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET /v1/agent/members?wan=1 HTTP/1.1\r\nHost: h\r\n\r\n",
    b"OPTIONS /v1/status/leader HTTP/1.1\r\nHost: h\r\n\r\n",
];

fn mutate(rng: &mut StdRng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..rng.gen_range(1..6) {
        let pos = if out.is_empty() {
            0
        } else {
            rng.gen_range(0..out.len())
        };
        match rng.gen_range(0..6) {
            0 if !out.is_empty() => out[pos] = rng.gen(),
            1 => out.insert(pos, rng.gen()),
            2 if !out.is_empty() => {
                out.remove(pos);
            }
            3 => {
                let piece = [
                    &b"%"[..],
                    b"\r\n",
                    b"?",
                    b"&",
                    b"=",
                    b"/",
                    b"..",
                    b"%zz",
                    b";",
                    b"\x00",
                    b"9999999999999999999999",
                ];
                let p = piece[rng.gen_range(0..piece.len())];
                out.splice(pos..pos, p.iter().copied());
            }
            4 => out.truncate(pos),
            _ => {
                let n = rng.gen_range(0..64);
                out.splice(pos..pos, (0..n).map(|_| rng.gen::<u8>()));
            }
        }
    }
    out
}

#[test]
fn decoders_never_panic() {
    let mut rng = StdRng::seed_from_u64(0xba11a57);
    for i in 0..20_000 {
        let input: Vec<u8> = if i % 2 == 0 {
            mutate(&mut rng, SEEDS[i % SEEDS.len()])
        } else {
            (0..rng.gen_range(0..200)).map(|_| rng.gen()).collect()
        };
        let _ = parse_head(&input);
        let mut d = ChunkedDecoder::new(1024);
        let _ = d.feed(&input, &mut Vec::new());
        let text = String::from_utf8_lossy(&input);
        if let Ok(q) = QueryParams::parse(&text) {
            let _ = QueryOptions::parse(&q, Some(&text));
            let _ = q.encode();
        }
        let _ = parse_go_duration(&text);
        let _ = parse_txn_body(&input);
        let json_seed = br#"[{"KV":{"Verb":"cas","Key":"k","Value":"aGk=","Flags":1,"Index":2,"Session":"s"}},{"Node":{}}]"#;
        let _ = parse_txn_body(&mutate(&mut rng, json_seed));
    }
}

#[test]
fn server_survives_mutated_requests() {
    let opts = ServerOptions {
        header_read_timeout: Duration::from_millis(200),
        body_read_timeout: Duration::from_millis(200),
        idle_timeout: Duration::from_millis(200),
        max_query_time: Duration::from_millis(50),
        ..ServerOptions::default()
    };
    run_with_server(opts, |_backend, addr, opts| async move {
        let mut rng = StdRng::seed_from_u64(7);
        for i in 0..400 {
            let input = if i % 5 == 0 {
                (0..rng.gen_range(1..300)).map(|_| rng.gen()).collect()
            } else {
                mutate(&mut rng, SEEDS[i % SEEDS.len()])
            };
            let mut c = connect(addr).await;
            if c.send_raw(&input).await.is_err() {
                continue;
            }
            // Half-close: the server sees EOF once it wants more input.
            let _ = c.stream.close().await;
            let out = match c.read_to_close().await {
                Ok(out) => out,
                Err(_) => continue, // reset by the server: also a close
            };
            assert!(
                out.is_empty() || out.starts_with(b"HTTP/1.1 "),
                "input {:?} produced {:?}",
                String::from_utf8_lossy(&input),
                String::from_utf8_lossy(&out)
            );
        }
        // Still healthy, and nothing left running.
        assert_eq!(
            once(addr, "GET", "/v1/status/leader", b"").await.status,
            200
        );
        let stats = opts.stats.clone();
        eventually("all connections closed", || {
            stats.connections.get() == 0 && stats.in_flight.get() == 0
        })
        .await;
    });
}
