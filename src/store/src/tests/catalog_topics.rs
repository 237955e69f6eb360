//! Catalog writes list the topics whose reads may answer differently, and
//! topic watchers wake on them.

use std::sync::Arc;

use super::catalog_support::*;
use super::support::Harness;
use crate::catalog::HEALTH_PASSING;
use crate::{topic, ChangeSet, WatchRegistry, WatchTarget};

fn topics(cs: &ChangeSet) -> Vec<String> {
    cs.topics.iter().map(|t| t.to_string()).collect()
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn topic_names_are_the_contracts() {
    assert_eq!(&*topic::nodes(), "catalog/nodes");
    assert_eq!(&*topic::services(), "catalog/services");
    assert_eq!(&*topic::checks(), "catalog/checks");
    assert_eq!(&*topic::service("Web"), "catalog/service/web");
    assert_eq!(&*topic::node("Node-1"), "catalog/node/node-1");
}

#[test]
fn registering_a_service_fires_its_topics_sorted_and_unique() {
    let mut h = Harness::new();
    h.register_ok(with_service(node("N1", "a"), svc("w", "Web", &[])));
    let cs = h.applier.publish();
    assert_eq!(
        topics(&cs),
        strs(&[
            "catalog/node/n1",
            "catalog/nodes",
            "catalog/service/web",
            "catalog/services",
        ])
    );
    assert!(!cs.is_empty());
}

#[test]
fn a_node_level_check_fires_every_service_of_its_node() {
    let mut h = Harness::new();
    h.register_ok(with_service(node("n1", "a"), svc("w", "web", &[])));
    h.register_ok(with_service(node("n1", "a"), svc("x", "api", &[])));
    h.register_ok(with_service(node("n2", "b"), svc("o", "other", &[])));
    h.applier.publish();
    h.register_ok(with_check(
        node("n1", "a"),
        check("n1", "serfHealth", HEALTH_PASSING, ""),
    ));
    let cs = h.applier.publish();
    assert_eq!(
        topics(&cs),
        strs(&[
            "catalog/checks",
            "catalog/node/n1",
            "catalog/service/api",
            "catalog/service/web",
        ])
    );
}

#[test]
fn a_service_check_fires_its_service_node_and_checks() {
    let mut h = Harness::new();
    h.register_ok(with_service(node("n1", "a"), svc("w", "web", &[])));
    h.applier.publish();
    h.register_ok(with_check(
        node("n1", "a"),
        check("n1", "c", HEALTH_PASSING, "w"),
    ));
    let cs = h.applier.publish();
    assert_eq!(
        topics(&cs),
        strs(&["catalog/checks", "catalog/node/n1", "catalog/service/web"])
    );
}

#[test]
fn the_last_instance_leaving_fires_its_service() {
    let mut h = Harness::new();
    h.register_ok(with_service(node("n1", "a"), svc("w", "web", &[])));
    h.applier.publish();
    h.run(dereg("n1", None, None));
    let cs = h.applier.publish();
    for t in [
        "catalog/service/web",
        "catalog/node/n1",
        "catalog/nodes",
        "catalog/services",
    ] {
        assert!(
            topics(&cs).contains(&t.to_string()),
            "{t} in {:?}",
            cs.topics
        );
    }
}

#[test]
fn a_failed_registration_fires_nothing() {
    let mut h = Harness::new();
    h.register(with_check(
        node("n1", "a"),
        check("n1", "c", HEALTH_PASSING, "missing"),
    ));
    let cs = h.applier.publish();
    assert!(cs.topics.is_empty());
    assert!(cs.is_empty());
}

#[test]
fn topic_watchers_wake_only_on_their_topic_and_all_wakes_too() {
    let reg = WatchRegistry::new();
    let web = reg.register(WatchTarget::Topic(topic::service("web")));
    let api = reg.register(WatchTarget::Topic(topic::service("api")));
    let all = reg.register(WatchTarget::All);
    let key = reg.register(WatchTarget::Key(Arc::from("k")));
    let mut h = Harness::new();
    h.register_ok(with_service(node("n1", "a"), svc("w", "WEB", &[])));
    let cs = h.applier.publish();
    assert_eq!(reg.notify(&cs), 2);
    assert!(web.is_fired() && all.is_fired());
    assert!(!api.is_fired() && !key.is_fired());
    // Dropping a parked topic watcher unregisters it.
    drop(api);
    assert_eq!(reg.len(), 1);
    let reset = ChangeSet {
        reset: true,
        ..Default::default()
    };
    let again = reg.register(WatchTarget::Topic(topic::nodes()));
    assert_eq!(reg.notify(&reset), 2);
    assert!(again.is_fired() && key.is_fired());
}
