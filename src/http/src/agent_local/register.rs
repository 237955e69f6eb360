//! `PUT /v1/agent/service/register`, `/v1/agent/service/deregister/<id>`,
//! `/v1/agent/check/register`, `/v1/agent/check/deregister/<id>`: 200 with an
//! empty body, or Consul's status and text.

use ballast_local::{decode_check_registration, decode_service_registration};

use super::access::{body, local_error, path_arg, token, vet_check, vet_service, write};
use crate::backend::Backend;
use crate::router::Call;
use crate::server::Response;

pub(crate) fn register_service<B: Backend>(call: Call<'_, B>) -> Response {
    let raw = match body(&call) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let def = match decode_service_registration(raw) {
        Ok(d) => d,
        Err(e) => return local_error(&e),
    };
    let token = token(&call);
    // Present, and empty or `true` (any other value means no).
    let replace = call.query.has("replace-existing-checks")
        && matches!(call.query.get("replace-existing-checks"), "" | "true");
    write(&call, |l| l.register_service(&def, &token, replace))
}

pub(crate) fn deregister_service<B: Backend>(call: Call<'_, B>) -> Response {
    let id = path_arg(&call, "/v1/agent/service/deregister/").to_string();
    write(&call, |l| {
        vet_service(l, &id)?;
        l.deregister_service(&id)
    })
}

pub(crate) fn register_check<B: Backend>(call: Call<'_, B>) -> Response {
    let raw = match body(&call) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let def = match decode_check_registration(raw) {
        Ok(d) => d,
        Err(e) => return local_error(&e),
    };
    let token = token(&call);
    write(&call, |l| l.register_check(&def, &token))
}

pub(crate) fn deregister_check<B: Backend>(call: Call<'_, B>) -> Response {
    let id = path_arg(&call, "/v1/agent/check/deregister/").to_string();
    write(&call, |l| {
        vet_check(l, &id)?;
        l.deregister_check(&id)
    })
}
