//! Consul's mux and `wrap`: Go `ServeMux` matching (exact paths and one
//! subtree), path cleaning redirects, the index/404 handler, OPTIONS,
//! 405 with `Allow`, the query-string check, and `Vary: Accept-Encoding`
//! on every wrapped response (Consul's gzip handler adds it).

use std::rc::Rc;

use crate::backend::Backend;
use crate::params::QueryParams;
use crate::server::{Request, Response, ServerCtx};

/// The endpoints this server implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Kv,
    Txn,
    StatusLeader,
    StatusPeers,
    AgentSelf,
    AgentMembers,
    OperatorRaftConfiguration,
    OperatorRaftTransferLeader,
    OperatorRaftPeer,
    AgentJoin,
    AgentLeave,
    AgentForceLeave,
    OperatorKeyring,
    CoordinateDatacenters,
    CoordinateNodes,
    CoordinateNode,
    CoordinateUpdate,
    CatalogRegister,
    CatalogDeregister,
    CatalogDatacenters,
    CatalogNodes,
    CatalogServices,
    CatalogService,
    CatalogNode,
    CatalogNodeServices,
    HealthNode,
    HealthChecks,
    HealthService,
    HealthState,
    AgentServices,
    AgentService,
    AgentChecks,
    AgentServiceRegister,
    AgentServiceDeregister,
    AgentServiceMaintenance,
    AgentNodeMaintenance,
    AgentCheckRegister,
    AgentCheckDeregister,
    AgentCheckPass,
    AgentCheckWarn,
    AgentCheckFail,
    AgentCheckUpdate,
    AgentHealthServiceById,
    AgentHealthServiceByName,
}

impl Endpoint {
    /// Answered by every agent itself; a client agent forwards everything else to a
    /// server, as Consul's clients forward their RPCs.
    fn agent_local(self) -> bool {
        matches!(
            self,
            Endpoint::AgentSelf
                | Endpoint::AgentMembers
                | Endpoint::AgentJoin
                | Endpoint::AgentLeave
                | Endpoint::AgentForceLeave
                | Endpoint::AgentServices
                | Endpoint::AgentService
                | Endpoint::AgentChecks
                | Endpoint::AgentServiceRegister
                | Endpoint::AgentServiceDeregister
                | Endpoint::AgentServiceMaintenance
                | Endpoint::AgentNodeMaintenance
                | Endpoint::AgentCheckRegister
                | Endpoint::AgentCheckDeregister
                | Endpoint::AgentCheckPass
                | Endpoint::AgentCheckWarn
                | Endpoint::AgentCheckFail
                | Endpoint::AgentCheckUpdate
                | Endpoint::AgentHealthServiceById
                | Endpoint::AgentHealthServiceByName
        )
    }
}

