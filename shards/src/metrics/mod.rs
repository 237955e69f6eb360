//! Per-shard metrics: counters, gauges and HDR histograms recorded into a
//! thread-local registry (no atomics shared across cores, no mutex), merged
//! only when read.
//!
//! Scrape flow (the agent wires the transport): the answering shard asks every
//! shard over the bounded queues; each calls [`snapshot`] on itself and sends
//! the `MetricsSnapshot` back; the answering shard calls
//! [`MetricsSnapshot::merge_all`].
//!
//! Runtime figures recorded for export: `ballast.runtime.tasks_executed`,
//! `.scheduler_runs`, `.busy_us`, `.task_queue.runtime_us`,
//! `.task_queue.selected` (label `shard`, and `task_queue`), and per queue
//! `ballast.shard.queue.sent`, `.full`, `.depth` (labels `queue`, `link`).

mod handles;
mod key;
mod registry;
mod runtime;
mod snapshot;

pub use handles::{Counter, Gauge, GaugeGuard, GaugeMerge, GaugeValue, Histogram, DEFAULT_SIGFIG};
pub use key::MetricKey;
pub use registry::{
    counter, counter_key, gauge, gauge_key, histogram, histogram_key, register_probe, snapshot,
};
pub use snapshot::{GaugeSample, MetricsSnapshot};
