use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{node, register};
use crate::persist_fs::id_hash;
use crate::{decode_check_registration, LocalConfig, LocalState};

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "ballast-local-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn persisted(dir: &TempDir) -> LocalState {
    LocalState::new(node(), LocalConfig { data_dir: Some(dir.0.clone()), ..LocalConfig::default() })
}

#[test]
fn round_trip_services_checks_and_ttl_state() {
    let dir = TempDir::new();
    let mut st = persisted(&dir);
    register(
        &mut st,
        r#"{"Name":"web","ID":"web/1","Tags":["a"],"Address":"10.0.0.2","Port":80,"Meta":{"k":"v"},
            "Checks":[{"CheckID":"ttl","TTL":"1h"},{"CheckID":"http","HTTP":"http://x","Interval":"10s","Timeout":"1s"}]}"#,
    );
    let d = decode_check_registration(br#"{"Name":"disk","TTL":"30s"}"#).unwrap();
    st.register_check(&d, "tok").unwrap();
    st.update_ttl_check("ttl", "passing", "alive").unwrap();
    st.update_check("http", "passing", "200 OK");
    st.enable_node_maintenance("", "").unwrap();

    // One file per entry, named by the SHA-256 of its ID.
    assert!(dir.0.join("services").join(id_hash("web/1")).is_file());
    assert!(dir.0.join("checks").join(id_hash("disk")).is_file());
    assert!(dir.0.join("checks/state").join(id_hash("ttl")).is_file());

    let (back, warnings) = LocalState::load(&dir.0, node(), LocalConfig::default());
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(back.service("web/1"), st.service("web/1"));
    assert_eq!(back.check("ttl").unwrap().status, "passing", "TTL state restored");
    assert_eq!(back.check("ttl").unwrap().output, "alive");
    assert_eq!(back.check("http").unwrap().status, "critical", "other checks restart critical");
    assert_eq!(back.check_state("disk").unwrap().token, "tok");
    assert_eq!(back.check_state("http").unwrap().check_type, st.check_state("http").unwrap().check_type);
    assert!(back.node_in_maintenance());
    assert_eq!(back.config().data_dir.as_deref(), Some(dir.0.as_path()));
}

#[test]
fn deregistration_purges_files() {
    let dir = TempDir::new();
    let mut st = persisted(&dir);
    register(&mut st, r#"{"Name":"web","Check":{"TTL":"10s"}}"#);
    st.update_ttl_check("service:web", "passing", "").unwrap();
    st.deregister_service("web").unwrap();
    let (back, warnings) = LocalState::load(&dir.0, node(), LocalConfig::default());
    assert!(warnings.is_empty());
    assert!(back.service("web").is_none() && back.check("service:web").is_none());
    assert!(!dir.0.join("checks/state").join(id_hash("service:web")).exists());
}

#[test]
fn corrupt_files_are_skipped_with_warnings() {
    let dir = TempDir::new();
    let mut st = persisted(&dir);
    register(&mut st, r#"{"Name":"good","Check":{"TTL":"10s"}}"#);
    fs::write(dir.0.join("services").join("garbage"), b"{not json").unwrap();
    fs::write(dir.0.join("services").join("half.tmp"), b"{").unwrap();
    fs::write(dir.0.join("checks").join("garbage"), [0xff, 0x00, 0x12]).unwrap();
    // A check whose service file is gone.
    let orphan = fs::read(dir.0.join("checks").join(id_hash("service:good"))).unwrap();
    let orphan = String::from_utf8(orphan).unwrap().replace("\"ServiceID\":\"good\"", "\"ServiceID\":\"gone\"");
    fs::write(dir.0.join("checks").join("orphan"), orphan.replace("service:good", "orphan-check")).unwrap();
    fs::create_dir_all(dir.0.join("checks/state")).unwrap();
    fs::write(dir.0.join("checks/state").join(id_hash("service:good")), b"[]").unwrap();

    let (back, warnings) = LocalState::load(&dir.0, node(), LocalConfig::default());
    assert!(back.service("good").is_some());
    assert!(back.check("service:good").is_some());
    assert!(back.check("orphan-check").is_none());
    assert_eq!(warnings.len(), 5, "{warnings:#?}");
    assert!(warnings.iter().any(|w| w.starts_with("Failed decoding service file")));
    assert!(warnings.iter().any(|w| w.starts_with("Ignoring temporary service file")));
    assert!(warnings.iter().any(|w| w.starts_with("Failed decoding check file")));
    assert!(warnings.iter().any(|w| w.contains("ServiceID \"gone\" does not exist")));
    assert!(warnings.iter().any(|w| w.starts_with("failed decoding check state")));
}

#[test]
fn expired_ttl_state_is_not_restored() {
    let dir = TempDir::new();
    let mut st = persisted(&dir);
    register(&mut st, r#"{"Name":"web","Check":{"TTL":"10s"}}"#);
    st.update_ttl_check("service:web", "passing", "x").unwrap();
    let path = dir.0.join("checks/state").join(id_hash("service:web"));
    fs::write(&path, br#"{"CheckID":"service:web","Status":"passing","Output":"x","Expires":1}"#).unwrap();
    let (back, warnings) = LocalState::load(&dir.0, node(), LocalConfig::default());
    assert!(warnings.is_empty());
    assert_eq!(back.check("service:web").unwrap().status, "critical");
    assert!(!path.exists(), "expired state purged");
}

#[test]
fn missing_dir_loads_empty() {
    let dir = TempDir::new();
    let (st, warnings) = LocalState::load(&dir.0.join("nope"), node(), LocalConfig::default());
    assert!(warnings.is_empty());
    assert_eq!(st.services().count(), 0);
}
