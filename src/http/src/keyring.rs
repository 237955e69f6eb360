//! `/v1/operator/keyring` (agent/operator_endpoint.go OperatorKeyringEndpoint): list
//! (GET), install (POST), use (PUT) and remove (DELETE) gossip encryption keys across the
//! pools. GET returns the per-pool `KeyringResponse` list; the others 200 with an empty
//! body. Pools that reported failures make a 500 with Consul's multierror text.

use ballast_keyring::{decode_base64, KeyOp, KeyringRequest, KeyringResponse};

use crate::backend::Backend;
use crate::router::Call;
use crate::server::{Body, Response};
use crate::write::backend_error;

pub(crate) async fn handle<B: Backend>(call: Call<'_, B>) -> Response {
    let method = call.req.method.as_str();
    let mut key_text = String::new();
    if matches!(method, "POST" | "PUT" | "DELETE") {
        let body = match &call.req.body {
            Body::Complete(b) => b.as_slice(),
            Body::TooLarge { .. } => return Response::text(413, "Request body too large"),
        };
        if !body.is_empty() {
            match serde_json::from_slice::<KeyringRequest>(body) {
                Ok(r) => key_text = r.key,
                Err(e) => return Response::text(400, format!("Request decode failed: {e}")),
            }
        }
    }
    let relay = call.query.get("relay-factor");
    if !relay.is_empty() {
        let n: i64 = match relay.parse() {
            Ok(n) => n,
            Err(_) => {
                return Response::text(
                    400,
                    format!("Error parsing relay factor: strconv.Atoi: parsing {relay:?}: invalid syntax"),
                )
            }
        };
        if !(0..=5).contains(&n) {
            return Response::text(400, "Invalid relay-factor: Relay factor must be in range: [0, 5]");
        }
    }
    let mut local_only = false;
    let lo = call.query.get("local-only");
    if !lo.is_empty() {
        local_only = match parse_go_bool(lo) {
            Some(b) => b,
            None => {
                return Response::text(400, format!("Error parsing local-only: strconv.ParseBool: parsing {lo:?}: invalid syntax"))
            }
        };
        if local_only && method != "GET" {
            return Response::text(400, "Invalid use of local-only: local-only can only be set for list requests");
        }
    }
    let op = match method {
        "GET" => KeyOp::List,
        _ => {
            let raw = match decode_base64(&key_text) {
                Ok(k) => k,
                Err(e) => return Response::text(500, e.to_string()),
            };
            match method {
                "POST" => KeyOp::Install(raw),
                "PUT" => KeyOp::Use(raw),
                _ => KeyOp::Remove(raw),
            }
        }
    };
    let list = matches!(op, KeyOp::List);
    match call.ctx.backend.keyring(op, local_only).await {
        Ok(responses) => {
            if let Some(err) = errors_of(&responses) {
                return Response::text(500, err);
            }
            if list {
                call.json(200, &responses)
            } else {
                Response::empty(200)
            }
        }
        Err(e) => backend_error(&e),
    }
}

/// Go's strconv.ParseBool.
fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Consul's keyringErrorsOrNil, in go-multierror's format.
fn errors_of(responses: &[KeyringResponse]) -> Option<String> {
    let mut errs = Vec::new();
    for r in responses.iter().filter(|r| !r.error.is_empty()) {
        let mut pool = if r.wan { "WAN".to_string() } else { format!("{} (LAN)", r.datacenter) };
        if !r.segment.is_empty() {
            pool += &format!(" [segment: {}]", r.segment);
        }
        errs.push(format!("{pool} error: {}", r.error));
        for (node, msg) in &r.messages {
            errs.push(format!("{node}: {msg}"));
        }
    }
    if errs.is_empty() {
        return None;
    }
    let n = errs.len();
    let items: Vec<String> = errs.iter().map(|e| format!("\t* {e}")).collect();
    Some(format!("{n} error{} occurred:\n{}\n\n", if n == 1 { "" } else { "s" }, items.join("\n")))
}
