//! Per-connection recording (no sharing while the load runs) and the merge
//! into one summary at the end.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::conn::Failure;

/// Highest latency the histograms track exactly: 60 s in µs. Larger values
/// are clamped to it (and still counted).
pub const MAX_TRACKED_US: u64 = 60_000_000;

pub fn new_histogram() -> Histogram<u64> {
    // 3 significant figures over 1 µs..60 s: ~0.1% error, small fixed memory.
    Histogram::new_with_bounds(1, MAX_TRACKED_US, 3).expect("static histogram bounds are valid")
}

/// What one connection measured.
pub struct Recorder {
    /// Latency of successful requests, µs. In open-loop mode it is measured
    /// from the intended start, so queueing behind a slow answer counts.
    pub latency: Histogram<u64>,
    /// Open loop only: from the moment the request was actually sent.
    pub service: Histogram<u64>,
    pub ok: u64,
    pub errors: BTreeMap<String, u64>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder { latency: new_histogram(), service: new_histogram(), ok: 0, errors: BTreeMap::new() }
    }
}

impl Recorder {
    pub fn success(&mut self, latency_us: u64) {
        self.ok += 1;
        self.latency.saturating_record(latency_us.max(1));
    }

    pub fn service_time(&mut self, us: u64) {
        self.service.saturating_record(us.max(1));
    }

    pub fn failure(&mut self, failure: &Failure) {
        // The set of kinds is small and fixed (a few names plus status codes),
        // so this map stays bounded.
        *self.errors.entry(failure.kind()).or_insert(0) += 1;
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    pub fn merge(&mut self, other: &Recorder) {
        self.ok += other.ok;
        // Same bounds on both sides, so adding cannot fail; clamp if it ever did.
        if self.latency.add(&other.latency).is_err() {
            for v in other.latency.iter_recorded() {
                self.latency.saturating_record_n(v.value_iterated_to(), v.count_at_value());
            }
        }
        if self.service.add(&other.service).is_err() {
            for v in other.service.iter_recorded() {
                self.service.saturating_record_n(v.value_iterated_to(), v.count_at_value());
            }
        }
        for (kind, n) in &other.errors {
            *self.errors.entry(kind.clone()).or_insert(0) += n;
        }
    }
}

/// Latency percentiles in µs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percentiles {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub mean: f64,
}

impl Percentiles {
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        if h.is_empty() {
            return Percentiles { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0.0 };
        }
        Percentiles {
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
            mean: h.mean(),
        }
    }
}

/// Formats µs for people: "850us", "6.50ms", "1.20s".
pub fn human_us(us: u64) -> String {
    if us < 1_000 {
        format!("{us}us")
    } else if us < 1_000_000 {
        format!("{:.2}ms", us as f64 / 1e3)
    } else {
        format!("{:.2}s", us as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_adds_counts_latencies_and_errors() {
        let mut a = Recorder::default();
        let mut b = Recorder::default();
        for us in 1..=100 {
            a.success(us);
        }
        for _ in 0..100 {
            b.success(10_000);
        }
        a.failure(&Failure::HttpStatus(500));
        b.failure(&Failure::HttpStatus(500));
        b.failure(&Failure::Timeout);
        a.merge(&b);
        assert_eq!(a.ok, 200);
        assert_eq!(a.latency.len(), 200);
        assert_eq!(a.errors["http_500"], 2);
        assert_eq!(a.errors["timeout"], 1);
        assert_eq!(a.error_count(), 3);
        let p = Percentiles::of(&a.latency);
        assert!(p.p50 <= 101, "p50 {}", p.p50);
        assert!(p.p99 >= 9_990, "p99 {}", p.p99);
        assert!(p.max >= 9_990 && p.max <= 10_010);
    }

    #[test]
    fn huge_latencies_are_clamped_not_lost() {
        let mut r = Recorder::default();
        r.success(u64::MAX);
        r.success(0);
        assert_eq!(r.ok, 2);
        assert_eq!(r.latency.len(), 2);
        assert!(r.latency.max() >= MAX_TRACKED_US - MAX_TRACKED_US / 500);
    }

    #[test]
    fn empty_histogram_gives_zeros() {
        assert_eq!(Percentiles::of(&new_histogram()).p99, 0);
    }

    #[test]
    fn human_units() {
        assert_eq!(human_us(850), "850us");
        assert_eq!(human_us(6_500), "6.50ms");
        assert_eq!(human_us(1_200_000), "1.20s");
    }
}
