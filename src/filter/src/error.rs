//! The error a bad filter produces, worded and coded as Consul answers it.

use std::fmt;

/// Consul wraps every go-bexpr creation error as
/// `Failed to create boolean expression evaluator: <detail>` (bexpr
/// `filter.go`), and its HTTP layer has no special case for it: the catalog
/// and health endpoints get it back from the RPC layer and the agent
/// endpoints return it directly, so `agent/http.go`'s `handleErr` falls to
/// its default branch and answers 500 with the error text as the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    detail: String,
}

const PREFIX: &str = "Failed to create boolean expression evaluator: ";

impl FilterError {
    pub(crate) fn new(detail: impl Into<String>) -> Self {
        FilterError {
            detail: detail.into(),
        }
    }

    /// The HTTP status Consul answers with for this error.
    pub fn status(&self) -> u16 {
        500
    }

    /// The go-bexpr part of the message, without Consul's prefix.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", PREFIX, self.detail)
    }
}

impl std::error::Error for FilterError {}
