mod common;

use ballast_keyring::{apply, messages, KeyOp, KeyOpReply, KeyringError};
use common::{key, ring};

#[test]
fn ops_round_trip() {
    for op in [KeyOp::List, KeyOp::Install(key(1, 32)), KeyOp::Use(key(2, 16)), KeyOp::Remove(key(3, 24)), KeyOp::Install(vec![])] {
        assert_eq!(KeyOp::decode(&op.encode()).unwrap(), op);
    }
    assert_eq!(KeyOp::List.query_name(), "list-keys");
    assert_eq!(KeyOp::Install(vec![]).query_name(), "install-key");
}

#[test]
fn replies_round_trip() {
    let replies = [
        KeyOpReply::ok(),
        KeyOpReply::error("Requested key is not in the keyring"),
        KeyOpReply { result: Ok(()), keys: vec!["AAAA".into(), "BBBB".into()], primary: Some("AAAA".into()) },
        KeyOpReply { result: Err("ünïcode".into()), keys: vec![], primary: Some(String::new()) },
    ];
    for r in replies {
        assert_eq!(KeyOpReply::decode(&r.encode().unwrap()).unwrap(), r);
    }
}

#[test]
fn long_messages_are_cut_at_a_char_boundary() {
    let r = KeyOpReply::error("é".repeat(2000));
    let back = KeyOpReply::decode(&r.encode().unwrap()).unwrap();
    let msg = back.result.unwrap_err();
    assert!(msg.len() <= 1024 && msg.chars().all(|c| c == 'é'));
}

#[test]
fn bad_input_is_an_error() {
    let good = KeyOp::Install(key(1, 32)).encode();
    assert!(KeyOp::decode(&[]).is_err());
    assert!(KeyOp::decode(&[2, 1]).is_err(), "unknown version");
    assert!(KeyOp::decode(&[1, 9]).is_err(), "unknown op");
    assert!(KeyOp::decode(&good[..good.len() - 1]).is_err(), "truncated");
    let mut long = good.clone();
    long.push(0);
    assert!(matches!(KeyOp::decode(&long), Err(KeyringError::Wire("trailing bytes"))));
    assert!(KeyOpReply::decode(&[1, 1, 200]).is_err(), "too many keys");
    assert!(KeyOpReply::decode(&[1, 1, 1, 2, 0xff, 0xfe, 0]).is_err(), "not UTF-8");
    assert!(KeyOpReply::decode(&[1, 2, 0, 0]).is_err(), "bad flag");
}

#[test]
fn apply_speaks_serfs_replies() {
    let (a, b) = (key(1, 32), key(2, 32));
    assert_eq!(apply(None, &KeyOp::List).result, Err(messages::KEYRING_EMPTY.to_string()));
    assert_eq!(apply(None, &KeyOp::Install(a.clone())).result, Err("No keyring to modify (encryption not enabled)".to_string()));

    let mut r = ring(&[&a]);
    assert_eq!(apply(Some(&mut r), &KeyOp::Install(b.clone())), KeyOpReply::ok());
    assert_eq!(apply(Some(&mut r), &KeyOp::Use(b.clone())), KeyOpReply::ok());
    assert_eq!(r.primary(), &b[..]);
    let list = apply(Some(&mut r), &KeyOp::List);
    assert_eq!(list.keys, r.keys_base64());
    assert_eq!(list.primary.as_deref(), Some(r.keys_base64()[0].as_str()));
    assert_eq!(apply(Some(&mut r), &KeyOp::Remove(b.clone())).result, Err("Removing the primary key is not allowed".to_string()));
    assert_eq!(apply(Some(&mut r), &KeyOp::Use(key(9, 32))).result, Err("Requested key is not in the keyring".to_string()));
    assert_eq!(apply(Some(&mut r), &KeyOp::Install(vec![1; 5])).result, Err("key size must be 16, 24 or 32 bytes".to_string()));
    assert_eq!(apply(Some(&mut r), &KeyOp::Remove(a.clone())), KeyOpReply::ok());
    // Removing a key that is already gone succeeds, as memberlist's RemoveKey does.
    assert_eq!(apply(Some(&mut r), &KeyOp::Remove(a.clone())), KeyOpReply::ok());
    assert_eq!(r.len(), 1);
}
