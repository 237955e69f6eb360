//! One error type for the whole crate. `Corrupt` is what the agent prints before exiting
//! non-zero, so its Display always names the file and the byte offset.
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub enum StorageError {
    /// An operating-system call failed.
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// A file holds bytes that cannot be what we wrote (and cannot be explained by a torn
    /// final write). Never repaired silently.
    Corrupt {
        file: PathBuf,
        offset: u64,
        detail: String,
    },
    /// The caller asked for something the log cannot do (an index gap, a read of a
    /// compacted range, frames that do not match the indexes they claim).
    InvalidArgument(String),
    /// An earlier write or fdatasync failed; after a failed fsync the file contents are
    /// unknown, so the log refuses further writes (the agent should exit and recover).
    Poisoned,
}

impl StorageError {
    pub(crate) fn io(op: &'static str, path: &Path, source: impl Into<io::Error>) -> Self {
        StorageError::Io {
            op,
            path: path.to_path_buf(),
            source: source.into(),
        }
    }

    pub(crate) fn corrupt(file: &Path, offset: u64, detail: impl Into<String>) -> Self {
        StorageError::Corrupt {
            file: file.to_path_buf(),
            offset,
            detail: detail.into(),
        }
    }

    /// True for `Corrupt`: the agent's cue to print and exit non-zero.
    pub fn is_corrupt(&self) -> bool {
        matches!(self, StorageError::Corrupt { .. })
    }
}

/// What kind of file a path is, for messages (derived from the name we gave it).
pub(crate) fn file_label(path: &Path) -> &'static str {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.ends_with(".seg") {
        "log segment"
    } else if name.starts_with("raft-state") {
        "raft state file"
    } else if name.ends_with(".snap") {
        "snapshot"
    } else {
        "file"
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::Io { op, path, source } => {
                write!(f, "{op} {}: {source}", path.display())
            }
            StorageError::Corrupt {
                file,
                offset,
                detail,
            } => write!(
                f,
                "{} {} is corrupt at offset {offset}: {detail}",
                file_label(file),
                file.display()
            ),
            StorageError::InvalidArgument(msg) => write!(f, "invalid storage request: {msg}"),
            StorageError::Poisoned => write!(
                f,
                "raft log is unusable after an earlier write or fdatasync failure; restart to recover"
            ),
        }
    }
}

impl std::error::Error for StorageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StorageError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
