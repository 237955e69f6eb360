//! Runs the local checks on the service shards (never the control shard): each shard owns
//! the checks whose ID hashes to it, starts a task per check, and restarts or stops tasks
//! when a registration changes them. Results go through Consul's thresholds
//! (StatusHandler) into the local state, and a change kicks anti-entropy.
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ballast_checks::{Outcome, StatusHandler};
use ballast_http::Backend;
use ballast_local::CheckType;
use ballast_store::catalog::HealthCheck;
use glommio::Task;
use rand::Rng;

use super::LocalAgent;
use crate::service::ServiceBackend;

/// How often a shard looks for added, changed or removed checks.
const RESCAN: Duration = Duration::from_millis(100);
/// How often an alias check re-reads what it mirrors.
const ALIAS_POLL: Duration = Duration::from_millis(500);

/// One per service shard for the agent's lifetime.
pub async fn run_checks(local: Arc<LocalAgent>, backend: Rc<ServiceBackend>, shard: usize) {
    let mut running: HashMap<String, (CheckType, Task<()>)> = HashMap::new();
    let mut seen_generation = None;
    let mut next_reap = Instant::now() + local.reap_interval;
    loop {
        let generation = local.lock().generation();
        let shards = local.shard_count();
        if seen_generation != Some((generation, shards)) {
            if seen_generation.is_some() {
                // Hash-blocking readers parked on this shard re-read.
                ballast_http::notify_local_change(&backend.watches);
            }
            seen_generation = Some((generation, shards));
            let wanted: HashMap<String, CheckType> = local
                .lock()
                .check_states()
                .filter_map(|c| Some((c.check.check_id.clone(), c.check_type.clone()?)))
                .filter(|(id, _)| owner(id, shards) == shard)
                .collect();
            running.retain(|id, (ct, _)| wanted.get(id) == Some(ct)); // dropping a Task cancels it
            for (id, ct) in wanted {
                if !running.contains_key(&id) {
                    let task = glommio::spawn_local(run_one(local.clone(), backend.clone(), id.clone(), ct.clone()));
                    running.insert(id, (ct, task));
                }
            }
        }
        if shard == 0 && Instant::now() >= next_reap {
            next_reap = Instant::now() + local.reap_interval;
            reap_critical_services(&local, &backend);
        }
        glommio::timer::sleep(RESCAN).await;
    }
}

fn owner(check_id: &str, shards: usize) -> usize {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    check_id.hash(&mut h);
    (h.finish() % shards as u64) as usize
}

/// DeregisterCriticalServiceAfter (Consul's reapServices): a service whose check stayed
/// critical that long is deregistered, with all its checks.
fn reap_critical_services(local: &LocalAgent, backend: &ServiceBackend) {
    let mut state = local.lock();
    let doomed = state.critical_services_to_reap(Instant::now(), local.deregister_min);
    let mut changed = false;
    for (check, service) in doomed {
        match state.deregister_service(&service) {
            Ok(()) => {
                tracing::info!(service = %service, check = %check, "removed service: its check was critical for too long");
                changed = true;
            }
            Err(e) => tracing::warn!(service = %service, "removing a service critical for too long: {e}"),
        }
    }
    drop(state);
    if changed {
        backend.kick_sync();
    }
}

/// Writes a result into the local state; a change goes to the catalog at once.
fn report(local: &LocalAgent, backend: &ServiceBackend, id: &str, outcome: &Outcome) {
    let changed = local.lock().update_check(id, outcome.status, &outcome.output);
    if changed {
        backend.kick_sync();
    }
}

async fn run_one(local: Arc<LocalAgent>, backend: Rc<ServiceBackend>, id: String, ct: CheckType) {
    if ct.is_ttl() {
        return run_ttl(local, backend, id, Duration::from_nanos(ct.ttl_ns as u64)).await;
    }
    if ct.is_alias() {
        return run_alias(local, backend, id, ct).await;
    }
    let interval = ballast_checks::effective_interval(ct.interval_ns);
    let mut handler = StatusHandler::for_check(
        ct.success_before_passing.max(0) as u32,
        ct.failures_before_warning.max(0) as u32,
        ct.failures_before_critical.max(0) as u32,
    );
    let max_output = ballast_checks::effective_output_max_size(0, ct.output_max_size.max(0) as usize);
    // Consul staggers the first run randomly within the interval.
    let first = rand::thread_rng().gen_range(Duration::ZERO..=interval);
    glommio::timer::sleep(first).await;
    loop {
        let outcome = probe(&ct, max_output).await;
        if let Some(o) = handler.update(outcome) {
            report(&local, &backend, &id, &o);
        }
        glommio::timer::sleep(interval).await;
    }
}

