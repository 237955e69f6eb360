//! `GET /v1/agent/health/service/id/<id>` and `.../name/<name>`: the
//! status code encodes the aggregated health (200 passing, 429 warning,
//! 503 critical or maintenance, 404 unknown); `X-Consul-Reason` carries the
//! status; `?format=text` or `Accept: text/plain` gives it as the body.

use ballast_local::service_health_not_found_json;

use super::access::{path_arg, read};
use crate::backend::Backend;
use crate::router::Call;
use crate::server::Response;

/// Consul's `returnTextPlain`.
fn text_plain<B>(call: &Call<'_, B>) -> bool {
    if call.req.accept.as_deref().is_some_and(|a| a.starts_with("text/plain")) {
        return true;
    }
    let format = call.query.get("format");
    !format.is_empty() && format == "text"
}

/// Consul's `CodeWithPayloadError` path through its HTTP wrapper.
fn payload(mut resp: Response, status: u16, reason: &str, content_type: &str) -> Response {
    resp.status = status;
    resp.set_header("X-Consul-Reason", reason.to_string());
    resp.set_header("Content-Type", content_type.to_string());
    resp
}

fn plain(status: u16, reason: &str) -> Response {
    payload(Response::text(status, reason.to_string()), status, reason, "text/plain")
}

pub(crate) fn health_by_id<B: Backend>(call: Call<'_, B>) -> Response {
    let id = path_arg(&call, "/v1/agent/health/service/id/").to_string();
    if id.is_empty() {
        return Response::text(400, "Missing serviceID");
    }
    let found = match read(&call, |l| l.service_health_by_id(&id).map(|h| (h.to_json(&l.node().datacenter), h))) {
        Ok(f) => f,
        Err(r) => return r,
    };
    match found {
        Some((body, h)) => {
            if text_plain(&call) {
                return plain(h.status_code, h.aggregated_status);
            }
            payload(call.json(h.status_code, &body), h.status_code, h.aggregated_status, "application/json")
        }
        None => {
            let reason = format!("ServiceId {id} not found");
            if text_plain(&call) {
                return plain(404, &reason);
            }
            payload(call.json(404, &service_health_not_found_json()), 404, &reason, "application/json")
        }
    }
}

pub(crate) fn health_by_name<B: Backend>(call: Call<'_, B>) -> Response {
    let name = path_arg(&call, "/v1/agent/health/service/name/").to_string();
    if name.is_empty() {
        return Response::text(400, "Missing service Name");
    }
    let found = read(&call, |l| {
        let h = l.service_health_by_name(&name);
        let dc = &l.node().datacenter;
        let body: Vec<serde_json::Value> = h.instances.iter().map(|i| i.to_json(dc)).collect();
        (h.status_code, h.status, body)
    });
    let (code, status, body) = match found {
        Ok(f) => f,
        Err(r) => return r,
    };
    if text_plain(&call) {
        return plain(code, &status);
    }
    payload(call.json(code, &body), code, &status, "application/json")
}
