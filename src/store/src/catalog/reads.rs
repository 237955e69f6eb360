//! Catalog and health reads on a [`StateSnapshot`], each with the
//! X-Consul-Index Consul's state store answers (never 0: Consul's
//! `blockingQuery` raises 0 to 1). The function each mirrors is named on it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::tables::{empty, lower, CatalogTables};
use super::types::{HealthCheck, Node, NodeService, HEALTH_ANY};
use super::validate;
use crate::state::StateSnapshot;

/// One element of `/v1/health/service/<s>`: Consul's `CheckServiceNode`.
/// `checks` = the node's node-level checks, then this instance's checks,
/// each group in (node, check ID) order as `parseCheckServiceNodes` builds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEntry {
    pub node: Arc<Node>,
    pub service: Arc<NodeService>,
    pub checks: Vec<Arc<HealthCheck>>,
}

/// One element of `/v1/catalog/service/<s>`: the instance and its node.
pub type ServiceInstance = (Arc<Node>, Arc<NodeService>);
/// `/v1/catalog/node/<n>`: the node and its services.
pub type NodeWithServices = (Arc<Node>, Vec<Arc<NodeService>>);

fn at_least_one(i: u64) -> u64 {
    i.max(1)
}

impl CatalogTables {
    /// `maxIndexForService`: the extinction index for a name with no
    /// instances (once any service ever went extinct), else the exact
    /// "service.<name>" entry, else the catalog max (with checks or not).
    fn max_index_for_service(&self, name: &str, exists: bool, checks: bool) -> u64 {
        if !exists {
            if let Some(e) = self.service_extinction {
                return e;
            }
        }
        if let Some(i) = self.service_index.get(name) {
            return *i;
        }
        let base = self.services_index.max(self.nodes_index);
        if checks {
            base.max(self.checks_index)
        } else {
            base
        }
    }

    /// Instances of a service name (case-insensitive), Consul's order.
    fn instances<'a>(
        &'a self,
        service: &str,
    ) -> impl Iterator<Item = (Arc<Node>, Arc<NodeService>)> + 'a {
        CatalogTables::index_range(&self.services_by_name, lower(service)).filter_map(
            move |(_, n, id)| {
                let svc = self.services.get(&(n.clone(), id.clone()))?;
                let node = self.nodes.get(n)?;
                Some((node.clone(), svc.clone()))
            },
        )
    }

    fn checks_of(&self, node_key: &Arc<str>, service_id_key: Arc<str>) -> Vec<Arc<HealthCheck>> {
        CatalogTables::index_range2(
            &self.checks_by_node_service,
            node_key.clone(),
            service_id_key,
        )
        .filter_map(|(n, _, c)| self.checks.get(&(n.clone(), c.clone())).cloned())
        .collect()
    }
}

/// Unique tags per exact service name, both sorted.
fn tag_lists(by_name: BTreeMap<String, BTreeSet<String>>) -> Vec<(String, Vec<String>)> {
    by_name
        .into_iter()
        .map(|(name, tags)| (name, tags.into_iter().collect()))
        .collect()
}

impl StateSnapshot {
    /// `GetNode`: a node by name, case-insensitively.
    pub fn catalog_node(&self, name: &str) -> Option<Arc<Node>> {
        self.catalog.node(name).cloned()
    }

    /// One service instance of a node (`NodeService`), for agent-side diffs.
    pub fn catalog_node_service(&self, node: &str, service_id: &str) -> Option<Arc<NodeService>> {
        self.catalog
            .services
            .get(&(lower(node), lower(service_id)))
            .cloned()
    }

    /// One check of a node (`NodeCheck`), for agent-side diffs.
    pub fn catalog_node_check(&self, node: &str, check_id: &str) -> Option<Arc<HealthCheck>> {
        self.catalog
            .checks
            .get(&(lower(node), lower(check_id)))
            .cloned()
    }

    /// `Nodes`: every node sorted by (lowercased) name; index = "nodes".
    pub fn catalog_nodes(&self) -> (Vec<Arc<Node>>, u64) {
        let nodes = self.catalog.nodes.values().cloned().collect();
        (nodes, at_least_one(self.catalog.nodes_index))
    }

    /// `Services` + the endpoint's tag folding: exact service name ->
    /// unique tags (sorted), names sorted; index = "services".
    pub fn catalog_services(&self) -> (Vec<(String, Vec<String>)>, u64) {
        let list = self
            .catalog
            .service_names
            .iter()
            .map(|(name, stats)| {
                (
                    name.to_string(),
                    stats.tags.keys().map(|t| t.to_string()).collect(),
                )
            })
            .collect();
        (list, at_least_one(self.catalog.services_index))
    }

    /// `ServicesByNodeMeta`: services on nodes whose meta holds every pair
    /// (an empty filter matches every node; Consul's endpoint only calls
    /// this with a filter, so use [`catalog_services`](Self::catalog_services)
    /// without one: the index differs). Index = max("services", "nodes").
    pub fn catalog_services_by_node_meta(
        &self,
        meta: &[(String, String)],
    ) -> (Vec<(String, Vec<String>)>, u64) {
        let t = &self.catalog;
        let mut by_name: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (key, node) in t.nodes.iter() {
            if !meta.iter().all(|(k, v)| node.meta.get(k) == Some(v)) {
                continue;
            }
            for (_, svc) in t.node_services(key) {
                by_name
                    .entry(svc.service.clone())
                    .or_default()
                    .extend(svc.tags.iter().cloned());
            }
        }
        let idx = t.services_index.max(t.nodes_index);
        (tag_lists(by_name), at_least_one(idx))
    }

