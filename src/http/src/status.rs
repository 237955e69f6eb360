//! `/v1/status/leader` and `/v1/status/peers` (agent/status_endpoint.go):
//! this server's own view, no leader needed.

use crate::backend::Backend;
use crate::params::QueryOptions;
use crate::router::Call;
use crate::server::Response;

/// Consul's `parse` (options validated, `dc` routed) for these endpoints.
fn check_options<B>(call: &Call<'_, B>) -> Result<(), Response> {
    let opts = QueryOptions::parse(&call.query, call.req.cache_control.as_deref())
        .map_err(|bad| Response::text(400, bad.0))?;
    call.check_datacenter(&opts.datacenter)
}

/// `"ip:port"` of the leader, `""` when there is none.
pub(crate) async fn leader<B: Backend>(call: Call<'_, B>) -> Response {
    if let Err(r) = check_options(&call) {
        return r;
    }
    let addr = call
        .ctx
        .backend
        .leader_status()
        .leader_addr
        .unwrap_or_default();
    call.json(200, &addr)
}

/// Raft servers; `null` before any configuration exists (Go nil slice).
pub(crate) async fn peers<B: Backend>(call: Call<'_, B>) -> Response {
    if let Err(r) = check_options(&call) {
        return r;
    }
    let peers = call.ctx.backend.raft_peers();
    if peers.is_empty() {
        call.json(200, &())
    } else {
        call.json(200, &peers)
    }
}
