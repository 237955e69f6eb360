mod common;

use std::os::unix::fs::PermissionsExt;

use ballast_keyring::{lan_path, load, save, wan_path, KeyringError};
use common::{key, ring, text, TempDir};

#[test]
fn missing_file_is_none() {
    let d = TempDir::new("missing");
    assert!(load(&lan_path(&d.0)).unwrap().is_none());
}

#[test]
fn paths_are_consuls() {
    let d = std::path::Path::new("/var/consul");
    assert_eq!(lan_path(d), std::path::Path::new("/var/consul/serf/local.keyring"));
    assert_eq!(wan_path(d), std::path::Path::new("/var/consul/serf/remote.keyring"));
}

#[test]
fn save_then_load_round_trips_in_order_with_mode_0600() {
    let d = TempDir::new("roundtrip");
    let path = lan_path(&d.0);
    let r = ring(&[&key(3, 32), &key(1, 16), &key(2, 24)]);
    save(&path, &r).unwrap();
    assert_eq!(load(&path).unwrap().unwrap(), r);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let dir_mode = std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777;
    assert_eq!(dir_mode, 0o700);
    // The file is Consul's format: a JSON array of base64 keys, primary first.
    let json: Vec<String> = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(json, r.keys_base64());
}

#[test]
fn reads_a_file_consul_wrote() {
    let d = TempDir::new("consul");
    let path = lan_path(&d.0);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let (a, b) = (text(1), text(2));
    std::fs::write(&path, format!("[\"{a}\",\"{b}\"]")).unwrap();
    let r = load(&path).unwrap().unwrap();
    assert_eq!(r.keys_base64(), vec![a, b]);
}

#[test]
fn save_replaces_atomically_and_leaves_no_temp_files() {
    let d = TempDir::new("replace");
    let path = wan_path(&d.0);
    save(&path, &ring(&[&key(1, 32)])).unwrap();
    let mut r = ring(&[&key(1, 32)]);
    r.install(&key(2, 32)).unwrap();
    r.use_key(&key(2, 32)).unwrap();
    save(&path, &r).unwrap();
    assert_eq!(load(&path).unwrap().unwrap(), r);
    let names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["remote.keyring".to_string()]);
}

#[test]
fn bad_files_are_errors_naming_the_file() {
    let d = TempDir::new("bad");
    let path = lan_path(&d.0);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let cases: Vec<(String, &str)> = vec![
        ("not json".into(), "not a JSON array"),
        ("{\"a\":1}".into(), "not a JSON array"),
        ("[\"%%%%\"]".into(), "Invalid key: illegal base64 data at input byte 0"),
        (format!("[\"{}\", \"AAAA\"]", text(1)), "key #2 (from 1): Invalid key: key size must be 16, 24 or 32 bytes"),
    ];
    for (body, want) in cases {
        std::fs::write(&path, &body).unwrap();
        let e = load(&path).unwrap_err().to_string();
        assert!(e.contains(&path.display().to_string()), "{e}");
        assert!(e.contains(want), "{body:?}: {e}");
    }
    std::fs::write(&path, "[]").unwrap();
    let e = load(&path).unwrap_err();
    assert!(matches!(e, KeyringError::EmptyKeyringFile(_)));
    assert_eq!(e.to_string(), format!("no keys present in keyring: {}", path.display()));
}
