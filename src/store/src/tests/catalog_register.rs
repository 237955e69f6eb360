//! Register / deregister semantics (Consul's `EnsureRegistration`,
//! `deleteNodeTxn`, `deleteServiceTxn`, `deleteCheckTxn`), error texts,
//! all-or-nothing apply.

use super::catalog_support::*;
use super::support::Harness;
use crate::catalog::{Weights, HEALTH_CRITICAL, HEALTH_PASSING, SERF_CHECK_ID};
use crate::ApplyResult;

#[test]
fn register_stores_node_service_and_check() {
    let mut h = Harness::new();
    let r = with_check(
        with_service(node("n1", "10.0.0.1"), svc("web1", "web", &["a", "b"])),
        check("n1", "web1-http", HEALTH_PASSING, "web1"),
    );
    let at = h.register_ok(r);
    let s = h.state();
    let n = s.catalog_node("N1").expect("case-insensitive lookup");
    assert_eq!((n.node.as_str(), n.address.as_str()), ("n1", "10.0.0.1"));
    assert_eq!((n.create_index, n.modify_index), (at, at));
    let (inst, _) = s.catalog_service_nodes("WEB");
    assert_eq!(inst.len(), 1);
    let svc = &inst[0].1;
    assert_eq!((svc.create_index, svc.modify_index), (at, at));
    // ToServiceNode: missing Weights become 1/1.
    assert_eq!(
        svc.weights,
        Some(Weights {
            passing: 1,
            warning: 1
        })
    );
    let (checks, _) = s.node_checks("n1");
    assert_eq!(checks.len(), 1);
    // ensureCheckTxn copies the service's name and tags into the check.
    assert_eq!(checks[0].service_name, "web");
    assert_eq!(
        checks[0].service_tags,
        vec!["a".to_string(), "b".to_string()]
    );
}

#[test]
fn empty_check_status_defaults_to_critical() {
    let mut h = Harness::new();
    h.register_ok(with_check(node("n1", "a"), check("n1", "c1", "", "")));
    let (checks, _) = h.state().node_checks("n1");
    assert_eq!(checks[0].status, HEALTH_CRITICAL);
}

#[test]
fn invalid_weights_are_replaced_by_defaults() {
    let mut h = Harness::new();
    let mut s = svc("s", "s", &[]);
    s.weights = Some(Weights {
        passing: 0,
        warning: 3,
    });
    h.register_ok(with_service(node("n1", "a"), s));
    let got = h.state().catalog_node_service("n1", "s").unwrap();
    assert_eq!(got.weights, Some(Weights::default()));
}

#[test]
fn identical_registration_changes_no_index() {
    let mut h = Harness::new();
    let r = with_check(
        with_service(node("n1", "a"), svc("s1", "web", &["x"])),
        check("n1", "c1", HEALTH_PASSING, "s1"),
    );
    let first = h.register_ok(r.clone());
    h.applier.publish();
    let second = h.register_ok(r);
    assert!(second > first);
    let s = h.state();
    assert_eq!(s.catalog_max_index(), first);
    assert_eq!(s.catalog_node("n1").unwrap().modify_index, first);
    assert_eq!(s.catalog_service_nodes("web").1, first);
    let cs = h.applier.publish();
    assert!(
        cs.topics.is_empty(),
        "unchanged write fires nothing: {:?}",
        cs.topics
    );
    assert!(cs.is_empty());
}

#[test]
fn check_changes_only_in_type_interval_timeout_are_not_written() {
    // HealthCheck.IsSame ignores Type, Interval, Timeout, ExposedPort.
    let mut h = Harness::new();
    let c = check("n1", "c1", HEALTH_PASSING, "");
    let at = h.register_ok(with_check(node("n1", "a"), c.clone()));
    let mut c2 = c;
    c2.check_type = "ttl".into();
    c2.interval = "10s".into();
    c2.exposed_port = 21500;
    h.register_ok(with_check(node("n1", "a"), c2));
    let got = h.state().catalog_node_check("n1", "c1").unwrap();
    assert_eq!(got.modify_index, at);
    assert_eq!(got.check_type, "");
}

