//! The result of one check run.

/// Check statuses as Consul spells them (`api.HealthPassing`, ...).
pub const PASSING: &str = "passing";
pub const WARNING: &str = "warning";
pub const CRITICAL: &str = "critical";

/// What one run of a check reports: the status and the output text Consul
/// would store for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `"passing"`, `"warning"` or `"critical"`.
    pub status: &'static str,
    pub output: String,
    /// Report as is, outside the [`crate::StatusHandler`]'s thresholds.
    /// Consul's script check does this for a timeout and for a script that
    /// cannot be started (it calls the notifier directly there).
    pub immediate: bool,
}

impl Outcome {
    pub fn passing(output: impl Into<String>) -> Self {
        Self::new(PASSING, output)
    }

    pub fn warning(output: impl Into<String>) -> Self {
        Self::new(WARNING, output)
    }

    pub fn critical(output: impl Into<String>) -> Self {
        Self::new(CRITICAL, output)
    }

    fn new(status: &'static str, output: impl Into<String>) -> Self {
        Outcome {
            status,
            output: output.into(),
            immediate: false,
        }
    }

    pub(crate) fn immediately(mut self) -> Self {
        self.immediate = true;
        self
    }
}

/// Maps a status string to the static spelling; anything unknown is critical
/// (Consul's StatusHandler treats every non-passing, non-warning as failure).
pub(crate) fn static_status(status: &str) -> &'static str {
    match status {
        PASSING => PASSING,
        WARNING => WARNING,
        _ => CRITICAL,
    }
}
