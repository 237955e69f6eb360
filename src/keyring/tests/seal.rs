mod common;

use ballast_keyring::{Keyring, KeyringError, ENCRYPTION_VERSION, OVERHEAD};
use common::{key, ring};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn overhead_and_layout() {
    assert_eq!(OVERHEAD, 29);
    let r = ring(&[&key(1, 32)]);
    let mut out = b"prefix".to_vec();
    r.seal(b"hello gossip", &mut out).unwrap();
    assert_eq!(&out[..6], b"prefix", "seal appends");
    let packet = &out[6..];
    assert_eq!(packet.len(), 12 + OVERHEAD);
    assert_eq!(packet[0], ENCRYPTION_VERSION);
    assert_eq!(packet[0], 1);
    assert_eq!(r.open(packet).unwrap(), b"hello gossip");
}

#[test]
fn nonces_differ_between_packets() {
    let r = ring(&[&key(1, 16)]);
    let (mut p1, mut p2) = (Vec::new(), Vec::new());
    r.seal(b"same", &mut p1).unwrap();
    r.seal(b"same", &mut p2).unwrap();
    assert_ne!(p1[1..13], p2[1..13]);
    assert_ne!(p1, p2);
}

#[test]
fn every_key_size_round_trips() {
    for n in [16, 24, 32] {
        let r = ring(&[&key(5, n)]);
        for len in [0usize, 1, 15, 16, 17, 1400] {
            let msg: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut p = Vec::new();
            r.seal(&msg, &mut p).unwrap();
            assert_eq!(p.len(), len + OVERHEAD);
            assert_eq!(r.open(&p).unwrap(), msg, "key {n} len {len}");
        }
    }
}

#[test]
fn secondary_key_decrypts_and_missing_key_fails() {
    let (a, b) = (key(1, 32), key(2, 32));
    let sender = ring(&[&a]);
    let mut p = Vec::new();
    sender.seal(b"payload", &mut p).unwrap();
    assert_eq!(ring(&[&b, &a]).open(&p).unwrap(), b"payload");
    let e = ring(&[&b]).open(&p).unwrap_err();
    assert!(matches!(e, KeyringError::NoKeyDecrypts));
    assert_eq!(e.to_string(), "No installed keys could decrypt the message");
}

#[test]
fn rotation_install_use_remove_keeps_traffic_flowing() {
    let (old, new) = (key(1, 32), key(2, 32));
    let mut x = ring(&[&old]);
    let mut y = ring(&[&old]);
    x.install(&new).unwrap();
    y.install(&new).unwrap();
    x.use_key(&new).unwrap();
    // y has not switched yet: it still reads x, and x still reads y.
    let (mut px, mut py) = (Vec::new(), Vec::new());
    x.seal(b"from x", &mut px).unwrap();
    y.seal(b"from y", &mut py).unwrap();
    assert_eq!(y.open(&px).unwrap(), b"from x");
    assert_eq!(x.open(&py).unwrap(), b"from y");
    y.use_key(&new).unwrap();
    x.remove(&old).unwrap();
    y.remove(&old).unwrap();
    assert!(x.open(&py).is_err(), "old-key packets are refused once the old key is removed");
}

#[test]
fn any_tampered_byte_fails() {
    let r = ring(&[&key(3, 32)]);
    let mut p = Vec::new();
    r.seal(b"do not touch", &mut p).unwrap();
    for i in 1..p.len() {
        let mut bad = p.clone();
        bad[i] ^= 0x01;
        assert!(r.open(&bad).is_err(), "flip at byte {i} was accepted");
    }
    let mut bad = p.clone();
    bad[0] = 7;
    assert_eq!(r.open(&bad).unwrap_err().to_string(), "Unsupported encryption version 7");
    assert!(r.open(&p[..p.len() - 1]).is_err());
}

#[test]
fn label_is_bound_as_additional_data() {
    let r = ring(&[&key(3, 32)]);
    let mut p = Vec::new();
    r.seal_with_label(b"dc1-prod", b"msg", &mut p).unwrap();
    assert_eq!(r.open_with_label(b"dc1-prod", &p).unwrap(), b"msg");
    assert!(r.open_with_label(b"dc1-test", &p).is_err());
    assert!(r.open(&p).is_err());
}

#[test]
fn short_and_empty_packets_have_memberlists_errors() {
    let r = ring(&[&key(3, 32)]);
    assert_eq!(r.open(&[]).unwrap_err().to_string(), "Cannot decrypt empty payload");
    assert_eq!(r.open(&[1u8; 28]).unwrap_err().to_string(), "Payload is too small to decrypt: 28");
    assert_eq!(r.open(&[0u8; 44]).unwrap_err().to_string(), "Payload is too small to decrypt: 44");
    // 29 bytes is an empty v1 message: well-formed length, wrong tag.
    assert!(matches!(r.open(&[1u8; 29]), Err(KeyringError::NoKeyDecrypts)));
}

// Known answers: the GCM spec's test cases 3 (AES-128), 9 (AES-192) and 15 (AES-256),
// laid out as memberlist packets. Proves the layout and the ciphers, not just a round trip.
#[test]
fn opens_gcm_spec_vectors_in_memberlist_layout() {
    let iv = hex("cafebabefacedbaddecaf888");
    let plain = hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255");
    let cases = [
        (
            "feffe9928665731c6d6a8f9467308308",
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
            "4d5c2af327cd64a62cf35abd2ba6fab4",
        ),
        (
            "feffe9928665731c6d6a8f9467308308feffe9928665731c",
            "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710acade256",
            "9924a7c8587336bfb118024db8674a14",
        ),
        (
            "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
            "b094dac5d93471bdec1a502270e3cc6c",
        ),
    ];
    for (k, c, t) in cases {
        let mut packet = vec![1u8];
        packet.extend(&iv);
        packet.extend(hex(c));
        packet.extend(hex(t));
        let r = Keyring::new(&hex(k), &[]).unwrap();
        assert_eq!(r.open(&packet).unwrap(), plain, "key {k}");
    }
}
