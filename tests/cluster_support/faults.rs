//! Faults injected from outside the servers: CPU hogs and one-way packet loss (nftables).
//! Each fault is a guard that undoes itself on drop, panics included.
use crate::common::rand_u64;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// One busy-loop process per CPU, each pinned to its CPU with taskset, at normal priority.
pub struct BusyLoops {
    children: Vec<Child>,
}

impl BusyLoops {
    pub fn start() -> BusyLoops {
        let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let have_taskset = Command::new("taskset").arg("-V").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok();
        let mut children = Vec::new();
        for cpu in 0..cpus {
            let mut cmd = if have_taskset {
                let mut c = Command::new("taskset");
                c.args(["-c", &cpu.to_string(), "sh", "-c", "while :; do :; done"]);
                c
            } else {
                let mut c = Command::new("sh");
                c.args(["-c", "while :; do :; done"]);
                c
            };
            children.push(cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("spawn busy loop"));
        }
        eprintln!("busy loops: {cpus} (taskset: {have_taskset})");
        BusyLoops { children }
    }
}

impl Drop for BusyLoops {
    fn drop(&mut self) {
        for c in self.children.iter_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn nft(args: &[&str]) -> Result<String, String> {
    let out = Command::new("nft").args(args).output().map_err(|e| format!("cannot run nft: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("nft {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// Makes `nft` usable: installs nftables with apt-get when missing, removes tables left behind
/// by test processes that no longer exist, and proves that a rule on the output hook really
/// drops loopback traffic here. Err says why the nftables case cannot run.
pub fn nft_ready() -> Result<(), String> {
    if nft(&["--version"]).is_err() {
        eprintln!("nft missing: installing nftables with apt-get");
        let ok = Command::new("apt-get")
            .args(["install", "-y", "nftables"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            return Err("nft is not installed and `apt-get install -y nftables` failed".into());
        }
    }
    remove_stale_tables();
    probe_loopback_drop()
}

const TABLE_PREFIX: &str = "ballast_cluster_";

fn remove_stale_tables() {
    let Ok(list) = nft(&["list", "tables"]) else { return };
    for line in list.lines() {
        let Some(name) = line.trim().strip_prefix("table inet ") else { continue };
        let Some(rest) = name.strip_prefix(TABLE_PREFIX) else { continue };
        let pid = rest.split('_').next().unwrap_or("");
        if !pid.is_empty() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = nft(&["delete", "table", "inet", name]);
        }
    }
}

/// A listener on 127.0.0.3, a drop rule for its port: the connect must fail with the rule in
/// place and succeed once it is gone.
fn probe_loopback_drop() -> Result<(), String> {
    let ip = Ipv4Addr::new(127, 0, 0, 3);
    let l = TcpListener::bind((ip, 0)).map_err(|e| format!("probe listener: {e}"))?;
    let port = l.local_addr().unwrap().port();
    let try_connect = || TcpStream::connect_timeout(&(ip, port).into(), Duration::from_millis(700)).is_ok();
    {
        let _drop = NftDrop::install(&format!("ip daddr {ip} tcp dport {port}"))?;
        if try_connect() {
            return Err("an nftables drop rule on the output hook does not affect loopback traffic here".into());
        }
    }
    if !try_connect() {
        return Err("loopback connect still fails after the probe rule was removed".into());
    }
    Ok(())
}

/// A table of our own with one counted drop rule on the output hook; deleted on drop.
pub struct NftDrop {
    table: String,
    pub rule: String,
}

impl NftDrop {
    /// `matcher` is an nft match expression, e.g. `ip daddr 127.0.0.2 th dport { 1, 2 }`.
    pub fn install(matcher: &str) -> Result<NftDrop, String> {
        let table = format!("{TABLE_PREFIX}{}_{}", std::process::id(), rand_u64() % 1_000_000);
        nft(&["add", "table", "inet", &table])?;
        let guard = NftDrop { table: table.clone(), rule: matcher.to_string() };
        nft(&["add", "chain", "inet", &table, "out", "{ type filter hook output priority 0; policy accept; }"])?;
        let rule = format!("add rule inet {table} out {matcher} counter drop");
        // one argument: nft parses the whole command line itself
        nft(&[&rule])?;
        Ok(guard)
    }

    /// Packets the rule has dropped so far.
    pub fn dropped_packets(&self) -> u64 {
        let list = nft(&["list", "table", "inet", &self.table]).unwrap_or_default();
        list.split_whitespace()
            .skip_while(|w| *w != "packets")
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for NftDrop {
    fn drop(&mut self) {
        if let Err(e) = nft(&["delete", "table", "inet", &self.table]) {
            eprintln!("could not delete nft table {}: {e}", self.table);
        }
    }
}
