//! Writes at one raft index into the catalog tables: the memdb "index"
//! table bumps of `catalog_ce.go` (`catalogUpdateNodesIndexes`,
//! `catalogUpdateServiceIndexes`, ...), each paired with the watch topics
//! whose reads the bump can change.

use std::sync::Arc;

use super::tables::{lower, CatalogTables};
use crate::topic;

pub(crate) struct CatalogWriter<'a> {
    pub(crate) t: &'a mut CatalogTables,
    pub(crate) idx: u64,
    topics: &'a mut Vec<Arc<str>>,
}

impl<'a> CatalogWriter<'a> {
    pub(crate) fn new(t: &'a mut CatalogTables, idx: u64, topics: &'a mut Vec<Arc<str>>) -> Self {
        CatalogWriter { t, idx, topics }
    }

    /// `catalogUpdateNodesIndexes`. Also fires the services topic: the
    /// node-meta filtered services read answers max("services", "nodes").
    pub(crate) fn bump_nodes_table(&mut self) {
        self.t.nodes_index = self.t.nodes_index.max(self.idx);
        self.topics.push(topic::nodes());
        self.topics.push(topic::services());
    }

    /// `catalogUpdateServicesIndexes`.
    pub(crate) fn bump_services_table(&mut self) {
        self.t.services_index = self.t.services_index.max(self.idx);
        self.topics.push(topic::services());
    }

    /// `catalogUpdateCheckIndexes`.
    pub(crate) fn bump_checks_table(&mut self) {
        self.t.checks_index = self.t.checks_index.max(self.idx);
        self.topics.push(topic::checks());
    }

    /// `catalogUpdateServiceIndexes`: the "service.<name>" entry, exact name.
    pub(crate) fn bump_service(&mut self, name: &str) {
        let e = self.t.service_index.entry(Arc::from(name)).or_default();
        *e = (*e).max(self.idx);
        self.topics.push(topic::service(name));
    }

    /// `catalogUpdateNodeIndexes`: the "node.<name>" entry, exact name.
    pub(crate) fn bump_node(&mut self, name: &str) {
        let e = self.t.node_index.entry(Arc::from(name)).or_default();
        *e = (*e).max(self.idx);
        self.topics.push(topic::node(name));
    }

    /// `catalogUpdateServiceExtinctionIndex`.
    pub(crate) fn bump_service_extinction(&mut self) {
        let cur = self.t.service_extinction.unwrap_or(0);
        self.t.service_extinction = Some(cur.max(self.idx));
    }

    /// `catalogUpdateNodeExtinctionIndex`.
    pub(crate) fn bump_node_extinction(&mut self) {
        self.t.node_extinction = self.t.node_extinction.max(self.idx);
    }

    /// A topic to wake without an index bump (e.g. a node's checks changed:
    /// `/v1/health/node/<n>` answers differently though "node.<n>" stays).
    pub(crate) fn touch(&mut self, t: Arc<str>) {
        self.topics.push(t);
    }

    /// `updateAllServiceIndexesOfNode`: every service on the node, because
    /// health reads embed the node and its node-level checks.
    pub(crate) fn bump_all_services_of_node(&mut self, node: &str) {
        let key = lower(node);
        let names: Vec<String> = self
            .t
            .node_services(&key)
            .map(|(_, s)| s.service.clone())
            .collect();
        for name in names {
            self.bump_service(&name);
        }
    }
}
