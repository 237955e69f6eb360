//! X-Consul-Index per read, as Consul's state store computes it
//! (agent/consul/state/catalog.go, catalog_ce.go). Each test names the
//! Consul function whose rule it checks.

use super::catalog_support::*;
use super::support::Harness;
use crate::catalog::{HEALTH_CRITICAL, HEALTH_PASSING, HEALTH_WARNING};
use crate::StateSnapshot;

#[test]
fn empty_store_never_answers_zero() {
    let s = StateSnapshot::new();
    assert_eq!(s.catalog_nodes().1, 1);
    assert_eq!(s.catalog_services().1, 1);
    assert_eq!(s.catalog_service_nodes("x").1, 1);
    assert_eq!(s.check_service_nodes("x").1, 1);
    assert_eq!(s.catalog_node_services("x").1, 1);
    assert_eq!(s.node_checks("x").1, 1);
    assert_eq!(s.checks_in_state("any").1, 1);
    assert_eq!(s.catalog_max_index(), 1);
}

#[test]
fn nodes_index_moves_with_services_too() {
    // catalogInsertService and deleteServiceTxn bump the nodes table.
    let mut h = Harness::new();
    let a = h.register_ok(node("n1", "a"));
    assert_eq!(h.state().catalog_nodes().1, a);
    let b = h.register_ok(with_service(node("n1", "a"), svc("s", "s", &[])));
    assert_eq!(h.state().catalog_nodes().1, b);
    // A check alone does not touch the nodes table.
    h.register_ok(with_check(
        node("n1", "a"),
        check("n1", "c", HEALTH_PASSING, ""),
    ));
    assert_eq!(h.state().catalog_nodes().1, b);
    let d = h.at();
    h.run(dereg("n1", Some("s"), None));
    assert_eq!(h.state().catalog_nodes().1, d);
}

#[test]
fn service_nodes_answer_the_per_service_index() {
    // serviceNodesTxn -> maxIndexForService("service.<name>").
    let mut h = Harness::new();
    let web = h.register_ok(with_service(node("n1", "a"), svc("w", "web", &[])));
    let api = h.register_ok(with_service(node("n1", "a"), svc("a", "api", &[])));
    assert!(api > web);
    assert_eq!(h.state().catalog_service_nodes("web").1, web);
    assert_eq!(h.state().catalog_service_nodes("api").1, api);
    // A service check bumps only its own service.
    let c = h.register_ok(with_check(
        node("n1", "a"),
        check("n1", "wc", HEALTH_PASSING, "w"),
    ));
    assert_eq!(h.state().catalog_service_nodes("web").1, c);
    assert_eq!(h.state().catalog_service_nodes("api").1, api);
    assert_eq!(h.state().check_service_nodes("web").1, c);
}

#[test]
fn node_level_checks_and_node_updates_bump_every_service_of_the_node() {
    // ensureCheckTxn / catalogInsertNode -> updateAllServiceIndexesOfNode.
    let mut h = Harness::new();
    h.register_ok(with_service(node("n1", "a"), svc("w", "web", &[])));
    h.register_ok(with_service(node("n1", "a"), svc("a", "api", &[])));
    let other = h.register_ok(with_service(node("n2", "b"), svc("x", "other", &[])));
    let c = h.register_ok(with_check(
        node("n1", "a"),
        check("n1", "serfHealth", HEALTH_PASSING, ""),
    ));
    for name in ["web", "api"] {
        assert_eq!(h.state().check_service_nodes(name).1, c, "{name}");
    }
    assert_eq!(h.state().check_service_nodes("other").1, other);
    let u = h.register_ok(node("n1", "10.1.1.1"));
    assert_eq!(h.state().catalog_service_nodes("web").1, u);
    assert_eq!(h.state().catalog_service_nodes("other").1, other);
    // Deleting the node-level check: same rule (deleteCheckTxn).
    let d = h.at();
    h.run(dereg("n1", None, Some("serfHealth")));
    assert_eq!(h.state().check_service_nodes("api").1, d);
}

