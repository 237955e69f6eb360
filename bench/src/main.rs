//! `ballast-bench run|ready|table`: see bench/README.md.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};

use ballast_bench::conn::{Conn, Op};
use ballast_bench::driver::{self, RunConfig};
use ballast_bench::duration::parse_duration;
use ballast_bench::report;
use ballast_bench::table::{self, Run};
use ballast_bench::workload::{Plan, Target, Workload};

#[derive(Parser)]
#[command(name = "ballast-bench", about = "Load generator for Consul's HTTP KV API and etcd's v3 API")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one workload and print a human line (stderr) and a JSON object (stdout).
    Run(RunArgs),
    /// Wait until the target accepts a write (used by bench/compare).
    Ready(ReadyArgs),
    /// Print which of a cluster's addresses is the Raft leader's.
    Leader(LeaderArgs),
    /// Print the side-by-side table from JSON lines written by `run`.
    Table(TableArgs),
    /// The catalog at scale: register, read a large health result, wake many watchers.
    Catalog(CatalogArgs),
}

#[derive(Args)]
struct CatalogArgs {
    /// host:port of a ballast (or Consul) HTTP API.
    #[arg(long)]
    addr: String,
    #[arg(long, default_value_t = 5000)]
    nodes: usize,
    #[arg(long, default_value_t = 20)]
    services_per_node: usize,
    #[arg(long, default_value_t = 200)]
    instances_per_service: usize,
    #[arg(short = 'c', long, default_value_t = 64)]
    conns: usize,
    #[arg(short = 'd', long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    #[arg(long, default_value_t = 10000)]
    watchers: usize,
    /// Read with `?stale`.
    #[arg(long)]
    stale: bool,
    /// Every read a different request, so none is served from a rendered copy.
    #[arg(long)]
    distinct: bool,
    /// Also append the JSON result as one line to this file.
    #[arg(long)]
    json_out: Option<std::path::PathBuf>,
}

#[derive(Args)]
struct RunArgs {
    #[arg(long, value_enum)]
    target: Target,
    /// host:port of the HTTP API (consul, etcd-gateway) or gRPC endpoint (etcd).
    /// Several (comma-separated or repeated): connection i goes to address i mod N.
    #[arg(long, required = true, value_delimiter = ',')]
    addr: Vec<String>,
    /// Preload the keys of a read workload over one connection to this address
    /// (a cluster's leader) instead of over the measured connections.
    #[arg(long)]
    preload_addr: Option<String>,
    #[arg(long, value_enum, default_value = "put")]
    workload: Workload,
    /// Connections, each its own TCP connection (gRPC: its own channel).
    #[arg(short = 'c', long, default_value_t = 64)]
    conns: usize,
    /// Client threads, each a single-threaded runtime (at most one per connection).
    #[arg(short = 't', long, default_value_t = 2)]
    threads: usize,
    /// Measured time, after the warmup (e.g. 10s, 500ms).
    #[arg(short = 'd', long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    #[arg(short = 'w', long, default_value = "2s", value_parser = parse_duration)]
    warmup: Duration,
    /// Size of the key space: keys <prefix>0..<prefix>K-1, used round-robin.
    #[arg(short = 'k', long, default_value_t = 1)]
    keys: usize,
    #[arg(long, default_value = "bench/k")]
    key_prefix: String,
    #[arg(long, default_value_t = 36)]
    value_size: usize,
    /// Open loop at this total rate (requests/s), latency from intended start.
    #[arg(long)]
    rate: Option<f64>,
    /// Per-request deadline; a request over it is an error.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    timeout: Duration,
    /// Do not write the keys before a read workload.
    #[arg(long)]
    no_preload: bool,
    /// Report CPU used by a process during the measured window: NAME=PID (repeatable).
    #[arg(long = "watch", value_parser = parse_watch)]
    watch: Vec<(String, u32)>,
    /// A label stored in the JSON (bench/compare uses the system's name).
    #[arg(long)]
    label: Option<String>,
    /// Also append the JSON object as one line to this file.
    #[arg(long)]
    json_out: Option<std::path::PathBuf>,
}

#[derive(Args)]
struct ReadyArgs {
    #[arg(long, value_enum)]
    target: Target,
    #[arg(long)]
    addr: String,
    /// Give up after this long.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    timeout: Duration,
}

