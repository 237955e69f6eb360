//! Multi-server harness: N real `ballast agent -server` processes, one per loopback IP
//! (127.0.0.1, .2, .3, ...), all on the same random HTTP / server-RPC / join ports so the
//! addresses look like a real cluster. Every process is killed by PID on drop, its data
//! directory removed, and when the test is failing the tail of every server's log is printed
//! (that is how a failure here gets debugged).
//!
//! Include from a test file with `mod common; mod cluster_support;` (this module reuses the
//! single-server helpers of tests/common: temp dirs, randomness, the HTTP response reader).
#![allow(dead_code)]
pub mod faults;
pub mod monitor;
pub mod netstat;
pub mod writer;

use crate::common::{bin, rand_u64, read_response, Response, TempDir};
use std::fs::OpenOptions;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `performance.raft_multiplier` the tests run with: election timeout 1-2 s, heartbeat 100 ms.
pub const RAFT_MULTIPLIER: u32 = 1;
/// The largest election timeout at that multiplier (hashicorp/raft randomises in [T, 2T)).
pub const MAX_ELECTION_TIMEOUT: Duration = Duration::from_secs(2 * RAFT_MULTIPLIER as u64);
/// The base election timeout at that multiplier: failover times are printed in these units.
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(RAFT_MULTIPLIER as u64);

/// The three ports every server uses on its own IP.
#[derive(Clone, Copy, Debug)]
pub struct Ports {
    pub http: u16,
    pub server: u16,
    pub serf_lan: u16,
    pub serf_wan: u16,
}

impl Ports {
    /// Four distinct ports free on every one of `ips` (TCP and UDP), drawn
    /// below the kernel's ephemeral range so outgoing connections cannot take them meanwhile.
    pub fn pick(ips: &[Ipv4Addr]) -> Ports {
        let mut chosen: Vec<u16> = Vec::new();
        while chosen.len() < 4 {
            let p = 12000 + (rand_u64() % 20000) as u16;
            if chosen.contains(&p) {
                continue;
            }
            let free = ips.iter().all(|ip| {
                TcpListener::bind((*ip, p)).is_ok() && UdpSocket::bind((*ip, p)).is_ok()
            });
            if free {
                chosen.push(p);
            }
        }
        Ports { http: chosen[0], server: chosen[1], serf_lan: chosen[2], serf_wan: chosen[3] }
    }
}

/// Server `i` (0-based) lives on 127.0.0.(i+1).
pub fn server_ip(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, (i + 1) as u8)
}

/// One server: its identity, flags and (when running) its process.
pub struct Server {
    pub idx: usize,
    pub name: String,
    pub ip: Ipv4Addr,
    pub ports: Ports,
    pub data_dir: PathBuf,
    pub log_path: PathBuf,
    args: Vec<String>,
    child: Option<Child>,
    paused: bool,
    starts: usize,
}

