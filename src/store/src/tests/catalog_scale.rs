//! A 10k-node catalog: registration and reads stay usable. Costs are
//! asserted structurally (what one write touches), never by timing.

use super::catalog_support::*;
use super::support::Harness;
use crate::catalog::{HEALTH_PASSING, SERF_CHECK_ID};

#[test]
fn ten_thousand_nodes_register_and_read() {
    let mut h = Harness::new();
    for i in 0..10_000u32 {
        let name = format!("node-{i:05}");
        let service = if i % 100 == 0 { "web" } else { "app" };
        let r = with_check(
            with_check(
                with_service(
                    node(&name, "10.0.0.1"),
                    svc(&format!("{service}-{i}"), service, &["v1"]),
                ),
                check(&name, SERF_CHECK_ID, HEALTH_PASSING, ""),
            ),
            check(&name, "svc", HEALTH_PASSING, &format!("{service}-{i}")),
        );
        h.register_ok(r);
        // One write touches a bounded set of topics, whatever the size.
        let cs = h.applier.publish();
        assert!(cs.topics.len() <= 7, "{:?}", cs.topics);
    }
    let s = h.state();
    assert_eq!(s.catalog_nodes().0.len(), 10_000);
    let (web, _) = s.check_service_nodes("web");
    assert_eq!(web.len(), 100);
    assert!(web.iter().all(|e| e.checks.len() == 2));
    assert_eq!(s.catalog_service_nodes("app").0.len(), 9_900);
    assert_eq!(
        s.catalog_services().0,
        vec![
            ("app".to_string(), vec!["v1".to_string()]),
            ("web".to_string(), vec!["v1".to_string()]),
        ]
    );
    // A node-level check change on one node bumps only that node's service.
    let before = s.catalog_service_nodes("app").1;
    let at = h.register_ok(with_check(
        node("node-00000", "10.0.0.1"),
        check("node-00000", SERF_CHECK_ID, "critical", ""),
    ));
    let cs = h.applier.publish();
    assert!(cs.topics.len() <= 4, "{:?}", cs.topics);
    assert_eq!(h.state().check_service_nodes("web").1, at);
    assert_eq!(h.state().catalog_service_nodes("app").1, before);
    // Deleting a node removes only its own rows.
    h.run(dereg("node-00001", None, None));
    assert_eq!(h.state().catalog_nodes().0.len(), 9_999);
    assert_eq!(h.state().checks_in_state("any").0.len(), 19_998);
}
