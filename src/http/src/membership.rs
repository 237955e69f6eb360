//! `/v1/agent/join/<addr>`, `/v1/agent/leave`, `/v1/agent/force-leave/<node>`
//! (agent/agent_endpoint.go): gossip membership of this agent. Agent-local:
//! answered by whichever agent receives them, 200 with an empty body, errors
//! as Consul's 500 with the error text.

use crate::backend::Backend;
use crate::router::Call;
use crate::server::Response;
use crate::write::backend_error;

/// `PUT /v1/agent/join/<address>[?wan=<non-empty>]`.
pub(crate) async fn join<B: Backend>(call: Call<'_, B>) -> Response {
    let wan = !call.query.get("wan").is_empty();
    let addr = call.req.path.strip_prefix("/v1/agent/join/").unwrap_or_default().to_string();
    match call.ctx.backend.join(addr, wan).await {
        Ok(()) => Response::empty(200),
        Err(e) => backend_error(&e),
    }
}

/// `PUT /v1/agent/leave`: leave gracefully, then the agent shuts down.
pub(crate) async fn leave<B: Backend>(call: Call<'_, B>) -> Response {
    match call.ctx.backend.leave().await {
        Ok(()) => Response::empty(200),
        Err(e) => backend_error(&e),
    }
}

/// `PUT /v1/agent/force-leave/<node>[?prune][&wan]` (presence counts).
pub(crate) async fn force_leave<B: Backend>(call: Call<'_, B>) -> Response {
    let prune = call.query.has("prune");
    let wan = call.query.has("wan");
    let node = call.req.path.strip_prefix("/v1/agent/force-leave/").unwrap_or_default().to_string();
    match call.ctx.backend.force_leave(node, prune, wan).await {
        Ok(()) => Response::empty(200),
        Err(e) => backend_error(&e),
    }
}
