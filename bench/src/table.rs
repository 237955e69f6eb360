//! The side-by-side table: runs labelled A (ballast) and B (etcd), grouped by
//! workload and connection count, medians over repeats, ratios A/B and the
//! targets from shared/ANCHORS.md.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::stats::human_us;

/// One measured run, as read back from the JSON lines.
#[derive(Debug, Clone)]
pub struct Run {
    pub label: String,
    pub workload: String,
    pub mode: String,
    pub conns: u64,
    pub rps: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// Absent in runs recorded before it was reported.
    pub p999_us: Option<f64>,
    /// Servers the connections were spread over (1: one address).
    pub spread: u64,
    pub errors: u64,
    /// CPU µs per request of the server under test (all its processes), when
    /// it was watched.
    pub server_cpu_us_per_req: Option<f64>,
}

impl Run {
    /// Reads a run; the server's CPU is the `cpu` entry named like the label.
    pub fn from_json(v: &Value) -> Option<Run> {
        let label = v["label"].as_str()?.to_string();
        Some(Run {
            workload: v["workload"].as_str()?.to_string(),
            mode: v["mode"].as_str().unwrap_or("").to_string(),
            conns: v["conns"].as_u64()?,
            rps: v["rps"].as_f64()?,
            p50_us: v["p50_us"].as_f64()?,
            p99_us: v["p99_us"].as_f64()?,
            p999_us: v["p999_us"].as_f64(),
            spread: v["spread"].as_u64().unwrap_or(1),
            errors: v["errors"].as_u64().unwrap_or(0),
            server_cpu_us_per_req: v["cpu"][label.as_str()]["cpu_us_per_req"].as_f64(),
            label,
        })
    }
}

/// The target ratio of A's req/s over B's for a workload, if there is one.
pub fn rps_target(workload: &str) -> Option<f64> {
    match workload {
        "put" => Some(2.0),
        "get-stale" => Some(3.0),
        "get-consistent" => Some(2.0),
        _ => None,
    }
}

/// From this many connections up, A's p99 must be no worse than B's.
pub const P99_TARGET_MIN_CONNS: u64 = 64;

pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    Some(if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 })
}

/// Medians of one (label, workload, conns) cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    pub runs: usize,
    pub rps: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub p999_us: Option<f64>,
    pub errors: u64,
    pub cpu_us_per_req: Option<f64>,
}

pub fn cell(runs: &[&Run]) -> Option<Cell> {
    let mut rps: Vec<f64> = runs.iter().map(|r| r.rps).collect();
    let mut p50: Vec<f64> = runs.iter().map(|r| r.p50_us).collect();
    let mut p99: Vec<f64> = runs.iter().map(|r| r.p99_us).collect();
    let mut p999: Vec<f64> = runs.iter().filter_map(|r| r.p999_us).collect();
    let mut cpu: Vec<f64> = runs.iter().filter_map(|r| r.server_cpu_us_per_req).collect();
    Some(Cell {
        runs: runs.len(),
        rps: median(&mut rps)?,
        p50_us: median(&mut p50)?,
        p99_us: median(&mut p99)?,
        p999_us: median(&mut p999),
        errors: runs.iter().map(|r| r.errors).sum(),
        cpu_us_per_req: median(&mut cpu),
    })
}

/// The mode as the table shows it: `stale×3` when spread over 3 servers.
fn mode_label(run: Option<&&Run>) -> String {
    match run {
        Some(r) if r.spread > 1 => format!("{}×{}", r.mode, r.spread),
        Some(r) => r.mode.clone(),
        None => "-".to_string(),
    }
}

fn order(workload: &str) -> usize {
    ["put", "get", "get-stale", "get-consistent"].iter().position(|w| *w == workload).unwrap_or(99)
}

