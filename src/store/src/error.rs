use std::fmt;

/// Bytes that are not a valid archive (wrong layout, truncated, bad magic,
/// inconsistent contents). Carries the underlying reason so a release build
/// still says what failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    what: String,
}

impl DecodeError {
    pub(crate) fn new(what: impl Into<String>) -> Self {
        DecodeError { what: what.into() }
    }

    /// Human-readable reason.
    pub fn what(&self) -> &str {
        &self.what
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "decode failed: {}", self.what)
    }
}

impl std::error::Error for DecodeError {}
