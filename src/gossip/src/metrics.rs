//! Counters of failure-detector activity, for drivers' metrics (memberlist
//! emits the same as `degraded.probe`, `msg.suspect`, `msg.alive` refutes)
//! and for the simulator's diagnosis of false failures.

/// Monotonic counters since `Gossip::new`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Probes this node started.
    pub probes: u64,
    /// Probes that got no ack in time (each one starts or confirms a suspicion).
    pub probes_failed: u64,
    /// Suspicions about other members this node started tracking.
    pub suspicions_started: u64,
    /// Suspicion timers of ours that ran out (each declares a member dead).
    pub suspicions_expired: u64,
    /// Accusations about ourselves we answered with a higher incarnation.
    pub refutations: u64,
    /// Probes that carried a suspect message to the suspect (buddy system).
    pub buddy_suspects_sent: u64,
}
