//! Decoder fuzz: random bytes and mutated valid frames into every decoder, thousands of
//! iterations with a seeded RNG. Passing means: no panic, and nothing corrupted slips
//! through the frame CRC.
mod common;

use ballast_raft::{MessageBody, SnapshotMeta};
use ballast_rpc::wire::{self, CallStatus, WireLane};
use ballast_rpc::SnapshotAssembler;
use common::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const MAX: usize = 1 << 20;

/// Runs every body decoder on `body`; returns how many accepted it.
fn decode_everything(body: &[u8]) -> usize {
    let mut ok = 0;
    ok += wire::decode_raft(body).is_ok() as usize;
    ok += wire::decode_snapshot_part(body).is_ok() as usize;
    ok += wire::decode_snapshot_ack(body).is_ok() as usize;
    ok += wire::decode_call_request(body).is_ok() as usize;
    ok += wire::decode_call_response(body).is_ok() as usize;
    ok += wire::decode_preamble(body).is_ok() as usize;
    let mut asm = SnapshotAssembler::new(1 << 16);
    ok += asm.feed(body).is_ok() as usize;
    ok
}

/// Splits a byte stream into frames like a connection reader would.
fn split_all(mut buf: &[u8]) -> Result<usize, ballast_rpc::WireError> {
    let mut n = 0;
    while let Some(len) = wire::split_frame(buf, MAX)? {
        decode_everything(&buf[wire::FRAME_HEADER_LEN..len]);
        buf = &buf[len..];
        n += 1;
    }
    Ok(n)
}

fn valid_frames() -> Vec<Vec<u8>> {
    let ents = entries(10, 3, 40);
    let frames = ballast_storage::encode_frames(&ents).unwrap();
    let mut app = append(1, 2, ents);
    if let MessageBody::Append { entries, .. } = &mut app.body {
        entries.clear(); // they travel as frames
    }
    let snap = msg(
        1,
        2,
        MessageBody::InstallSnapshot {
            meta: SnapshotMeta {
                index: 9,
                term: 2,
                ..Default::default()
            },
        },
    );
    vec![
        wire::encode_raft(&heartbeat(1, 2, 3), &[], MAX).unwrap(),
        wire::encode_raft(&app, &frames, MAX).unwrap(),
        wire::encode_raft(
            &msg(
                3,
                1,
                MessageBody::Vote {
                    last_index: 1,
                    last_term: 1,
                    transfer: true,
                },
            ),
            &[],
            MAX,
        )
        .unwrap(),
        wire::encode_snapshot_begin(&snap, 100, MAX).unwrap(),
        wire::encode_snapshot_chunk(0, &[7u8; 100], MAX).unwrap(),
        wire::encode_snapshot_ack(Ok(()), MAX),
        wire::encode_snapshot_ack(Err("no"), MAX),
        wire::encode_call_request(5, b"request", MAX).unwrap(),
        wire::encode_call_response(5, CallStatus::Overloaded, b"busy", MAX).unwrap(),
    ]
}

#[test]
fn valid_frames_round_trip() {
    let frames = valid_frames();
    let stream: Vec<u8> = frames.concat();
    assert_eq!(split_all(&stream).unwrap(), frames.len());
    let body = |f: &Vec<u8>| f[wire::FRAME_HEADER_LEN..].to_vec();
    let (m, f) = wire::decode_raft(&body(&frames[1])).unwrap();
    assert_eq!(m, append(1, 2, entries(10, 3, 40)));
    assert_eq!(
        f.unwrap(),
        ballast_storage::encode_frames(&entries(10, 3, 40)).unwrap()
    );
    assert_eq!(
        wire::decode_call_request(&body(&frames[7])).unwrap(),
        (5, &b"request"[..])
    );
    let p = wire::decode_preamble(&wire::encode_preamble(WireLane::Snapshot, 77)).unwrap();
    assert_eq!((p.lane, p.sender), (WireLane::Snapshot, 77));
    let mut asm = SnapshotAssembler::new(1000);
    assert_eq!(asm.feed(&body(&frames[3])).unwrap(), None);
    let (m, data) = asm.feed(&body(&frames[4])).unwrap().unwrap();
    assert!(matches!(m.body, MessageBody::InstallSnapshot { .. }));
    assert_eq!(data, vec![7u8; 100]);
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = StdRng::seed_from_u64(0xB1A5);
    for _ in 0..20_000 {
        let len = rng.gen_range(0..200);
        let mut buf: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        // Often start with a plausible kind byte so deeper paths run.
        if !buf.is_empty() && rng.gen_bool(0.7) {
            buf[0] = rng.gen_range(0..8);
        }
        decode_everything(&buf);
        let _ = split_all(&buf);
        let _ = wire::frame_len(&buf, rng.gen_range(0..MAX));
    }
}

