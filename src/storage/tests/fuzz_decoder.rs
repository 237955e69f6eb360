//! Thousands of random mutations of valid segments through every decoder: no panic, and
//! whatever is accepted is a correct prefix of what was written.
mod common;

use ballast_storage::inspect::scan_segment;
use ballast_storage::{decode_entries, encode_frames, verify_frames};
use common::entry;
use rand::{Rng, SeedableRng};
use rkyv::util::AlignedVec;

#[test]
fn mutated_segments_never_panic_the_decoders() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xba11a57);
    let originals: Vec<(Vec<ballast_raft::Entry>, Vec<u8>)> = (0..8u64)
        .map(|k| {
            let entries: Vec<_> = (0..(5 + k * 4))
                .map(|i| entry(10 + i, 1 + i / 3, (i as usize * 13 + k as usize * 7) % 90))
                .collect();
            let bytes = encode_frames(&entries).unwrap();
            (entries, bytes)
        })
        .collect();
    let mut accepted_whole = 0;
    for round in 0..6000 {
        let (entries, original) = &originals[round % originals.len()];
        let mut bytes = original.clone();
        match rng.gen_range(0..6) {
            0 => {
                for _ in 0..rng.gen_range(1..4) {
                    let i = rng.gen_range(0..bytes.len());
                    bytes[i] ^= 1 << rng.gen_range(0..8);
                }
            }
            1 => bytes.truncate(rng.gen_range(0..bytes.len())),
            2 => {
                let a = rng.gen_range(0..bytes.len());
                let b = rng.gen_range(a..=bytes.len().min(a + 64));
                rng.fill(&mut bytes[a..b]);
            }
            3 => {
                let a = rng.gen_range(0..bytes.len());
                let b = rng.gen_range(a..=bytes.len());
                bytes[a..b].fill(0);
            }
            4 => {
                let i = rng.gen_range(0..bytes.len());
                bytes[i] = rng.gen();
                bytes.extend((0..rng.gen_range(0..40)).map(|_| rng.gen::<u8>()));
            }
            _ => {
                // Overwrite a length field with something huge or tiny.
                let i = rng.gen_range(0..bytes.len() / 16) * 16;
                let v: u32 = if rng.gen() {
                    u32::MAX - rng.gen_range(0..100)
                } else {
                    rng.gen_range(0..64)
                };
                bytes[i..i + 4].copy_from_slice(&v.to_le_bytes());
            }
        }
        // Aligned (as from disk) and misaligned (as from the network) inputs.
        let mut aligned = AlignedVec::<16>::new();
        aligned.extend_from_slice(&bytes);
        let mut shifted = vec![0u8; bytes.len() + 3];
        shifted[3..].copy_from_slice(&bytes);
        for input in [&aligned[..], &shifted[3..]] {
            let scan = scan_segment(input, 10);
            // Everything recovery would keep is exactly what was written.
            for (k, f) in scan.frames.iter().enumerate() {
                assert_eq!(f.index, entries[k].index);
                assert_eq!(f.term, entries[k].term);
            }
            if let Some(d) = &scan.damage {
                assert_eq!(d.offset, scan.end);
            }
            if let Ok(decoded) = decode_entries(input) {
                // Accepting a mutated batch is only fine when it decodes to a prefix of
                // the original (e.g. truncation on a frame boundary).
                assert!(decoded.len() <= entries.len());
                assert_eq!(&decoded[..], &entries[..decoded.len()]);
                accepted_whole += 1;
            }
            let _ = verify_frames(input);
        }
    }
    // Sanity: the loop really exercised both outcomes.
    assert!(accepted_whole > 0);
}
