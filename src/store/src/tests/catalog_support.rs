//! Builders for catalog commands and a few shared assertions.

use std::collections::{BTreeMap, BTreeSet};

use super::support::Harness;
use crate::catalog::{DeregisterRequest, HealthCheck, NodeService, RegisterRequest};
use crate::{ApplyResult, Command, StateSnapshot};

pub const ID_A: &str = "40e4a748-2192-161a-0510-9bf59fe950b5";
pub const ID_B: &str = "8f246b77-f3e1-ff88-5b48-8ec93abf3e05";

pub fn node(name: &str, addr: &str) -> RegisterRequest {
    RegisterRequest {
        node: name.into(),
        address: addr.into(),
        datacenter: "dc1".into(),
        ..Default::default()
    }
}

pub fn svc(id: &str, name: &str, tags: &[&str]) -> NodeService {
    NodeService {
        id: id.into(),
        service: name.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        port: 8080,
        ..Default::default()
    }
}

pub fn check(node: &str, id: &str, status: &str, service_id: &str) -> HealthCheck {
    HealthCheck {
        node: node.into(),
        check_id: id.into(),
        name: format!("{id} check"),
        status: status.into(),
        service_id: service_id.into(),
        ..Default::default()
    }
}

pub fn with_service(mut r: RegisterRequest, s: NodeService) -> RegisterRequest {
    r.service = Some(s);
    r
}

pub fn with_check(mut r: RegisterRequest, c: HealthCheck) -> RegisterRequest {
    r.checks.push(c);
    r
}

pub fn dereg(node: &str, service_id: Option<&str>, check_id: Option<&str>) -> Command {
    Command::CatalogDeregister(DeregisterRequest {
        node: node.into(),
        service_id: service_id.map(str::to_string),
        check_id: check_id.map(str::to_string),
    })
}

impl Harness {
    pub fn register(&mut self, r: RegisterRequest) -> ApplyResult {
        self.run(Command::CatalogRegister(r))
    }

    /// Register and insist it worked; returns the raft index used.
    pub fn register_ok(&mut self, r: RegisterRequest) -> u64 {
        let at = self.at();
        assert_eq!(self.register(r), ApplyResult::Bool(true));
        at
    }
}

/// `catalog_services` recomputed the slow way (Consul's full scan).
pub fn services_by_scan(s: &StateSnapshot) -> Vec<(String, Vec<String>)> {
    let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, svc) in s.catalog.services.iter() {
        m.entry(svc.service.clone())
            .or_default()
            .extend(svc.tags.iter().cloned());
    }
    m.into_iter()
        .map(|(k, v)| (k, v.into_iter().collect()))
        .collect()
}
