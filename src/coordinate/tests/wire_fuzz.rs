//! The wire decoder meets hostile bytes: random garbage and mutations of good payloads.
//! It must never panic, and whatever it accepts must be valid and re-encode to the same
//! bytes (one encoding per coordinate, so nothing odd can hide in a payload).

use ballast_coordinate::wire::{decode, encode, encoded_len, MAX_DIMENSIONS};
use ballast_coordinate::{Coordinate, SplitMix64};

fn random_coordinate(rng: &mut SplitMix64, dims: usize) -> Coordinate {
    let mut v = || (rng.next_f64() - 0.5) * 0.2;
    Coordinate { vec: (0..dims).map(|_| v()).collect(), error: v().abs(), adjustment: v(), height: v().abs() }
}

fn check(bytes: &[u8]) -> bool {
    match decode(bytes) {
        Ok(c) => {
            assert!(c.is_valid());
            assert_eq!(encode(&c).expect("accepted coordinate re-encodes"), bytes);
            true
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            false
        }
    }
}

#[test]
fn valid_coordinates_round_trip() {
    let mut rng = SplitMix64::new(11);
    for _ in 0..2_000 {
        let dims = 1 + rng.below(MAX_DIMENSIONS);
        let c = random_coordinate(&mut rng, dims);
        let bytes = encode(&c).unwrap();
        assert_eq!(bytes.len(), encoded_len(dims));
        assert_eq!(decode(&bytes).unwrap(), c);
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = SplitMix64::new(12);
    let mut accepted = 0;
    for _ in 0..200_000 {
        let len = rng.below(300);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        // Half the time give it a plausible header so the body checks get exercised too.
        if len >= 2 && rng.below(2) == 0 {
            bytes[0] = 1;
            bytes[1] = 1 + rng.below(MAX_DIMENSIONS) as u8;
            bytes.truncate(encoded_len(usize::from(bytes[1])));
        }
        accepted += usize::from(check(&bytes));
    }
    // Random f64 bit patterns are mostly finite, so some well-framed inputs must pass;
    // this proves the generator reaches the success path, not only the error paths.
    assert!(accepted > 0);
}

#[test]
fn mutated_payloads_never_panic() {
    let mut rng = SplitMix64::new(13);
    let (mut accepted, mut rejected) = (0, 0);
    for _ in 0..100_000 {
        let dims = 1 + rng.below(MAX_DIMENSIONS);
        let mut bytes = encode(&random_coordinate(&mut rng, dims)).unwrap();
        for _ in 0..1 + rng.below(4) {
            match rng.below(5) {
                0 => {
                    let i = rng.below(bytes.len());
                    bytes[i] ^= 1 << rng.below(8);
                }
                1 => {
                    let i = rng.below(bytes.len());
                    bytes[i] = rng.next_u64() as u8;
                }
                2 => bytes.truncate(rng.below(bytes.len() + 1)),
                3 => bytes.extend((0..1 + rng.below(16)).map(|_| rng.next_u64() as u8)),
                _ => {
                    // Overwrite one f64 slot with a NaN or infinity.
                    let slots = (bytes.len().saturating_sub(2)) / 8;
                    if slots > 0 {
                        let at = 2 + 8 * rng.below(slots);
                        let bad = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY][rng.below(3)];
                        bytes[at..at + 8].copy_from_slice(&bad.to_le_bytes());
                    }
                }
            }
            if bytes.is_empty() {
                break;
            }
        }
        if check(&bytes) {
            accepted += 1;
        } else {
            rejected += 1;
        }
    }
    assert!(accepted > 0 && rejected > 0, "accepted {accepted} rejected {rejected}");
}