/// Registered patterns, as Consul's `http_register.go`: a trailing `/`
/// registers a subtree, anything else an exact path. The first match wins,
/// so a longer pattern comes before a subtree that contains it (Go's mux
/// prefers exact paths, then the longest subtree).
const ROUTES: &[(&str, &[&str], Endpoint)] = &[
    ("/v1/kv/", &["GET", "PUT", "DELETE"], Endpoint::Kv),
    ("/v1/txn", &["PUT"], Endpoint::Txn),
    ("/v1/status/leader", &["GET"], Endpoint::StatusLeader),
    ("/v1/status/peers", &["GET"], Endpoint::StatusPeers),
    ("/v1/agent/self", &["GET"], Endpoint::AgentSelf),
    ("/v1/agent/members", &["GET"], Endpoint::AgentMembers),
    ("/v1/agent/join/", &["PUT"], Endpoint::AgentJoin),
    ("/v1/agent/leave", &["PUT"], Endpoint::AgentLeave),
    ("/v1/agent/force-leave/", &["PUT"], Endpoint::AgentForceLeave),
    ("/v1/agent/services", &["GET"], Endpoint::AgentServices),
    ("/v1/agent/checks", &["GET"], Endpoint::AgentChecks),
    ("/v1/agent/maintenance", &["PUT"], Endpoint::AgentNodeMaintenance),
    ("/v1/agent/service/register", &["PUT"], Endpoint::AgentServiceRegister),
    ("/v1/agent/service/deregister/", &["PUT"], Endpoint::AgentServiceDeregister),
    ("/v1/agent/service/maintenance/", &["PUT"], Endpoint::AgentServiceMaintenance),
    ("/v1/agent/service/", &["GET"], Endpoint::AgentService),
    ("/v1/agent/check/register", &["PUT"], Endpoint::AgentCheckRegister),
    ("/v1/agent/check/deregister/", &["PUT"], Endpoint::AgentCheckDeregister),
    ("/v1/agent/check/pass/", &["PUT"], Endpoint::AgentCheckPass),
    ("/v1/agent/check/warn/", &["PUT"], Endpoint::AgentCheckWarn),
    ("/v1/agent/check/fail/", &["PUT"], Endpoint::AgentCheckFail),
    ("/v1/agent/check/update/", &["PUT"], Endpoint::AgentCheckUpdate),
    ("/v1/agent/health/service/id/", &["GET"], Endpoint::AgentHealthServiceById),
    ("/v1/agent/health/service/name/", &["GET"], Endpoint::AgentHealthServiceByName),
    ("/v1/operator/keyring", &["GET", "POST", "PUT", "DELETE"], Endpoint::OperatorKeyring),
    ("/v1/coordinate/datacenters", &["GET"], Endpoint::CoordinateDatacenters),
    ("/v1/coordinate/nodes", &["GET"], Endpoint::CoordinateNodes),
    ("/v1/coordinate/node/", &["GET"], Endpoint::CoordinateNode),
    ("/v1/coordinate/update", &["PUT"], Endpoint::CoordinateUpdate),
    ("/v1/catalog/register", &["PUT"], Endpoint::CatalogRegister),
    ("/v1/catalog/deregister", &["PUT"], Endpoint::CatalogDeregister),
    ("/v1/catalog/datacenters", &["GET"], Endpoint::CatalogDatacenters),
    ("/v1/catalog/nodes", &["GET"], Endpoint::CatalogNodes),
    ("/v1/catalog/services", &["GET"], Endpoint::CatalogServices),
    ("/v1/catalog/service/", &["GET"], Endpoint::CatalogService),
    ("/v1/catalog/node/", &["GET"], Endpoint::CatalogNode),
    ("/v1/catalog/node-services/", &["GET"], Endpoint::CatalogNodeServices),
    ("/v1/health/node/", &["GET"], Endpoint::HealthNode),
    ("/v1/health/checks/", &["GET"], Endpoint::HealthChecks),
    ("/v1/health/service/", &["GET"], Endpoint::HealthService),
    ("/v1/health/state/", &["GET"], Endpoint::HealthState),
    (
        "/v1/operator/raft/configuration",
        &["GET"],
        Endpoint::OperatorRaftConfiguration,
    ),
    (
        "/v1/operator/raft/transfer-leader",
        &["POST"],
        Endpoint::OperatorRaftTransferLeader,
    ),
    (
        "/v1/operator/raft/peer",
        &["DELETE"],
        Endpoint::OperatorRaftPeer,
    ),
];

/// What the index handler says when no UI is served.
const INDEX_TEXT: &str =
    "Consul Agent: UI disabled. To enable, set ui_config.enabled=true in the agent configuration and restart.";

enum Match {
    Route(&'static [&'static str], Endpoint),
    /// `/v1/kv` names a subtree root without its slash: Go redirects.
    AddSlash,
    None,
}

fn match_route(path: &str) -> Match {
    for (pattern, methods, endpoint) in ROUTES {
        if let Some(root) = pattern.strip_suffix('/') {
            if path.starts_with(pattern) {
                return Match::Route(methods, *endpoint);
            }
            if path == root {
                return Match::AddSlash;
            }
        } else if path == *pattern {
            return Match::Route(methods, *endpoint);
        }
    }
    Match::None
}

/// Handle one request end to end.
pub(crate) async fn dispatch<B: Backend>(ctx: &Rc<ServerCtx<B>>, req: Request) -> Response {
    // go-cleanhttp's PrintablePathCheckHandler wraps Consul's whole mux.
    if req
        .path
        .chars()
        .any(|c| c.is_control() || (c.is_whitespace() && c != ' '))
    {
        return Response::empty(400);
    }
    let cleaned = clean_path(&req.raw_path);
    let (methods, endpoint) = match match_route(&cleaned) {
        Match::AddSlash => return redirect(&req, &format!("{cleaned}/")),
        _ if cleaned != req.raw_path => return redirect(&req, &cleaned),
        Match::Route(methods, endpoint) => (methods, endpoint),
        Match::None => return index(&req),
    };
    let mut resp = wrapped(ctx, req, methods, endpoint).await;
    resp.set_header("Vary", "Accept-Encoding");
    resp
}

