//! The one error type of this crate: an HTTP status and Consul's exact text.

use std::fmt;

/// An error as Consul's agent endpoints report it: `status()` is the HTTP
/// code, `Display` the plain-text body Consul writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalError {
    /// 400: decode and validation failures (`Request decode failed: ...`,
    /// `Missing service name`, `Invalid check: ...`).
    BadRequest(String),
    /// 404: `ServiceID "x" does not exist`, unknown service for maintenance.
    NotFound(String),
    /// 500: errors Consul returns as plain `error`s (agent-side validation
    /// such as tagged addresses, persistence failures, non-TTL check update).
    Internal(String),
}

impl LocalError {
    pub fn status(&self) -> u16 {
        match self {
            LocalError::BadRequest(_) => 400,
            LocalError::NotFound(_) => 404,
            LocalError::Internal(_) => 500,
        }
    }

    pub fn text(&self) -> &str {
        match self {
            LocalError::BadRequest(s) | LocalError::NotFound(s) | LocalError::Internal(s) => s,
        }
    }

    pub(crate) fn decode(err: impl fmt::Display) -> LocalError {
        LocalError::BadRequest(format!("Request decode failed: {err}"))
    }
}

impl fmt::Display for LocalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

impl std::error::Error for LocalError {}