#[test]
fn skip_node_update_leaves_the_node_alone() {
    let mut h = Harness::new();
    let at = h.register_ok(node("n1", "10.0.0.1"));
    let mut r = with_service(node("n1", "10.9.9.9"), svc("s", "s", &[]));
    r.skip_node_update = true;
    h.register_ok(r);
    let n = h.state().catalog_node("n1").unwrap();
    assert_eq!((n.address.as_str(), n.modify_index), ("10.0.0.1", at));
}

#[test]
fn check_for_a_missing_service_fails_and_changes_nothing() {
    let mut h = Harness::new();
    h.register_ok(node("n1", "a"));
    h.applier.publish();
    let before = h.state().clone();
    let r = with_check(node("n1", "b"), check("n1", "c1", HEALTH_PASSING, "nope"));
    assert_eq!(
        h.register(r),
        ApplyResult::Error(
            "failed inserting check on node \"n1\": Missing service registration".into()
        )
    );
    // The node update in the same request was rolled back too.
    assert_eq!(h.state().catalog, before.catalog);
    assert!(h.applier.publish().topics.is_empty());
}

#[test]
fn check_node_must_match_the_request_node() {
    let mut h = Harness::new();
    let r = with_check(node("n1", "a"), check("n2", "c1", HEALTH_PASSING, ""));
    assert_eq!(
        h.register(r),
        ApplyResult::Error("check node \"n2\" does not match node \"n1\"".into())
    );
    assert!(h.state().catalog_node("n1").is_none());
    // Case differences are fine (strings.EqualFold).
    let r = with_check(node("n1", "a"), check("N1", "c1", HEALTH_PASSING, ""));
    assert_eq!(h.register(r), ApplyResult::Bool(true));
}

#[test]
fn reserved_service_meta_is_rejected_with_consuls_text() {
    let mut h = Harness::new();
    let mut s = svc("s1", "web", &[]);
    s.meta.insert("consul-x".into(), "v".into());
    assert_eq!(
        h.register(with_service(node("n1", "a"), s)),
        ApplyResult::Error(
            "failed inserting service: Invalid Service Meta for node n1 and serviceID s1: \
             Couldn't load metadata pair ('consul-x', 'v'): Key prefix 'consul-' is reserved \
             for internal use"
                .into()
        )
    );
    assert!(h.state().catalog_node("n1").is_none());
    // Mesh gateways may carry consul-wan-federation.
    let mut g = svc("gw", "gw", &[]);
    g.kind = "mesh-gateway".into();
    g.meta.insert("consul-wan-federation".into(), "1".into());
    assert_eq!(
        h.register(with_service(node("n1", "a"), g)),
        ApplyResult::Bool(true)
    );
}

fn with_id(mut r: crate::catalog::RegisterRequest, id: &str) -> crate::catalog::RegisterRequest {
    r.id = id.into();
    r
}

#[test]
fn a_healthy_node_keeps_its_name_against_another_id() {
    let mut h = Harness::new();
    h.register_ok(with_check(
        with_id(node("a", "10.0.0.1"), ID_A),
        check("a", SERF_CHECK_ID, HEALTH_PASSING, ""),
    ));
    let before = h.state().catalog.clone();
    assert_eq!(
        h.register(with_id(node("A", "10.0.0.2"), ID_B)),
        ApplyResult::Error(format!(
            "failed inserting node: Error while renaming Node ID: \"{ID_B}\": Node name A is \
             reserved by node {ID_A} with name a (10.0.0.1)"
        ))
    );
    assert_eq!(h.state().catalog, before);
}

#[test]
fn a_failed_node_loses_its_name_to_another_id() {
    let mut h = Harness::new();
    let first = h.register_ok(with_check(
        with_id(node("a", "10.0.0.1"), ID_A),
        check("a", SERF_CHECK_ID, HEALTH_CRITICAL, ""),
    ));
    let at = h.register_ok(with_id(node("a", "10.0.0.2"), ID_B));
    let n = h.state().catalog_node("a").unwrap();
    assert_eq!((n.id.as_str(), n.address.as_str()), (ID_B, "10.0.0.2"));
    assert_eq!((n.create_index, n.modify_index), (first, at));
    // The ID index follows: lookups by the old ID find nothing.
    assert!(h.state().catalog_node_services(&ID_A[..8]).0.is_none());
    assert!(h.state().catalog_node_services(&ID_B[..8]).0.is_some());
}

