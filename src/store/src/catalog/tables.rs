//! The catalog's tables inside a [`StateSnapshot`](crate::StateSnapshot):
//! structurally shared imbl maps keyed as Consul's memdb schema keys them
//! (`agent/consul/state/catalog_schema.go`: node names, service IDs and
//! check IDs lowercased), the secondary indexes the reads need, and the
//! memdb "index" table entries the X-Consul-Index rules read.

use std::sync::Arc;

use imbl::{OrdMap, OrdSet};

use super::types::{HealthCheck, Node, NodeService};

/// (lowercased node name, lowercased service or check ID): the primary key
/// of the services and checks tables. Tuple order equals memdb's byte order
/// of `node\0id\0`, so iteration order matches Consul's.
pub(crate) type PairKey = (Arc<str>, Arc<str>);
/// A secondary index entry: (indexed value, then the primary key).
pub(crate) type TripleKey = (Arc<str>, Arc<str>, Arc<str>);

/// Per exact service name: live instances and tag use counts, so
/// `catalog_services` costs O(names + tags), not O(instances).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct NameStats {
    pub instances: u64,
    pub tags: OrdMap<Arc<str>, u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CatalogTables {
    /// Lowercased node name -> node.
    pub nodes: OrdMap<Arc<str>, Arc<Node>>,
    /// Normalized node ID (lowercase hex, no hyphens: the bytes memdb's
    /// UUID index holds) -> lowercased node name.
    pub node_ids: OrdMap<Arc<str>, Arc<str>>,
    pub services: OrdMap<PairKey, Arc<NodeService>>,
    pub checks: OrdMap<PairKey, Arc<HealthCheck>>,
    /// (lowercased service name, node, service id); empty names are not
    /// indexed (memdb `AllowMissing`).
    pub services_by_name: OrdSet<TripleKey>,
    /// (lowercased check ServiceName, node, check id); empty not indexed.
    pub checks_by_service: OrdSet<TripleKey>,
    /// (node, lowercased ServiceID ("" = node-level), check id).
    pub checks_by_node_service: OrdSet<TripleKey>,
    /// (status as stored, node, check id).
    pub checks_by_status: OrdSet<TripleKey>,
    /// Exact service name -> instance count and tags.
    pub service_names: OrdMap<Arc<str>, NameStats>,
    /// memdb index table: "nodes", "services", "checks".
    pub nodes_index: u64,
    pub services_index: u64,
    pub checks_index: u64,
    /// "service.<name>" entries, name exactly as Consul formats it.
    pub service_index: OrdMap<Arc<str>, u64>,
    /// "node.<name>" entries.
    pub node_index: OrdMap<Arc<str>, u64>,
    /// "service_last_extinction": absent until a service first went extinct.
    pub service_extinction: Option<u64>,
    /// "node_last_extinction" (0 when absent, as `maxIndexTxn` reads it).
    pub node_extinction: u64,
}

/// memdb's `Lowercase: true` (Go `strings.ToLower`: per character, no
/// context rules). Reuses nothing; callers keep the Arc they build.
pub(crate) fn lower(s: &str) -> Arc<str> {
    if !s.chars().any(char::is_uppercase) {
        return Arc::from(s);
    }
    let folded: String = s.chars().flat_map(char::to_lowercase).collect();
    Arc::from(folded)
}

/// The empty string as a range bound.
pub(crate) fn empty() -> Arc<str> {
    Arc::from("")
}

impl CatalogTables {
    pub(crate) fn node(&self, name: &str) -> Option<&Arc<Node>> {
        self.nodes.get(&*lower(name))
    }

    pub(crate) fn max_index(&self) -> u64 {
        self.nodes_index
            .max(self.services_index)
            .max(self.checks_index)
    }

