//! `PUT /v1/agent/maintenance?enable=&reason=` and
//! `PUT /v1/agent/service/maintenance/<id>?enable=&reason=`: the critical
//! `_node_maintenance` / `_service_maintenance:<id>` check comes or goes.

use ballast_local::LocalError;

use super::access::{path_arg, token, vet_service, write};
use crate::backend::Backend;
use crate::catalog::parse_go_bool;
use crate::router::Call;
use crate::server::Response;

/// `?enable=`: required, Go's `strconv.ParseBool`.
fn enable_param<B>(call: &Call<'_, B>) -> Result<bool, Response> {
    if !call.query.has("enable") {
        return Err(Response::text(400, "Missing value for enable"));
    }
    let raw = call.query.get("enable");
    parse_go_bool(raw)
        .ok_or_else(|| Response::text(400, format!("Invalid value for enable: {}", ballast_store::go_quote(raw))))
}

pub(crate) fn service_maintenance<B: Backend>(call: Call<'_, B>) -> Response {
    let id = path_arg(&call, "/v1/agent/service/maintenance/").to_string();
    if id.is_empty() {
        return Response::text(400, "Missing service ID");
    }
    let enable = match enable_param(&call) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let token = token(&call);
    let reason = call.query.get("reason").to_string();
    // Consul answers any failure here with 404 and the error's text.
    let as_not_found = |e: LocalError| LocalError::NotFound(e.text().to_string());
    write(&call, |l| {
        vet_service(l, &id)?;
        let result = if enable { l.enable_service_maintenance(&id, &reason, &token) } else { l.disable_service_maintenance(&id) };
        result.map_err(as_not_found)
    })
}

pub(crate) fn node_maintenance<B: Backend>(call: Call<'_, B>) -> Response {
    let enable = match enable_param(&call) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let token = token(&call);
    let reason = call.query.get("reason").to_string();
    // Consul's Enable/DisableNodeMaintenance only log their failures (the
    // request still succeeds).
    write(&call, |l| {
        let result = if enable { l.enable_node_maintenance(&reason, &token) } else { l.disable_node_maintenance() };
        if let Err(e) = result {
            tracing::warn!(error = %e, enable, "node maintenance change failed");
        }
        Ok(())
    })
}
