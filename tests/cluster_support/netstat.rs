//! Which TCP connections a process holds, from /proc/<pid>/fd and /proc/net/tcp: used to see
//! the source address a server's outgoing RPC connections really use.
use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddrV4};

/// (local, remote) of every established IPv4 TCP connection owned by `pid`.
pub fn established(pid: u32) -> Vec<(SocketAddrV4, SocketAddrV4)> {
    let mut inodes = HashSet::new();
    if let Ok(rd) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
        for e in rd.flatten() {
            if let Ok(t) = std::fs::read_link(e.path()) {
                let t = t.to_string_lossy().into_owned();
                if let Some(n) = t.strip_prefix("socket:[").and_then(|r| r.strip_suffix(']')) {
                    inodes.insert(n.to_string());
                }
            }
        }
    }
    let table = std::fs::read_to_string(format!("/proc/{pid}/net/tcp")).unwrap_or_default();
    let mut out = Vec::new();
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 || f[3] != "01" || !inodes.contains(f[9]) {
            continue;
        }
        if let (Some(l), Some(r)) = (parse(f[1]), parse(f[2])) {
            out.push((l, r));
        }
    }
    out
}

/// "0100007F:1F90" -> 127.0.0.1:8080 (the address is the raw in-memory u32).
fn parse(s: &str) -> Option<SocketAddrV4> {
    let (a, p) = s.split_once(':')?;
    let ip = u32::from_str_radix(a, 16).ok()?;
    let port = u16::from_str_radix(p, 16).ok()?;
    Some(SocketAddrV4::new(Ipv4Addr::from(ip.to_ne_bytes()), port))
}