#[test]
fn missing_service_answers_catalog_max_until_an_extinction() {
    // maxIndexForService: no "service.<name>" entry and no extinction yet
    // -> catalogMaxIndex (services, nodes; checks too for health).
    let mut h = Harness::new();
    let a = h.register_ok(with_service(node("n1", "a"), svc("w", "web", &[])));
    let c = h.register_ok(with_check(
        node("n1", "a"),
        check("n1", "c", HEALTH_PASSING, ""),
    ));
    assert_eq!(h.state().catalog_service_nodes("nope").1, a);
    assert_eq!(h.state().check_service_nodes("nope").1, c);
    // The last "web" goes: its entry is dropped, the extinction index set.
    let gone = h.at();
    h.run(dereg("n1", Some("w"), None));
    let s = h.state();
    assert_eq!(s.catalog_service_nodes("web").1, gone);
    assert_eq!(s.catalog_service_nodes("nope").1, gone);
    assert_eq!(s.check_service_nodes("web").1, gone);
    assert!(s.catalog.service_index.get("web").is_none());
    // Re-registering starts a fresh "service.web" entry.
    let back = h.register_ok(with_service(node("n1", "a"), svc("w", "web", &[])));
    assert_eq!(h.state().catalog_service_nodes("web").1, back);
}

#[test]
fn per_service_index_is_exact_case_like_consuls_index_table() {
    // serviceIndexName formats "service.%s" with the name as given; the
    // services table itself matches case-insensitively.
    let mut h = Harness::new();
    h.register_ok(with_service(node("n1", "a"), svc("w", "Web", &[])));
    let n = h.register_ok(node("n2", "b"));
    let (list, idx) = h.state().catalog_service_nodes("web");
    assert_eq!(list.len(), 1);
    assert_eq!(idx, n, "no \"service.web\" entry: catalogMaxIndex");
    // CheckServiceNodes looks up the instances' own names instead.
    let (entries, idx) = h.state().check_service_nodes("web");
    assert_eq!(entries.len(), 1);
    assert_eq!(idx, h.state().catalog.service_index["Web"]);
}

#[test]
fn node_services_answer_the_per_node_index() {
    // NodeServices -> catalogNodeMaxIndex("node.<name>").
    let mut h = Harness::new();
    let a = h.register_ok(node("n1", "a"));
    let b = h.register_ok(with_service(node("n1", "a"), svc("s", "s", &[])));
    h.register_ok(node("n2", "b"));
    // Checks do not touch "node.<name>".
    h.register_ok(with_check(
        node("n1", "a"),
        check("n1", "c", HEALTH_PASSING, ""),
    ));
    let (found, idx) = h.state().catalog_node_services("N1");
    assert!(b > a);
    assert_eq!(idx, b);
    assert_eq!(found.unwrap().1.len(), 1);
    // Unknown node: the node extinction index (0 -> 1 before any).
    assert_eq!(h.state().catalog_node_services("zz").1, 1);
    let gone = h.at();
    h.run(dereg("n2", None, None));
    assert_eq!(h.state().catalog_node_services("n2").1, gone);
    assert_eq!(h.state().catalog_node_services("zz").1, gone);
}

#[test]
fn node_services_find_a_node_by_unique_id_prefix() {
    let mut h = Harness::new();
    let mut r = node("n1", "a");
    r.id = ID_A.into();
    h.register_ok(r);
    let mut r = node("n2", "b");
    r.id = "40e4a748-0000-0000-0000-000000000000".into();
    h.register_ok(r);
    let s = h.state();
    // A prefix both IDs share is ambiguous: nothing, index 0 -> 1.
    assert_eq!(s.catalog_node_services("40e4a748"), (None, 1));
    // resizeNodeLookupKey drops the odd last character; hex is
    // case-insensitive.
    let (found, _) = s.catalog_node_services("40E4A748-2192-1");
    assert_eq!(found.unwrap().0.node, "n1");
    assert!(s.catalog_node_services("zz-not-hex").0.is_none());
    // Odd hex length after dropping hyphens is not an ID.
    assert!(s.catalog_node_services("40e4a748-21").0.is_none());
}

