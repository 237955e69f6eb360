//! Process lifecycle around the shards: pid file, SIGINT/SIGTERM, node identity on disk.
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Set once a shutdown signal arrived; the control shard checks it on every tick. A
/// shutdown for a reason (`fail`) makes the agent exit non-zero, as Consul does when
/// `retry_max` join attempts are exhausted.
#[derive(Clone, Default)]
pub struct ShutdownFlag(Arc<AtomicBool>, Arc<AtomicBool>);

impl ShutdownFlag {
    pub fn trigger(&self) {
        self.0.store(true, Ordering::Release);
    }
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
    pub fn fail(&self) {
        self.1.store(true, Ordering::Release);
        self.trigger();
    }
    pub fn failed(&self) -> bool {
        self.1.load(Ordering::Acquire)
    }
}

/// Blocks SIGINT and SIGTERM in the calling thread (and so in every thread spawned after it),
/// then waits for them on a dedicated thread. Must run before any executor thread starts,
/// or the kernel may deliver the signal to an executor thread and kill the process.
pub fn install_signal_handler(flag: ShutdownFlag) -> io::Result<()> {
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        std::thread::Builder::new().name("ballast-signals".into()).spawn(move || loop {
            let mut sig: libc::c_int = 0;
            if libc::sigwait(&set, &mut sig) == 0 {
                let name = if sig == libc::SIGINT { "interrupt" } else { "terminated" };
                tracing::info!("Caught signal: {name}, shutting down");
                if flag.is_set() {
                    // A second signal while shutting down: leave at once, as Consul does.
                    std::process::exit(1);
                }
                flag.trigger();
            }
        })?;
    }
    Ok(())
}

/// The pid file Consul writes with `-pid-file`; removed again on clean shutdown.
pub struct PidFile(Option<PathBuf>);

impl PidFile {
    pub fn create(path: Option<&Path>) -> io::Result<PidFile> {
        if let Some(p) = path {
            fs::write(p, format!("{}", std::process::id()))?;
        }
        Ok(PidFile(path.map(Path::to_path_buf)))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        if let Some(p) = &self.0 {
            let _ = fs::remove_file(p);
        }
    }
}

/// Returns the node ID: the configured one, else the one kept in `<data_dir>/node-id`, else a
/// new random UUID written there (Consul keeps node identity stable across restarts this way).
pub fn node_id(configured: Option<&str>, data_dir: &Path) -> io::Result<String> {
    if let Some(id) = configured {
        return Ok(id.to_ascii_lowercase());
    }
    let path = data_dir.join("node-id");
    match fs::read_to_string(&path) {
        Ok(s) if !s.trim().is_empty() => return Ok(s.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let id = random_uuid();
    let tmp = data_dir.join("node-id.tmp");
    fs::write(&tmp, &id)?;
    fs::File::open(&tmp)?.sync_all()?;
    fs::rename(&tmp, &path)?;
    fs::File::open(data_dir)?.sync_all()?;
    Ok(id)
}

/// A version-4 UUID from the OS random source.
pub fn random_uuid() -> String {
    let mut b = [0u8; 16];
    let got = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
    if got != 16 {
        // getrandom cannot fail for 16 bytes on Linux >= 3.17; fall back to rand just in case.
        for (i, x) in b.iter_mut().enumerate() {
            *x = rand::random::<u8>().wrapping_add(i as u8);
        }
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// The Raft server ID derived from the node UUID (its first 64 bits), never 0.
pub fn raft_id_from_node_id(node_id: &str) -> u64 {
    let hex: String = node_id.chars().filter(|c| c.is_ascii_hexdigit()).take(16).collect();
    let v = u64::from_str_radix(&hex, 16).unwrap_or(0);
    if v == 0 { 1 } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn uuid_shape_and_raft_id() {
        let u = random_uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(raft_id_from_node_id(&u), 0);
        assert_eq!(raft_id_from_node_id("00000000-0000-0000-0000-000000000000"), 1);
    }

    #[test]
    fn node_id_is_kept_across_calls() {
        let dir = std::env::temp_dir().join(format!("ballast-nodeid-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let a = node_id(None, &dir).unwrap();
        let b = node_id(None, &dir).unwrap();
        assert_eq!(a, b);
        assert_eq!(node_id(Some("ABC"), &dir).unwrap(), "abc");
        fs::remove_dir_all(&dir).unwrap();
    }
}
