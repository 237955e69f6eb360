//! `GET /v1/agent/services` and `GET /v1/agent/checks`: maps keyed by ID,
//! `?filter=` applied to each value (the filter sees the AgentService /
//! HealthCheck, keys stay with their values).

use ballast_filter::Filter;
use serde_json::Value;

use super::access::read;
use crate::backend::Backend;
use crate::router::Call;
use crate::server::Response;

pub(crate) fn services<B: Backend>(call: Call<'_, B>) -> Response {
    filtered(&call, |l| l.agent_services_json())
}

pub(crate) fn checks<B: Backend>(call: Call<'_, B>) -> Response {
    filtered(&call, |l| l.agent_checks_json())
}

fn filtered<B: Backend>(call: &Call<'_, B>, view: impl FnOnce(&ballast_local::LocalState) -> Value) -> Response {
    let filter = match Filter::parse_optional(call.query.get("filter")) {
        Ok(f) => f,
        Err(e) => return Response::text(e.status(), e.to_string()),
    };
    let mut value = match read(call, view) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let (Some(f), Value::Object(map)) = (&filter, &mut value) {
        if let Err(e) = f.filter_map_values(map) {
            return Response::text(e.status(), e.to_string());
        }
    }
    call.json(200, &value)
}
