//! The per-shard (per-thread) registry. Registration borrows a thread-local
//! `RefCell`; recording goes through handles and never touches it. Nothing here
//! is shared with another core: other shards see these figures only as a
//! `MetricsSnapshot` this shard builds when asked.

use std::cell::RefCell;
use std::collections::BTreeMap;

use super::handles::{Counter, Gauge, GaugeMerge, GaugeValue, Histogram, DEFAULT_SIGFIG};
use super::key::MetricKey;
use super::snapshot::{GaugeSample, MetricsSnapshot};

type Probe = Box<dyn Fn() -> Option<i64>>;

#[derive(Default)]
struct Registry {
    counters: BTreeMap<MetricKey, Counter>,
    gauges: BTreeMap<MetricKey, Gauge>,
    histograms: BTreeMap<MetricKey, Histogram>,
    // Gauges computed when a snapshot is taken (queue depths); a probe that
    // returns None is gone (its queue was dropped) and is removed.
    probes: Vec<(MetricKey, Probe)>,
}

thread_local! {
    static REGISTRY: RefCell<Registry> = RefCell::new(Registry::default());
}

/// The counter `name` (no labels) of this shard; same handle for the same key.
pub fn counter(name: &'static str) -> Counter {
    counter_key(MetricKey::new(name))
}

/// The counter `key` of this shard.
pub fn counter_key(key: MetricKey) -> Counter {
    REGISTRY.with(|r| r.borrow_mut().counters.entry(key).or_default().clone())
}

/// The gauge `name` of this shard. The merge rule is fixed by the first registration.
pub fn gauge(name: &'static str, merge: GaugeMerge) -> Gauge {
    gauge_key(MetricKey::new(name), merge)
}

/// The gauge `key` of this shard.
pub fn gauge_key(key: MetricKey, merge: GaugeMerge) -> Gauge {
    REGISTRY.with(|r| {
        r.borrow_mut()
            .gauges
            .entry(key)
            .or_insert_with(|| Gauge::new(merge))
            .clone()
    })
}

/// The histogram `name` of this shard, at the default precision.
pub fn histogram(name: &'static str) -> Histogram {
    histogram_key(MetricKey::new(name), DEFAULT_SIGFIG)
}

/// The histogram `key` of this shard with `sigfig` significant digits (1..=5)
/// when it is created by this call.
pub fn histogram_key(key: MetricKey, sigfig: u8) -> Histogram {
    REGISTRY.with(|r| {
        r.borrow_mut()
            .histograms
            .entry(key)
            .or_insert_with(|| Histogram::new(sigfig))
            .clone()
    })
}

/// Registers an integer gauge (merged by sum) computed at snapshot time.
/// The probe returns `None` once what it measures is gone; it is then dropped.
pub fn register_probe(key: MetricKey, probe: impl Fn() -> Option<i64> + 'static) {
    REGISTRY.with(|r| r.borrow_mut().probes.push((key, Box::new(probe))));
}

/// A copy of this shard's registry: plain data, `Send`, ready to travel to
/// whichever shard merges. On a shard started by `ShardSet` it first refreshes
/// the executor's runtime figures.
pub fn snapshot() -> MetricsSnapshot {
    if crate::context::current_shard().is_some() {
        super::runtime::refresh();
    }
    REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        let mut snap = MetricsSnapshot {
            shards: 1,
            ..MetricsSnapshot::default()
        };
        for (k, c) in &r.counters {
            snap.counters.insert(k.clone(), c.get());
        }
        for (k, g) in &r.gauges {
            let sample = GaugeSample {
                value: g.get(),
                merge: g.0.merge,
                set_at: g.0.set_at.get(),
            };
            snap.gauges.insert(k.clone(), sample);
        }
        for (k, h) in &r.histograms {
            snap.histograms.insert(k.clone(), h.0.borrow().clone());
        }
        let mut probe_values: Vec<(MetricKey, i64)> = Vec::new();
        r.probes.retain(|(k, p)| match p() {
            Some(v) => {
                probe_values.push((k.clone(), v));
                true
            }
            None => false,
        });
        for (k, v) in probe_values {
            let sample = GaugeSample {
                value: GaugeValue::Int(v),
                merge: GaugeMerge::Sum,
                set_at: None,
            };
            snap.gauges.insert(k, sample);
        }
        snap
    })
}
