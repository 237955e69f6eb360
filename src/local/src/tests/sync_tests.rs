use std::time::{Duration, Instant};

use ballast_store::catalog::{HealthCheck, Node, NodeService, RegisterRequest, SERF_CHECK_ID};

use super::{node, register, state};
use crate::{LocalConfig, LocalState, SyncAction, SyncOp};

fn catalog_node(st: &LocalState) -> Node {
    let n = st.node();
    Node {
        id: n.node_id.clone(),
        node: n.node_name.clone(),
        address: n.address.clone(),
        datacenter: n.datacenter.clone(),
        tagged_addresses: n.tagged_addresses.clone(),
        meta: n.meta.clone(),
        create_index: 5,
        modify_index: 5,
    }
}

/// What the catalog would hold after applying the ops (with indexes, as a
/// store would return them).
fn catalog_after(st: &LocalState) -> (Vec<NodeService>, Vec<HealthCheck>) {
    let services = st.services().map(|s| NodeService { create_index: 7, modify_index: 7, ..s.clone() }).collect();
    let checks = st.checks().map(|c| HealthCheck { create_index: 7, modify_index: 7, ..c.clone() }).collect();
    (services, checks)
}

fn registers(ops: &[SyncOp]) -> Vec<&RegisterRequest> {
    ops.iter()
        .filter_map(|o| match &o.action {
            SyncAction::Register(r) => Some(r),
            _ => None,
        })
        .collect()
}

fn settle(st: &mut LocalState, ops: &[SyncOp]) {
    for op in ops {
        st.mark_synced(op);
    }
}

/// Bring a state fully in sync with a catalog mirroring it.
fn synced(st: &mut LocalState, now: Instant) -> (Node, Vec<NodeService>, Vec<HealthCheck>) {
    let ops = st.plan_full_sync(None, &[], &[], now);
    settle(st, &ops);
    let (s, c) = catalog_after(st);
    let n = catalog_node(st);
    assert!(st.plan_full_sync(Some(&n), &s, &c, now).is_empty(), "in sync");
    (n, s, c)
}

