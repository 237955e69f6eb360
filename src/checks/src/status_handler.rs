//! Consul's `checks.StatusHandler`: consecutive-result thresholds between a
//! check's runs and what the catalog is told.

use crate::outcome::{Outcome, CRITICAL, PASSING, WARNING};

/// Counts consecutive successes and failures. Both counters start AT their
/// thresholds (NewStatusHandler), so the very first run is reported at once
/// whatever it says; after that a status change needs the configured number
/// of consecutive runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusHandler {
    success_before_passing: u64,
    success_counter: u64,
    failures_before_warning: u64,
    failures_before_critical: u64,
    failures_counter: u64,
}

impl StatusHandler {
    /// `NewStatusHandler(successBeforePassing, failuresBeforeWarning,
    /// failuresBeforeCritical)`. Consul's agent first defaults a zero
    /// `failures_before_warning` to `failures_before_critical` (see
    /// [`crate::failures_before_warning_default`]); this constructor, like
    /// NewStatusHandler, takes the values as they are.
    pub fn new(
        success_before_passing: u32,
        failures_before_warning: u32,
        failures_before_critical: u32,
    ) -> Self {
        StatusHandler {
            success_before_passing: success_before_passing.into(),
            success_counter: success_before_passing.into(),
            failures_before_warning: failures_before_warning.into(),
            failures_before_critical: failures_before_critical.into(),
            failures_counter: failures_before_critical.into(),
        }
    }

    /// As the agent builds it from a check definition: a zero
    /// `failures_before_warning` means "same as critical".
    pub fn for_check(
        success_before_passing: u32,
        failures_before_warning: u32,
        failures_before_critical: u32,
    ) -> Self {
        let warning = crate::failures_before_warning_default(
            failures_before_warning,
            failures_before_critical,
        );
        Self::new(success_before_passing, warning, failures_before_critical)
    }

    /// Feeds one run's outcome; returns what to report to the local state,
    /// or `None` when a threshold holds the report back. Outcomes marked
    /// [`Outcome::immediate`] pass through untouched (counters unchanged).
    pub fn update(&mut self, outcome: Outcome) -> Option<Outcome> {
        if outcome.immediate {
            return Some(outcome);
        }
        if outcome.status == PASSING || outcome.status == WARNING {
            self.success_counter = self.success_counter.saturating_add(1);
            self.failures_counter = 0;
            if self.success_counter >= self.success_before_passing {
                return Some(outcome);
            }
            return None;
        }
        self.failures_counter = self.failures_counter.saturating_add(1);
        self.success_counter = 0;
        if self.failures_counter >= self.failures_before_critical {
            return Some(Outcome {
                status: CRITICAL,
                ..outcome
            });
        }
        if self.failures_counter >= self.failures_before_warning {
            return Some(Outcome {
                status: WARNING,
                ..outcome
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replays Consul's mock notifier: counts reports and keeps the last status.
    struct Notified {
        handler: StatusHandler,
        updates: usize,
        state: &'static str,
    }

    impl Notified {
        fn new(sbp: u32, fbw: u32, fbc: u32) -> Self {
            Notified {
                handler: StatusHandler::new(sbp, fbw, fbc),
                updates: 0,
                state: "",
            }
        }
        fn pass(&mut self) {
            self.feed(Outcome::passing("bar"));
        }
        fn fail(&mut self) {
            self.feed(Outcome::critical("bar"));
        }
        fn feed(&mut self, o: Outcome) {
            if let Some(r) = self.handler.update(o) {
                self.updates += 1;
                self.state = r.status;
            }
        }
        fn expect(&self, updates: usize, state: &str) {
            assert_eq!((self.updates, self.state), (updates, state));
        }
    }

    #[test]
    fn zero_thresholds_report_everything() {
        let mut n = Notified::new(0, 0, 0);
        n.fail();
        n.expect(1, CRITICAL);
        n.pass();
        n.expect(2, PASSING);
        n.feed(Outcome::warning("w"));
        n.expect(3, WARNING);
    }

    #[test]
    fn status_changes_after_consecutive_thresholds() {
        // TestStatusHandlerUpdateStatusAfterConsecutiveChecksThresholdIsReached
        let mut n = Notified::new(2, 2, 3);
        n.pass();
        n.fail();
        n.expect(1, PASSING);
        n.fail();
        n.expect(2, WARNING);
        n.fail();
        n.expect(3, CRITICAL);
        n.pass();
        n.expect(3, CRITICAL);
        n.pass();
        n.expect(4, PASSING);
    }

    #[test]
    fn non_consecutive_results_reset_counters() {
        // TestStatusHandlerResetCountersOnNonIdenticalsConsecutiveChecks
        let mut n = Notified::new(2, 2, 3);
        n.pass();
        for _ in 0..2 {
            n.fail();
            n.pass();
        }
        n.fail();
        n.expect(1, PASSING);
        n.fail();
        n.expect(2, WARNING);
        n.fail();
        n.expect(3, CRITICAL);
        n.pass();
        n.fail();
        n.pass();
        n.expect(3, CRITICAL);
        n.pass();
        n.expect(4, PASSING);
    }

    #[test]
    fn equal_warning_and_critical_thresholds_go_straight_to_critical() {
        let mut n = Notified::new(2, 3, 3);
        n.pass();
        n.fail();
        n.fail();
        n.expect(1, PASSING);
        n.fail();
        n.expect(2, CRITICAL);
        n.pass();
        n.pass();
        n.expect(3, PASSING);
    }

    #[test]
    fn flapping_check_stays_warning_until_critical_threshold() {
        // TestStatusHandlerMaintainWarningStatusWhenCheckIsFlapping
        let mut n = Notified::new(3, 3, 5);
        n.pass();
        n.fail();
        n.fail();
        n.expect(1, PASSING);
        n.fail();
        n.expect(2, WARNING);
        for expected in 3..=5 {
            n.pass();
            n.fail();
            n.fail();
            n.fail();
            n.expect(expected, WARNING);
        }
        n.fail();
        n.expect(6, WARNING);
        n.fail();
        n.expect(7, CRITICAL);
    }

    #[test]
    fn warning_counts_as_success_and_keeps_its_status() {
        let mut n = Notified::new(2, 1, 3);
        n.feed(Outcome::warning("w"));
        n.expect(1, WARNING);
        n.fail();
        n.expect(2, WARNING);
        n.feed(Outcome::warning("w"));
        n.expect(2, WARNING);
        n.feed(Outcome::warning("w"));
        n.expect(3, WARNING);
    }

    #[test]
    fn immediate_outcomes_bypass_and_keep_counters() {
        let mut n = Notified::new(2, 2, 2);
        n.pass();
        n.feed(Outcome::critical("Timed out").immediately());
        n.expect(2, CRITICAL);
        // The counters did not see that failure: one more failure is still held back.
        n.fail();
        n.expect(2, CRITICAL);
    }

    #[test]
    fn for_check_defaults_warning_threshold() {
        let mut h = StatusHandler::for_check(0, 0, 3);
        assert!(h.update(Outcome::passing("")).is_some());
        assert!(h.update(Outcome::critical("")).is_none());
        assert!(h.update(Outcome::critical("")).is_none());
        assert_eq!(
            h.update(Outcome::critical("")).map(|o| o.status),
            Some(CRITICAL)
        );
        // Without the default a zero warning threshold warns on the first failure.
        let mut raw = StatusHandler::new(0, 0, 3);
        raw.update(Outcome::passing(""));
        assert_eq!(
            raw.update(Outcome::critical("x")).map(|o| o.status),
            Some(WARNING)
        );
    }
}
