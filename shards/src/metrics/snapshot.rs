//! Plain-data copies of shard registries and how they combine.

use std::collections::BTreeMap;
use std::time::Instant;

use super::handles::{GaugeMerge, GaugeValue};
use super::key::MetricKey;

/// One gauge as a shard reported it.
#[derive(Clone, Debug, PartialEq)]
pub struct GaugeSample {
    pub value: GaugeValue,
    pub merge: GaugeMerge,
    /// When it was last set (only tracked for `GaugeMerge::Last`).
    pub set_at: Option<Instant>,
}

/// Figures of one shard, or of several merged. `Send`: built on a shard,
/// carried over a bounded queue, merged wherever the scrape is answered.
#[derive(Clone, Debug, Default)]
pub struct MetricsSnapshot {
    pub counters: BTreeMap<MetricKey, u64>,
    pub gauges: BTreeMap<MetricKey, GaugeSample>,
    pub histograms: BTreeMap<MetricKey, hdrhistogram::Histogram<u64>>,
    /// How many shard snapshots went into this one.
    pub shards: usize,
}

impl MetricsSnapshot {
    /// Folds `other` into `self`: counters add, gauges combine by their merge
    /// rule, histograms add bucket by bucket (percentiles stay exact to the
    /// histograms' precision).
    pub fn merge(&mut self, other: MetricsSnapshot) {
        self.shards += other.shards;
        for (k, v) in other.counters {
            let c = self.counters.entry(k).or_insert(0);
            *c = c.wrapping_add(v);
        }
        for (k, g) in other.gauges {
            match self.gauges.get_mut(&k) {
                Some(mine) => *mine = combine(mine, &g),
                None => {
                    self.gauges.insert(k, g);
                }
            }
        }
        for (k, h) in other.histograms {
            match self.histograms.get_mut(&k) {
                Some(mine) => add_histogram(mine, &h),
                None => {
                    self.histograms.insert(k, h);
                }
            }
        }
    }

    /// Merges many snapshots into one.
    pub fn merge_all(snapshots: impl IntoIterator<Item = MetricsSnapshot>) -> MetricsSnapshot {
        snapshots
            .into_iter()
            .fold(MetricsSnapshot::default(), |mut acc, s| {
                acc.merge(s);
                acc
            })
    }

    /// Value of the counter `name` with exactly these labels.
    pub fn counter(&self, name: &'static str, labels: &[(&'static str, &str)]) -> Option<u64> {
        self.counters
            .get(&MetricKey::with_labels(name, labels))
            .copied()
    }

    /// Sum of the counter `name` over all its label sets.
    pub fn counter_total(&self, name: &str) -> u64 {
        self.counters
            .iter()
            .filter(|(k, _)| k.name == name)
            .map(|(_, v)| *v)
            .sum()
    }

    /// Value of the gauge `name` with exactly these labels.
    pub fn gauge(&self, name: &'static str, labels: &[(&'static str, &str)]) -> Option<GaugeValue> {
        self.gauges
            .get(&MetricKey::with_labels(name, labels))
            .map(|g| g.value)
    }

    /// The histogram `name` with exactly these labels.
    pub fn histogram(
        &self,
        name: &'static str,
        labels: &[(&'static str, &str)],
    ) -> Option<&hdrhistogram::Histogram<u64>> {
        self.histograms.get(&MetricKey::with_labels(name, labels))
    }
}

fn combine(a: &GaugeSample, b: &GaugeSample) -> GaugeSample {
    let value = match a.merge {
        GaugeMerge::Sum => match (a.value, b.value) {
            (GaugeValue::Int(x), GaugeValue::Int(y)) => GaugeValue::Int(x.wrapping_add(y)),
            (x, y) => GaugeValue::Float(x.as_f64() + y.as_f64()),
        },
        GaugeMerge::Max => pick(a.value, b.value, |x, y| y > x),
        GaugeMerge::Min => pick(a.value, b.value, |x, y| y < x),
        GaugeMerge::Last => {
            // A gauge never set has no time and loses to one that was.
            if b.set_at > a.set_at {
                return b.clone();
            }
            a.value
        }
    };
    GaugeSample {
        value,
        merge: a.merge,
        set_at: a.set_at.max(b.set_at),
    }
}

fn pick(a: GaugeValue, b: GaugeValue, b_wins: impl Fn(f64, f64) -> bool) -> GaugeValue {
    if b_wins(a.as_f64(), b.as_f64()) {
        b
    } else {
        a
    }
}

fn add_histogram(into: &mut hdrhistogram::Histogram<u64>, from: &hdrhistogram::Histogram<u64>) {
    into.auto(true);
    if into.add(from).is_err() {
        // Only fails when `into` cannot widen; rebuild at the finer precision.
        let sigfig = into.sigfig().max(from.sigfig());
        if let Ok(mut wide) = hdrhistogram::Histogram::<u64>::new(sigfig) {
            if wide.add(&*into).is_ok() && wide.add(from).is_ok() {
                *into = wide;
            }
        }
    }
}