#[test]
fn same_id_new_name_renames_the_node() {
    let mut h = Harness::new();
    let first = h.register_ok(with_check(
        with_service(
            with_id(node("old", "10.0.0.1"), ID_A),
            svc("s1", "web", &[]),
        ),
        check("old", "c1", HEALTH_PASSING, "s1"),
    ));
    let at = h.register_ok(with_id(node("new", "10.0.0.1"), ID_A));
    let s = h.state();
    assert!(s.catalog_node("old").is_none());
    let n = s.catalog_node("new").unwrap();
    assert_eq!((n.create_index, n.modify_index), (first, at));
    // deleteNodeTxn took the old name's services and checks.
    assert!(s.catalog_service_nodes("web").0.is_empty());
    assert!(s.node_checks("old").0.is_empty());
}

#[test]
fn deregister_service_removes_its_checks_only() {
    let mut h = Harness::new();
    let r = with_check(
        with_check(
            with_service(node("n1", "a"), svc("s1", "web", &[])),
            check("n1", "c-svc", HEALTH_PASSING, "s1"),
        ),
        check("n1", "c-node", HEALTH_PASSING, ""),
    );
    h.register_ok(r);
    assert_eq!(
        h.run(dereg("n1", Some("S1"), Some("c-node"))),
        ApplyResult::Bool(true)
    );
    let s = h.state();
    assert!(s.catalog_node_service("n1", "s1").is_none());
    let ids: Vec<_> = s
        .node_checks("n1")
        .0
        .iter()
        .map(|c| c.check_id.clone())
        .collect();
    assert_eq!(
        ids,
        vec!["c-node".to_string()],
        "ServiceID wins over CheckID"
    );
}

#[test]
fn deregister_node_removes_everything_of_it() {
    let mut h = Harness::new();
    h.register_ok(with_check(
        with_service(node("n1", "a"), svc("s1", "web", &[])),
        check("n1", "c1", HEALTH_PASSING, "s1"),
    ));
    h.register_ok(with_service(node("n2", "b"), svc("s1", "web", &[])));
    assert_eq!(h.run(dereg("N1", None, None)), ApplyResult::Bool(true));
    let s = h.state();
    assert!(s.catalog_node("n1").is_none());
    assert_eq!(s.catalog_service_nodes("web").0.len(), 1);
    assert!(s.checks_in_state("any").0.is_empty());
    assert_eq!(s.catalog_services().0, services_by_scan(s));
}

#[test]
fn deregistering_missing_things_is_not_an_error_and_bumps_nothing() {
    let mut h = Harness::new();
    let at = h.register_ok(with_service(node("n1", "a"), svc("s1", "web", &[])));
    h.applier.publish();
    for cmd in [
        dereg("ghost", None, None),
        dereg("n1", Some("ghost"), None),
        dereg("n1", None, Some("ghost")),
        dereg("ghost", Some("s1"), None),
    ] {
        assert_eq!(h.run(cmd), ApplyResult::Bool(true));
    }
    assert_eq!(h.state().catalog_max_index(), at);
    assert!(h.applier.publish().topics.is_empty());
}

#[test]
fn check_deregistered_alone() {
    let mut h = Harness::new();
    h.register_ok(with_check(
        node("n1", "a"),
        check("n1", "c1", HEALTH_PASSING, ""),
    ));
    assert_eq!(
        h.run(dereg("n1", None, Some("C1"))),
        ApplyResult::Bool(true)
    );
    assert!(h.state().node_checks("n1").0.is_empty());
    assert!(h.state().catalog_node("n1").is_some());
}

#[test]
fn service_rename_moves_the_instance_between_names() {
    let mut h = Harness::new();
    h.register_ok(with_service(node("n1", "a"), svc("s1", "web", &["t1"])));
    h.register_ok(with_service(node("n1", "a"), svc("s1", "api", &["t2"])));
    let s = h.state();
    assert!(s.catalog_service_nodes("web").0.is_empty());
    assert_eq!(s.catalog_service_nodes("api").0.len(), 1);
    assert_eq!(
        s.catalog_services().0,
        vec![("api".to_string(), vec!["t2".to_string()])]
    );
}
