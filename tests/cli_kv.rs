//! `ballast kv` against a real agent, addressed through CONSUL_HTTP_ADDR as Consul's CLI is.
mod common;
use common::*;
use std::process::Command;
use std::time::Duration;

fn kv(addr: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin()).arg("kv").args(args).env("CONSUL_HTTP_ADDR", addr).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn kv_put_get_delete_export_import() {
    let dir = TempDir::new("cli");
    let mut a = start_server(dir.path(), free_port(), &[]);
    a.wait_ready(Duration::from_secs(30));
    let addr = format!("127.0.0.1:{}", a.http.port());

    assert_eq!(kv(&addr, &["put", "app/config", "hello"]), (0, "Success! Data written to: app/config\n".into(), String::new()));
    assert_eq!(kv(&addr, &["get", "app/config"]).1, "hello\n");
    let (code, out, _) = kv(&addr, &["get", "-detailed", "app/config"]);
    assert_eq!(code, 0);
    assert!(out.contains("Key") && out.contains("app/config") && out.contains("ModifyIndex"), "{out}");
    assert_eq!(kv(&addr, &["put", "-flags=42", "app/other", "x"]).0, 0);

    let (code, exported, _) = kv(&addr, &["export", "app/"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&exported).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[1]["flags"], 42);

    assert_eq!(kv(&addr, &["delete", "-recurse", "app/"]).0, 0);
    let (code, _, err) = kv(&addr, &["get", "app/config"]);
    assert_eq!(code, 1);
    assert!(err.contains("No key exists at: app/config"), "{err}");

    let file = dir.path().join("export.json");
    std::fs::write(&file, &exported).unwrap();
    assert_eq!(kv(&addr, &["import", &format!("@{}", file.display())]).0, 0);
    assert_eq!(kv(&addr, &["get", "app/config"]).1, "hello\n");
    let r = http(a.http, "GET", "/v1/kv/app/other", b"").unwrap();
    assert_eq!(r.json()[0]["Flags"], 42);
}
