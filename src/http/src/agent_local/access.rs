//! What every agent-local handler shares: the request's ACL token, brief
//! access to the local state, the "changed" signal, and error responses.

use std::sync::{Mutex, MutexGuard};

use ballast_local::{LocalError, LocalState};

use crate::backend::Backend;
use crate::router::Call;
use crate::server::{Body, Response};

/// Consul's `parseToken`: `?token=`, then `X-Consul-Token`, then
/// `Authorization: Bearer <token>`.
pub(super) fn token<B>(call: &Call<'_, B>) -> String {
    let q = call.query.get("token");
    if !q.is_empty() {
        return q.to_string();
    }
    if let Some(t) = call.req.consul_token.as_deref().filter(|t| !t.is_empty()) {
        return t.to_string();
    }
    if let Some(auth) = call.req.authorization.as_deref() {
        let parts: Vec<&str> = auth.split(' ').collect();
        if parts.len() == 2 && parts[0].eq_ignore_ascii_case("bearer") {
            return parts[1].trim().to_string();
        }
    }
    String::new()
}

/// The route remainder after `prefix` (Go's `TrimPrefix` on `URL.Path`).
pub(super) fn path_arg<'a, B>(call: &'a Call<'_, B>, prefix: &str) -> &'a str {
    call.req.path.strip_prefix(prefix).unwrap_or("")
}

/// The request body, or the 413 an oversized one gets.
pub(super) fn body<'a, B>(call: &'a Call<'_, B>) -> Result<&'a [u8], Response> {
    match &call.req.body {
        Body::Complete(b) => Ok(b.as_slice()),
        Body::TooLarge { .. } => Err(Response::text(413, "Request body too large")),
    }
}

/// A backend without local state cannot serve these endpoints.
fn no_local_state() -> Response {
    Response::text(500, "agent-local services and checks are not available on this agent")
}

fn lock(m: &Mutex<LocalState>) -> MutexGuard<'_, LocalState> {
    // A panic elsewhere while holding the lock leaves the state as it was
    // last written; keep serving it.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Run `f` on the local state under the lock (never held across an await).
pub(super) fn read<B: Backend, T>(call: &Call<'_, B>, f: impl FnOnce(&LocalState) -> T) -> Result<T, Response> {
    let m = call.ctx.backend.local().ok_or_else(no_local_state)?;
    let guard = lock(m);
    Ok(f(&guard))
}

/// Run a change on the local state, then wake this shard's hash-blocking
/// readers if anything changed and tell the agent (Consul's `syncChanges`).
pub(super) fn write<B: Backend>(
    call: &Call<'_, B>,
    f: impl FnOnce(&mut LocalState) -> Result<(), LocalError>,
) -> Response {
    let Some(m) = call.ctx.backend.local() else { return no_local_state() };
    let (result, changed) = {
        let mut guard = lock(m);
        let before = guard.generation();
        let result = f(&mut guard);
        (result, guard.generation() != before)
    };
    if changed {
        super::wake::notify_local_change(call.ctx.backend.watches());
    }
    // Also after a write that changed nothing visible: a TTL pass with the
    // same status still resets the check's timer.
    if changed || result.is_ok() {
        call.ctx.backend.local_changed();
    }
    match result {
        Ok(()) => Response::empty(200),
        Err(e) => local_error(&e),
    }
}

/// A `LocalError` as Consul writes it: its status and plain text.
pub(super) fn local_error(e: &LocalError) -> Response {
    Response::text(e.status(), e.text().to_string())
}

/// `vetServiceUpdateWithAuthorizer`: the service must exist (404 otherwise).
pub(super) fn vet_service(l: &LocalState, id: &str) -> Result<(), LocalError> {
    if l.service(id).is_some() {
        return Ok(());
    }
    Err(LocalError::NotFound(format!(
        "Unknown service ID {}. Ensure that the service ID is passed, not the service name.",
        ballast_store::go_quote(id)
    )))
}

/// `vetCheckUpdateWithAuthorizer`: the check must exist (404 otherwise).
pub(super) fn vet_check(l: &LocalState, id: &str) -> Result<(), LocalError> {
    if l.check(id).is_some() {
        return Ok(());
    }
    Err(LocalError::NotFound(format!(
        "Unknown check ID {}. Ensure that the check ID is passed, not the check name.",
        ballast_store::go_quote(id)
    )))
}
