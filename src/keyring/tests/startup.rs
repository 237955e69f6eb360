mod common;

use ballast_keyring::{decode_key, lan_path, load, save, startup, wan_path, KeyringError};
use common::{key, ring, text, TempDir};

#[test]
fn encrypt_seeds_missing_files() {
    let d = TempDir::new("seed");
    let (lan, wan) = (lan_path(&d.0), wan_path(&d.0));
    let k = text(1);
    let s = startup(Some(&k), &lan, Some(&wan)).unwrap();
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(s.seeded, vec![lan.clone(), wan.clone()]);
    assert_eq!(s.lan.as_ref().unwrap().keys_base64(), vec![k.clone()]);
    assert_eq!(s.wan.as_ref().unwrap().keys_base64(), vec![k.clone()]);
    assert_eq!(load(&lan).unwrap().unwrap().keys_base64(), vec![k.clone()]);
    // Second start with the same key: files already there, nothing to say.
    let s = startup(Some(&k), &lan, Some(&wan)).unwrap();
    assert!(s.warnings.is_empty() && s.seeded.is_empty());
}

#[test]
fn client_without_wan_touches_only_lan() {
    let d = TempDir::new("client");
    let (lan, wan) = (lan_path(&d.0), wan_path(&d.0));
    let s = startup(Some(&text(1)), &lan, None).unwrap();
    assert!(s.lan.is_some() && s.wan.is_none());
    assert!(!wan.exists());
}

#[test]
fn no_encrypt_and_no_files_means_no_encryption() {
    let d = TempDir::new("plain");
    let s = startup(None, &lan_path(&d.0), Some(&wan_path(&d.0))).unwrap();
    assert!(s.lan.is_none() && s.wan.is_none() && s.warnings.is_empty());
    let s = startup(Some(""), &lan_path(&d.0), None).unwrap();
    assert!(s.lan.is_none(), "an empty -encrypt is unset, as in Consul");
}

#[test]
fn file_wins_over_encrypt_with_a_loud_warning() {
    let d = TempDir::new("mismatch");
    let (lan, wan) = (lan_path(&d.0), wan_path(&d.0));
    let persisted = ring(&[&key(1, 32), &key(2, 32)]);
    save(&lan, &persisted).unwrap();
    save(&wan, &persisted).unwrap();
    let configured = text(9);
    let s = startup(Some(&configured), &lan, Some(&wan)).unwrap();
    assert_eq!(s.lan.as_ref().unwrap(), &persisted, "the keyring file wins");
    assert_eq!(s.wan.as_ref().unwrap(), &persisted);
    assert!(s.seeded.is_empty());
    assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
    let w = &s.warnings[0];
    assert!(w.starts_with("WARNING: LAN keyring doesn't include key provided with -encrypt, using keyring"), "{w}");
    assert!(s.warnings[1].starts_with("WARNING: WAN keyring"), "{}", s.warnings[1]);
    // Both files named, both keys by fingerprint with positions, the commands to fix it.
    assert!(w.contains(&lan.display().to_string()) && w.contains(&wan.display().to_string()), "{w}");
    assert!(w.contains(&format!("{}…", &configured[..4])), "{w}");
    let primary = persisted.keys_base64()[0].clone();
    assert!(w.contains(&format!("#1 {}… (primary: encrypts)", &primary[..4])), "{w}");
    assert!(w.contains(&format!("#2 {}…", &persisted.keys_base64()[1][..4])), "{w}");
    assert!(w.contains("ballast keyring -install=<key>") && w.contains("ballast keyring -use=<key>"), "{w}");
    assert!(w.contains("delete"), "{w}");
    // Never a whole key.
    for k in persisted.keys_base64().iter().chain([&configured]) {
        assert!(!w.contains(k.as_str()), "whole key leaked: {w}");
    }
}

#[test]
fn encrypt_key_installed_but_not_primary_is_also_warned() {
    let d = TempDir::new("secondary");
    let lan = lan_path(&d.0);
    let configured = text(2);
    let persisted = ring(&[&key(1, 32), &decode_key(&configured).unwrap()]);
    save(&lan, &persisted).unwrap();
    let s = startup(Some(&configured), &lan, None).unwrap();
    assert_eq!(s.warnings.len(), 1);
    let w = &s.warnings[0];
    assert!(w.contains("is key #2 in"), "{w}");
    assert!(w.contains("not the primary"), "{w}");
    assert!(!w.contains(&configured), "{w}");
}

#[test]
fn encrypt_matching_the_primary_is_quiet() {
    let d = TempDir::new("match");
    let lan = lan_path(&d.0);
    let configured = text(1);
    save(&lan, &ring(&[&decode_key(&configured).unwrap(), &key(5, 32)])).unwrap();
    assert!(startup(Some(&configured), &lan, None).unwrap().warnings.is_empty());
}

#[test]
fn only_one_pool_encrypted_is_warned() {
    let d = TempDir::new("half");
    let (lan, wan) = (lan_path(&d.0), wan_path(&d.0));
    save(&lan, &ring(&[&key(1, 32)])).unwrap();
    let s = startup(None, &lan, Some(&wan)).unwrap();
    assert!(s.lan.is_some() && s.wan.is_none());
    assert_eq!(s.warnings.len(), 1);
    assert!(s.warnings[0].contains("WAN gossip is NOT"), "{}", s.warnings[0]);
}

#[test]
fn bad_encrypt_key_or_bad_file_stops_startup() {
    let d = TempDir::new("errors");
    let (lan, wan) = (lan_path(&d.0), wan_path(&d.0));
    let e = startup(Some("this is not a valid key"), &lan, Some(&wan)).unwrap_err();
    assert_eq!(e.to_string(), "Invalid key: illegal base64 data at input byte 4");
    assert!(!lan.exists(), "nothing written for a bad key");
    std::fs::create_dir_all(lan.parent().unwrap()).unwrap();
    std::fs::write(&lan, "garbage").unwrap();
    let e = startup(Some(&text(1)), &lan, Some(&wan)).unwrap_err();
    assert!(matches!(e, KeyringError::File { .. }), "{e}");
}
