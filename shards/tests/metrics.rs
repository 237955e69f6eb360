//! Per-shard metrics: recorded locally on three shards, carried over the
//! bounded queues as snapshots, merged on the control shard.

use std::time::Duration;

use ballast_shards::metrics::{self, GaugeMerge, GaugeValue, MetricKey, MetricsSnapshot};
use ballast_shards::{ControlCtx, Placement, ServiceCtx, ShardResult, ShardSet, ShardSpec};

enum Req {
    Snapshot(MetricsSnapshot),
}

enum Evt {
    Scrape,
}

/// Each shard `k` (control = 0, services 1 and 2) records the values
/// k*1000+1 ..= k*1000+1000 and adds (k+1)*100 to a counter.
fn record_share(k: u64) {
    let requests = metrics::counter("test.requests");
    requests.add((k + 1) * 100);
    let latency = metrics::histogram_key(MetricKey::new("test.latency_us").label("route", "kv"), 3);
    for v in k * 1000 + 1..=k * 1000 + 1000 {
        latency.record(v);
    }
    metrics::gauge("test.inflight", GaugeMerge::Sum).set(5);
    metrics::gauge("test.max_batch", GaugeMerge::Max).set(10 * k as i64);
    metrics::gauge("test.min_batch", GaugeMerge::Min).set_f64(0.5 + k as f64);
    let _held = metrics::gauge("test.tracked", GaugeMerge::Sum).track();
}

async fn control(ctx: ControlCtx<Req, Evt>) -> ShardResult {
    record_share(0);
    let term = metrics::gauge("test.term", GaugeMerge::Last);
    term.set(1);
    let mut snaps = Vec::new();
    // Ask one shard at a time so "last set" has a defined order: service 1 last.
    for link in &ctx.links {
        glommio::timer::sleep(Duration::from_millis(2)).await;
        link.events
            .try_send(Evt::Scrape)
            .map_err(|e| e.to_string())?;
        match link.requests.recv().await {
            Some(Req::Snapshot(s)) => snaps.push(s),
            None => return Err("service shard hung up before answering".into()),
        }
    }
    // The control's own snapshot last: it then includes the events it sent.
    snaps.push(metrics::snapshot());
    let merged = MetricsSnapshot::merge_all(snaps);
    check(&merged)?;
    Ok(())
}

