//! `EnsureRegistration` (agent/consul/state/catalog.go): node, then
//! service, then checks, with Consul's error texts and its "unchanged
//! writes bump nothing" rules. The caller restores the tables on error.

use std::sync::Arc;

use super::deregister::delete_node;
use super::indexes::CatalogWriter;
use super::tables::{lower, PairKey};
use super::types::{
    HealthCheck, Node, NodeService, RegisterRequest, Weights, HEALTH_CRITICAL, SERF_CHECK_ID,
};
use super::validate;
use crate::goquote::go_quote;
use crate::topic;

/// `ErrMissingNode` / `ErrMissingService`.
const MISSING_NODE: &str = "Missing node registration";
const MISSING_SERVICE: &str = "Missing service registration";

fn eq_fold(a: &str, b: &str) -> bool {
    a == b || lower(a) == lower(b)
}

/// `ensureRegistrationTxn`.
pub(crate) fn ensure_registration(
    w: &mut CatalogWriter<'_>,
    req: &RegisterRequest,
) -> Result<(), String> {
    let existing = w.t.node(&req.node).cloned();
    if existing.as_deref().is_none_or(|n| changes_node(req, n)) {
        let node = Node {
            id: req.id.clone(),
            node: req.node.clone(),
            address: req.address.clone(),
            datacenter: req.datacenter.clone(),
            tagged_addresses: req.tagged_addresses.clone(),
            meta: req.node_meta.clone(),
            create_index: 0,
            modify_index: 0,
        };
        ensure_node(w, node).map_err(|e| format!("failed inserting node: {e}"))?;
    }
    if let Some(svc) = &req.service {
        ensure_service(w, &req.node, svc).map_err(|e| format!("failed inserting service: {e}"))?;
    }
    for check in &req.checks {
        // ensureCheckIfNodeMatches (default partition, no peers).
        if !eq_fold(&check.node, &req.node) {
            return Err(format!(
                "check node {} does not match node {}",
                go_quote(&check.node),
                go_quote(&req.node)
            ));
        }
        ensure_check(w, check.clone()).map_err(|e| {
            format!(
                "failed inserting check on node {}: {e}",
                go_quote(&check.node)
            )
        })?;
    }
    Ok(())
}

/// `RegisterRequest.ChangesNode`.
fn changes_node(req: &RegisterRequest, node: &Node) -> bool {
    if req.skip_node_update {
        return false;
    }
    req.id != node.id
        || !eq_fold(&req.node, &node.node)
        || req.address != node.address
        || req.datacenter != node.datacenter
        || req.tagged_addresses != node.tagged_addresses
        || req.node_meta != node.meta
}

/// `Node.IsSame`.
fn same_node(a: &Node, b: &Node) -> bool {
    a.id == b.id
        && eq_fold(&a.node, &b.node)
        && a.address == b.address
        && a.datacenter == b.datacenter
        && a.tagged_addresses == b.tagged_addresses
        && a.meta == b.meta
}

/// `ensureNodeTxn`, including the node-ID / node-name conflict rules.
pub(crate) fn ensure_node(w: &mut CatalogWriter<'_>, mut node: Node) -> Result<(), String> {
    let mut found: Option<Arc<Node>> = None;
    if !node.id.is_empty() {
        let id_key = validate::node_id_key(&node.id)
            .map_err(|e| format!("node lookup failed: node lookup by ID failed: {e}"))?;
        let by_id =
            w.t.node_ids
                .get(&id_key)
                .and_then(|name| w.t.nodes.get(name))
                .cloned();
        match by_id {
            Some(existing) => {
                if !eq_fold(&existing.node, &node.node) {
                    no_similar_name(w, &node, false).map_err(|e| {
                        format!(
                            "Error while renaming Node ID: {} ({}): {e}",
                            go_quote(&node.id),
                            node.address
                        )
                    })?;
                    // A rename: the old name goes, with its services and checks.
                    delete_node(w, &existing.node)?;
                }
                found = Some(existing);
            }
            None => no_similar_name(w, &node, true).map_err(|e| {
                format!("Error while renaming Node ID: {}: {e}", go_quote(&node.id))
            })?,
        }
    }
    if found.is_none() {
        found = w.t.node(&node.node).cloned();
    }
    match found {
        Some(n) => {
            node.create_index = n.create_index;
            node.modify_index = n.modify_index;
            if same_node(&node, &n) {
                return Ok(());
            }
            node.modify_index = w.idx;
        }
        None => {
            node.create_index = w.idx;
            node.modify_index = w.idx;
        }
    }
    insert_node(w, node);
    Ok(())
}

/// `ensureNoNodeWithSimilarNameTxn`. Names are unique case-insensitively,
/// so the scan over all nodes Consul does is one lookup here.
fn no_similar_name(
    w: &CatalogWriter<'_>,
    node: &Node,
    allow_clash_without_id: bool,
) -> Result<(), String> {
    let key = lower(&node.node);
    let Some(enode) = w.t.nodes.get(&key) else {
        return Ok(());
    };
    if enode.id == node.id {
        return Ok(());
    }
    // A node whose serfHealth is missing or critical may lose its name.
    let healthy =
        w.t.checks
            .get(&(key.clone(), lower(SERF_CHECK_ID)))
            .is_some_and(|c| c.status != HEALTH_CRITICAL);
    if !(enode.id.is_empty() && allow_clash_without_id) && healthy {
        return Err(format!(
            "Node name {} is reserved by node {} with name {} ({})",
            node.node, enode.id, enode.node, enode.address
        ));
    }
    Ok(())
}

