//! One run's result: a line for people and a JSON object for scripts.

use serde_json::{json, Map, Value};

use crate::driver::{RunConfig, RunOutcome};
use crate::stats::{human_us, Percentiles};

pub fn to_json(cfg: &RunConfig, out: &RunOutcome, label: Option<&str>) -> Value {
    let rec = &out.recorder;
    let lat = Percentiles::of(&rec.latency);
    let elapsed = out.elapsed.as_secs_f64();
    let rps = if elapsed > 0.0 { rec.ok as f64 / elapsed } else { 0.0 };
    let mut cpu = Map::new();
    for c in &out.cpu {
        let mut entry = Map::new();
        match c.pids.as_slice() {
            [] => {}
            [pid] => {
                entry.insert("pid".into(), json!(pid));
            }
            pids => {
                entry.insert("pids".into(), json!(pids));
            }
        }
        if let Some(s) = c.seconds {
            entry.insert("cpu_s".into(), json!(round3(s)));
            entry.insert("cpu_pct".into(), json!(round3(if elapsed > 0.0 { 100.0 * s / elapsed } else { 0.0 })));
            if rec.ok > 0 {
                entry.insert("cpu_us_per_req".into(), json!(round3(s * 1e6 / rec.ok as f64)));
            }
        }
        cpu.insert(c.name.clone(), Value::Object(entry));
    }
    let mut obj = json!({
        "workload": cfg.workload.name(),
        "target": cfg.target.name(),
        "mode": cfg.workload.mode_on(cfg.target),
        "addr": cfg.addrs.join(","),
        // How many servers the connections were spread over.
        "spread": cfg.addrs.len(),
        "loop": if cfg.rate.is_some() { "open" } else { "closed" },
        "conns": cfg.conns,
        "threads": cfg.threads.clamp(1, cfg.conns.max(1)),
        "keys": cfg.keys,
        "value_size": cfg.value_size,
        "warmup_s": cfg.warmup.as_secs_f64(),
        "duration_s": cfg.duration.as_secs_f64(),
        "elapsed_s": round3(elapsed),
        "requests": rec.ok,
        "errors": rec.error_count(),
        "error_kinds": rec.errors,
        "rps": round3(rps),
        "p50_us": lat.p50,
        "p90_us": lat.p90,
        "p99_us": lat.p99,
        "p999_us": lat.p999,
        "max_us": lat.max,
        "mean_us": round3(lat.mean),
        "cpu": cpu,
    });
    if let Some(rate) = cfg.rate {
        let svc = Percentiles::of(&rec.service);
        obj["rate_target"] = json!(rate);
        obj["service_us"] = json!({ "p50": svc.p50, "p99": svc.p99, "p999": svc.p999, "max": svc.max });
    }
    if let Some(label) = label {
        obj["label"] = json!(label);
    }
    obj
}

pub fn human_line(v: &Value) -> String {
    let num = |k: &str| v[k].as_u64().unwrap_or(0);
    let spread = match v["spread"].as_u64() {
        Some(n) if n > 1 => format!(" over {n} servers"),
        _ => String::new(),
    };
    format!(
        "{label}{workload} [{target} {mode}{spread} at {addr}] {loop_} loop, {conns} conns: {rps:.0} req/s, p50 {p50} p99 {p99} p99.9 {p999} max {max}, {requests} ok, {errors} errors{kinds} in {elapsed:.1}s",
        label = v["label"].as_str().map(|l| format!("{l}: ")).unwrap_or_default(),
        workload = v["workload"].as_str().unwrap_or("?"),
        target = v["target"].as_str().unwrap_or("?"),
        mode = v["mode"].as_str().unwrap_or("?"),
        addr = v["addr"].as_str().unwrap_or("?"),
        loop_ = v["loop"].as_str().unwrap_or("?"),
        conns = num("conns"),
        rps = v["rps"].as_f64().unwrap_or(0.0),
        p50 = human_us(num("p50_us")),
        p99 = human_us(num("p99_us")),
        p999 = human_us(num("p999_us")),
        max = human_us(num("max_us")),
        requests = num("requests"),
        errors = num("errors"),
        kinds = if num("errors") > 0 { format!(" {}", v["error_kinds"]) } else { String::new() },
        elapsed = v["elapsed_s"].as_f64().unwrap_or(0.0),
    )
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
