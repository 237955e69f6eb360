//! `GET /v1/agent/service/<id>`: one local service with its `ContentHash`,
//! hash-blocking as Consul's `LocalBlockingQuery`: with `?hash=` the request
//! parks until the hash differs from it or `?wait=` ends.

use std::pin::pin;
use std::time::Duration;

use ballast_local::LocalError;
use ballast_store::WatchTarget;
use futures_lite::future;
use glommio::timer::Timer;
use serde_json::Value;

use super::access::{local_error, path_arg, read};
use crate::backend::Backend;
use crate::blocking::blocking_timeout;
use crate::duration::parse_go_duration;
use crate::params::parse_go_uint;
use crate::router::Call;
use crate::server::{GaugeGuard, Response};

/// A parked reader re-reads at least this often: changes made where this
/// shard is not told (another shard's handlers, the agent's own loops) are
/// seen within it even if nobody notifies the local-state topic.
const RECHECK: Duration = Duration::from_secs(1);

pub(crate) async fn service<B: Backend>(call: Call<'_, B>) -> Response {
    let id = path_arg(&call, "/v1/agent/service/").to_string();
    // Consul's `parseWait`: only the syntax matters here.
    let wait = call.query.get("wait");
    let wait_ns = if wait.is_empty() {
        None
    } else {
        match parse_go_duration(wait) {
            Some(ns) => Some(ns),
            None => return Response::text(400, "Invalid wait time"),
        }
    };
    let index = call.query.get("index");
    if !index.is_empty() && parse_go_uint(index).is_none() {
        return Response::text(400, "Invalid index");
    }
    let hash = call.query.get("hash").to_string();

    let current = |call: &Call<'_, B>| -> Result<Result<(Value, String), LocalError>, Response> {
        read(call, |l| l.agent_service_json(&id))
    };
    let first = match current(&call) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let outcome = if hash.is_empty() {
        first
    } else {
        let timeout = blocking_timeout(wait_ns, call.ctx.opts.default_query_time, call.ctx.opts.max_query_time);
        match park_until_changed(&call, &hash, timeout, first, current).await {
            Ok(r) => r,
            Err(r) => return r,
        }
    };
    match outcome {
        Ok((value, hash)) => {
            let mut resp = call.json(200, &value);
            resp.set_header("X-Consul-ContentHash", hash);
            resp
        }
        Err(e) => local_error(&e),
    }
}

type Current = Result<(Value, String), LocalError>;

/// Re-read after every wake until the answer is an error, its hash differs
/// from `hash`, or `timeout` passes (then the last answer is returned).
async fn park_until_changed<B: Backend>(
    call: &Call<'_, B>,
    hash: &str,
    timeout: Duration,
    mut answer: Current,
    current: impl Fn(&Call<'_, B>) -> Result<Current, Response>,
) -> Result<Current, Response> {
    let mut deadline = pin!(Timer::new(timeout));
    loop {
        match &answer {
            Ok((_, h)) if h == hash => {}
            _ => return Ok(answer),
        }
        // Register before re-reading: a change after the read fires the watch.
        let watch = call.ctx.backend.watches().register(WatchTarget::Topic(super::wake::topic()));
        answer = current(call)?;
        match &answer {
            Ok((_, h)) if h == hash => {}
            _ => return Ok(answer),
        }
        let timed_out = {
            let _parked = GaugeGuard::new(&call.ctx.opts.stats, |s| &s.parked);
            future::or(
                future::or(
                    async {
                        watch.await;
                        false
                    },
                    async {
                        Timer::new(RECHECK).await;
                        false
                    },
                ),
                async {
                    deadline.as_mut().await;
                    true
                },
            )
            .await
        };
        if timed_out {
            return current(call);
        }
        answer = current(call)?;
    }
}