/// `catalogInsertNode`.
fn insert_node(w: &mut CatalogWriter<'_>, node: Node) {
    let key = lower(&node.node);
    if let Some(old) = w.t.nodes.get(&key).cloned() {
        forget_node_id(w, &old, &key);
    }
    if let Ok(id_key) = validate::node_id_key(&node.id) {
        w.t.node_ids.insert(id_key, key.clone());
    }
    let name = node.node.clone();
    w.t.nodes.insert(key, Arc::new(node));
    w.bump_nodes_table();
    w.bump_node(&name);
    w.bump_all_services_of_node(&name);
}

/// Drop the UUID-index entry of `node` if it points at `key`.
pub(crate) fn forget_node_id(w: &mut CatalogWriter<'_>, node: &Node, key: &Arc<str>) {
    if let Ok(id_key) = validate::node_id_key(&node.id) {
        if w.t.node_ids.get(&id_key) == Some(key) {
            w.t.node_ids.remove(&id_key);
        }
    }
}

/// What `ToServiceNode` stores: Weights default to 1/1 when missing or
/// invalid (`ValidateWeights`).
fn stored_service(svc: &NodeService) -> NodeService {
    let weights = match svc.weights {
        Some(w) if w.passing >= 1 && w.warning >= 0 && w.passing <= 65535 && w.warning <= 65535 => {
            w
        }
        _ => Weights::default(),
    };
    NodeService {
        weights: Some(weights),
        ..svc.clone()
    }
}

/// `ServiceNode.IsSameService`: every field but the raft indexes.
fn same_service(a: &NodeService, b: &NodeService) -> bool {
    a.kind == b.kind
        && a.id == b.id
        && a.service == b.service
        && a.tags == b.tags
        && a.address == b.address
        && a.tagged_addresses == b.tagged_addresses
        && a.meta == b.meta
        && a.port == b.port
        && a.socket_path == b.socket_path
        && a.weights == b.weights
        && a.enable_tag_override == b.enable_tag_override
}

/// `ensureServiceTxn` (no gateways, mesh topology or virtual IPs: ballast
/// has no config entries).
fn ensure_service(w: &mut CatalogWriter<'_>, node: &str, svc: &NodeService) -> Result<(), String> {
    let key: PairKey = (lower(node), lower(&svc.id));
    let existing = w.t.services.get(&key).cloned();
    validate::service_meta(&svc.kind, &svc.meta).map_err(|e| {
        format!(
            "Invalid Service Meta for node {node} and serviceID {}: {e}",
            svc.id
        )
    })?;
    let mut entry = stored_service(svc);
    if w.t.nodes.get(&key.0).is_none() {
        return Err(MISSING_NODE.to_string());
    }
    match &existing {
        Some(ex) => {
            entry.create_index = ex.create_index;
            entry.modify_index = ex.modify_index;
            if same_service(ex, &entry) {
                return Ok(());
            }
        }
        None => entry.create_index = w.idx,
    }
    entry.modify_index = w.idx;
    // catalogInsertService.
    w.t.index_service(&key, existing.as_deref(), Some(&entry));
    let name = entry.service.clone();
    w.t.services.insert(key, Arc::new(entry));
    w.bump_services_table();
    w.bump_service(&name);
    w.bump_nodes_table();
    w.bump_node(node);
    Ok(())
}

/// `HealthCheck.IsSame`: Type, Interval, Timeout and ExposedPort are not
/// compared (a change to only those is not written).
fn same_check(a: &HealthCheck, b: &HealthCheck) -> bool {
    eq_fold(&a.node, &b.node)
        && a.check_id == b.check_id
        && a.name == b.name
        && a.status == b.status
        && a.notes == b.notes
        && a.output == b.output
        && a.service_id == b.service_id
        && a.service_name == b.service_name
        && a.service_tags == b.service_tags
        && a.definition == b.definition
}

/// `ensureCheckTxn`.
pub(crate) fn ensure_check(w: &mut CatalogWriter<'_>, mut hc: HealthCheck) -> Result<(), String> {
    let key: PairKey = (lower(&hc.node), lower(&hc.check_id));
    let existing = w.t.checks.get(&key).cloned();
    match &existing {
        Some(ex) => {
            hc.create_index = ex.create_index;
            hc.modify_index = ex.modify_index;
        }
        None => hc.create_index = w.idx,
    }
    if hc.status.is_empty() {
        hc.status = HEALTH_CRITICAL.to_string();
    }
    if w.t.nodes.get(&key.0).is_none() {
        return Err(MISSING_NODE.to_string());
    }
    let unchanged;
    if !hc.service_id.is_empty() {
        let svc =
            w.t.services
                .get(&(key.0.clone(), lower(&hc.service_id)))
                .cloned()
                .ok_or_else(|| MISSING_SERVICE.to_string())?;
        hc.service_name = svc.service.clone();
        hc.service_tags = svc.tags.clone();
        unchanged = existing.as_deref().is_some_and(|e| same_check(e, &hc));
        if !unchanged {
            w.bump_service(&svc.service);
        }
    } else {
        unchanged = existing.as_deref().is_some_and(|e| same_check(e, &hc));
        if !unchanged {
            // A node-level check is part of every service's health.
            w.bump_all_services_of_node(&hc.node);
        }
    }
    if unchanged {
        return Ok(());
    }
    hc.modify_index = w.idx;
    // catalogInsertCheck.
    w.t.index_check(&key, existing.as_deref(), Some(&hc));
    let node_topic = topic::node(&hc.node);
    w.t.checks.insert(key, Arc::new(hc));
    w.bump_checks_table();
    w.touch(node_topic);
    Ok(())
}
