//! The leader's reconciliation of gossip membership into the catalog (Consul's
//! `leader.go`: reconcileMember, handleAliveMember, handleFailedMember,
//! handleDeregisterMember, reconcileReaped). Every LAN member of this datacenter
//! becomes a catalog node with a `serfHealth` check; servers also get the `consul`
//! service. The plan is pure: members and a snapshot in, catalog commands out.
use std::collections::{BTreeMap, HashSet};

use ballast_http::Member;
use ballast_store::catalog::{
    DeregisterRequest, HealthCheck, NodeService, RegisterRequest, Weights, HEALTH_CRITICAL, HEALTH_PASSING,
    SERF_CHECK_ID, SERF_CHECK_NAME,
};
use ballast_store::{Command, StateSnapshot};

pub const SERF_ALIVE_OUTPUT: &str = "Agent alive and reachable";
pub const SERF_FAILED_OUTPUT: &str = "Agent not live or unreachable";
const STATUS_ALIVE: u8 = 1;
const STATUS_LEFT: u8 = 3;
const STATUS_FAILED: u8 = 4;

/// Who is reconciling: the leader never deregisters itself (its followers do that
/// once it is gone, as in Consul).
pub struct Reconciler<'a> {
    pub datacenter: &'a str,
    pub self_name: &'a str,
}

impl Reconciler<'_> {
    /// The commands that bring the catalog in line with the members, in member order,
    /// then the reaped nodes. Empty when the catalog already agrees.
    pub fn plan(&self, members: &[Member], state: &StateSnapshot) -> Vec<Command> {
        let mut out = Vec::new();
        let mut known = HashSet::new();
        for m in members.iter().filter(|m| m.tags.get("dc").is_none_or(|dc| dc == self.datacenter)) {
            known.insert(m.name.to_lowercase());
            let cmd = match m.status {
                STATUS_ALIVE => self.alive(m, state),
                STATUS_FAILED => self.failed(m, state),
                STATUS_LEFT => self.deregister(&m.name, state),
                _ => None, // leaving: wait until it has left
            };
            out.extend(cmd);
        }
        // Nodes that carry a serfHealth check but are no longer members were reaped.
        let (checks, _) = state.checks_in_state("any");
        for c in checks.iter().filter(|c| c.check_id == SERF_CHECK_ID) {
            if !known.contains(&c.node.to_lowercase()) {
                out.extend(self.deregister(&c.node, state));
            }
        }
        out
    }

    fn alive(&self, m: &Member, state: &StateSnapshot) -> Option<Command> {
        let service = consul_service(m);
        let node = state.catalog_node(&m.name);
        if let Some(n) = &node {
            let service_ok = match &service {
                None => true,
                Some(want) => state
                    .catalog_node_services(&m.name)
                    .0
                    .is_some_and(|(_, svcs)| svcs.iter().any(|s| s.id == want.id && s.meta == want.meta)),
            };
            if n.address == m.addr && service_ok && serf_status(state, &m.name).as_deref() == Some(HEALTH_PASSING) {
                return None;
            }
        }
        tracing::info!(member = %m.name, "member joined, marking health alive");
        Some(Command::CatalogRegister(self.register(m, node.as_deref(), service, HEALTH_PASSING, SERF_ALIVE_OUTPUT)))
    }

    fn failed(&self, m: &Member, state: &StateSnapshot) -> Option<Command> {
        let node = state.catalog_node(&m.name);
        if node.is_some() && serf_status(state, &m.name).as_deref() == Some(HEALTH_CRITICAL) {
            return None;
        }
        tracing::info!(member = %m.name, "member failed, marking health critical");
        Some(Command::CatalogRegister(self.register(m, node.as_deref(), None, HEALTH_CRITICAL, SERF_FAILED_OUTPUT)))
    }

    fn deregister(&self, name: &str, state: &StateSnapshot) -> Option<Command> {
        if name.eq_ignore_ascii_case(self.self_name) || state.catalog_node(name).is_none() {
            return None;
        }
        tracing::info!(member = %name, "deregistering member");
        Some(Command::CatalogDeregister(DeregisterRequest { node: name.to_string(), service_id: None, check_id: None }))
    }

    fn register(
        &self,
        m: &Member,
        node: Option<&ballast_store::catalog::Node>,
        service: Option<NodeService>,
        status: &str,
        output: &str,
    ) -> RegisterRequest {
        RegisterRequest {
            id: m.tags.get("id").cloned().unwrap_or_default(),
            node: m.name.clone(),
            address: m.addr.clone(),
            datacenter: self.datacenter.to_string(),
            // The agent's own anti-entropy owns these; keep what it wrote.
            tagged_addresses: node.map(|n| n.tagged_addresses.clone()).unwrap_or_default(),
            node_meta: node.map(|n| n.meta.clone()).unwrap_or_default(),
            service,
            checks: vec![HealthCheck {
                node: m.name.clone(),
                check_id: SERF_CHECK_ID.into(),
                name: SERF_CHECK_NAME.into(),
                status: status.into(),
                output: output.into(),
                ..HealthCheck::default()
            }],
            skip_node_update: false,
        }
    }
}