    /// Services of one node in primary-key order.
    pub(crate) fn node_services<'a>(
        &'a self,
        node_key: &'a Arc<str>,
    ) -> impl Iterator<Item = (&'a PairKey, &'a Arc<NodeService>)> + 'a {
        self.services
            .range((node_key.clone(), empty())..)
            .take_while(move |((n, _), _)| n == node_key)
    }

    /// Checks of one node in primary-key order.
    pub(crate) fn node_checks<'a>(
        &'a self,
        node_key: &'a Arc<str>,
    ) -> impl Iterator<Item = (&'a PairKey, &'a Arc<HealthCheck>)> + 'a {
        self.checks
            .range((node_key.clone(), empty())..)
            .take_while(move |((n, _), _)| n == node_key)
    }

    /// Entries of a secondary index whose first component is `first`.
    pub(crate) fn index_range<'a>(
        set: &'a OrdSet<TripleKey>,
        first: Arc<str>,
    ) -> impl Iterator<Item = &'a TripleKey> + 'a {
        let start = (first.clone(), empty(), empty());
        set.range(start..).take_while(move |(f, _, _)| *f == first)
    }

    /// Entries of a secondary index whose first two components match.
    pub(crate) fn index_range2<'a>(
        set: &'a OrdSet<TripleKey>,
        first: Arc<str>,
        second: Arc<str>,
    ) -> impl Iterator<Item = &'a TripleKey> + 'a {
        let start = (first.clone(), second.clone(), empty());
        set.range(start..)
            .take_while(move |(f, s, _)| *f == first && *s == second)
    }

    /// Keep the secondary indexes and name stats in step with a service
    /// row (`None` = removed). Callers write `services` themselves.
    pub(crate) fn index_service(
        &mut self,
        key: &PairKey,
        old: Option<&NodeService>,
        new: Option<&NodeService>,
    ) {
        if let Some(old) = old {
            if !old.service.is_empty() {
                self.services_by_name
                    .remove(&(lower(&old.service), key.0.clone(), key.1.clone()));
            }
            let name: Arc<str> = Arc::from(old.service.as_str());
            let mut drop_name = false;
            if let Some(stats) = self.service_names.get_mut(&name) {
                stats.instances = stats.instances.saturating_sub(1);
                for tag in &old.tags {
                    let tag: Arc<str> = Arc::from(tag.as_str());
                    if let Some(n) = stats.tags.get_mut(&tag) {
                        *n -= 1;
                        if *n == 0 {
                            stats.tags.remove(&tag);
                        }
                    }
                }
                drop_name = stats.instances == 0;
            }
            if drop_name {
                self.service_names.remove(&name);
            }
        }
        if let Some(new) = new {
            if !new.service.is_empty() {
                self.services_by_name
                    .insert((lower(&new.service), key.0.clone(), key.1.clone()));
            }
            let stats = self
                .service_names
                .entry(Arc::from(new.service.as_str()))
                .or_default();
            stats.instances += 1;
            for tag in &new.tags {
                *stats.tags.entry(Arc::from(tag.as_str())).or_default() += 1;
            }
        }
    }

    /// Keep the check secondary indexes in step with a check row.
    pub(crate) fn index_check(
        &mut self,
        key: &PairKey,
        old: Option<&HealthCheck>,
        new: Option<&HealthCheck>,
    ) {
        if let Some(old) = old {
            self.unindex_check(key, old);
        }
        if let Some(new) = new {
            if !new.service_name.is_empty() {
                self.checks_by_service.insert((
                    lower(&new.service_name),
                    key.0.clone(),
                    key.1.clone(),
                ));
            }
            self.checks_by_node_service.insert((
                key.0.clone(),
                lower(&new.service_id),
                key.1.clone(),
            ));
            self.checks_by_status.insert((
                Arc::from(new.status.as_str()),
                key.0.clone(),
                key.1.clone(),
            ));
        }
    }

    fn unindex_check(&mut self, key: &PairKey, old: &HealthCheck) {
        if !old.service_name.is_empty() {
            self.checks_by_service.remove(&(
                lower(&old.service_name),
                key.0.clone(),
                key.1.clone(),
            ));
        }
        self.checks_by_node_service
            .remove(&(key.0.clone(), lower(&old.service_id), key.1.clone()));
        self.checks_by_status.remove(&(
            Arc::from(old.status.as_str()),
            key.0.clone(),
            key.1.clone(),
        ));
    }
}
