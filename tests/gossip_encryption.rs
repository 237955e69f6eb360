//! Gossip encryption with real processes: agents with different keys cannot join each
//! other (and the log says why), and a key rotation (install, use, remove) across a live
//! pool of 3 servers and 2 clients completes with no member ever seen as anything but
//! alive.
mod cluster_support;
mod common;

use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cluster_support::{http_req, Cluster, ClusterOpts};

fn keygen() -> String {
    let out = Command::new(common::bin()).arg("keygen").output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn cli(c: &Cluster, i: usize, args: &[&str]) -> (i32, String) {
    let out = Command::new(common::bin()).args(args).env("CONSUL_HTTP_ADDR", format!("http://{}", c.addr(i))).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

fn member_names(c: &Cluster, i: usize) -> Vec<String> {
    c.get(i, "/v1/agent/members")
        .ok()
        .map(|r| r.json().as_array().map(|a| a.iter().map(|m| m["Name"].as_str().unwrap_or("").to_string()).collect()).unwrap_or_default())
        .unwrap_or_default()
}

fn log_of(c: &Cluster, i: usize) -> String {
    std::fs::read_to_string(&c.servers[i].log_path).unwrap_or_default()
}

#[test]
fn agents_with_different_keys_cannot_join() {
    let (k1, k2) = (keygen(), keygen());
    let mut opts = ClusterOpts::new(1);
    opts.extra_args = vec![format!("-encrypt={k1}")];
    let mut c = Cluster::start_with(opts);
    c.wait_for_leader_among(&[0], Duration::from_secs(30));
    let other = c.add_client("c1", Ipv4Addr::new(127, 0, 0, 2), &[format!("-encrypt={k2}")]);
    // Give gossip every chance: the client's join retries, both sides probe.
    let deadline = Instant::now() + Duration::from_secs(6);
    while Instant::now() < deadline {
        assert_eq!(member_names(&c, 0), ["s1"], "the server let in an agent with another key");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(member_names(&c, other).iter().all(|n| n == "c1"), "the client joined with another key");
    // Both sides say clearly what is wrong.
    let server_log = log_of(&c, 0);
    assert!(server_log.contains("failed to decrypt") && server_log.contains("do not share a gossip key"), "server log:\n{server_log}");
    let client_log = log_of(&c, other);
    assert!(client_log.contains("Join cluster failed") && client_log.contains("gossip encryption key"), "client log:\n{client_log}");

    // An agent without encryption is refused by the encrypted one, with memberlist's words.
    let plain = c.add_client("c2", Ipv4Addr::new(127, 0, 0, 3), &[]);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(member_names(&c, 0), ["s1"]);
    assert!(log_of(&c, 0).contains("encryption is configured but remote state is not encrypted"), "{}", log_of(&c, 0));
    let _ = plain;
}

#[test]
fn key_rotation_across_a_live_pool_without_flapping() {
    let (k1, k2) = (keygen(), keygen());
    let mut opts = ClusterOpts::new(3);
    opts.extra_args = vec![format!("-encrypt={k1}")];
    let mut c = Cluster::start_with(opts);
    c.wait_for_leader_among(&[0, 1, 2], Duration::from_secs(30));
    c.add_client("c1", Ipv4Addr::new(127, 0, 0, 4), &[format!("-encrypt={k1}")]);
    c.add_client("c2", Ipv4Addr::new(127, 0, 0, 5), &[format!("-encrypt={k1}")]);
    let all: Vec<usize> = (0..5).collect();
    assert!(
        c.eventually(Duration::from_secs(30), |c| all.iter().all(|&i| member_names(c, i).len() == 5)),
        "pool did not converge"
    );

    // Watch every agent's member list while the keys change: any status but alive is a flap.
    let addrs: Vec<_> = all.iter().map(|&i| c.addr(i)).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let flaps = Arc::new(Mutex::new(Vec::<String>::new()));
    let polls = Arc::new(Mutex::new(0u64));
    let watcher = {
        let (stop, flaps, polls) = (stop.clone(), flaps.clone(), polls.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for a in &addrs {
                    if let Ok(r) = http_req(*a, "GET", "/v1/agent/members", b"", Duration::from_secs(3)) {
                        for m in r.json().as_array().into_iter().flatten() {
                            if m["Status"].as_u64() != Some(1) {
                                flaps.lock().unwrap().push(format!("{a} saw {} status {}", m["Name"], m["Status"]));
                            }
                        }
                        *polls.lock().unwrap() += 1;
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };

    let (code, out) = cli(&c, 0, &["keyring", &format!("-install={k2}")]);
    assert_eq!(code, 0, "install: {out}");
    let (code, out) = cli(&c, 0, &["keyring", "-list"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("{k2} [5/5]")) && out.contains(&format!("{k1} [5/5]")), "after install:\n{out}");
    std::thread::sleep(Duration::from_secs(2));
    let (code, out) = cli(&c, 1, &["keyring", &format!("-use={k2}")]);
    assert_eq!(code, 0, "use: {out}");
    // Gossip runs on the new primary for a while with the old key still installed.
    std::thread::sleep(Duration::from_secs(3));
    let (code, out) = cli(&c, 2, &["keyring", &format!("-remove={k1}")]);
    assert_eq!(code, 0, "remove: {out}");
    // And then with only the new key.
    std::thread::sleep(Duration::from_secs(5));
    let (code, out) = cli(&c, 3, &["keyring", "-list"]);
    assert_eq!(code, 0, "{out}");
    eprintln!("keyring -list after the rotation:\n{out}");
    assert!(out.contains(&format!("{k2} [5/5]")) && out.contains(&format!("{k2} [3/3]")), "{out}");
    assert!(!out.contains(&k1), "old key still listed:\n{out}");

    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    let flaps = flaps.lock().unwrap();
    eprintln!("member lists polled {} times during the rotation; flaps: {}", polls.lock().unwrap(), flaps.len());
    assert!(flaps.is_empty(), "members flapped during the rotation: {:?}", &flaps[..flaps.len().min(10)]);
    for &i in &all {
        let log = log_of(&c, i);
        assert!(!log.contains("EventMemberFailed") && !log.contains("failed to decrypt"), "{}:\n{log}", c.servers[i].name);
        // Every agent persisted the new keyring, primary first, old key gone.
        let ring = std::fs::read_to_string(c.servers[i].data_dir.join("serf/local.keyring")).unwrap();
        let keys: Vec<String> = serde_json::from_str(&ring).unwrap();
        assert_eq!(keys, vec![k2.clone()], "{}: {ring}", c.servers[i].name);
    }
    assert!(all.iter().all(|&i| member_names(&c, i).len() == 5));
}

/// The trap operators fall into with Consul: the keyring file wins over a changed
/// `-encrypt`. The agent says so at start, naming both files and the way out.
#[test]
fn a_changed_encrypt_key_against_the_persisted_keyring_is_called_out() {
    let (k1, k2) = (keygen(), keygen());
    let dir = common::TempDir::new("keyring-trap");
    let mut last_log = String::new();
    for key in [&k1, &k2] {
        let mut a = common::start_server(dir.path(), common::free_port(), &[&format!("-encrypt={key}"), "-log-level=info"]);
        a.wait_ready(Duration::from_secs(30));
        a.terminate();
        last_log = a.stderr();
    }
    let lan = dir.path().join("serf/local.keyring");
    let wan = dir.path().join("serf/remote.keyring");
    assert!(last_log.contains("LAN keyring doesn't include key provided with -encrypt, using keyring"), "{last_log}");
    assert!(last_log.contains(&lan.display().to_string()) && last_log.contains(&wan.display().to_string()), "{last_log}");
    assert!(last_log.contains("ballast keyring -install="), "{last_log}");
    assert!(!last_log.contains(&k1) && !last_log.contains(&k2), "whole keys must never be logged:\n{last_log}");
    let ring: Vec<String> = serde_json::from_str(&std::fs::read_to_string(&lan).unwrap()).unwrap();
    assert_eq!(ring, vec![k1.clone()], "the first key stays in the file");
}