/// Renders the comparison of label `a` against label `b` as a Markdown table.
pub fn render(runs: &[Run], a: &str, b: &str) -> String {
    // (display order, workload, conns) -> (runs of a, runs of b)
    type RowKey = (usize, String, u64);
    let mut rows: BTreeMap<RowKey, (Vec<&Run>, Vec<&Run>)> = BTreeMap::new();
    for r in runs {
        let entry = rows.entry((order(&r.workload), r.workload.clone(), r.conns)).or_default();
        if r.label == a {
            entry.0.push(r);
        } else if r.label == b {
            entry.1.push(r);
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| workload | conns | {a} req/s | p50 | p99 | p99.9 | {b} req/s | p50 | p99 | p99.9 | req/s ratio | p99 ratio | {a} / {b} CPU µs/req | target | verdict |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
    for ((_, workload, conns), (ra, rb)) in &rows {
        let ca = cell(ra);
        let cb = cell(rb);
        let modes = format!("{} ({} vs {})", workload, mode_label(ra.first()), mode_label(rb.first()));
        let side = |c: &Option<Cell>| match c {
            Some(c) => format!(
                "{:.0}{} | {} | {} | {}",
                c.rps,
                if c.errors > 0 { format!(" ({} err)", c.errors) } else { String::new() },
                human_us(c.p50_us as u64),
                human_us(c.p99_us as u64),
                c.p999_us.map(|v| human_us(v as u64)).unwrap_or_else(|| "-".into())
            ),
            None => "- | - | - | -".to_string(),
        };
        let cpu = |c: &Option<Cell>| {
            c.and_then(|c| c.cpu_us_per_req).map(|v| format!("{v:.0}")).unwrap_or_else(|| "-".into())
        };
        let (ratio, p99_ratio) = match (ca, cb) {
            (Some(x), Some(y)) if y.rps > 0.0 && y.p99_us > 0.0 => (Some(x.rps / y.rps), Some(x.p99_us / y.p99_us)),
            _ => (None, None),
        };
        let mut targets = Vec::new();
        let mut verdicts = Vec::new();
        if let Some(t) = rps_target(workload) {
            targets.push(format!("req/s ≥{t}x"));
            if let Some(r) = ratio {
                verdicts.push(if r >= t { "req/s met" } else { "req/s MISSED" });
            }
        }
        if *conns >= P99_TARGET_MIN_CONNS {
            targets.push("p99 ≤1x".to_string());
            if let Some(p) = p99_ratio {
                verdicts.push(if p <= 1.0 { "p99 met" } else { "p99 MISSED" });
            }
        }
        let errors = ca.map_or(0, |c| c.errors) + cb.map_or(0, |c| c.errors);
        if errors > 0 {
            verdicts.push("errors!");
        }
        let _ = writeln!(
            out,
            "| {modes} | {conns} | {} | {} | {} | {} | {} / {} | {} | {} |",
            side(&ca),
            side(&cb),
            ratio.map(|r| format!("{r:.2}x")).unwrap_or_else(|| "-".into()),
            p99_ratio.map(|r| format!("{r:.2}x")).unwrap_or_else(|| "-".into()),
            cpu(&ca),
            cpu(&cb),
            if targets.is_empty() { "-".to_string() } else { targets.join(", ") },
            if verdicts.is_empty() { "-".to_string() } else { verdicts.join(", ") },
        );
    }
    let counts: Vec<usize> = rows.values().flat_map(|(x, y)| [x.len(), y.len()]).filter(|n| *n > 0).collect();
    let (lo, hi) = (counts.iter().min().copied().unwrap_or(0), counts.iter().max().copied().unwrap_or(0));
    let _ = writeln!(
        out,
        "\nMedians of {} run(s) per cell. Ratios are {a}/{b}: req/s ratio above 1 and p99 ratio below 1 favour {a}.",
        if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(label: &str, workload: &str, conns: u64, rps: f64, p99: f64) -> Run {
        Run {
            label: label.into(),
            workload: workload.into(),
            mode: "m".into(),
            conns,
            rps,
            p50_us: p99 / 2.0,
            p99_us: p99,
            p999_us: Some(p99 * 2.0),
            spread: 1,
            errors: 0,
            server_cpu_us_per_req: None,
        }
    }

    #[test]
    fn median_odd_even_empty() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }

    #[test]
    fn table_uses_medians_and_judges_targets() {
        let runs = vec![
            run("ballast", "put", 64, 30_000.0, 4_000.0),
            run("ballast", "put", 64, 10.0, 90_000.0), // an outlier the median ignores
            run("ballast", "put", 64, 25_000.0, 5_000.0),
            run("etcd", "put", 64, 10_000.0, 20_000.0),
            run("etcd", "put", 64, 9_000.0, 21_000.0),
            run("etcd", "put", 64, 11_000.0, 19_000.0),
            run("ballast", "get-stale", 1, 5_000.0, 500.0),
            run("etcd", "get-stale", 1, 2_000.0, 400.0),
        ];
        let table = render(&runs, "ballast", "etcd");
        let put = table.lines().find(|l| l.starts_with("| put")).unwrap();
        assert!(put.contains("| 25000 |"), "{put}");
        assert!(put.contains("| 10000 |"), "{put}");
        assert!(put.contains("2.50x"), "{put}");
        assert!(put.contains("0.25x"), "{put}");
        assert!(put.contains("req/s met, p99 met"), "{put}");
        let stale = table.lines().find(|l| l.starts_with("| get-stale")).unwrap();
        assert!(stale.contains("2.50x") && stale.contains("req/s MISSED"), "{stale}");
        assert!(!stale.contains("p99 met") && !stale.contains("p99 MISSED"), "{stale}");
        // Rows come in workload order, put first.
        let first_row = table.lines().nth(2).unwrap();
        assert!(first_row.starts_with("| put"));
    }

    #[test]
    fn spread_runs_show_their_server_count_and_p999() {
        let mut a = run("ballast", "get-stale", 64, 60_000.0, 2_000.0);
        a.spread = 3;
        let mut b = run("etcd", "get-stale", 64, 10_000.0, 20_000.0);
        b.spread = 3;
        b.mode = "serializable".into();
        let table = render(&[a, b], "ballast", "etcd");
        let row = table.lines().find(|l| l.starts_with("| get-stale")).unwrap();
        assert!(row.contains("(m×3 vs serializable×3)"), "{row}");
        assert!(row.contains("| 4.00ms |") && row.contains("| 40.00ms |"), "{row}");
        assert!(row.contains("6.00x") && row.contains("req/s met, p99 met"), "{row}");
    }

    #[test]
    fn one_sided_rows_render_without_ratios() {
        let runs = vec![run("etcd", "get", 64, 7_000.0, 20_000.0)];
        let table = render(&runs, "ballast", "etcd");
        let row = table.lines().find(|l| l.starts_with("| get")).unwrap();
        assert!(row.contains("- | - | - | -"), "{row}");
        assert!(row.contains("7000"), "{row}");
    }

    #[test]
    fn reads_runs_from_json_with_server_cpu() {
        let v = json!({"label":"etcd","workload":"put","mode":"put","conns":1,"rps":1.5,"p50_us":10,"p99_us":20,
                       "errors":2,"cpu":{"etcd":{"cpu_us_per_req":123.0},"client":{"cpu_us_per_req":5.0}}});
        let r = Run::from_json(&v).unwrap();
        assert_eq!(r.server_cpu_us_per_req, Some(123.0));
        assert_eq!(r.errors, 2);
        // Runs recorded before p99.9 and spread were reported still read.
        assert_eq!(r.p999_us, None);
        assert_eq!(r.spread, 1);
        assert!(Run::from_json(&json!({"workload":"put"})).is_none());
    }
}
