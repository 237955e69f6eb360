//! The catalog's part of a Raft snapshot: primary rows and index-table
//! entries only; secondary indexes are rebuilt on load. Loading validates
//! what apply guarantees (unique keys, services and checks on existing
//! nodes, service checks on existing services) so a corrupt file is an
//! error, never a broken state.

use std::sync::Arc;

use imbl::OrdMap;
use rkyv::rancor;
use rkyv::{Archive, Deserialize, Serialize};

use super::tables::{lower, CatalogTables, PairKey};
use super::types::{HealthCheck, Node, NodeService};
use super::validate;
use crate::error::DecodeError;

#[derive(Archive, Serialize, Deserialize, Default)]
pub(crate) struct CatalogArchive {
    nodes: Vec<Node>,
    services: Vec<ServiceRecord>,
    checks: Vec<HealthCheck>,
    nodes_index: u64,
    services_index: u64,
    checks_index: u64,
    service_index: Vec<IndexRecord>,
    node_index: Vec<IndexRecord>,
    service_extinction: Option<u64>,
    node_extinction: u64,
}

#[derive(Archive, Serialize, Deserialize)]
struct ServiceRecord {
    /// Lowercased node name (the row's key).
    node: String,
    service: NodeService,
}

#[derive(Archive, Serialize, Deserialize)]
struct IndexRecord {
    name: String,
    index: u64,
}

fn index_records(m: &OrdMap<Arc<str>, u64>) -> Vec<IndexRecord> {
    m.iter()
        .map(|(name, index)| IndexRecord {
            name: name.to_string(),
            index: *index,
        })
        .collect()
}

pub(crate) fn to_archive(t: &CatalogTables) -> CatalogArchive {
    CatalogArchive {
        nodes: t.nodes.values().map(|n| (**n).clone()).collect(),
        services: t
            .services
            .iter()
            .map(|((node, _), s)| ServiceRecord {
                node: node.to_string(),
                service: (**s).clone(),
            })
            .collect(),
        checks: t.checks.values().map(|c| (**c).clone()).collect(),
        nodes_index: t.nodes_index,
        services_index: t.services_index,
        checks_index: t.checks_index,
        service_index: index_records(&t.service_index),
        node_index: index_records(&t.node_index),
        service_extinction: t.service_extinction,
        node_extinction: t.node_extinction,
    }
}

fn bad(what: &str) -> DecodeError {
    DecodeError::new(format!("snapshot: catalog: {what}"))
}

pub(crate) fn from_archive(a: &ArchivedCatalogArchive) -> Result<CatalogTables, DecodeError> {
    let a: CatalogArchive = rkyv::deserialize::<CatalogArchive, rancor::Error>(a)
        .map_err(|e| DecodeError::new(format!("snapshot: catalog: {e}")))?;
    let mut t = CatalogTables::default();
    for node in a.nodes {
        let key = lower(&node.node);
        if !node.id.is_empty() {
            let id = validate::node_id_key(&node.id).map_err(|_| bad("invalid node ID"))?;
            if t.node_ids.insert(id, key.clone()).is_some() {
                return Err(bad("duplicate node ID"));
            }
        }
        if t.nodes.insert(key, Arc::new(node)).is_some() {
            return Err(bad("duplicate node"));
        }
    }
    for r in a.services {
        let key: PairKey = (lower(&r.node), lower(&r.service.id));
        if !t.nodes.contains_key(&key.0) {
            return Err(bad("service on a missing node"));
        }
        t.index_service(&key, None, Some(&r.service));
        if t.services.insert(key, Arc::new(r.service)).is_some() {
            return Err(bad("duplicate service"));
        }
    }
    for c in a.checks {
        let key: PairKey = (lower(&c.node), lower(&c.check_id));
        if !t.nodes.contains_key(&key.0) {
            return Err(bad("check on a missing node"));
        }
        if !c.service_id.is_empty()
            && !t
                .services
                .contains_key(&(key.0.clone(), lower(&c.service_id)))
        {
            return Err(bad("check on a missing service"));
        }
        t.index_check(&key, None, Some(&c));
        if t.checks.insert(key, Arc::new(c)).is_some() {
            return Err(bad("duplicate check"));
        }
    }
    t.nodes_index = a.nodes_index;
    t.services_index = a.services_index;
    t.checks_index = a.checks_index;
    for r in a.service_index {
        t.service_index.insert(Arc::from(r.name), r.index);
    }
    for r in a.node_index {
        t.node_index.insert(Arc::from(r.name), r.index);
    }
    t.service_extinction = a.service_extinction;
    t.node_extinction = a.node_extinction;
    Ok(t)
}
