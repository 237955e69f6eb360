//! `PUT /v1/catalog/register` and `PUT /v1/catalog/deregister`: the agent
//! handler (agent/catalog_endpoint.go) decodes and defaults the datacenter,
//! the server's `Catalog.Register`/`Catalog.Deregister`
//! (agent/consul/catalog_endpoint.go) validates; its errors are 500s with
//! the error text, as Consul's HTTP wrapper writes RPC errors.

use ballast_store::catalog::{HealthCheck, NodeService, RegisterRequest};
use ballast_store::{ApplyResult, Command, StateSnapshot};

use super::register_decode::{decode_deregister, decode_register, DecodedRegister};
use crate::backend::Backend;
use crate::router::Call;
use crate::server::{Body, Response};
use crate::write::propose;

fn body<'a, B>(call: &'a Call<'_, B>) -> Result<&'a [u8], Response> {
    match &call.req.body {
        Body::Complete(b) => Ok(b.as_slice()),
        Body::TooLarge { .. } => Err(Response::text(413, "Request body too large")),
    }
}

pub(crate) async fn register<B: Backend>(call: Call<'_, B>) -> Response {
    let raw = match body(&call) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let decoded = match decode_register(raw) {
        Ok(d) => d,
        Err(e) => return Response::text(400, format!("Request decode failed: {}", e.0)),
    };
    if decoded.has_peer_name {
        return Response::text(500, "cannot register requests with PeerName in them");
    }
    if let Err(r) = call.check_datacenter(&decoded.req.datacenter) {
        return r;
    }
    let state = call.ctx.backend.state();
    let req = match pre_apply(decoded, &call.ctx.opts.datacenter, &state) {
        Ok(r) => r,
        Err(msg) => return Response::text(500, msg),
    };
    drop(state);
    apply(&call, Command::CatalogRegister(req)).await
}

pub(crate) async fn deregister<B: Backend>(call: Call<'_, B>) -> Response {
    let raw = match body(&call) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let decoded = match decode_deregister(raw) {
        Ok(d) => d,
        Err(e) => return Response::text(400, format!("Request decode failed: {}", e.0)),
    };
    if let Err(r) = call.check_datacenter(&decoded.datacenter) {
        return r;
    }
    if decoded.node.is_empty() {
        return Response::text(500, "Must provide node");
    }
    apply(&call, Command::CatalogDeregister(decoded.into_request())).await
}

async fn apply<B: Backend>(call: &Call<'_, B>, cmd: Command) -> Response {
    match propose(call.ctx, cmd).await {
        Ok(ApplyResult::Bool(_)) => call.json(200, &true),
        Ok(ApplyResult::Error(msg)) => Response::text(500, msg),
        Ok(_) => Response::text(500, "unexpected result for a catalog write"),
        Err(r) => r,
    }
}

/// `Catalog.Register`'s checks and fix-ups, in its order.
fn pre_apply(d: DecodedRegister, dc: &str, state: &StateSnapshot) -> Result<RegisterRequest, String> {
    let mut req = d.req;
    if req.datacenter.is_empty() {
        req.datacenter = dc.to_string();
    }
    if req.node.is_empty() {
        return Err("Must provide node".to_string());
    }
    if !req.id.is_empty() {
        check_uuid(&req.id).map_err(|e| format!("Bad node ID: {e}"))?;
    }
    if req.address.is_empty() && !req.skip_node_update {
        return Err("Must provide address if SkipNodeUpdate is not set".to_string());
    }
    if let Some(svc) = req.service.as_mut() {
        validate_service(svc, &d.proxy_destination, d.connect_native, d.has_sidecar)?;
        if svc.id.is_empty() && !svc.service.is_empty() {
            svc.id = svc.service.clone();
        }
        if !svc.id.is_empty() && svc.service.is_empty() {
            return Err("Must provide service name (Service.Service) when service ID is provided".to_string());
        }
        if is_any_address(&svc.address) {
            return Err("Invalid service address".to_string());
        }
    }
    for check in req.checks.iter_mut() {
        if check.node.is_empty() {
            check.node = req.node.clone();
        }
        if check.check_id.is_empty() && !check.name.is_empty() {
            check.check_id = check.name.clone();
        }
        if check.check_type.is_empty() {
            check.check_type = check_type(check).to_string();
        }
    }
    vet_checks(&req, state)?;
    Ok(req)
}

/// The structural half of `vetRegisterWithACL` (it runs with ACLs off too).
fn vet_checks(req: &RegisterRequest, state: &StateSnapshot) -> Result<(), String> {
    for check in &req.checks {
        if check.node.to_lowercase() != req.node.to_lowercase() {
            return Err(format!(
                "Node '{}' for check '{}' doesn't match register request node '{}'",
                check.node, check.check_id, req.node
            ));
        }
        if check.service_id.is_empty() || req.service.as_ref().is_some_and(|s| s.id == check.service_id) {
            continue;
        }
        let (existing, _) = state.catalog_node_services(&req.node);
        let known = existing.is_some_and(|(_, services)| services.iter().any(|s| s.id == check.service_id));
        if !known {
            return Err(format!("Unknown service ID '{}' for check ID '{}'", check.service_id, check.check_id));
        }
    }
    Ok(())
}