impl Server {
    pub fn http_addr(&self) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(self.ip, self.ports.http))
    }
    /// The Raft address other servers know this one by (what /v1/status/leader returns).
    pub fn raft_addr(&self) -> String {
        format!("{}:{}", self.ip, self.ports.server)
    }
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }
    pub fn is_paused(&self) -> bool {
        self.paused
    }
    /// The node ID the agent persisted in `<data-dir>/node-id`.
    pub fn node_id(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("node-id"))
            .unwrap_or_else(|e| panic!("{}: no node-id file: {e}", self.name))
            .trim()
            .to_string()
    }

    fn spawn(&mut self) {
        assert!(self.child.is_none(), "{} already running", self.name);
        self.starts += 1;
        let mut log = OpenOptions::new().create(true).append(true).open(&self.log_path).unwrap();
        let _ = writeln!(log, "=== harness: start #{} of {}: ballast {}", self.starts, self.name, self.args.join(" "));
        let child = Command::new(bin())
            .args(&self.args)
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn ballast");
        self.child = Some(child);
        self.paused = false;
    }

    /// If the process exited on its own, reaps it and returns how.
    fn exited(&mut self) -> Option<String> {
        let c = self.child.as_mut()?;
        match c.try_wait() {
            Ok(Some(st)) => {
                self.child = None;
                Some(format!("{st}"))
            }
            _ => None,
        }
    }

    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // SIGKILL; also ends a SIGSTOPped process
            let _ = c.wait();
            // The kernel tears an io_uring down after the process is reaped, and sockets
            // with operations in flight close only then: wait until the server port
            // refuses, so "killed" means nobody answers any more.
            let port = SocketAddr::V4(SocketAddrV4::new(self.ip, self.ports.server));
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && TcpStream::connect_timeout(&port, Duration::from_millis(200)).is_ok() {
                std::thread::sleep(Duration::from_millis(10));
            }
            let mut log = OpenOptions::new().append(true).open(&self.log_path).unwrap();
            let _ = writeln!(log, "=== harness: kill -9 {}", self.name);
        }
        self.paused = false;
    }

    fn signal(&mut self, sig: i32, what: &str) {
        let pid = self.pid().unwrap_or_else(|| panic!("{} is not running", self.name));
        let rc = unsafe { libc::kill(pid as i32, sig) };
        assert_eq!(rc, 0, "{what} {}: {}", self.name, std::io::Error::last_os_error());
        if let Ok(mut log) = OpenOptions::new().append(true).open(&self.log_path) {
            let _ = writeln!(log, "=== harness: {what} {}", self.name);
        }
    }

    /// The last `lines` lines of this server's log (all its runs, harness markers included).
    pub fn log_tail(&self, lines: usize) -> String {
        let s = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let all: Vec<&str> = s.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

/// Options of a cluster; `Cluster::start(n)` uses the defaults.
#[derive(Clone, Debug)]
pub struct ClusterOpts {
    pub servers: usize,
    pub bootstrap_expect: usize,
    pub raft_multiplier: u32,
    pub log_level: String,
    /// Appended to every server's flags (e.g. `-encrypt=...`).
    pub extra_args: Vec<String>,
}

impl ClusterOpts {
    pub fn new(n: usize) -> ClusterOpts {
        ClusterOpts {
            servers: n,
            bootstrap_expect: n,
            raft_multiplier: RAFT_MULTIPLIER,
            log_level: std::env::var("CLUSTER_LOG_LEVEL").unwrap_or_else(|_| "info".into()),
            extra_args: Vec::new(),
        }
    }
}

/// What one server says about the cluster right now (None: no answer).
#[derive(Clone, Debug, Default)]
pub struct View {
    pub leader: Option<String>,
    pub term: Option<u64>,
    pub state: Option<String>,
    pub applied_index: Option<u64>,
}

pub struct Cluster {
    pub servers: Vec<Server>,
    pub ports: Ports,
    pub opts: ClusterOpts,
    started: Instant,
    // Dropped last (fields drop in order): processes first, then their directories.
    dir: TempDir,
}

impl Cluster {
    /// Starts `n` servers with -bootstrap-expect=n, each retry-joining all the others.
    pub fn start(n: usize) -> Cluster {
        Cluster::start_with(ClusterOpts::new(n))
    }

    pub fn start_with(opts: ClusterOpts) -> Cluster {
        let n = opts.servers;
        let dir = TempDir::new("cluster");
        let ips: Vec<Ipv4Addr> = (0..n).map(server_ip).collect();
        let ports = Ports::pick(&ips);
        let config_file = dir.path().join("fast-raft.json");
        std::fs::write(
            &config_file,
            // retry_interval 1s: servers started together must not wait Consul's 30 s for
            // a second join attempt when the first found nobody up yet.
            format!("{{\"performance\":{{\"raft_multiplier\":{}}},\"retry_interval\":\"1s\"}}", opts.raft_multiplier),
        )
        .unwrap();
        let mut servers = Vec::new();
        for i in 0..n {
            let name = format!("s{}", i + 1);
            let data_dir = dir.path().join(&name);
            std::fs::create_dir_all(&data_dir).unwrap();
            let mut args: Vec<String> = vec![
                "agent".into(),
                "-server".into(),
                format!("-node={name}"),
                format!("-bind={}", ips[i]),
                format!("-client={}", ips[i]),
                format!("-data-dir={}", data_dir.display()),
                format!("-bootstrap-expect={}", opts.bootstrap_expect),
            ];
            for (j, ip) in ips.iter().enumerate() {
                if j != i {
                    args.push(format!("-retry-join={ip}:{}", ports.serf_lan));
                }
            }
            args.extend([
                format!("-config-file={}", config_file.display()),
                "-placement=unbound".into(),
                format!("-http-port={}", ports.http),
                format!("-server-port={}", ports.server),
                format!("-serf-lan-port={}", ports.serf_lan),
                format!("-serf-wan-port={}", ports.serf_wan),
                format!("-log-level={}", opts.log_level),
            ]);
            args.extend(opts.extra_args.iter().cloned());
            servers.push(Server {
                idx: i,
                log_path: dir.path().join(format!("{name}.log")),
                name,
                ip: ips[i],
                ports,
                data_dir,
                args,
                child: None,
                paused: false,
                starts: 0,
            });
        }
        eprintln!(
            "cluster of {n}: http :{} server :{} serf :{} in {}",
            ports.http,
            ports.server,
            ports.serf_lan,
            dir.path().display()
        );
        let mut c = Cluster { servers, ports, opts, started: Instant::now(), dir };
        for s in c.servers.iter_mut() {
            s.spawn();
        }
        c
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Starts a client agent (no -server) on `ip`, retry-joining every server; it is
    /// appended to `servers` (same process control and log handling) and its index returned.
    pub fn add_client(&mut self, name: &str, ip: Ipv4Addr, extra: &[String]) -> usize {
        let data_dir = self.dir.path().join(name);
        std::fs::create_dir_all(&data_dir).unwrap();
        let ports = self.ports;
        let mut args: Vec<String> = vec![
            "agent".into(),
            format!("-node={name}"),
            format!("-bind={ip}"),
            format!("-client={ip}"),
            format!("-data-dir={}", data_dir.display()),
        ];
        for s in self.servers.iter().filter(|s| s.args.iter().any(|a| a == "-server")) {
            args.push(format!("-retry-join={}:{}", s.ip, ports.serf_lan));
        }
        args.extend([
            "-placement=unbound".into(),
            format!("-http-port={}", ports.http),
            format!("-server-port={}", ports.server),
            format!("-serf-lan-port={}", ports.serf_lan),
            format!("-log-level={}", self.opts.log_level),
        ]);
        args.extend(extra.iter().cloned());
        let idx = self.servers.len();
        let mut c = Server {
            idx,
            log_path: self.dir.path().join(format!("{name}.log")),
            name: name.to_string(),
            ip,
            ports,
            data_dir,
            args,
            child: None,
            paused: false,
            starts: 0,
        };
        c.spawn();
        self.servers.push(c);
        idx
    }

    /// Waits for agent `i` to exit on its own; its exit status text.
    pub fn wait_exit(&mut self, i: usize, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(how) = self.servers[i].exited() {
                return Some(how);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
    pub fn len(&self) -> usize {
        self.servers.len()
    }
    pub fn addr(&self, i: usize) -> SocketAddr {
        self.servers[i].http_addr()
    }
    /// Servers that are running and not paused.
    pub fn live(&self) -> Vec<usize> {
        self.servers.iter().filter(|s| s.is_running() && !s.paused).map(|s| s.idx).collect()
    }
    /// Which server has this Raft address ("127.0.0.2:Q").
    pub fn index_of(&self, raft_addr: &str) -> Option<usize> {
        self.servers.iter().position(|s| s.raft_addr() == raft_addr)
    }

    // ----- process control -----

    pub fn kill9(&mut self, i: usize) {
        self.servers[i].kill9();
    }
    /// Starts server `i` again with the same data dir and flags.
    pub fn restart(&mut self, i: usize) {
        self.servers[i].kill9();
        self.servers[i].spawn();
    }
    /// Starts a stopped server (same as restart, but it must not be running).
    pub fn start_server(&mut self, i: usize) {
        self.servers[i].spawn();
    }
    pub fn pause(&mut self, i: usize) {
        self.servers[i].signal(libc::SIGSTOP, "SIGSTOP");
        self.servers[i].paused = true;
    }
    pub fn resume(&mut self, i: usize) {
        self.servers[i].signal(libc::SIGCONT, "SIGCONT");
        self.servers[i].paused = false;
    }
    /// Panics (with logs) if a server that should be running has exited.
    pub fn assert_alive(&mut self) {
        for s in self.servers.iter_mut() {
            if let Some(how) = s.exited() {
                panic!("{} exited on its own ({how})", s.name);
            }
        }
    }

    // ----- HTTP -----

    /// One request to server `i` with a read timeout (a paused or dead server must not hang a test).
    pub fn req(&self, i: usize, method: &str, path: &str, body: &[u8], timeout: Duration) -> std::io::Result<Response> {
        http_req(self.addr(i), method, path, body, timeout)
    }
    pub fn get(&self, i: usize, path: &str) -> std::io::Result<Response> {
        self.req(i, "GET", path, b"", Duration::from_secs(10))
    }
    /// PUT /v1/kv/<key>: true only for a 200 `true` (an acknowledged write).
    pub fn put_kv(&self, i: usize, key: &str, value: &[u8]) -> std::io::Result<Response> {
        self.req(i, "PUT", &format!("/v1/kv/{key}"), value, Duration::from_secs(30))
    }
    pub fn put_acked(&self, i: usize, key: &str, value: &[u8]) -> bool {
        matches!(self.put_kv(i, key, value), Ok(r) if r.status == 200 && r.body == b"true")
    }

    // ----- observation -----

    /// /v1/status/leader of server `i`: Some("") when it knows no leader, None when no answer.
    pub fn leader_seen_by(&self, i: usize) -> Option<String> {
        let r = self.req(i, "GET", "/v1/status/leader", b"", Duration::from_secs(3)).ok()?;
        if r.status != 200 {
            return None;
        }
        serde_json::from_slice::<String>(&r.body).ok()
    }
    /// Stats.raft of /v1/agent/self on server `i`.
    pub fn view(&self, i: usize) -> View {
        let mut v = View { leader: self.leader_seen_by(i), ..View::default() };
        if let Ok(r) = self.req(i, "GET", "/v1/agent/self", b"", Duration::from_secs(3)) {
            if r.status == 200 {
                if let Ok(j) = serde_json::from_slice::<serde_json::Value>(&r.body) {
                    let raft = &j["Stats"]["raft"];
                    v.term = num(&raft["term"]);
                    v.applied_index = num(&raft["applied_index"]);
                    v.state = raft["state"].as_str().map(str::to_string);
                }
            }
        }
        v
    }
    pub fn views(&self) -> Vec<(usize, View)> {
        self.live().into_iter().map(|i| (i, self.view(i))).collect()
    }
    pub fn term(&self, i: usize) -> Option<u64> {
        self.view(i).term
    }

    /// Waits until every live server names the same leader, that leader is live and says it is
    /// the Leader; returns its index. Panics with every server's view and log tail otherwise.
    pub fn wait_for_leader(&mut self, timeout: Duration) -> usize {
        let among = self.live();
        self.wait_for_leader_among(&among, timeout)
    }

    pub fn wait_for_leader_among(&mut self, among: &[usize], timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        let mut last = Vec::new();
        while Instant::now() < deadline {
            self.assert_alive();
            last = among.iter().map(|&i| (i, self.view(i))).collect::<Vec<_>>();
            let first = last[0].1.leader.clone().unwrap_or_default();
            let agree = !first.is_empty() && last.iter().all(|(_, v)| v.leader.as_deref() == Some(first.as_str()));
            if agree {
                if let Some(l) = self.index_of(&first) {
                    if among.contains(&l) && self.view(l).state.as_deref() == Some("Leader") {
                        return l;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no agreed leader among {among:?} after {timeout:?}; views: {last:?}");
    }

    /// Polls until `f` holds or the deadline passes; returns whether it held.
    pub fn eventually(&self, timeout: Duration, mut f: impl FnMut(&Cluster) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if f(self) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn print_logs(&self, lines: usize) {
        for s in &self.servers {
            eprintln!("----- {} ({}) log tail: {} -----", s.name, s.ip, s.log_path.display());
            eprintln!("{}", s.log_tail(lines));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() || std::env::var_os("CLUSTER_PRINT_LOGS").is_some() {
            let lines = std::env::var("CLUSTER_LOG_LINES").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
            eprintln!("===== cluster logs ({:?} after start) =====", self.started.elapsed());
            self.print_logs(lines);
        }
        for s in self.servers.iter_mut() {
            s.kill9();
        }
        if std::env::var_os("CLUSTER_KEEP_DIR").is_some() {
            eprintln!("keeping {}", self.dir.path().display());
            std::mem::forget(std::mem::replace(&mut self.dir, TempDir(PathBuf::new())));
        }
    }
}

/// Consul's Stats values are strings ("12"); accept numbers too.
pub fn num(v: &serde_json::Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// One HTTP/1.1 request on a fresh connection (Connection: close) with a read timeout.
pub fn http_req(addr: SocketAddr, method: &str, path: &str, body: &[u8], timeout: Duration) -> std::io::Result<Response> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(1).min(timeout))?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut req = head.into_bytes();
    req.extend_from_slice(body);
    s.write_all(&req)?;
    read_response(&mut s, method == "HEAD")
}

/// A random index in 0..n.
pub fn pick(n: usize) -> usize {
    (rand_u64() % n as u64) as usize
}

/// key -> decoded value of a `?recurse` answer.
pub fn kv_map(j: &serde_json::Value) -> BTreeMap<String, String> {
    j.as_array()
        .map(|a| a.as_slice())
        .unwrap_or(&[])
        .iter()
        .map(|e| {
            let k = e["Key"].as_str().unwrap_or_default().to_string();
            let v = e["Value"].as_str().map(b64).unwrap_or_default();
            (k, v)
        })
        .collect()
}

pub fn b64(s: &str) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        let Some(v) = T.iter().position(|&t| t == c) else { continue };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
