//! Recording handles. Each one points into the registry of the shard (thread)
//! that created it; they are `Rc`-based, hence `!Send`, so a handle can never
//! record into another core's registry. Recording is a plain memory write:
//! no atomics, no locks.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Monotonic count.
#[derive(Clone, Debug, Default)]
pub struct Counter(pub(crate) Rc<Cell<u64>>);

impl Counter {
    /// A counter not in any registry (records go nowhere visible).
    pub fn detached() -> Self {
        Counter::default()
    }
    pub fn inc(&self) {
        self.add(1);
    }
    pub fn add(&self, n: u64) {
        self.0.set(self.0.get().wrapping_add(n));
    }
    pub fn get(&self) -> u64 {
        self.0.get()
    }
    /// For figures read from elsewhere as running totals (executor stats).
    pub(crate) fn set_total(&self, v: u64) {
        self.0.set(v);
    }
}

/// How shards' values of one gauge combine into one figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GaugeMerge {
    /// Add them (in-flight requests, queue depths, open connections).
    Sum,
    /// The largest.
    Max,
    /// The smallest.
    Min,
    /// The most recently set (a leader's term, a config value).
    Last,
}

/// A gauge's value: integer or float.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GaugeValue {
    Int(i64),
    Float(f64),
}

impl GaugeValue {
    pub fn as_f64(self) -> f64 {
        match self {
            GaugeValue::Int(v) => v as f64,
            GaugeValue::Float(v) => v,
        }
    }
}

#[derive(Debug)]
pub(crate) struct GaugeCell {
    pub(crate) value: Cell<GaugeValue>,
    pub(crate) set_at: Cell<Option<Instant>>,
    pub(crate) merge: GaugeMerge,
}

/// A value that goes up and down.
#[derive(Clone, Debug)]
pub struct Gauge(pub(crate) Rc<GaugeCell>);

impl Gauge {
    pub(crate) fn new(merge: GaugeMerge) -> Self {
        Gauge(Rc::new(GaugeCell {
            value: Cell::new(GaugeValue::Int(0)),
            set_at: Cell::new(None),
            merge,
        }))
    }

    fn store(&self, v: GaugeValue) {
        self.0.value.set(v);
        // Only "last wins" gauges need a time, and only they pay for the clock.
        if self.0.merge == GaugeMerge::Last {
            self.0.set_at.set(Some(Instant::now()));
        }
    }

    pub fn set(&self, v: i64) {
        self.store(GaugeValue::Int(v));
    }
    pub fn set_f64(&self, v: f64) {
        self.store(GaugeValue::Float(v));
    }
    /// Adds to an integer gauge (a float gauge stays float).
    pub fn add(&self, d: i64) {
        let v = match self.0.value.get() {
            GaugeValue::Int(v) => GaugeValue::Int(v.wrapping_add(d)),
            GaugeValue::Float(v) => GaugeValue::Float(v + d as f64),
        };
        self.store(v);
    }
    pub fn get(&self) -> GaugeValue {
        self.0.value.get()
    }
    /// +1 now, -1 when the guard drops: counts in-flight work even when a
    /// future is dropped mid-await (a client disconnect).
    pub fn track(&self) -> GaugeGuard {
        self.add(1);
        GaugeGuard(self.clone())
    }
}

/// See [`Gauge::track`].
#[derive(Debug)]
pub struct GaugeGuard(Gauge);

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.add(-1);
    }
}

/// Default precision: 2 significant digits (1% error) keeps a histogram at
/// a few KiB per shard whatever the range; pick 3 where 0.1% matters.
pub const DEFAULT_SIGFIG: u8 = 2;

/// Distribution of values (HDR histogram, auto-resizing to the largest value seen).
#[derive(Clone, Debug)]
pub struct Histogram(pub(crate) Rc<RefCell<hdrhistogram::Histogram<u64>>>);

impl Histogram {
    pub(crate) fn new(sigfig: u8) -> Self {
        let sigfig = sigfig.clamp(1, 5);
        let h = hdrhistogram::Histogram::new(sigfig)
            .or_else(|_| hdrhistogram::Histogram::new(DEFAULT_SIGFIG))
            .unwrap_or_else(|_| unreachable!("sigfig 2 is valid"));
        Histogram(Rc::new(RefCell::new(h)))
    }
    /// Records one value. The histogram widens as needed; values beyond what
    /// it can ever hold (above i64::MAX / 2) are clamped.
    pub fn record(&self, v: u64) {
        self.record_n(v, 1);
    }
    /// Records `count` occurrences of `v`.
    pub fn record_n(&self, v: u64, count: u64) {
        let mut h = self.0.borrow_mut();
        // `saturating_record*` clamps without widening, so widen first.
        if h.record_n(v, count).is_err() {
            h.saturating_record_n(v, count);
        }
    }
    /// Records a duration in microseconds (the unit ballast's timings use).
    pub fn record_duration(&self, d: Duration) {
        self.record(d.as_micros().min(u64::MAX as u128) as u64);
    }
    /// Number of values recorded.
    pub fn len(&self) -> u64 {
        self.0.borrow().len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
