//! Random and mutated input into every decoder that reads network or file bytes:
//! none may panic, and none may accept a forged packet.

mod common;

use ballast_keyring::{decode_base64, KeyOp, KeyOpReply, Keyring};
use common::{key, ring};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn mutate(rng: &mut StdRng, base: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    for _ in 0..rng.gen_range(1..4) {
        match rng.gen_range(0..4) {
            0 if !v.is_empty() => {
                let i = rng.gen_range(0..v.len());
                v[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if !v.is_empty() => {
                let n = rng.gen_range(0..v.len());
                v.truncate(n);
            }
            2 => {
                let i = rng.gen_range(0..=v.len());
                v.insert(i, rng.gen());
            }
            _ if !v.is_empty() => {
                let i = rng.gen_range(0..v.len());
                v[i] = rng.gen();
            }
            _ => v.push(rng.gen()),
        }
    }
    v
}

fn random_bytes(rng: &mut StdRng, max: usize) -> Vec<u8> {
    let n = rng.gen_range(0..=max);
    (0..n).map(|_| rng.gen()).collect()
}

#[test]
fn open_rejects_random_and_mutated_packets() {
    let mut rng = StdRng::seed_from_u64(0x6b65_7972);
    let r: Keyring = ring(&[&key(1, 32), &key(2, 16), &key(3, 24)]);
    let mut sealed = Vec::new();
    r.seal(b"a gossip message of some length", &mut sealed).unwrap();
    for _ in 0..20_000 {
        let garbage = random_bytes(&mut rng, 120);
        assert!(r.open(&garbage).is_err(), "random packet accepted: {garbage:?}");
        let m = mutate(&mut rng, &sealed);
        if m != sealed {
            assert!(r.open(&m).is_err(), "mutated packet accepted");
        }
    }
    assert!(r.open(&sealed).is_ok());
}

#[test]
fn keyop_decoders_never_panic() {
    let mut rng = StdRng::seed_from_u64(42);
    let ops: Vec<Vec<u8>> = vec![
        KeyOp::List.encode(),
        KeyOp::Install(key(1, 32)).encode(),
        KeyOp::Remove(key(1, 16)).encode(),
        KeyOpReply { result: Err("Removing the primary key is not allowed".into()), keys: vec!["AAAA".into(), "BBBB".into()], primary: Some("AAAA".into()) }
            .encode()
            .unwrap(),
    ];
    for _ in 0..50_000 {
        let input = if rng.gen_bool(0.5) {
            random_bytes(&mut rng, 64)
        } else {
            let i = rng.gen_range(0..ops.len());
            mutate(&mut rng, &ops[i])
        };
        // Whatever decodes must encode back to the same bytes: no silent reinterpretation.
        if let Ok(op) = KeyOp::decode(&input) {
            assert_eq!(op.encode(), input);
        }
        if let Ok(reply) = KeyOpReply::decode(&input) {
            assert_eq!(reply.encode().unwrap(), input);
        }
    }
}

#[test]
fn base64_decoder_never_panics() {
    let mut rng = StdRng::seed_from_u64(7);
    let alphabet = b"ABCDEFabcdef0123456789+/=\n\r %\xc3\xa9";
    for _ in 0..20_000 {
        let n = rng.gen_range(0..60);
        let bytes: Vec<u8> = (0..n).map(|_| alphabet[rng.gen_range(0..alphabet.len())]).collect();
        let text = String::from_utf8_lossy(&bytes);
        let _ = decode_base64(&text);
    }
}