async fn wrapped<B: Backend>(
    ctx: &Rc<ServerCtx<B>>,
    req: Request,
    methods: &[&str],
    endpoint: Endpoint,
) -> Response {
    let Ok(query) = QueryParams::parse(&req.raw_query) else {
        return Response::empty(500);
    };
    if req.method == "OPTIONS" {
        let mut r = Response::empty(200);
        r.set_header("Allow", allow_header(methods));
        return r;
    }
    if !methods.contains(&req.method.as_str()) {
        let mut r = Response::text(405, format!("method {} not allowed", req.method));
        r.set_header("Allow", allow_header(methods));
        return r;
    }
    // An oversized body is refused here with the local limits (the handler's 413).
    let complete = matches!(req.body, crate::server::Body::Complete(_));
    if !endpoint.agent_local() && complete && ctx.backend.forwards_to_servers() {
        return ctx.backend.forward(&req).await;
    }
    let call = Call { ctx, query, req };
    match endpoint {
        Endpoint::Kv => crate::kv::handle(call).await,
        Endpoint::Txn => crate::txn::handle(call).await,
        Endpoint::StatusLeader => crate::status::leader(call).await,
        Endpoint::StatusPeers => crate::status::peers(call).await,
        Endpoint::AgentSelf => crate::agent::self_info(call),
        Endpoint::AgentMembers => crate::agent::members(call),
        Endpoint::OperatorRaftConfiguration => crate::operator::raft_configuration(call).await,
        Endpoint::OperatorRaftTransferLeader => crate::operator::transfer_leader(call).await,
        Endpoint::OperatorRaftPeer => crate::operator::raft_peer(call).await,
        Endpoint::AgentJoin => crate::membership::join(call).await,
        Endpoint::AgentLeave => crate::membership::leave(call).await,
        Endpoint::AgentForceLeave => crate::membership::force_leave(call).await,
        Endpoint::OperatorKeyring => crate::keyring::handle(call).await,
        Endpoint::CoordinateDatacenters => crate::coordinate::datacenters(call),
        Endpoint::CoordinateNodes => crate::coordinate::nodes(call),
        Endpoint::CoordinateNode => crate::coordinate::node(call),
        Endpoint::CoordinateUpdate => crate::coordinate::update(call).await,
        Endpoint::CatalogRegister => crate::catalog::register::register(call).await,
        Endpoint::CatalogDeregister => crate::catalog::register::deregister(call).await,
        Endpoint::CatalogDatacenters => crate::catalog::reads::datacenters(call),
        Endpoint::CatalogNodes => crate::catalog::reads::nodes(call).await,
        Endpoint::CatalogServices => crate::catalog::reads::services(call).await,
        Endpoint::CatalogService => crate::catalog::reads::service_nodes(call).await,
        Endpoint::CatalogNode => crate::catalog::reads::node_services(call).await,
        Endpoint::CatalogNodeServices => crate::catalog::reads::node_service_list(call).await,
        Endpoint::HealthNode => crate::catalog::health::node_checks(call).await,
        Endpoint::HealthChecks => crate::catalog::health::service_checks(call).await,
        Endpoint::HealthService => crate::catalog::health::service_nodes(call).await,
        Endpoint::HealthState => crate::catalog::health::checks_in_state(call).await,
        Endpoint::AgentServices => crate::agent_local::services(call),
        Endpoint::AgentService => crate::agent_local::service(call).await,
        Endpoint::AgentChecks => crate::agent_local::checks(call),
        Endpoint::AgentServiceRegister => crate::agent_local::register_service(call),
        Endpoint::AgentServiceDeregister => crate::agent_local::deregister_service(call),
        Endpoint::AgentServiceMaintenance => crate::agent_local::service_maintenance(call),
        Endpoint::AgentNodeMaintenance => crate::agent_local::node_maintenance(call),
        Endpoint::AgentCheckRegister => crate::agent_local::register_check(call),
        Endpoint::AgentCheckDeregister => crate::agent_local::deregister_check(call),
        Endpoint::AgentCheckPass => crate::agent_local::check_pass(call),
        Endpoint::AgentCheckWarn => crate::agent_local::check_warn(call),
        Endpoint::AgentCheckFail => crate::agent_local::check_fail(call),
        Endpoint::AgentCheckUpdate => crate::agent_local::check_update(call),
        Endpoint::AgentHealthServiceById => crate::agent_local::health_by_id(call),
        Endpoint::AgentHealthServiceByName => crate::agent_local::health_by_name(call),
    }
}

/// Everything a handler gets.
pub(crate) struct Call<'a, B> {
    pub ctx: &'a Rc<ServerCtx<B>>,
    pub query: QueryParams,
    pub req: Request,
}

