//! Consul's `CheckMonitor` (script checks with `args`): exit 0 passing,
//! exit 1 warning, anything else critical; stdout and stderr share one
//! circular buffer of OutputMaxSize bytes; on timeout the whole process
//! group is killed.
//!
//! Never blocking the executor: the child writes into a pipe whose read end
//! is non-blocking, and the probe polls it and `waitpid(WNOHANG)` on glommio
//! timers (1 ms doubling to 50 ms). This costs a few wake-ups per run and no
//! thread, whereas glommio's `spawn_blocking` pool would be held for up to
//! the script timeout (30 s by default) and delay the executor's other
//! blocking work (file opens, DNS lookups) queued behind it.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::goduration::go_duration_string;
use crate::outcome::Outcome;
use crate::output::TailBuffer;

const FIRST_POLL: Duration = Duration::from_millis(1);
const MAX_POLL: Duration = Duration::from_millis(50);

/// Runs `args[0]` with `args[1..]` (no shell), for at most `timeout`
/// (see [`crate::script_timeout`]), keeping the last `output_max_size`
/// bytes of output (0 means [`crate::DEFAULT_BUF_SIZE`]).
///
/// A timeout or a failure to start is reported [`Outcome::immediate`], as
/// Consul reports those outside its StatusHandler.
pub async fn probe_script(args: &[String], timeout: Duration, output_max_size: usize) -> Outcome {
    let Some(program) = args.first() else {
        return Outcome::critical("need an executable to run").immediately();
    };
    let max = if output_max_size == 0 {
        crate::DEFAULT_BUF_SIZE
    } else {
        output_max_size
    };
    let deadline = Instant::now() + timeout;
    let path = match look_path(program) {
        Ok(p) => p,
        Err(text) => return Outcome::critical(text).immediately(),
    };
    let (mut pipe, child) = match start(&path, &args[1..]) {
        Ok(started) => started,
        Err(e) => {
            let text = format!(
                "fork/exec {}: {}",
                path.display(),
                crate::goerr::errno_text(&e)
            );
            return Outcome::critical(text).immediately();
        }
    };
    let mut guard = ChildGuard { child: Some(child) };
    let mut output = TailBuffer::new(max);
    let mut pipe_open = true;
    let mut exit: Option<ExitStatus> = None;
    let mut pause = FIRST_POLL;
    loop {
        if pipe_open {
            pipe_open = drain(&mut pipe, &mut output);
        }
        if exit.is_none() {
            exit = guard.try_wait();
        }
        // Like Go's cmd.Wait: done when the process exited AND its output ended.
        if let (Some(status), false) = (exit, pipe_open) {
            guard.child = None;
            return finished(status, &output);
        }
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        glommio::timer::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(MAX_POLL);
    }
    // Timed out: kill the process group, report, then wait for the exit so
    // a next run never overlaps this one.
    guard.kill_group();
    if pipe_open {
        drain(&mut pipe, &mut output);
    }
    let mut msg = format!("Timed out ({}) running check", go_duration_string(timeout));
    let text = output.captured_text();
    if !text.is_empty() {
        msg.push_str("\n\n");
        msg.push_str(&text);
    }
    let mut pause = FIRST_POLL;
    while exit.is_none() {
        exit = guard.try_wait();
        if exit.is_none() {
            glommio::timer::sleep(pause).await;
            pause = (pause * 2).min(MAX_POLL);
        }
    }
    guard.child = None;
    Outcome::critical(msg).immediately()
}

fn finished(status: ExitStatus, output: &TailBuffer) -> Outcome {
    let text = output.captured_text();
    match status.code() {
        Some(0) => Outcome::passing(text),
        Some(1) => Outcome::warning(text),
        // Other codes, and death by signal (Go's ExitStatus() is -1 then).
        _ => Outcome::critical(text),
    }
}

/// Go's exec.LookPath: names without a slash are searched in $PATH.
fn look_path(program: &str) -> Result<PathBuf, String> {
    if program.contains('/') {
        return Ok(PathBuf::from(program));
    }
    let not_found = || {
        format!(
            "exec: {}: executable file not found in $PATH",
            ballast_store::go_quote(program)
        )
    };
    let path_var = std::env::var_os("PATH").ok_or_else(not_found)?;
    for dir in std::env::split_paths(&path_var) {
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let candidate = dir.join(program);
        if is_executable(&candidate) {
            return Ok(candidate);
        }
    }
    Err(not_found())
}

fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Spawns the child in its own process group, stdin from /dev/null, stdout
/// and stderr into one pipe (one buffer, ordered as written).
fn start(path: &Path, args: &[String]) -> io::Result<(File, Child)> {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 writes two descriptors into the array we own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned only here.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(fds[0], libc::F_GETFL);
        libc::fcntl(fds[0], libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
    let stderr_end = write_end.try_clone()?;
    let child = Command::new(path)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(write_end))
        .stderr(Stdio::from(stderr_end))
        .process_group(0)
        .spawn()?;
    // The Command (and our copies of the write end) are gone: EOF comes when
    // the child and its descendants close theirs.
    Ok((File::from(read_end), child))
}

/// Reads what the pipe holds now; false once it reached end of file.
fn drain(pipe: &mut File, output: &mut TailBuffer) -> bool {
    let mut chunk = [0u8; 8192];
    loop {
        match pipe.read(&mut chunk) {
            Ok(0) => return false,
            Ok(n) => output.write(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
    }
}

/// Owns the child until it is reaped; if the probe is dropped first (the
/// agent stopped the check), the process group is killed and reaped on a
/// short-lived thread so no zombie is left.
struct ChildGuard {
    child: Option<Child>,
}

impl ChildGuard {
    fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// exec.KillCommandSubtree: SIGKILL to the whole process group.
    fn kill_group(&mut self) {
        if let Some(child) = &self.child {
            let pgid = child.id() as libc::pid_t;
            // SAFETY: kill(2) with a negative pid signals that process group.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if self.child.is_none() {
            return;
        }
        self.kill_group();
        if let Some(mut child) = self.child.take() {
            if !matches!(child.try_wait(), Ok(Some(_))) {
                let _ = std::thread::Builder::new()
                    .name("check-reap".into())
                    .spawn(move || {
                        let _ = child.wait();
                    });
            }
        }
    }
}
