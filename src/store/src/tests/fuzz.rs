//! Decoders and apply never panic on arbitrary or corrupted bytes.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::determinism::random_command;
use super::support::Harness;
use crate::{decode_command, decode_snapshot, encode_command, encode_snapshot, Applier, Store};

fn mutate(rng: &mut StdRng, bytes: &[u8]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    match rng.gen_range(0..5) {
        0 if !b.is_empty() => {
            let i = rng.gen_range(0..b.len());
            b[i] ^= 1 << rng.gen_range(0..8);
        }
        1 if !b.is_empty() => {
            let i = rng.gen_range(0..b.len());
            b[i] = rng.gen();
        }
        2 => {
            let n = rng.gen_range(0..=b.len());
            b.truncate(n);
        }
        3 => {
            for _ in 0..rng.gen_range(1..16) {
                b.push(rng.gen());
            }
        }
        _ => {
            for _ in 0..rng.gen_range(1..8) {
                if b.is_empty() {
                    break;
                }
                let i = rng.gen_range(0..b.len());
                b[i] = rng.gen();
            }
        }
    }
    b
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = StdRng::seed_from_u64(0xba11a57);
    let mut applier = Applier::new(Store::new());
    for i in 0..20_000u64 {
        let len = rng.gen_range(0..200);
        let bytes: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        let _ = decode_command(&bytes);
        let _ = decode_snapshot(&bytes);
        let _ = applier.apply(i + 1, &bytes);
    }
}

#[test]
fn mutated_commands_never_panic() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut h = Harness::new();
    h.add_session("s0");
    for _ in 0..20_000 {
        let cmd = random_command(&mut rng);
        let bytes = mutate(&mut rng, &encode_command(&cmd));
        let _ = decode_command(&bytes);
        let idx = h.at();
        h.next += 1;
        let _ = h.applier.apply(idx, &bytes);
    }
    // Whatever got through left a usable state.
    let _ = h.state().kv_list("");
    assert!(decode_snapshot(&encode_snapshot(h.state())).is_ok());
}

#[test]
fn mutated_snapshots_never_panic() {
    let mut rng = StdRng::seed_from_u64(11);
    let mut h = Harness::new();
    h.add_session("s0");
    for _ in 0..200 {
        let cmd = random_command(&mut rng);
        h.run(cmd);
    }
    let good = encode_snapshot(h.state());
    let mut accepted = 0;
    for _ in 0..3_000 {
        let bytes = mutate(&mut rng, &good);
        if let Ok(s) = decode_snapshot(&bytes) {
            accepted += 1;
            let _ = s.kv_keys("", Some("/"));
        }
    }
    assert!(
        accepted < 3_000,
        "corruption must be caught at least sometimes"
    );
}
