//! Catalog reads (agent/catalog_endpoint.go over the server's `Catalog.*`
//! RPCs): datacenters, nodes, services, service/<s>, node/<n>,
//! node-services/<n>.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use ballast_store::catalog::{Node, NodeService};
use ballast_store::{topic, WatchTarget};
use serde::ser::{Serialize, SerializeMap, SerializeStruct, Serializer};

use super::json::{filter_value, Mode, NodeJson, NodeServiceJson, Seq, ServiceNodeJson};
use super::near::sort_by_distance;
use super::read_args::{path_arg, ReadArgs};
use super::respond::finish;
use crate::backend::Backend;
use crate::blocking::blocking_read;
use crate::router::Call;
use crate::server::Response;

macro_rules! try_resp {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
}

/// `GET /v1/catalog/datacenters`: known datacenters (this one when there is
/// no WAN federation). Only the consistency flags are read.
pub(crate) fn datacenters<B: Backend>(call: Call<'_, B>) -> Response {
    let stale = call.query.has("stale") || !call.query.get("max_stale").is_empty();
    if stale && call.query.has("consistent") {
        return Response::text(400, "Cannot specify ?stale with ?consistent, conflicting semantics.");
    }
    call.json(200, &call.ctx.backend.datacenters())
}

pub(crate) async fn nodes<B: Backend>(call: Call<'_, B>) -> Response {
    let args = try_resp!(ReadArgs::parse(&call));
    let filter = try_resp!(args.rpc_checks(&call));
    let coords = if args.near.is_empty() { Vec::new() } else { call.ctx.backend.coordinates(false) };
    let outcome = blocking_read(call.ctx, &args.opts, WatchTarget::Topic(topic::nodes()), |s| {
        let (mut nodes, idx) = s.catalog_nodes();
        nodes.retain(|n| args.meta_matches(&n.meta));
        let kept = filter.retain(&mut nodes, |n| filter_value(&NodeJson(n, Mode::Filter)));
        sort_by_distance(&mut nodes, &args.near, &coords, |n| &n.node);
        (kept.map(|_| nodes), idx)
    })
    .await;
    finish(outcome, |nodes| call.json(200, &Seq(nodes.iter().map(|n| NodeJson(n, Mode::Output)))))
}

/// Service names to tags in a JSON object (Go marshals maps key-sorted).
struct ServicesJson(Vec<(String, Vec<String>)>);

impl Serialize for ServicesJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut sorted: Vec<&(String, Vec<String>)> = self.0.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let mut m = s.serialize_map(Some(sorted.len()))?;
        for (name, tags) in sorted {
            m.serialize_entry(name, tags)?;
        }
        m.end()
    }
}

pub(crate) async fn services<B: Backend>(call: Call<'_, B>) -> Response {
    let args = try_resp!(ReadArgs::parse(&call));
    let filter = try_resp!(args.rpc_checks(&call));
    let meta: Vec<(String, String)> = args.node_meta.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let outcome = blocking_read(call.ctx, &args.opts, WatchTarget::Topic(topic::services()), |s| {
        let (list, idx) = if meta.is_empty() { s.catalog_services() } else { s.catalog_services_by_node_meta(&meta) };
        if !filter.is_active() {
            return (Ok(list), idx);
        }
        // The filter sees every instance (`structs.ServiceNode`); the tags of
        // the survivors are then merged per name.
        let mut instances: Vec<(Arc<Node>, Arc<NodeService>)> = Vec::new();
        for (name, _) in &list {
            let (nodes, _) = s.catalog_service_nodes(name);
            instances.extend(nodes.into_iter().filter(|(n, svc)| svc.service == *name && args.meta_matches(&n.meta)));
        }
        let kept = filter.retain(&mut instances, |(n, svc)| filter_value(&ServiceNodeJson(n, svc, Mode::Filter)));
        let mut by_name: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (_, svc) in &instances {
            by_name.entry(svc.service.clone()).or_default().extend(svc.tags.iter().cloned());
        }
        let merged = by_name.into_iter().map(|(k, v)| (k, v.into_iter().collect())).collect();
        (kept.map(|_| merged), idx)
    })
    .await;
    finish(outcome, |list| call.json(200, &ServicesJson(list)))
}

