//! `deleteNodeTxn`, `deleteServiceTxn`, `deleteCheckTxn`
//! (agent/consul/state/catalog.go) and the FSM's deregister dispatch.
//! Deleting what does not exist is not an error and bumps nothing.
//! Sessions are not invalidated: ballast has no sessions table yet.

use super::indexes::CatalogWriter;
use super::register::forget_node_id;
use super::tables::{lower, CatalogTables, PairKey};
use super::types::DeregisterRequest;
use crate::topic;

/// `applyDeregister`: ServiceID first, then CheckID, else the whole node.
pub(crate) fn apply_deregister(
    w: &mut CatalogWriter<'_>,
    req: &DeregisterRequest,
) -> Result<(), String> {
    let service_id = req.service_id.as_deref().unwrap_or("");
    let check_id = req.check_id.as_deref().unwrap_or("");
    if !service_id.is_empty() {
        delete_service(w, &req.node, service_id)
    } else if !check_id.is_empty() {
        delete_check(w, &req.node, check_id)
    } else {
        delete_node(w, &req.node)
    }
}

/// `deleteNodeTxn`.
pub(crate) fn delete_node(w: &mut CatalogWriter<'_>, node_name: &str) -> Result<(), String> {
    let key = lower(node_name);
    let Some(node) = w.t.nodes.get(&key).cloned() else {
        return Ok(());
    };
    let services: Vec<(String, String)> =
        w.t.node_services(&key)
            .map(|(_, s)| (s.id.clone(), s.service.clone()))
            .collect();
    for (_, name) in &services {
        w.bump_service(name);
    }
    for (id, _) in &services {
        delete_service(w, node_name, id)?;
    }
    let checks: Vec<String> =
        w.t.node_checks(&key)
            .map(|(_, c)| c.check_id.clone())
            .collect();
    for id in &checks {
        delete_check(w, node_name, id)?;
    }
    forget_node_id(w, &node, &key);
    w.t.nodes.remove(&key);
    w.bump_nodes_table();
    // Consul drops the "node.<name>" entry by the name the request gave.
    w.t.node_index.remove(node_name);
    w.bump_node_extinction();
    w.touch(topic::node(node_name));
    Ok(())
}

/// `deleteServiceTxn`: the service's checks go with it.
pub(crate) fn delete_service(
    w: &mut CatalogWriter<'_>,
    node_name: &str,
    service_id: &str,
) -> Result<(), String> {
    let key: PairKey = (lower(node_name), lower(service_id));
    let Some(svc) = w.t.services.get(&key).cloned() else {
        return Ok(());
    };
    let checks: Vec<String> =
        CatalogTables::index_range2(&w.t.checks_by_node_service, key.0.clone(), key.1.clone())
            .filter_map(|(n, _, c)| w.t.checks.get(&(n.clone(), c.clone())))
            .map(|c| c.check_id.clone())
            .collect();
    for id in &checks {
        delete_check(w, node_name, id)?;
    }
    w.bump_checks_table();
    w.t.index_service(&key, Some(&svc), None);
    w.t.services.remove(&key);
    w.bump_services_table();
    w.bump_nodes_table();
    w.bump_node(node_name);
    let remaining = CatalogTables::index_range(&w.t.services_by_name, lower(&svc.service))
        .next()
        .is_some();
    if remaining {
        w.bump_service(&svc.service);
    } else {
        // The last instance: the "service.<name>" entry is garbage
        // collected and the extinction index answers for the name.
        w.t.service_index.remove(svc.service.as_str());
        w.bump_service_extinction();
        w.touch(topic::service(&svc.service));
    }
    Ok(())
}

/// `deleteCheckTxn`.
pub(crate) fn delete_check(
    w: &mut CatalogWriter<'_>,
    node_name: &str,
    check_id: &str,
) -> Result<(), String> {
    let key: PairKey = (lower(node_name), lower(check_id));
    let Some(existing) = w.t.checks.get(&key).cloned() else {
        return Ok(());
    };
    if !existing.service_id.is_empty() {
        w.bump_service(&existing.service_name);
    } else {
        w.bump_all_services_of_node(&existing.node);
        w.bump_services_table();
    }
    w.t.index_check(&key, Some(&existing), None);
    w.t.checks.remove(&key);
    w.bump_checks_table();
    w.touch(topic::node(node_name));
    Ok(())
}
