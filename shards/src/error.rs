//! Why a shard or a shard set stopped with an error.

use std::error::Error as StdError;
use std::fmt;
use std::io;

use crate::context::ShardId;

/// What shard code returns.
pub type ShardResult = Result<(), Box<dyn StdError + Send + Sync>>;

/// How one shard failed.
#[derive(Debug)]
pub enum ShardError {
    /// The executor could not be created (io_uring setup, locked memory,
    /// placement). glommio reports this only when the thread is joined.
    StartFailed {
        shard: ShardId,
        detail: String,
        memlock_hint: Option<String>,
    },
    /// The shard's code returned an error.
    Failed {
        shard: ShardId,
        error: Box<dyn StdError + Send + Sync>,
    },
    /// The shard's thread panicked.
    Panicked { shard: ShardId, message: String },
    /// The shard did not run its code because a peer shard failed to start.
    Aborted { shard: ShardId, reason: String },
}

impl ShardError {
    pub fn shard(&self) -> ShardId {
        match self {
            ShardError::StartFailed { shard, .. }
            | ShardError::Failed { shard, .. }
            | ShardError::Panicked { shard, .. }
            | ShardError::Aborted { shard, .. } => *shard,
        }
    }
}

impl fmt::Display for ShardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShardError::StartFailed {
                shard,
                detail,
                memlock_hint,
            } => {
                write!(f, "{shard} shard failed to start: {detail}")?;
                if let Some(hint) = memlock_hint {
                    write!(f, "; {hint}")?;
                }
                Ok(())
            }
            ShardError::Failed { shard, error } => write!(f, "{shard} shard failed: {error}"),
            ShardError::Panicked { shard, message } => {
                write!(f, "{shard} shard panicked: {message}")
            }
            ShardError::Aborted { shard, reason } => write!(f, "{shard} shard aborted: {reason}"),
        }
    }
}

impl StdError for ShardError {}

/// Every shard error of a shard set, root causes first.
#[derive(Debug)]
pub struct ShardSetError {
    pub errors: Vec<ShardError>,
}

impl ShardSetError {
    /// The error that explains the others (a start failure rather than the
    /// aborts it caused).
    pub fn primary(&self) -> Option<&ShardError> {
        self.errors.first()
    }
}

impl fmt::Display for ShardSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errors.split_first() {
            None => f.write_str("shard set failed"),
            Some((first, [])) => write!(f, "{first}"),
            Some((first, rest)) => write!(f, "{first} (and {} more shard errors)", rest.len()),
        }
    }
}

impl StdError for ShardSetError {}

impl From<ShardSetError> for io::Error {
    fn from(e: ShardSetError) -> io::Error {
        io::Error::other(e.to_string())
    }
}

/// Orders errors so root causes come first.
pub(crate) fn rank(e: &ShardError) -> u8 {
    match e {
        ShardError::StartFailed { .. } => 0,
        ShardError::Panicked { .. } => 1,
        ShardError::Failed { .. } => 2,
        ShardError::Aborted { .. } => 3,
    }
}

/// Text for a failure that may come from too little lockable memory.
pub(crate) fn memlock_hint(err: &str) -> Option<String> {
    let lower = err.to_ascii_lowercase();
    // glommio checks the limit itself ("MemLockLimit(have/need)") before io_uring can.
    let suspicious = [
        "memlock",
        "cannot allocate memory",
        "out of memory",
        "operation not permitted",
        "resource temporarily unavailable",
        "enomem",
        "eperm",
        "eagain",
    ];
    if !suspicious.iter().any(|s| lower.contains(s)) {
        return None;
    }
    let limits = match crate::limits::get(libc::RLIMIT_MEMLOCK) {
        Ok((soft, hard)) => format!("RLIMIT_MEMLOCK soft={soft} hard={hard} bytes"),
        Err(e) => format!("RLIMIT_MEMLOCK unreadable ({e})"),
    };
    Some(format!(
        "likely too little lockable memory for io_uring ({limits}; glommio needs at least {} \
         bytes per process, more with io_memory): raise it with `ulimit -l`, LimitMEMLOCK= in \
         the systemd unit, or run with CAP_IPC_LOCK",
        crate::limits::MIN_MEMLOCK_BYTES
    ))
}