#[derive(Args)]
struct LeaderArgs {
    #[arg(long, value_enum)]
    target: Target,
    /// Every server's client address (comma-separated or repeated).
    #[arg(long, required = true, value_delimiter = ',')]
    addr: Vec<String>,
    /// Give up after this long.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    timeout: Duration,
}

#[derive(Args)]
struct TableArgs {
    /// Files of JSON lines (one run per line).
    files: Vec<std::path::PathBuf>,
    /// Label of the system on the left (ratios are left/right).
    #[arg(long, default_value = "ballast")]
    a: String,
    #[arg(long, default_value = "etcd")]
    b: String,
}

fn parse_watch(text: &str) -> Result<(String, u32), String> {
    let (name, pid) = text.split_once('=').ok_or_else(|| format!("expected NAME=PID, got {text:?}"))?;
    let pid: u32 = pid.parse().map_err(|_| format!("bad pid in {text:?}"))?;
    if name.is_empty() || name == "client" {
        return Err(format!("bad name in {text:?} (\"client\" is this program)"));
    }
    Ok((name.to_string(), pid))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Ready(args) => ready(args),
        Command::Leader(args) => leader(args),
        Command::Table(args) => print_table(args),
        Command::Catalog(args) => catalog(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ballast-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: RunArgs) -> Result<(), String> {
    let cfg = RunConfig {
        target: args.target,
        addrs: args.addr,
        workload: args.workload,
        conns: args.conns,
        threads: args.threads,
        duration: args.duration,
        warmup: args.warmup,
        keys: args.keys,
        key_prefix: args.key_prefix,
        value_size: args.value_size,
        rate: args.rate,
        timeout: args.timeout,
        preload: !args.no_preload,
        preload_addr: args.preload_addr,
        watch: args.watch,
    };
    let outcome = driver::run(&cfg)?;
    let json = report::to_json(&cfg, &outcome, args.label.as_deref());
    eprintln!("{}", report::human_line(&json));
    println!("{json}");
    if let Some(path) = args.json_out {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("open {}: {e}", path.display()))?;
        writeln!(file, "{json}").map_err(|e| format!("write {}: {e}", path.display()))?;
    }
    Ok(())
}

fn catalog(args: CatalogArgs) -> Result<(), String> {
    let cfg = ballast_bench::catalog_scale::ScaleConfig {
        addr: args.addr,
        nodes: args.nodes,
        services_per_node: args.services_per_node,
        instances_per_service: args.instances_per_service,
        conns: args.conns,
        read_duration: args.duration,
        watchers: args.watchers,
        stale: args.stale,
        distinct: args.distinct,
    };
    let report = ballast_bench::catalog_scale::run(&cfg)?;
    let json = report.to_json(&cfg);
    println!("{json}");
    if let Some(path) = args.json_out {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("open {}: {e}", path.display()))?;
        writeln!(file, "{json}").map_err(|e| format!("write {}: {e}", path.display()))?;
    }
    Ok(())
}

fn ready(args: ReadyArgs) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let plan = Plan::new(args.target, Workload::Put, &args.addr, "bench/ready", 1, 36).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + args.timeout;
    rt.block_on(async {
        let mut last = String::from("no attempt");
        while Instant::now() < deadline {
            match Conn::connect(args.target, &args.addr, Duration::from_secs(2)).await {
                Ok(mut conn) => match conn.exec(&plan, 0, Op::Preload).await {
                    Ok(()) => return Ok(()),
                    Err(f) => last = f.kind(),
                },
                Err(e) => last = e,
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(format!("{} at {} not ready after {:?}: {last}", args.target.name(), args.addr, args.timeout))
    })
}

fn leader(args: LeaderArgs) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let leader = rt.block_on(ballast_bench::leader::find_leader(args.target, &args.addr, args.timeout))?;
    println!("{leader}");
    Ok(())
}

fn print_table(args: TableArgs) -> Result<(), String> {
    let mut runs = Vec::new();
    let mut skipped = 0;
    for path in &args.files {
        let text = std::fs::read_to_string(path).map_err(|e| format!("read {}: {e}", path.display()))?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match serde_json::from_str(line).ok().as_ref().and_then(Run::from_json) {
                Some(run) => runs.push(run),
                None => skipped += 1,
            }
        }
    }
    if runs.is_empty() {
        return Err("no labelled runs in the given files".into());
    }
    print!("{}", table::render(&runs, &args.a, &args.b));
    if skipped > 0 {
        eprintln!("ballast-bench: skipped {skipped} line(s) that are not labelled runs");
    }
    Ok(())
}