#[test]
fn new_service_is_registered_with_its_checks_and_node_info() {
    let mut st = state();
    register(&mut st, r#"{"Name":"web","Port":80,"Check":{"TTL":"10s"}}"#);
    let now = Instant::now();
    let ops = st.plan_full_sync(None, &[], &[], now);
    let regs = registers(&ops);
    assert_eq!(regs.len(), 1, "check rides on the service registration, node info with it: {ops:#?}");
    let r = regs[0];
    assert_eq!(r.node, "node-1");
    assert_eq!(r.id, node().node_id);
    assert_eq!(r.address, "10.0.0.1");
    assert_eq!(r.datacenter, "dc1");
    assert_eq!(r.node_meta.get("rack").map(String::as_str), Some("r1"));
    assert_eq!(r.service.as_ref().unwrap().id, "web");
    assert_eq!(r.checks.len(), 1);
    assert_eq!(r.checks[0].check_id, "service:web");
    settle(&mut st, &ops);
    assert!(!st.needs_sync(now));
    assert!(st.plan_changes(now).is_empty());
}

#[test]
fn empty_agent_syncs_node_info_only() {
    let mut st = state();
    let now = Instant::now();
    let ops = st.plan_full_sync(None, &[], &[], now);
    assert_eq!(ops.len(), 1);
    assert!(registers(&ops)[0].service.is_none() && registers(&ops)[0].checks.is_empty());
    settle(&mut st, &ops);
    let n = catalog_node(&st);
    assert!(st.plan_full_sync(Some(&n), &[], &[], now).is_empty());
    let mut moved = n.clone();
    moved.meta.insert("rack".into(), "r2".into());
    assert_eq!(st.plan_full_sync(Some(&moved), &[], &[], now).len(), 1, "node meta differs");
}

#[test]
fn changed_service_is_re_registered() {
    let mut st = state();
    register(&mut st, r#"{"Name":"web","Port":80}"#);
    let now = Instant::now();
    let (n, mut services, checks) = synced(&mut st, now);
    services[0].port = 81; // someone changed the catalog by hand
    let ops = st.plan_full_sync(Some(&n), &services, &checks, now);
    assert_eq!(registers(&ops).len(), 1);
    assert_eq!(registers(&ops)[0].service.as_ref().unwrap().port, 80, "local definition wins");
    // A local change is pushed by a partial sync.
    settle(&mut st, &ops);
    register(&mut st, r#"{"Name":"web","Port":82}"#);
    let ops = st.plan_changes(now);
    assert_eq!(registers(&ops)[0].service.as_ref().unwrap().port, 82);
}

#[test]
fn service_deleted_locally_is_deregistered() {
    let mut st = state();
    register(&mut st, r#"{"Name":"web","Check":{"TTL":"10s"}}"#);
    let now = Instant::now();
    let (n, services, checks) = synced(&mut st, now);
    st.deregister_service("web").unwrap();
    let ops = st.plan_changes(now);
    let deregs: Vec<_> = ops
        .iter()
        .filter_map(|o| match &o.action {
            SyncAction::Deregister(d) => Some((d.service_id.clone(), d.check_id.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(deregs, vec![(Some("web".to_string()), None), (None, Some("service:web".to_string()))]);
    settle(&mut st, &ops);
    assert!(!st.needs_sync(now));
    // Until the catalog catches up a full sync would delete again; after, nothing.
    assert_eq!(st.plan_full_sync(Some(&n), &services, &checks, now).len(), 2);
}

#[test]
fn catalog_entry_removed_by_hand_comes_back() {
    let mut st = state();
    register(&mut st, r#"{"Name":"web","Check":{"TTL":"10s"}}"#);
    let now = Instant::now();
    let (n, _services, _checks) = synced(&mut st, now);
    let ops = st.plan_full_sync(Some(&n), &[], &[], now);
    let regs = registers(&ops);
    assert_eq!(regs.len(), 1);
    assert_eq!(regs[0].service.as_ref().unwrap().id, "web");
    assert_eq!(regs[0].checks[0].check_id, "service:web");
}

#[test]
fn catalog_only_entries_are_deregistered_except_serf_health() {
    let mut st = state();
    let now = Instant::now();
    let (n, _, _) = synced(&mut st, now);
    let stray = NodeService { id: "stray".into(), service: "stray".into(), ..NodeService::default() };
    let consul = NodeService { id: "consul".into(), service: "consul".into(), ..NodeService::default() };
    let serf = HealthCheck {
        node: "node-1".into(),
        check_id: SERF_CHECK_ID.into(),
        name: "Serf Health Status".into(),
        status: "passing".into(),
        ..HealthCheck::default()
    };
    let stray_check = HealthCheck { check_id: "old".into(), node: "node-1".into(), ..HealthCheck::default() };
    let ops = st.plan_full_sync(Some(&n), &[stray, consul], &[serf, stray_check], now);
    let targets: Vec<_> = ops
        .iter()
        .map(|o| match &o.action {
            SyncAction::Deregister(d) => (d.service_id.clone(), d.check_id.clone()),
            SyncAction::Register(_) => panic!("unexpected register {o:?}"),
        })
        .collect();
    assert_eq!(targets, vec![(Some("stray".to_string()), None), (None, Some("old".to_string()))]);
    settle(&mut st, &ops);
    assert!(st.service("stray").is_none());
    assert!(!st.needs_sync(now));
}

#[test]
fn enable_tag_override_takes_catalog_tags() {
    let mut st = state();
    register(&mut st, r#"{"Name":"pg","Tags":["replica"],"EnableTagOverride":true}"#);
    let now = Instant::now();
    let (n, mut services, checks) = synced(&mut st, now);
    services[0].tags = vec!["master".into()];
    let g = st.generation();
    let ops = st.plan_full_sync(Some(&n), &services, &checks, now);
    assert!(ops.is_empty(), "catalog tags win, nothing to push: {ops:#?}");
    assert_eq!(st.service("pg").unwrap().tags, vec!["master"]);
    assert!(st.generation() > g);
    // Without EnableTagOverride the local tags are pushed back.
    let mut st = state();
    register(&mut st, r#"{"Name":"pg","Tags":["replica"]}"#);
    let (n, mut services, checks) = synced(&mut st, now);
    services[0].tags = vec!["master".into()];
    let ops = st.plan_full_sync(Some(&n), &services, &checks, now);
    assert_eq!(registers(&ops)[0].service.as_ref().unwrap().tags, vec!["replica"]);
}

#[test]
fn output_only_change_is_deferred_status_change_is_not() {
    let config = LocalConfig { check_update_interval: Duration::from_secs(300), ..LocalConfig::default() };
    let mut st = LocalState::new(node(), config);
    register(&mut st, r#"{"Name":"web","Check":{"TTL":"10s","Status":"passing"}}"#);
    let t0 = Instant::now();
    let (n, services, checks) = synced(&mut st, t0);

    assert!(st.update_check_at("service:web", "passing", "new output", t0));
    assert!(st.plan_changes(t0).is_empty(), "output-only change waits");
    assert!(st.plan_full_sync(Some(&n), &services, &checks, t0).is_empty(), "full sync ignores output meanwhile");
    let due = st.next_deferred_sync().expect("write-back scheduled");
    assert!(due >= t0 + Duration::from_secs(150) && due < t0 + Duration::from_secs(450));
    let ops = st.plan_changes(due);
    assert_eq!(registers(&ops).len(), 1);
    assert_eq!(registers(&ops)[0].checks[0].output, "new output");
    settle(&mut st, &ops);
    assert!(st.next_deferred_sync().is_none());

    assert!(st.update_check_at("service:web", "critical", "boom", t0));
    let ops = st.plan_changes(t0);
    assert_eq!(registers(&ops)[0].checks[0].status, "critical", "status change goes at once");

    // With check_update_interval = 0 output changes go at once too.
    let mut st = LocalState::new(node(), LocalConfig { check_update_interval: Duration::ZERO, ..LocalConfig::default() });
    register(&mut st, r#"{"Name":"web","Check":{"TTL":"10s","Status":"passing"}}"#);
    synced(&mut st, t0);
    st.update_check_at("service:web", "passing", "o", t0);
    assert_eq!(st.plan_changes(t0).len(), 1);
}

#[test]
fn change_during_flight_stays_out_of_sync() {
    let mut st = state();
    register(&mut st, r#"{"Name":"web","Port":1}"#);
    let now = Instant::now();
    let ops = st.plan_full_sync(None, &[], &[], now);
    register(&mut st, r#"{"Name":"web","Port":2}"#);
    settle(&mut st, &ops);
    let again = st.plan_changes(now);
    assert_eq!(registers(&again)[0].service.as_ref().unwrap().port, 2);
}

#[test]
fn checks_with_other_tokens_sync_separately_and_blocked_ops_rest() {
    let mut st = state();
    let def = crate::decode_service_registration(br#"{"Name":"web"}"#).unwrap();
    st.register_service(&def, "svc-token", false).unwrap();
    let chk = crate::decode_check_registration(br#"{"Name":"c","TTL":"5s","ServiceID":"web"}"#).unwrap();
    st.register_check(&chk, "check-token").unwrap();
    let now = Instant::now();
    let ops = st.plan_full_sync(None, &[], &[], now);
    assert_eq!(ops.len(), 2);
    assert_eq!(ops[0].token, "svc-token");
    assert!(registers(&ops)[0].checks.is_empty());
    assert_eq!(ops[1].token, "check-token");
    assert_eq!(registers(&ops)[1].service.as_ref().unwrap().id, "web", "check carries its service");
    for op in &ops {
        st.mark_blocked(op);
    }
    // ACL-blocked writes wait for the next full sync; node info (agent
    // token) is still owed, as in Consul.
    let rest = st.plan_changes(now);
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].token, "");
    assert!(registers(&rest)[0].service.is_none());
}