/// `NodeService.Validate` for the kinds ballast can register, with
/// go-multierror's list format.
fn validate_service(svc: &NodeService, proxy_destination: &str, native: bool, sidecar: bool) -> Result<(), String> {
    let mut errors: Vec<String> = Vec::new();
    let kind = svc.kind.as_str();
    if kind == "connect-proxy" {
        if svc.port == 0 && svc.socket_path.is_empty() {
            errors.push(format!("Port or SocketPath must be set for a {kind}"));
        }
        if proxy_destination.trim().is_empty() {
            errors.push("Proxy.DestinationServiceName must be non-empty for Connect proxy services".to_string());
        }
        if proxy_destination == "*" {
            errors.push("Proxy.DestinationServiceName must not be a wildcard for Connect proxy services".to_string());
        }
        if native {
            errors.push("A Proxy cannot also be Connect Native, only typical services".to_string());
        }
    }
    let gateway = matches!(kind, "mesh-gateway" | "terminating-gateway" | "ingress-gateway" | "api-gateway");
    if gateway {
        if svc.port == 0 && kind != "ingress-gateway" && kind != "api-gateway" {
            errors.push(format!("Port must be non-zero for a {kind}"));
        }
        if sidecar {
            errors.push(format!("A {kind} cannot have a sidecar service defined"));
        }
        if !proxy_destination.is_empty() {
            errors.push(format!("The Proxy.DestinationServiceName configuration is invalid for a {kind}"));
        }
    }
    if native && svc.port == 0 && svc.socket_path.is_empty() {
        errors.push("Port or SocketPath must be set for a Connect native service.".to_string());
    }
    if errors.is_empty() {
        return Ok(());
    }
    let noun = if errors.len() == 1 { "error occurred" } else { "errors occurred" };
    let mut text = format!("{} {noun}:\n", errors.len());
    for e in &errors {
        text.push_str(&format!("\t* {e}\n"));
    }
    text.push('\n');
    Err(text)
}

/// `ipaddr.IsAny`: the unspecified addresses, bracketed or not.
fn is_any_address(addr: &str) -> bool {
    let a = addr.trim_start_matches('[').trim_end_matches(']');
    a.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_unspecified())
}

/// go-uuid's `ParseUUID` checks, with its messages.
fn check_uuid(id: &str) -> Result<(), String> {
    if id.len() != 36 {
        return Err("uuid string is wrong length".to_string());
    }
    let b = id.as_bytes();
    if b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
        return Err("uuid is improperly formatted".to_string());
    }
    for (i, c) in id.char_indices() {
        if matches!(i, 8 | 13 | 18 | 23) {
            continue;
        }
        if !c.is_ascii_hexdigit() {
            return Err(format!("encoding/hex: invalid byte: U+{:04X} {}", c as u32, go_quote_rune(c)));
        }
    }
    Ok(())
}

fn go_quote_rune(c: char) -> String {
    format!("'{c}'")
}

/// `CheckType.Type()` for a check registered straight into the catalog.
fn check_type(c: &HealthCheck) -> &'static str {
    let d = &c.definition;
    let interval = d.interval_ns > 0;
    if !d.grpc.is_empty() && interval {
        "grpc"
    } else if !d.http.is_empty() && interval {
        "http"
    } else if d.ttl_ns > 0 {
        "ttl"
    } else if !d.tcp.is_empty() && interval {
        "tcp"
    } else if !d.udp.is_empty() && interval {
        "udp"
    } else if !d.alias_node.is_empty() || !d.alias_service.is_empty() {
        "alias"
    } else if !d.docker_container_id.is_empty() && !d.script_args.is_empty() && interval {
        "docker"
    } else if !d.script_args.is_empty() && interval {
        "script"
    } else if !d.h2ping.is_empty() && interval {
        "h2ping"
    } else if !d.os_service.is_empty() && interval {
        "os_service"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_and_any_address() {
        assert_eq!(check_uuid("x").unwrap_err(), "uuid string is wrong length");
        assert!(check_uuid("0b5f7c4e-0000-4000-8000-000000000001").is_ok());
        assert_eq!(check_uuid("0b5f7c4e00000-4000-8000-000000000001").unwrap_err(), "uuid is improperly formatted");
        assert!(is_any_address("0.0.0.0") && is_any_address("::") && is_any_address("[::]"));
        assert!(!is_any_address("10.0.0.1") && !is_any_address(""));
    }

    #[test]
    fn multierror_format() {
        let svc = NodeService { kind: "connect-proxy".into(), ..NodeService::default() };
        assert_eq!(
            validate_service(&svc, "web", false, false).unwrap_err(),
            "1 error occurred:\n\t* Port or SocketPath must be set for a connect-proxy\n\n"
        );
    }
}
