//! `/v1/operator/raft/*` (agent/operator_endpoint.go): the Raft
//! configuration, peer removal and leadership transfer, with Consul's
//! parameter checks, messages and status codes. None of them set query
//! meta headers (`X-Consul-Index` etc.): Consul returns the RPC reply as is.

use crate::backend::{Backend, PeerSelector};
use crate::params::{Consistency, QueryOptions};
use crate::router::Call;
use crate::server::Response;
use crate::write::backend_error;

/// `GET /v1/operator/raft/configuration`: Consul's `parse` (consistency,
/// `wait`, `index` validated), then the RPC, which `?stale` (or a positive
/// `max_stale`) lets any server answer.
pub(crate) async fn raft_configuration<B: Backend>(call: Call<'_, B>) -> Response {
    let opts = match QueryOptions::parse(&call.query, call.req.cache_control.as_deref()) {
        Ok(o) => o,
        Err(bad) => return Response::text(400, bad.0),
    };
    if let Err(r) = call.check_datacenter(&opts.datacenter) {
        return r;
    }
    let stale = opts.consistency == Consistency::Stale;
    match call.ctx.backend.raft_configuration(stale).await {
        Ok(config) => call.json(200, &config),
        Err(e) => backend_error(&e),
    }
}

/// `DELETE /v1/operator/raft/peer`: exactly one of `?id` / `?address`
/// (presence counts, even empty); 200 with an empty body on success.
pub(crate) async fn raft_peer<B: Backend>(call: Call<'_, B>) -> Response {
    let has_id = call.query.has("id");
    let has_address = call.query.has("address");
    let peer = match (has_id, has_address) {
        (false, false) => {
            return Response::text(
                400,
                "Must specify either ?id with the server's ID or ?address with IP:port of peer to remove",
            )
        }
        (true, true) => return Response::text(400, "Must specify only one of ?id or ?address"),
        (true, false) => PeerSelector::Id(call.query.get("id").to_string()),
        (false, true) => PeerSelector::Address(call.query.get("address").to_string()),
    };
    // The RPC routes by `?dc=` after the parameter checks.
    if let Err(r) = call.check_datacenter(call.query.get("dc")) {
        return r;
    }
    match call.ctx.backend.remove_raft_peer(peer).await {
        Ok(()) => Response::empty(200),
        Err(e) => backend_error(&e),
    }
}

/// `POST /v1/operator/raft/transfer-leader[?id=]`: `{"Success":true}`.
/// Consul CE refuses a partition (query or header) first; `?dc` is not
/// read by this endpoint.
pub(crate) async fn transfer_leader<B: Backend>(call: Call<'_, B>) -> Response {
    if call
        .req
        .consul_partition
        .as_deref()
        .is_some_and(|p| !p.is_empty())
    {
        return Response::text(
            400,
            "Invalid header: \"X-Consul-Partition\" - Partitions are a Consul Enterprise feature",
        );
    }
    if !call.query.get("partition").is_empty() {
        return Response::text(
            400,
            "Invalid query parameter: \"partition\" - Partitions are a Consul Enterprise feature",
        );
    }
    // An empty `?id=` is the same request as none: Raft picks the target.
    let id = call.query.get("id");
    let to = (!id.is_empty()).then(|| id.to_string());
    match call.ctx.backend.transfer_leader(to).await {
        Ok(()) => call.json(200, &TransferLeaderResponse { success: true }),
        Err(e) => backend_error(&e),
    }
}

/// Consul's `api.TransferLeaderResponse`.
#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct TransferLeaderResponse {
    success: bool,
}