fn serf_status(state: &StateSnapshot, node: &str) -> Option<String> {
    let (checks, _) = state.node_checks(node);
    checks.iter().find(|c| c.check_id == SERF_CHECK_ID).map(|c| c.status.clone())
}

/// The `consul` service every server carries (Consul's handleAliveMember).
fn consul_service(m: &Member) -> Option<NodeService> {
    if m.tags.get("role").map(String::as_str) != Some("consul") {
        return None;
    }
    let port = m.tags.get("port").and_then(|p| p.parse::<i64>().ok()).unwrap_or(8300);
    let flag = |k: &str| (m.tags.get(k).map(String::as_str) == Some("1")).to_string();
    let mut meta = BTreeMap::new();
    meta.insert("non_voter".to_string(), flag("nonvoter"));
    meta.insert("read_replica".to_string(), flag("read_replica"));
    meta.insert("raft_version".to_string(), m.tags.get("raft_vsn").cloned().unwrap_or_else(|| "3".into()));
    meta.insert("serf_protocol_current".to_string(), m.protocol_cur.to_string());
    meta.insert("serf_protocol_max".to_string(), m.protocol_max.to_string());
    meta.insert("serf_protocol_min".to_string(), m.protocol_min.to_string());
    meta.insert("version".to_string(), m.tags.get("build").map(|b| b.split(':').next().unwrap_or(b).to_string()).unwrap_or_default());
    Some(NodeService {
        id: "consul".into(),
        service: "consul".into(),
        port,
        weights: Some(Weights::default()),
        meta,
        ..NodeService::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ballast_store::{Applier, Store};

    fn member(name: &str, addr: &str, status: u8, server: bool) -> Member {
        let mut tags = BTreeMap::new();
        tags.insert("dc".to_string(), "dc1".to_string());
        let n = name.bytes().fold(0u64, |h, b| h * 31 + b as u64);
        tags.insert("id".to_string(), format!("00000000-0000-4000-8000-{n:012x}"));
        tags.insert("role".to_string(), if server { "consul" } else { "node" }.to_string());
        if server {
            tags.insert("port".to_string(), "8300".to_string());
        }
        Member { name: name.into(), addr: addr.into(), status, tags, protocol_cur: 2, protocol_max: 5, protocol_min: 1, ..Member::default() }
    }

    struct World {
        applier: Applier,
        index: u64,
    }

    impl World {
        fn new() -> World {
            World { applier: Applier::new(Store::new()), index: 0 }
        }
        /// Plans as the leader `s1` would, applies the plan, returns it.
        fn reconcile(&mut self, members: &[Member]) -> Vec<Command> {
            let plan = Reconciler { datacenter: "dc1", self_name: "s1" }.plan(members, self.applier.working());
            for cmd in &plan {
                self.index += 1;
                let r = self.applier.apply_command(self.index, cmd);
                assert_eq!(r, ballast_store::ApplyResult::Bool(true), "{cmd:?}");
            }
            self.applier.publish();
            plan
        }
        fn serf(&self, node: &str) -> Option<(String, String)> {
            let (checks, _) = self.applier.working().node_checks(node);
            checks.iter().find(|c| c.check_id == SERF_CHECK_ID).map(|c| (c.status.clone(), c.output.clone()))
        }
    }

    #[test]
    fn alive_members_become_nodes_once() {
        let mut w = World::new();
        let members = [member("s1", "127.0.0.1", STATUS_ALIVE, true), member("c1", "127.0.0.2", STATUS_ALIVE, false)];
        assert_eq!(w.reconcile(&members).len(), 2);
        assert_eq!(w.serf("c1"), Some((HEALTH_PASSING.into(), SERF_ALIVE_OUTPUT.into())));
        let (node, svcs) = w.applier.working().catalog_node_services("s1").0.unwrap();
        assert_eq!(Some(&node.id), members[0].tags.get("id"));
        assert_eq!(svcs.iter().map(|s| s.service.as_str()).collect::<Vec<_>>(), ["consul"]);
        assert_eq!(svcs[0].port, 8300);
        assert!(w.applier.working().catalog_node_services("c1").0.unwrap().1.is_empty());
        assert!(w.reconcile(&members).is_empty(), "an up-to-date catalog needs no writes");
        // A new address is written again.
        let moved = [member("s1", "127.0.0.1", STATUS_ALIVE, true), member("c1", "127.0.0.9", STATUS_ALIVE, false)];
        assert_eq!(w.reconcile(&moved).len(), 1);
        assert_eq!(w.applier.working().catalog_node("c1").unwrap().address, "127.0.0.9");
    }

    #[test]
    fn failed_member_goes_critical_and_back() {
        let mut w = World::new();
        w.reconcile(&[member("s1", "127.0.0.1", STATUS_ALIVE, true), member("c1", "127.0.0.2", STATUS_ALIVE, false)]);
        let failed = [member("s1", "127.0.0.1", STATUS_ALIVE, true), member("c1", "127.0.0.2", STATUS_FAILED, false)];
        assert_eq!(w.reconcile(&failed).len(), 1);
        assert_eq!(w.serf("c1"), Some((HEALTH_CRITICAL.into(), SERF_FAILED_OUTPUT.into())));
        assert!(w.reconcile(&failed).is_empty());
        w.reconcile(&[member("s1", "127.0.0.1", STATUS_ALIVE, true), member("c1", "127.0.0.2", STATUS_ALIVE, false)]);
        assert_eq!(w.serf("c1"), Some((HEALTH_PASSING.into(), SERF_ALIVE_OUTPUT.into())));
    }

    #[test]
    fn left_and_reaped_members_are_deregistered_but_never_the_leader() {
        let mut w = World::new();
        let all = [
            member("s1", "127.0.0.1", STATUS_ALIVE, true),
            member("c1", "127.0.0.2", STATUS_ALIVE, false),
            member("c2", "127.0.0.3", STATUS_ALIVE, false),
        ];
        w.reconcile(&all);
        // A node registered by hand (no serfHealth) is not the reconciler's business.
        w.index += 1;
        let by_hand = RegisterRequest { node: "external".into(), address: "10.0.0.1".into(), ..RegisterRequest::default() };
        w.applier.apply_command(w.index, &Command::CatalogRegister(by_hand));
        let later = [
            member("s1", "127.0.0.1", STATUS_LEFT, true), // the leader itself: left alone
            member("c1", "127.0.0.2", STATUS_LEFT, false),
            // c2 reaped: no longer listed at all
        ];
        assert_eq!(w.reconcile(&later).len(), 2);
        let st = w.applier.working();
        assert!(st.catalog_node("s1").is_some());
        assert!(st.catalog_node("c1").is_none());
        assert!(st.catalog_node("c2").is_none());
        assert!(st.catalog_node("external").is_some());
    }

    #[test]
    fn members_of_other_datacenters_are_ignored() {
        let mut w = World::new();
        let mut far = member("x1", "127.0.0.5", STATUS_ALIVE, true);
        far.tags.insert("dc".into(), "dc2".into());
        assert!(w.reconcile(&[far]).is_empty());
    }
}