impl<B> Call<'_, B> {
    /// `?pretty` present.
    pub fn pretty(&self) -> bool {
        self.query.has("pretty")
    }

    /// A JSON 200 in Consul's formatting.
    pub fn json<T: serde::Serialize + ?Sized>(&self, status: u16, value: &T) -> Response {
        Response::json(status, crate::json::to_json(value, self.pretty()))
    }

    /// Consul's `?dc=` routing: another datacenter has no path here.
    pub fn check_datacenter(&self, dc: &str) -> Result<(), Response> {
        if dc.is_empty() || dc == self.ctx.opts.datacenter {
            Ok(())
        } else {
            Err(Response::text(500, "No path to datacenter"))
        }
    }
}

fn allow_header(methods: &[&str]) -> String {
    let mut s = String::from("OPTIONS");
    for m in methods {
        s.push(',');
        s.push_str(m);
    }
    s
}

/// Consul's `Index`: `/` describes the agent, anything else is a 404
/// with a hint (newline included: Consul uses `Fprintln`).
fn index(req: &Request) -> Response {
    if req.path == "/" {
        return Response::text(200, INDEX_TEXT);
    }
    if req.path.contains("/v1/") {
        Response::text(
            404,
            "Invalid URL path: not a recognized HTTP API endpoint\n",
        )
    } else {
        Response::text(
            404,
            "Invalid URL path: if attempting to use the HTTP API, ensure the path starts with '/v1/'\n",
        )
    }
}

/// Go's `http.Redirect` with 301, as the mux issues it.
fn redirect(req: &Request, path: &str) -> Response {
    let mut location = path.to_string();
    if !req.raw_query.is_empty() {
        location.push('?');
        location.push_str(&req.raw_query);
    }
    let mut r = Response::empty(301);
    if req.method == "GET" || req.method == "HEAD" {
        r.set_header("Content-Type", "text/html; charset=utf-8");
    }
    if req.method == "GET" {
        let escaped = html_escape(&location);
        r.body = format!("<a href=\"{escaped}\">Moved Permanently</a>.\n\n").into_bytes();
    }
    r.set_header("Location", location);
    r
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Go's `cleanPath`: `path.Clean` keeping a trailing slash.
pub(crate) fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return "/".to_string();
    }
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let mut out = String::with_capacity(p.len());
    for seg in &parts {
        out.push('/');
        out.push_str(seg);
    }
    if out.is_empty() {
        return "/".to_string();
    }
    // Go keeps a trailing slash only when the original path had one.
    if p.ends_with('/') {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_like_go() {
        assert_eq!(clean_path("/v1/kv/a//b"), "/v1/kv/a/b");
        assert_eq!(clean_path("/v1/kv/a/"), "/v1/kv/a/");
        assert_eq!(clean_path("/v1/kv/"), "/v1/kv/");
        assert_eq!(clean_path("/v1/./kv/x"), "/v1/kv/x");
        assert_eq!(clean_path("/v1/kv/../txn"), "/v1/txn");
        assert_eq!(clean_path("/../.."), "/");
        assert_eq!(clean_path("/"), "/");
        assert_eq!(clean_path("/a/b/.."), "/a");
        assert_eq!(clean_path("/a%2F%2Fb"), "/a%2F%2Fb");
    }

    #[test]
    fn routes_exact_and_subtree() {
        assert!(matches!(
            match_route("/v1/kv/"),
            Match::Route(_, Endpoint::Kv)
        ));
        assert!(matches!(
            match_route("/v1/kv/a/b"),
            Match::Route(_, Endpoint::Kv)
        ));
        assert!(matches!(match_route("/v1/kv"), Match::AddSlash));
        assert!(matches!(
            match_route("/v1/txn"),
            Match::Route(_, Endpoint::Txn)
        ));
        assert!(matches!(match_route("/v1/txn/"), Match::None));
        assert!(matches!(match_route("/v1/status/leaderx"), Match::None));
    }

    #[test]
    fn agent_service_subtree_yields_to_longer_patterns() {
        let ep = |p: &str| match match_route(p) {
            Match::Route(_, e) => Some(e),
            _ => None,
        };
        assert_eq!(ep("/v1/agent/service/register"), Some(Endpoint::AgentServiceRegister));
        assert_eq!(ep("/v1/agent/service/deregister/web"), Some(Endpoint::AgentServiceDeregister));
        assert_eq!(ep("/v1/agent/service/maintenance/web"), Some(Endpoint::AgentServiceMaintenance));
        assert_eq!(ep("/v1/agent/service/web"), Some(Endpoint::AgentService));
        assert_eq!(ep("/v1/agent/service/register/x"), Some(Endpoint::AgentService));
        assert!(matches!(match_route("/v1/agent/service/deregister"), Match::AddSlash));
        assert!(Endpoint::AgentCheckPass.agent_local() && !Endpoint::HealthService.agent_local());
    }
}
