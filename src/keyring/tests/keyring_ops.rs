mod common;

use ballast_keyring::{messages, validate_key, Keyring, KeyringError};
use common::{key, ring};

#[test]
fn new_puts_primary_first_and_drops_duplicates() {
    let (a, b, c) = (key(1, 32), key(2, 32), key(3, 16));
    let r = Keyring::new(&a, &[&b, &a, &c, &b]).unwrap();
    assert_eq!(r.keys(), vec![&a[..], &b[..], &c[..]]);
    assert_eq!(r.primary(), &a[..]);
    assert_eq!(r.len(), 3);
}

#[test]
fn key_sizes_are_memberlists() {
    for n in [16, 24, 32] {
        assert!(validate_key(&vec![0u8; n]).is_ok(), "{n}");
        assert!(Keyring::new(&vec![9u8; n], &[]).is_ok());
    }
    for n in [0, 1, 15, 17, 23, 31, 33, 64] {
        let e = validate_key(&vec![0u8; n]).unwrap_err();
        assert_eq!(e.to_string(), "key size must be 16, 24 or 32 bytes");
        assert!(Keyring::new(&vec![0u8; n], &[]).is_err());
    }
    let mut r = ring(&[&key(1, 32)]);
    assert!(matches!(r.install(&[0u8; 20]), Err(KeyringError::KeySize(20))));
    assert_eq!(r.len(), 1);
}

#[test]
fn install_appends_and_is_idempotent() {
    let (a, b) = (key(1, 32), key(2, 32));
    let mut r = ring(&[&a]);
    r.install(&b).unwrap();
    r.install(&b).unwrap();
    r.install(&a).unwrap();
    assert_eq!(r.keys(), vec![&a[..], &b[..]]);
    assert_eq!(r.primary(), &a[..], "install never changes the primary");
}

#[test]
fn use_key_moves_to_front_keeping_the_rest_in_order() {
    let (a, b, c) = (key(1, 32), key(2, 32), key(3, 32));
    let mut r = ring(&[&a, &b, &c]);
    r.use_key(&c).unwrap();
    assert_eq!(r.keys(), vec![&c[..], &a[..], &b[..]]);
    r.use_key(&c).unwrap();
    assert_eq!(r.primary(), &c[..]);
    let e = r.use_key(&key(4, 32)).unwrap_err();
    assert_eq!(e.to_string(), "Requested key is not in the keyring");
    assert_eq!(e.to_string(), messages::KEY_NOT_IN_KEYRING);
    assert_eq!(r.primary(), &c[..]);
}

#[test]
fn remove_refuses_primary_and_absent_keys() {
    let (a, b) = (key(1, 32), key(2, 32));
    let mut r = ring(&[&a, &b]);
    let e = r.remove(&a).unwrap_err();
    assert_eq!(e.to_string(), "Removing the primary key is not allowed");
    assert!(matches!(r.remove(&key(7, 32)), Err(KeyringError::KeyNotInKeyring)));
    r.remove(&b).unwrap();
    assert_eq!(r.keys(), vec![&a[..]]);
    assert!(!r.contains(&b));
}

#[test]
fn debug_never_shows_whole_keys() {
    let a = key(1, 32);
    let r = ring(&[&a]);
    let shown = format!("{r:?}");
    let full = ballast_keyring::encode_key(&a);
    assert!(!shown.contains(&full), "{shown}");
    assert!(shown.contains(&full[..4]), "{shown}");
}

#[test]
fn clone_and_eq_follow_the_keys() {
    let (a, b) = (key(1, 32), key(2, 24));
    let r = ring(&[&a, &b]);
    let c = r.clone();
    assert_eq!(r, c);
    let mut plain = Vec::new();
    c.seal(b"hi", &mut plain).unwrap();
    assert_eq!(r.open(&plain).unwrap(), b"hi");
    assert_ne!(r, ring(&[&b, &a]), "order matters");
}
