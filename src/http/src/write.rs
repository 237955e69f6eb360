//! Writes through the backend and the mapping of backend failures to
//! Consul's responses.

use ballast_store::{ApplyResult, Command};

use crate::backend::{Backend, BackendError};
use crate::server::{Response, ServerCtx};

/// The response Consul gives for a failed RPC of this kind.
pub(crate) fn backend_error(e: &BackendError) -> Response {
    Response::text(e.status(), e.to_string())
}

/// Propose `cmd`; failures come back as ready-made responses.
pub(crate) async fn propose<B: Backend>(
    ctx: &ServerCtx<B>,
    cmd: Command,
) -> Result<ApplyResult, Response> {
    ctx.backend
        .propose(cmd)
        .await
        .map_err(|e| backend_error(&e))
}
