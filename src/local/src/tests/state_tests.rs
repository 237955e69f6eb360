use std::time::{Duration, Instant};

use ballast_store::catalog::{NODE_MAINT_CHECK_ID};
use serde_json::json;

use super::{register, state};
use crate::{
    decode_check_registration, aggregated_status, LocalConfig, LocalError, LocalState, DEFAULT_NODE_MAINT_REASON,
    DEFAULT_SERVICE_MAINT_REASON,
};

#[test]
fn replace_existing_checks_and_status_carry_over() {
    let mut st = state();
    register(&mut st, r#"{"Name":"web","Checks":[{"CheckID":"a","TTL":"10s"},{"CheckID":"b","TTL":"10s"}]}"#);
    assert!(st.update_check("a", "passing", "ok"));
    // Re-register without b, plain: b stays; a keeps its status.
    let def = crate::decode_service_registration(br#"{"Name":"web","Checks":[{"CheckID":"a","TTL":"10s"}]}"#).unwrap();
    st.register_service(&def, "", false).unwrap();
    assert!(st.check("b").is_some());
    assert_eq!(st.check("a").unwrap().status, "passing");
    st.register_service(&def, "", true).unwrap();
    assert!(st.check("b").is_none(), "replace-existing-checks drops b");
}

#[test]
fn deregister_service_removes_its_checks() {
    let mut st = state();
    register(&mut st, r#"{"Name":"web","Check":{"TTL":"10s"}}"#);
    let g = st.generation();
    st.deregister_service("web").unwrap();
    assert!(st.generation() > g);
    assert!(st.service("web").is_none() && st.check("service:web").is_none());
    assert_eq!(st.deregister_service("never"), Ok(()));
    assert_eq!(st.agent_services_json(), json!({}));
}

#[test]
fn update_check_tracks_critical_and_changes() {
    let mut st = state();
    register(&mut st, r#"{"Name":"web","Check":{"TTL":"10s","Status":"passing"}}"#);
    let t0 = Instant::now();
    assert!(st.check_state("service:web").unwrap().critical_since.is_none());
    assert!(st.update_check_at("service:web", "critical", "down", t0));
    assert_eq!(st.check_state("service:web").unwrap().critical_since, Some(t0));
    assert!(!st.update_check_at("service:web", "critical", "down", t0 + Duration::from_secs(5)));
    assert_eq!(st.check_state("service:web").unwrap().critical_since, Some(t0), "stays at first critical time");
    assert!(st.update_check_at("service:web", "passing", "", t0));
    assert!(st.check_state("service:web").unwrap().critical_since.is_none());
    assert!(!st.update_check("nope", "passing", ""));
}

#[test]
fn ttl_update_requires_ttl_check() {
    let mut st = state();
    register(&mut st, r#"{"Name":"web","Checks":[{"CheckID":"t","TTL":"10s"},{"CheckID":"h","HTTP":"http://x","Interval":"5s"}]}"#);
    assert_eq!(st.update_ttl_check("t", "passing", "fine"), Ok(true));
    assert_eq!(
        st.update_ttl_check("h", "passing", ""),
        Err(LocalError::Internal("CheckID \"h\" does not have associated TTL".into()))
    );
    let long = "x".repeat(5000);
    st.update_ttl_check("t", "warning", &long).unwrap();
    assert_eq!(st.check("t").unwrap().output, format!("{} ...\nCaptured 4096 of 5000 bytes", "x".repeat(4096)));
}

#[test]
fn maintenance_checks() {
    let mut st = state();
    register(&mut st, r#"{"Name":"web","Tags":["a"],"Check":{"TTL":"10s","Status":"passing"}}"#);
    st.enable_service_maintenance("web", "", "").unwrap();
    let c = st.check("_service_maintenance:web").unwrap();
    assert_eq!(c.name, "Service Maintenance Mode");
    assert_eq!(c.notes, DEFAULT_SERVICE_MAINT_REASON);
    assert_eq!((c.status.as_str(), c.check_type.as_str()), ("critical", "maintenance"));
    assert_eq!((c.service_id.as_str(), c.service_name.as_str()), ("web", "web"));
    assert_eq!(c.service_tags, vec!["a"]);
    let h = st.service_health_by_id("web").unwrap();
    assert_eq!((h.aggregated_status, h.status_code), ("maintenance", 503));
    st.disable_service_maintenance("web").unwrap();
    assert_eq!(st.service_health_by_id("web").unwrap().aggregated_status, "passing");
    let e = st.enable_service_maintenance("ghost", "r", "").unwrap_err();
    assert_eq!((e.status(), e.to_string().as_str()), (404, "No service registered with ID \"ghost\""));

    st.enable_node_maintenance("patching", "").unwrap();
    let n = st.check(NODE_MAINT_CHECK_ID).unwrap();
    assert_eq!((n.name.as_str(), n.notes.as_str()), ("Node Maintenance Mode", "patching"));
    assert_eq!(st.service_health_by_name("web").status, "maintenance");
    st.disable_node_maintenance().unwrap();
    st.enable_node_maintenance("", "").unwrap();
    assert_eq!(st.check(NODE_MAINT_CHECK_ID).unwrap().notes, DEFAULT_NODE_MAINT_REASON);
}

#[test]
fn aggregated_health_by_name_and_id() {
    let mut st = state();
    register(&mut st, r#"{"Name":"web","ID":"w1","Check":{"TTL":"10s","Status":"passing"}}"#);
    register(&mut st, r#"{"Name":"web","ID":"w2","Check":{"TTL":"10s","Status":"warning"}}"#);
    register(&mut st, r#"{"Name":"solo"}"#);
    let by = st.service_health_by_name("web");
    assert_eq!((by.status_code, by.status.as_str(), by.instances.len()), (429, "warning", 2));
    st.update_check("service:w1", "critical", "");
    assert_eq!(st.service_health_by_name("web").status_code, 503);
    let none = st.service_health_by_name("nope");
    assert_eq!((none.status_code, none.status.as_str()), (404, "ServiceName nope Not Found"));
    let solo = st.service_health_by_id("solo").unwrap();
    assert_eq!((solo.aggregated_status, solo.status_code), ("passing", 200));
    assert!(st.service_health_by_id("zzz").is_none());
    assert_eq!(aggregated_status(&[]), "passing");
    let j = solo.to_json("dc1");
    assert_eq!(j["Service"]["Datacenter"], "dc1");
    assert_eq!(j["Checks"], json!([]));
}

#[test]
fn agent_views_and_content_hash() {
    let mut st = state();
    register(&mut st, r#"{"Name":"web","Port":80,"Check":{"TTL":"10s"}}"#);
    let all = st.agent_services_json();
    assert_eq!(all["web"]["Tags"], json!([]));
    assert_eq!(all["web"]["Meta"], json!({}));
    assert_eq!(all["web"]["Weights"], json!({"Passing": 1, "Warning": 1}));
    assert_eq!(all["web"]["Datacenter"], "dc1");
    let (one, h1) = st.agent_service_json("web").unwrap();
    assert_eq!(one["ContentHash"], json!(h1));
    let (_, h1_again) = st.agent_service_json("web").unwrap();
    assert_eq!(h1, h1_again, "hash is stable");
    register(&mut st, r#"{"Name":"web","Port":81,"Check":{"TTL":"10s"}}"#);
    assert_ne!(st.agent_service_json("web").unwrap().1, h1);
    let e = st.agent_service_json("nope").unwrap_err();
    assert_eq!((e.status(), e.to_string().as_str()), (404, "unknown service ID: nope"));
    let checks = st.agent_checks_json();
    assert_eq!(checks["service:web"]["ServiceTags"], json!([]));
    assert_eq!(checks["service:web"]["Type"], "ttl");
    assert_eq!(checks["service:web"]["Node"], "node-1");
}

#[test]
fn discard_check_output() {
    let config = LocalConfig { discard_check_output: true, ..LocalConfig::default() };
    let mut st = LocalState::new(super::node(), config);
    let d = decode_check_registration(br#"{"Name":"n","TTL":"10s"}"#).unwrap();
    st.register_check(&d, "").unwrap();
    st.update_check("n", "passing", "noisy");
    assert_eq!(st.check("n").unwrap().output, "");
}

#[test]
fn reaper_lists_long_critical_services() {
    let mut st = state();
    register(&mut st, r#"{"Name":"web","Check":{"TTL":"10s","DeregisterCriticalServiceAfter":"90s"}}"#);
    let t0 = Instant::now();
    st.update_check_at("service:web", "passing", "", t0);
    st.update_check_at("service:web", "critical", "", t0);
    assert!(st.critical_services_to_reap(t0 + Duration::from_secs(60), Duration::from_secs(60)).is_empty());
    assert_eq!(
        st.critical_services_to_reap(t0 + Duration::from_secs(91), Duration::from_secs(60)),
        vec![("service:web".to_string(), "web".to_string())]
    );
}
