//! `PUT /v1/agent/check/pass|warn|fail/<id>?note=` and
//! `PUT /v1/agent/check/update/<id>` (body `{"Status","Output"}`): a TTL
//! check's status and output. An unknown check is a 404, a check without a
//! TTL a 500 (Consul's texts).

use ballast_local::decode_check_update;
use ballast_store::catalog::{HEALTH_CRITICAL, HEALTH_PASSING, HEALTH_WARNING};

use super::access::{body, local_error, path_arg, vet_check, write};
use crate::backend::Backend;
use crate::router::Call;
use crate::server::Response;

pub(crate) fn check_pass<B: Backend>(call: Call<'_, B>) -> Response {
    by_note(call, "/v1/agent/check/pass/", HEALTH_PASSING)
}

pub(crate) fn check_warn<B: Backend>(call: Call<'_, B>) -> Response {
    by_note(call, "/v1/agent/check/warn/", HEALTH_WARNING)
}

pub(crate) fn check_fail<B: Backend>(call: Call<'_, B>) -> Response {
    by_note(call, "/v1/agent/check/fail/", HEALTH_CRITICAL)
}

fn by_note<B: Backend>(call: Call<'_, B>, prefix: &str, status: &str) -> Response {
    let id = path_arg(&call, prefix).to_string();
    let note = call.query.get("note").to_string();
    update(&call, &id, status, &note)
}

pub(crate) fn check_update<B: Backend>(call: Call<'_, B>) -> Response {
    let raw = match body(&call) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let upd = match decode_check_update(raw) {
        Ok(u) => u,
        Err(e) => return local_error(&e),
    };
    let id = path_arg(&call, "/v1/agent/check/update/").to_string();
    update(&call, &id, &upd.status, &upd.output)
}

/// `agentCheckUpdate`: vet the check, then `updateTTLCheck`.
fn update<B: Backend>(call: &Call<'_, B>, id: &str, status: &str, output: &str) -> Response {
    write(call, |l| {
        vet_check(l, id)?;
        l.update_ttl_check(id, status, output).map(|_| ())
    })
}
