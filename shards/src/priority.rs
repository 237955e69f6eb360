//! Raising the control shard's scheduling priority for its thread only.
//!
//! A negative nice needs root or CAP_SYS_NICE, or an RLIMIT_NICE that allows it
//! (ceiling = 20 - rlim_cur). Without that the agent must keep running at normal
//! priority: callers log one warning and carry on, never fail.

use std::fmt;
use std::io;

/// What happened when a thread asked for a nice value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PriorityOutcome {
    /// The calling thread now runs at this nice value.
    Applied { nice: i32 },
    /// Nothing was changed (nice 0 asked, or refused); the thread keeps its priority.
    Unchanged,
    /// The request was refused; the thread keeps its priority.
    Warning(PriorityWarning),
}

/// Why a nice value was not applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PriorityWarning {
    /// Outside Linux's -20..=19 (the kernel would silently clamp it).
    OutOfRange { requested: i32 },
    /// The kernel refused (EACCES/EPERM): no CAP_SYS_NICE and RLIMIT_NICE too low.
    NotPermitted {
        requested: i32,
        rlimit_nice: Option<u64>,
        errno: i32,
    },
    /// Any other error from setpriority.
    Failed { requested: i32, errno: i32 },
}

impl fmt::Display for PriorityWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PriorityWarning::OutOfRange { requested } => {
                write!(
                    f,
                    "nice {requested} is outside -20..=19; priority left unchanged"
                )
            }
            PriorityWarning::NotPermitted {
                requested,
                rlimit_nice,
                errno,
            } => write!(
                f,
                "not permitted to set nice {requested} ({}); needs root, CAP_SYS_NICE or \
                 RLIMIT_NICE >= {} (now {}); running at normal priority",
                io::Error::from_raw_os_error(*errno),
                20 - requested,
                rlimit_nice.map_or("unknown".to_string(), |v| v.to_string()),
            ),
            PriorityWarning::Failed { requested, errno } => write!(
                f,
                "setpriority(nice {requested}) failed: {}; running at normal priority",
                io::Error::from_raw_os_error(*errno)
            ),
        }
    }
}

/// Kernel thread id of the calling thread.
pub fn current_tid() -> libc::pid_t {
    // SAFETY: gettid has no preconditions and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) as libc::pid_t }
}

/// Current nice value of the calling thread.
pub fn current_thread_nice() -> io::Result<i32> {
    // getpriority may legitimately return -1, so errno must be cleared first.
    // SAFETY: errno location is thread-local; getpriority has no memory preconditions.
    unsafe {
        *libc::__errno_location() = 0;
        let v = libc::getpriority(libc::PRIO_PROCESS, current_tid() as libc::id_t);
        let errno = *libc::__errno_location();
        if v == -1 && errno != 0 {
            return Err(io::Error::from_raw_os_error(errno));
        }
        Ok(v)
    }
}

/// Sets the calling thread's nice value (this thread only, not the process).
/// Never fails: a refusal comes back as `PriorityOutcome::Warning`.
pub fn set_thread_nice(nice: i32) -> PriorityOutcome {
    if !(-20..=19).contains(&nice) {
        return PriorityOutcome::Warning(PriorityWarning::OutOfRange { requested: nice });
    }
    if nice == 0 && current_thread_nice().ok() == Some(0) {
        return PriorityOutcome::Unchanged;
    }
    // SAFETY: plain syscall on our own thread id.
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, current_tid() as libc::id_t, nice) };
    if rc == 0 {
        return PriorityOutcome::Applied { nice };
    }
    let errno = io::Error::last_os_error().raw_os_error().unwrap_or(0);
    if errno == libc::EACCES || errno == libc::EPERM {
        PriorityOutcome::Warning(PriorityWarning::NotPermitted {
            requested: nice,
            rlimit_nice: crate::limits::get(libc::RLIMIT_NICE)
                .ok()
                .map(|(soft, _)| soft),
            errno,
        })
    } else {
        PriorityOutcome::Warning(PriorityWarning::Failed {
            requested: nice,
            errno,
        })
    }
}

/// `set_thread_nice`, logging exactly one `warn!` when refused.
pub fn raise_thread_priority(nice: i32) -> PriorityOutcome {
    let outcome = set_thread_nice(nice);
    if let PriorityOutcome::Warning(w) = &outcome {
        tracing::warn!(target: "ballast::shards", "control shard priority: {w}");
    }
    outcome
}