pub(crate) async fn service_nodes<B: Backend>(call: Call<'_, B>) -> Response {
    let args = try_resp!(ReadArgs::parse(&call));
    let name = path_arg(&call, "/v1/catalog/service/").to_string();
    if name.is_empty() {
        return Response::text(400, "Missing service name");
    }
    let filter = try_resp!(args.rpc_checks(&call));
    let coords = if args.near.is_empty() { Vec::new() } else { call.ctx.backend.coordinates(false) };
    let outcome = blocking_read(call.ctx, &args.opts, WatchTarget::Topic(topic::service(&name)), |s| {
        let (mut list, idx) = s.catalog_service_nodes(&name);
        list.retain(|(n, svc)| args.tags_match(&svc.tags) && args.meta_matches(&n.meta));
        let kept = filter.retain(&mut list, |(n, svc)| filter_value(&ServiceNodeJson(n, svc, Mode::Filter)));
        sort_by_distance(&mut list, &args.near, &coords, |(n, _)| &n.node);
        (kept.map(|_| list), idx)
    })
    .await;
    finish(outcome, |list| {
        call.json(200, &Seq(list.iter().map(|(n, svc)| ServiceNodeJson(n, svc, Mode::Output))))
    })
}

/// `structs.NodeServices`: `{"Node": ..., "Services": {id: NodeService}}`.
pub(super) struct NodeServicesJson<'a>(pub &'a Node, pub &'a [Arc<NodeService>]);

impl Serialize for NodeServicesJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("NodeServices", 2)?;
        st.serialize_field("Node", &NodeJson(self.0, Mode::Output))?;
        let by_id: BTreeMap<&str, NodeServiceJson<'_>> =
            self.1.iter().map(|svc| (svc.id.as_str(), NodeServiceJson(svc, Mode::Output))).collect();
        st.serialize_field("Services", &by_id)?;
        st.end()
    }
}

type NodeWithServices = Option<(Arc<Node>, Vec<Arc<NodeService>>)>;

async fn read_node_services<B: Backend>(
    call: &Call<'_, B>,
    args: &ReadArgs,
    node: &str,
) -> super::respond::Outcome<NodeWithServices> {
    let filter = match args.rpc_checks(call) {
        Ok(f) => f,
        Err(r) => return Ok((Err(r), no_meta(call, args))),
    };
    blocking_read(call.ctx, &args.opts, WatchTarget::Topic(topic::node(node)), |s| {
        let (found, idx) = s.catalog_node_services(node);
        let Some((n, mut services)) = found else { return (Ok(None), idx) };
        let kept = filter.retain(&mut services, |svc| filter_value(&NodeServiceJson(svc, Mode::Filter)));
        (kept.map(|_| Some((n, services))), idx)
    })
    .await
}

/// The datacenter and filter errors come before any read: no index yet.
fn no_meta<B: Backend>(call: &Call<'_, B>, args: &ReadArgs) -> crate::blocking::ReadMeta {
    crate::blocking::ReadMeta { index: 0, leader: call.ctx.backend.leader_status(), consistency: args.opts.consistency }
}

pub(crate) async fn node_services<B: Backend>(call: Call<'_, B>) -> Response {
    let args = try_resp!(ReadArgs::parse(&call));
    let node = path_arg(&call, "/v1/catalog/node/").to_string();
    if node.is_empty() {
        return Response::text(400, "Missing node name");
    }
    let outcome = read_node_services(&call, &args, &node).await;
    finish(outcome, |found| match found {
        None => call.json(200, &()),
        Some((n, services)) => call.json(200, &NodeServicesJson(&n, &services)),
    })
}

/// `structs.NodeServiceList`: `{"Node": ..., "Services": [...]}`; both nil
/// for an unknown node, `Services` nil for a node without services unless a
/// filter rebuilt the list.
struct NodeServiceListJson<'a>(Option<&'a Node>, Option<&'a [Arc<NodeService>]>);

impl Serialize for NodeServiceListJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("NodeServiceList", 2)?;
        st.serialize_field("Node", &self.0.map(|n| NodeJson(n, Mode::Output)))?;
        st.serialize_field("Services", &self.1.map(|l| Seq(l.iter().map(|svc| NodeServiceJson(svc, Mode::Output)))))?;
        st.end()
    }
}

pub(crate) async fn node_service_list<B: Backend>(call: Call<'_, B>) -> Response {
    let args = try_resp!(ReadArgs::parse(&call));
    let node = path_arg(&call, "/v1/catalog/node-services/").to_string();
    if node.is_empty() {
        return Response::text(400, "Missing node name");
    }
    let filtering = !call.query.get("filter").is_empty();
    let outcome = read_node_services(&call, &args, &node).await;
    finish(outcome, |found| match found {
        None => call.json(200, &NodeServiceListJson(None, None)),
        Some((n, services)) => {
            let list = (filtering || !services.is_empty()).then_some(services.as_slice());
            call.json(200, &NodeServiceListJson(Some(&n), list))
        }
    })
}