#[test]
fn check_reads_answer_the_checks_table_index() {
    // NodeChecks, ServiceChecks, ChecksInState -> catalogChecksMaxIndex.
    let mut h = Harness::new();
    h.register_ok(with_service(node("n1", "a"), svc("w", "web", &[])));
    h.register_ok(with_check(
        node("n1", "a"),
        check("n1", "c1", HEALTH_PASSING, "w"),
    ));
    let last = h.register_ok(with_check(
        node("n2", "b"),
        check("n2", "c2", HEALTH_WARNING, ""),
    ));
    let s = h.state();
    assert_eq!(s.node_checks("n1").1, last);
    assert_eq!(s.service_checks("web").1, last);
    assert_eq!(s.checks_in_state(HEALTH_CRITICAL).1, last);
    assert_eq!(s.checks_in_state(HEALTH_PASSING).0.len(), 1);
    assert_eq!(s.checks_in_state(HEALTH_WARNING).0[0].check_id, "c2");
    assert_eq!(s.checks_in_state("any").0.len(), 2);
    assert!(
        s.service_checks("").0.is_empty(),
        "node checks have no service name"
    );
    // deleteServiceTxn bumps the checks table even without checks.
    let d = h.at();
    h.run(dereg("n1", Some("w"), None));
    assert_eq!(h.state().checks_in_state("any").1, d);
}

#[test]
fn services_indexes_with_and_without_node_meta() {
    // Services -> "services"; ServicesByNodeMeta -> max("services", "nodes").
    let mut h = Harness::new();
    let mut r = with_service(node("n1", "a"), svc("w", "web", &["b", "a"]));
    r.node_meta.insert("rack".into(), "r1".into());
    let a = h.register_ok(r);
    h.register_ok(with_service(node("n2", "b"), svc("w", "web", &["c", "a"])));
    let n = h.register_ok(node("n3", "c"));
    let s = h.state();
    let (all, idx) = s.catalog_services();
    assert_eq!(idx, n - 1);
    assert_eq!(
        all,
        vec![("web".to_string(), vec!["a".into(), "b".into(), "c".into()])]
    );
    let filter = vec![("rack".to_string(), "r1".to_string())];
    let (some, idx) = s.catalog_services_by_node_meta(&filter);
    assert_eq!(idx, n);
    assert_eq!(
        some,
        vec![("web".to_string(), vec!["a".into(), "b".into()])]
    );
    assert!(a < n);
}

#[test]
fn health_entries_carry_node_checks_then_service_checks() {
    // parseCheckServiceNodes: node-level checks first, then the instance's.
    let mut h = Harness::new();
    h.register_ok(with_service(node("n1", "a"), svc("w1", "web", &[])));
    h.register_ok(with_service(node("n1", "a"), svc("w2", "web", &[])));
    h.register_ok(with_check(
        node("n1", "a"),
        check("n1", "z-svc", HEALTH_PASSING, "w1"),
    ));
    h.register_ok(with_check(
        node("n1", "a"),
        check("n1", "a-svc2", HEALTH_PASSING, "w2"),
    ));
    h.register_ok(with_check(
        node("n1", "a"),
        check("n1", "serfHealth", HEALTH_PASSING, ""),
    ));
    let (entries, _) = h.state().check_service_nodes("web");
    let shape: Vec<(String, Vec<String>)> = entries
        .iter()
        .map(|e| {
            (
                e.service.id.clone(),
                e.checks.iter().map(|c| c.check_id.clone()).collect(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            ("w1".into(), vec!["serfHealth".into(), "z-svc".into()]),
            ("w2".into(), vec!["serfHealth".into(), "a-svc2".into()]),
        ]
    );
}

#[test]
fn instances_come_in_node_then_service_id_order() {
    let mut h = Harness::new();
    for (n, id) in [("b", "2"), ("a", "9"), ("B-x", "1"), ("a", "10")] {
        h.register_ok(with_service(node(n, "x"), svc(id, "web", &[])));
    }
    let order: Vec<(String, String)> = h
        .state()
        .catalog_service_nodes("web")
        .0
        .iter()
        .map(|(n, s)| (n.node.clone(), s.id.clone()))
        .collect();
    let want = [("a", "10"), ("a", "9"), ("b", "2"), ("B-x", "1")];
    assert_eq!(
        order,
        want.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );
}