    /// `ServiceNodes`: instances of `service` (case-insensitive) with their
    /// nodes, ordered by (node, service ID); index = `maxIndexForService`
    /// of the queried name (checks excluded).
    pub fn catalog_service_nodes(&self, service: &str) -> (Vec<ServiceInstance>, u64) {
        let t = &self.catalog;
        let list: Vec<_> = t.instances(service).collect();
        let idx = t.max_index_for_service(service, !list.is_empty(), false);
        (list, at_least_one(idx))
    }

    /// `NodeServices`: a node by name, or by a unique node-ID prefix (at
    /// least 2 characters), with its services ordered by service ID.
    /// Index: the node's "node.<name>" entry; for no match the node
    /// extinction index.
    pub fn catalog_node_services(&self, node: &str) -> (Option<NodeWithServices>, u64) {
        let t = &self.catalog;
        let found = match t.node(node) {
            Some(n) => n.clone(),
            None => {
                if node.len() < 2 {
                    return (None, 1);
                }
                let Ok(prefix) = validate::node_id_prefix(node) else {
                    return (None, at_least_one(t.node_extinction));
                };
                let mut matches = t
                    .node_ids
                    .range(prefix.clone()..)
                    .take_while(|(id, _)| id.starts_with(&*prefix))
                    .filter_map(|(_, name)| t.nodes.get(name));
                match (matches.next(), matches.next()) {
                    (Some(n), None) => n.clone(),
                    // Ambiguous: Consul answers nothing with index 0.
                    (Some(_), Some(_)) => return (None, 1),
                    _ => return (None, at_least_one(t.node_extinction)),
                }
            }
        };
        let key = lower(&found.node);
        let services = t.node_services(&key).map(|(_, s)| s.clone()).collect();
        let idx = t.node_index.get(found.node.as_str()).copied().unwrap_or(0);
        (Some((found, services)), at_least_one(idx))
    }

    /// `NodeChecks`: the node's checks by check ID; index = "checks".
    pub fn node_checks(&self, node: &str) -> (Vec<Arc<HealthCheck>>, u64) {
        let t = &self.catalog;
        let key = lower(node);
        let list = t.node_checks(&key).map(|(_, c)| c.clone()).collect();
        (list, at_least_one(t.checks_index))
    }

    /// `ServiceChecks`: checks whose ServiceName matches (case-insensitive),
    /// by (node, check ID); index = "checks".
    pub fn service_checks(&self, service: &str) -> (Vec<Arc<HealthCheck>>, u64) {
        let t = &self.catalog;
        let list = CatalogTables::index_range(&t.checks_by_service, lower(service))
            .filter_map(|(_, n, c)| t.checks.get(&(n.clone(), c.clone())).cloned())
            .collect();
        (list, at_least_one(t.checks_index))
    }

    /// `ChecksInState`: `state` is matched exactly; `any` = every check.
    /// Ordered by (node, check ID); index = "checks". Validating the state
    /// name is the endpoint's job.
    pub fn checks_in_state(&self, state: &str) -> (Vec<Arc<HealthCheck>>, u64) {
        let t = &self.catalog;
        let list = if state == HEALTH_ANY {
            t.checks.values().cloned().collect()
        } else {
            CatalogTables::index_range(&t.checks_by_status, Arc::from(state))
                .filter_map(|(_, n, c)| t.checks.get(&(n.clone(), c.clone())).cloned())
                .collect()
        };
        (list, at_least_one(t.checks_index))
    }

    /// `CheckServiceNodes`: instances with node and checks. Index: the max
    /// of `maxIndexForService` over the exact names of the instances found
    /// (checks included), or for none the queried name's.
    pub fn check_service_nodes(&self, service: &str) -> (Vec<ServiceEntry>, u64) {
        let t = &self.catalog;
        let mut names: BTreeSet<&str> = BTreeSet::new();
        let mut list = Vec::new();
        for (_, n, id) in CatalogTables::index_range(&t.services_by_name, lower(service)) {
            let (Some(svc), Some(node)) =
                (t.services.get(&(n.clone(), id.clone())), t.nodes.get(n))
            else {
                continue;
            };
            names.insert(svc.service.as_str());
            let mut checks = t.checks_of(n, empty());
            checks.extend(t.checks_of(n, id.clone()));
            list.push(ServiceEntry {
                node: node.clone(),
                service: svc.clone(),
                checks,
            });
        }
        let idx = if names.is_empty() {
            t.max_index_for_service(service, false, true)
        } else {
            names
                .iter()
                .map(|name| t.max_index_for_service(name, true, true))
                .max()
                .unwrap_or(0)
        };
        (list, at_least_one(idx))
    }

    /// Consul's catalog max: the highest of the nodes, services and checks
    /// table indexes (1 while the catalog was never written).
    pub fn catalog_max_index(&self) -> u64 {
        at_least_one(self.catalog.max_index())
    }
}