#[test]
fn mutated_valid_frames_never_panic_and_corruption_is_caught() {
    let mut rng = StdRng::seed_from_u64(42);
    let frames = valid_frames();
    let mut crc_caught = 0;
    for i in 0..20_000 {
        let original = &frames[i % frames.len()];
        let mut f = original.clone();
        match rng.gen_range(0..4) {
            0 => {
                let flips = rng.gen_range(1..4);
                for _ in 0..flips {
                    let at = rng.gen_range(0..f.len());
                    f[at] ^= 1 << rng.gen_range(0..8);
                }
            }
            1 => f.truncate(rng.gen_range(0..f.len())),
            2 => {
                let extra = rng.gen_range(1..64);
                f.extend((0..extra).map(|_| rng.gen::<u8>()));
            }
            _ => {
                let at = rng.gen_range(0..f.len());
                f[at] = rng.gen();
            }
        }
        // Through the frame layer: a changed frame is rejected by the CRC or length.
        if f.len() >= original.len() && f[..original.len()] != original[..] {
            // Up to 3 bit flips or one changed byte: always within CRC32C's guarantees.
            let r = wire::split_frame(&f, MAX);
            if let Ok(Some(len)) = r {
                assert_ne!(len, original.len(), "a corrupted frame passed its CRC");
            }
            if r.is_err() {
                crc_caught += 1;
            }
        }
        let _ = split_all(&f);
        // Bypass the CRC so the body decoders see the corruption itself.
        if f.len() > wire::FRAME_HEADER_LEN {
            decode_everything(&f[wire::FRAME_HEADER_LEN..]);
        }
    }
    assert!(crc_caught > 1000, "{crc_caught}");
}

#[test]
fn snapshot_assembler_checks_offsets_and_lengths() {
    let snap = msg(
        1,
        2,
        MessageBody::InstallSnapshot {
            meta: SnapshotMeta::default(),
        },
    );
    let body = |f: Vec<u8>| f[wire::FRAME_HEADER_LEN..].to_vec();
    let begin = |n| body(wire::encode_snapshot_begin(&snap, n, MAX).unwrap());
    let chunk = |off, len| body(wire::encode_snapshot_chunk(off, &vec![1u8; len], MAX).unwrap());

    let mut a = SnapshotAssembler::new(100);
    assert!(a.feed(&chunk(0, 10)).is_err(), "chunk before begin");
    let mut a = SnapshotAssembler::new(100);
    assert!(a.feed(&begin(101)).is_err(), "over the limit");
    let mut a = SnapshotAssembler::new(100);
    a.feed(&begin(20)).unwrap();
    assert!(a.feed(&chunk(5, 10)).is_err(), "gap");
    let mut a = SnapshotAssembler::new(100);
    a.feed(&begin(20)).unwrap();
    a.feed(&chunk(0, 10)).unwrap();
    assert!(a.feed(&chunk(10, 11)).is_err(), "past the announced end");
    let mut a = SnapshotAssembler::new(100);
    a.feed(&begin(20)).unwrap();
    assert!(a.feed(&begin(20)).is_err(), "second begin mid-snapshot");
    // Announcing the maximum allocates nothing up front.
    let mut a = SnapshotAssembler::new(u64::MAX);
    assert_eq!(a.feed(&begin(u64::MAX)).unwrap(), None);

    // Random sequences of parts never panic.
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..5_000 {
        let mut a = SnapshotAssembler::new(rng.gen_range(0..64));
        for _ in 0..rng.gen_range(1..6) {
            let part = if rng.gen_bool(0.3) {
                begin(rng.gen_range(0..80))
            } else {
                chunk(rng.gen_range(0..40), rng.gen_range(0..30))
            };
            let _ = a.feed(&part);
        }
    }
}
