//! Process resource limits raised before executors start.
//!
//! glommio locks memory for its io_uring buffers and reports a too-low
//! RLIMIT_MEMLOCK only when the executor thread is joined, so the soft limit is
//! raised to the hard limit up front. RLIMIT_NOFILE likewise: each client
//! connection is a descriptor and the usual soft default (1024) is far too low.

use std::fmt;
use std::io;

/// The result of raising one limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LimitOutcome {
    /// Soft limit moved from `from` to `to` (the hard limit).
    Raised { from: u64, to: u64 },
    /// Soft limit already equal to the hard limit.
    AlreadyMax { value: u64 },
    /// getrlimit/setrlimit failed; the old limit stays.
    Failed { errno: i32 },
}

/// What `raise_process_limits` did, for the start-up log and for tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitsReport {
    pub memlock: LimitOutcome,
    pub nofile: LimitOutcome,
}

impl fmt::Display for LimitOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitOutcome::Raised { from, to } => {
                write!(f, "raised {} -> {}", show(*from), show(*to))
            }
            LimitOutcome::AlreadyMax { value } => write!(f, "at hard limit {}", show(*value)),
            LimitOutcome::Failed { errno } => write!(f, "{}", io::Error::from_raw_os_error(*errno)),
        }
    }
}

fn show(v: u64) -> String {
    if v == libc::RLIM_INFINITY {
        "unlimited".into()
    } else {
        v.to_string()
    }
}

/// (soft, hard) of a resource.
pub fn get(resource: libc::__rlimit_resource_t) -> io::Result<(u64, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: lim is a valid out-pointer.
    if unsafe { libc::getrlimit(resource, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((lim.rlim_cur, lim.rlim_max))
}

/// Sets (soft, hard) of a resource.
pub fn set(resource: libc::__rlimit_resource_t, soft: u64, hard: u64) -> io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: lim is a valid pointer.
    if unsafe { libc::setrlimit(resource, &lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Raises the soft limit of `resource` to its hard limit.
pub fn raise_soft_to_hard(resource: libc::__rlimit_resource_t) -> LimitOutcome {
    let errno = |e: io::Error| LimitOutcome::Failed {
        errno: e.raw_os_error().unwrap_or(0),
    };
    let (soft, hard) = match get(resource) {
        Ok(v) => v,
        Err(e) => return errno(e),
    };
    if soft == hard {
        return LimitOutcome::AlreadyMax { value: hard };
    }
    match set(resource, hard, hard) {
        Ok(()) => LimitOutcome::Raised {
            from: soft,
            to: hard,
        },
        Err(e) => errno(e),
    }
}

/// Raises RLIMIT_MEMLOCK soft->hard.
pub fn raise_memlock() -> LimitOutcome {
    raise_soft_to_hard(libc::RLIMIT_MEMLOCK)
}

/// Raises RLIMIT_NOFILE soft->hard.
pub fn raise_nofile() -> LimitOutcome {
    raise_soft_to_hard(libc::RLIMIT_NOFILE)
}

/// glommio needs at least this much lockable memory per process (measured).
pub const MIN_MEMLOCK_BYTES: u64 = 512 * 1024;

/// Raises both limits, logging a warning for each failure and when the
/// memlock limit stays below what glommio needs. Never fails.
pub fn raise_process_limits() -> LimitsReport {
    let report = LimitsReport {
        memlock: raise_memlock(),
        nofile: raise_nofile(),
    };
    if let LimitOutcome::Failed { .. } = report.memlock {
        tracing::warn!(target: "ballast::shards", "RLIMIT_MEMLOCK not raised: {}", report.memlock);
    }
    if let LimitOutcome::Failed { .. } = report.nofile {
        tracing::warn!(target: "ballast::shards", "RLIMIT_NOFILE not raised: {}", report.nofile);
    }
    if let Ok((soft, _)) = get(libc::RLIMIT_MEMLOCK) {
        if soft < MIN_MEMLOCK_BYTES {
            tracing::warn!(
                target: "ballast::shards",
                "RLIMIT_MEMLOCK is {soft} bytes, below the {MIN_MEMLOCK_BYTES} glommio needs \
                 (unless running with CAP_IPC_LOCK); raise it (ulimit -l, LimitMEMLOCK=)"
            );
        }
    }
    report
}
