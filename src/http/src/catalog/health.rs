//! Health reads (agent/health_endpoint.go over the server's `Health.*`
//! RPCs): node/<n>, checks/<s>, service/<s>, state/<state>.

use std::sync::Arc;

use ballast_store::catalog::{HealthCheck, HEALTH_PASSING};
use ballast_store::catalog::ServiceEntry;
use ballast_store::{topic, StateSnapshot, WatchTarget};

use super::json::{filter_value, HealthCheckJson, Mode, Seq, ServiceEntryJson};
use super::near::sort_by_distance;
use super::read_args::{parse_go_bool, path_arg, ReadArgs};
use super::respond::finish;
use crate::backend::Backend;
use crate::blocking::blocking_read;
use crate::router::Call;
use crate::server::Response;

macro_rules! try_resp {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
}

fn checks_body<B>(call: &Call<'_, B>, checks: &[Arc<HealthCheck>]) -> Response {
    call.json(200, &Seq(checks.iter().map(|c| HealthCheckJson(c, Mode::Output))))
}

/// Checks whose node carries every `?node-meta` pair.
fn node_meta_retain(s: &StateSnapshot, args: &ReadArgs, checks: &mut Vec<Arc<HealthCheck>>) {
    if args.node_meta.is_empty() {
        return;
    }
    checks.retain(|c| s.catalog_node(&c.node).is_some_and(|n| args.meta_matches(&n.meta)));
}

pub(crate) async fn node_checks<B: Backend>(call: Call<'_, B>) -> Response {
    let args = try_resp!(ReadArgs::parse(&call));
    let node = path_arg(&call, "/v1/health/node/").to_string();
    if node.is_empty() {
        return Response::text(400, "Missing node name");
    }
    let filter = try_resp!(args.rpc_checks(&call));
    let outcome = blocking_read(call.ctx, &args.opts, WatchTarget::Topic(topic::node(&node)), |s| {
        let (mut checks, idx) = s.node_checks(&node);
        let kept = filter.retain(&mut checks, |c| filter_value(&HealthCheckJson(c, Mode::Filter)));
        (kept.map(|_| checks), idx)
    })
    .await;
    finish(outcome, |checks| checks_body(&call, &checks))
}

pub(crate) async fn service_checks<B: Backend>(call: Call<'_, B>) -> Response {
    let args = try_resp!(ReadArgs::parse(&call));
    let name = path_arg(&call, "/v1/health/checks/").to_string();
    if name.is_empty() {
        return Response::text(400, "Missing service name");
    }
    let filter = try_resp!(args.rpc_checks(&call));
    let coords = if args.near.is_empty() { Vec::new() } else { call.ctx.backend.coordinates(false) };
    let outcome = blocking_read(call.ctx, &args.opts, WatchTarget::Topic(topic::service(&name)), |s| {
        let (mut checks, idx) = s.service_checks(&name);
        node_meta_retain(s, &args, &mut checks);
        let kept = filter.retain(&mut checks, |c| filter_value(&HealthCheckJson(c, Mode::Filter)));
        sort_by_distance(&mut checks, &args.near, &coords, |c| &c.node);
        (kept.map(|_| checks), idx)
    })
    .await;
    finish(outcome, |checks| checks_body(&call, &checks))
}

pub(crate) async fn checks_in_state<B: Backend>(call: Call<'_, B>) -> Response {
    let args = try_resp!(ReadArgs::parse(&call));
    let state = path_arg(&call, "/v1/health/state/").to_string();
    if state.is_empty() {
        return Response::text(400, "Missing check state");
    }
    let filter = try_resp!(args.rpc_checks(&call));
    let coords = if args.near.is_empty() { Vec::new() } else { call.ctx.backend.coordinates(false) };
    let outcome = blocking_read(call.ctx, &args.opts, WatchTarget::Topic(topic::checks()), |s| {
        let (mut checks, idx) = s.checks_in_state(&state);
        node_meta_retain(s, &args, &mut checks);
        let kept = filter.retain(&mut checks, |c| filter_value(&HealthCheckJson(c, Mode::Filter)));
        sort_by_distance(&mut checks, &args.near, &coords, |c| &c.node);
        (kept.map(|_| checks), idx)
    })
    .await;
    finish(outcome, |checks| checks_body(&call, &checks))
}

/// `filterNonPassing`: an entry with any non-passing check is replaced by the
/// last entry (which is examined next), so survivors can change order.
fn filter_non_passing(entries: &mut Vec<ServiceEntry>) {
    let mut n = entries.len();
    let mut i = 0;
    while i < n {
        if entries[i].checks.iter().any(|c| c.status != HEALTH_PASSING) {
            entries.swap(i, n - 1);
            n -= 1;
        } else {
            i += 1;
        }
    }
    entries.truncate(n);
}

pub(crate) async fn service_nodes<B: Backend>(call: Call<'_, B>) -> Response {
    let args = try_resp!(ReadArgs::parse(&call));
    let name = path_arg(&call, "/v1/health/service/").to_string();
    if name.is_empty() {
        return Response::text(400, "Missing service name");
    }
    let filter = try_resp!(args.rpc_checks(&call));
    let coords = if args.near.is_empty() { Vec::new() } else { call.ctx.backend.coordinates(false) };
    let cache_key = super::render_cache::cache_key(&call.req.path, &call.query);
    let cache = &call.ctx.render_cache;
    let outcome = blocking_read(call.ctx, &args.opts, WatchTarget::Topic(topic::service(&name)), |s| {
        // A watcher woken with thousands of others: the answer over this snapshot is
        // usually rendered already.
        if let Some((body, idx)) = cache_key.as_deref().and_then(|k| cache.get(k, s.applied_index())) {
            return (Ok(Rendered::Cached(body)), idx);
        }
        let (mut entries, idx) = s.check_service_nodes(&name);
        entries.retain(|e| args.tags_match(&e.service.tags) && args.meta_matches(&e.node.meta));
        let kept = filter.retain(&mut entries, |e| {
            filter_value(&ServiceEntryJson { node: &e.node, service: &e.service, checks: &e.checks, mode: Mode::Filter })
        });
        sort_by_distance(&mut entries, &args.near, &coords, |e| &e.node.node);
        (kept.map(|_| Rendered::Fresh { entries, applied_index: s.applied_index(), index: idx }), idx)
    })
    .await;
    // Consul parses `?passing` only after the query ran (headers included).
    let passing = if call.query.has("passing") {
        match call.query.get("passing") {
            "" => Some(true),
            v => parse_go_bool(v),
        }
    } else {
        Some(false)
    };
    finish(outcome, |rendered| {
        let Some(passing) = passing else {
            return Response::text(400, "Invalid value for ?passing");
        };
        let (mut entries, applied_index, index) = match rendered {
            Rendered::Cached(body) => return Response::json(200, (*body).clone()),
            Rendered::Fresh { entries, applied_index, index } => (entries, applied_index, index),
        };
        if passing {
            filter_non_passing(&mut entries);
        }
        let resp = call.json(
            200,
            &Seq(entries.iter().map(|e| ServiceEntryJson {
                node: &e.node,
                service: &e.service,
                checks: &e.checks,
                mode: Mode::Output,
            })),
        );
        if let Some(key) = cache_key {
            cache.put(key, applied_index, std::rc::Rc::new(resp.body.clone()), index);
        }
        resp
    })
}

/// A health/service answer: already rendered over this snapshot, or the entries to render.
enum Rendered {
    Cached(std::rc::Rc<Vec<u8>>),
    Fresh { entries: Vec<ServiceEntry>, applied_index: u64, index: u64 },
}