async fn probe(ct: &CheckType, max_output: usize) -> Outcome {
    if !ct.http.is_empty() {
        let spec = ballast_checks::HttpProbe::from_definition(&ct.to_definition(), max_output);
        return ballast_checks::probe_http(&spec, ballast_checks::probe_timeout(ct.timeout_ns)).await;
    }
    if !ct.tcp.is_empty() {
        let timeout = ballast_checks::probe_timeout(ct.timeout_ns);
        if ct.tcp_use_tls {
            let tls = ballast_checks::TlsSettings { skip_verify: ct.tls_skip_verify, server_name: ct.tls_server_name.clone(), roots: None };
            return ballast_checks::probe_tcp_tls(&ct.tcp, &tls, timeout).await;
        }
        return ballast_checks::probe_tcp(&ct.tcp, timeout).await;
    }
    if ct.is_script() {
        return ballast_checks::probe_script(&ct.script_args, ballast_checks::script_timeout(ct.timeout_ns), max_output).await;
    }
    Outcome::critical(format!("ballast does not run {} checks", ct.check_type()))
}

/// A TTL check goes critical when no pass/warn/fail/update arrived within its TTL
/// (Consul's CheckTTL); every update, even a repeat, restarts the clock.
async fn run_ttl(local: Arc<LocalAgent>, backend: Rc<ServiceBackend>, id: String, ttl: Duration) {
    let mut timer = ballast_checks::TtlState::new(ttl, 0, Instant::now());
    let mut seen: Option<Instant> = None;
    loop {
        let Some((touched, status, output)) =
            local.lock().check_state(&id).map(|c| (c.ttl_touched, c.check.status.clone(), c.check.output.clone()))
        else {
            return;
        };
        if seen != Some(touched) {
            seen = Some(touched);
            timer.set_status(&status, &output, touched);
        }
        let now = Instant::now();
        if let Some(expired) = timer.poll_expired(now) {
            tracing::warn!(check = %id, "check missed TTL, is now critical");
            report(&local, &backend, &id, &expired);
        }
        // Until the deadline, or (expired, waiting for an update) a short look again.
        let wait = timer.deadline().map_or(ttl.min(Duration::from_secs(1)), |d| d.saturating_duration_since(now));
        glommio::timer::sleep(wait.max(Duration::from_millis(1))).await;
    }
}

/// An alias check mirrors the health of a node and/or service (Consul's CheckAlias): local
/// targets are read from the local state, others from the catalog (this server's store, or
/// a server when this is a client agent).
async fn run_alias(local: Arc<LocalAgent>, backend: Rc<ServiceBackend>, id: String, ct: CheckType) {
    loop {
        let me = local.lock().node().node_name.clone();
        let outcome = if ct.alias_node.is_empty() || ct.alias_node == me {
            let state = local.lock();
            let checks: Vec<HealthCheck> = state.checks().cloned().collect();
            let exists = |sid: &str| state.service(sid).is_some();
            ballast_checks::alias_status(&me, &ct.alias_service, checks.iter(), exists)
        } else {
            match remote_checks(&backend, &ct.alias_node).await {
                Ok((checks, services)) => {
                    let exists = |sid: &str| services.iter().any(|s| s == sid);
                    ballast_checks::alias_status(&ct.alias_node, &ct.alias_service, checks.iter(), exists)
                }
                Err(e) => ballast_checks::alias_rpc_failure(&e),
            }
        };
        report(&local, &backend, &id, &outcome);
        glommio::timer::sleep(ALIAS_POLL).await;
    }
}

async fn remote_checks(backend: &ServiceBackend, node: &str) -> Result<(Vec<HealthCheck>, Vec<String>), String> {
    if backend.forwarder.is_none() {
        let state = backend.state();
        let (checks, _) = state.node_checks(node);
        let services = state.catalog_node_services(node).0.map(|(_, s)| s.iter().map(|s| s.id.clone()).collect()).unwrap_or_default();
        return Ok((checks.iter().map(|c| (**c).clone()).collect(), services));
    }
    let (_, services, checks) = super::sync::remote_node_view(backend, node).await?;
    Ok((checks, services.into_iter().map(|s| s.id).collect()))
}