async fn service(ctx: ServiceCtx<Req, Evt>) -> ShardResult {
    let k = ctx.index as u64 + 1;
    record_share(k);
    while let Some(Evt::Scrape) = ctx.events.recv().await {
        metrics::gauge("test.term", GaugeMerge::Last).set(10 + k as i64);
        ctx.requests
            .try_send(Req::Snapshot(metrics::snapshot()))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn check(m: &MetricsSnapshot) -> ShardResult {
    assert_eq!(m.shards, 3);
    assert_eq!(m.counter("test.requests", &[]), Some(100 + 200 + 300));
    let h = m
        .histogram("test.latency_us", &[("route", "kv")])
        .ok_or("histogram missing")?;
    assert_eq!(h.len(), 3000);
    assert_eq!(h.min(), 1);
    // 3 significant digits: values are exact to within 0.1%.
    let near = |got: u64, want: u64| (got as f64 - want as f64).abs() <= want as f64 * 0.001 + 1.0;
    assert!(near(h.max(), 3000), "max {}", h.max());
    assert!(
        near(h.value_at_quantile(0.5), 1500),
        "p50 {}",
        h.value_at_quantile(0.5)
    );
    assert!(
        near(h.value_at_quantile(0.99), 2970),
        "p99 {}",
        h.value_at_quantile(0.99)
    );
    assert!(
        near(h.value_at_quantile(0.1), 300),
        "p10 {}",
        h.value_at_quantile(0.1)
    );
    assert_eq!(m.gauge("test.inflight", &[]), Some(GaugeValue::Int(15)));
    assert_eq!(m.gauge("test.max_batch", &[]), Some(GaugeValue::Int(20)));
    assert_eq!(m.gauge("test.min_batch", &[]), Some(GaugeValue::Float(0.5)));
    assert_eq!(
        m.gauge("test.tracked", &[]),
        Some(GaugeValue::Int(0)),
        "guards dropped"
    );
    assert_eq!(
        m.gauge("test.term", &[]),
        Some(GaugeValue::Int(12)),
        "service 1 set it last"
    );
    // Runtime figures from each shard, kept apart by their shard label.
    for shard in ["control", "service-0", "service-1"] {
        let tasks = m.counter("ballast.runtime.tasks_executed", &[("shard", shard)]);
        assert!(
            tasks.unwrap_or(0) > 0,
            "tasks_executed for {shard}: {tasks:?}"
        );
    }
    // Queue figures: one scrape event per link; each service's snapshot was
    // taken before it was sent, so its own request counter still reads 0.
    let sent = |queue, link| {
        m.counter(
            "ballast.shard.queue.sent",
            &[("queue", queue), ("link", link)],
        )
    };
    assert_eq!(
        (sent("events", "0"), sent("events", "1")),
        (Some(1), Some(1))
    );
    assert_eq!(
        (sent("requests", "0"), sent("requests", "1")),
        (Some(0), Some(0))
    );
    let depth = m.gauge(
        "ballast.shard.queue.depth",
        &[("queue", "events"), ("link", "1")],
    );
    assert_eq!(depth, Some(GaugeValue::Int(0)), "scrape event was taken");
    Ok(())
}

#[test]
fn three_shards_merge_to_the_right_totals_and_percentiles() {
    let spec = ShardSpec {
        placement: Placement::Unbound,
        service_shards: Some(2),
        name_prefix: "m".into(),
        ..ShardSpec::default()
    };
    ShardSet::start(spec, control, service)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn merge_rules_without_executors() {
    // Registries are per thread: three plain threads stand in for three shards.
    let snaps: Vec<MetricsSnapshot> = (0..3u64)
        .map(|k| {
            std::thread::spawn(move || {
                record_share(k);
                metrics::snapshot()
            })
            .join()
            .unwrap()
        })
        .collect();
    for (k, s) in snaps.iter().enumerate() {
        assert_eq!(
            s.counter("test.requests", &[]),
            Some((k as u64 + 1) * 100),
            "shard {k} alone"
        );
        assert_eq!(s.shards, 1);
    }
    let m = MetricsSnapshot::merge_all(snaps);
    assert_eq!(m.counter("test.requests", &[]), Some(600));
    let h = m.histogram("test.latency_us", &[("route", "kv")]).unwrap();
    assert_eq!(h.len(), 3000);
    // This thread recorded nothing: its registry is untouched.
    assert_eq!(metrics::snapshot().counter("test.requests", &[]), None);
}

#[test]
fn histograms_of_different_ranges_and_precisions_merge() {
    let a = std::thread::spawn(|| {
        metrics::histogram_key(MetricKey::new("h"), 2).record(10);
        metrics::snapshot()
    })
    .join()
    .unwrap();
    let b = std::thread::spawn(|| {
        let h = metrics::histogram_key(MetricKey::new("h"), 3);
        h.record(5_000_000_000);
        h.record_duration(Duration::from_millis(3));
        metrics::snapshot()
    })
    .join()
    .unwrap();
    let m = MetricsSnapshot::merge_all([a, b]);
    let h = m.histogram("h", &[]).unwrap();
    assert_eq!(h.len(), 3);
    assert!(h.max() >= 4_990_000_000, "max {}", h.max());
    assert_eq!(h.min(), 10);
}

#[test]
fn handles_for_one_key_share_one_slot() {
    let a = metrics::counter_key(MetricKey::new("c").label("x", 1).label("a", "b"));
    let b = metrics::counter_key(MetricKey::with_labels("c", &[("a", "b"), ("x", "1")]));
    a.inc();
    b.add(2);
    assert_eq!(
        metrics::snapshot().counter("c", &[("x", "1"), ("a", "b")]),
        Some(3)
    );
}
