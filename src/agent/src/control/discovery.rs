//! How servers find each other: gossip (the LAN pool, joined through `-join` /
//! `-retry-join`) names the servers of this datacenter; each server says Hello to them on
//! their RPC port to learn whether a cluster is configured and who leads. With `-bootstrap-expect=N`, once N servers know each other and none of them has a
//! Raft configuration yet, each writes the same first configuration (all N as voters), as
//! Consul's servers do. A server that finds a configured cluster asks its leader to be
//! added (as a non-voter, promoted once caught up unless it is a read replica).
use std::cell::RefCell;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use ballast_raft::{ConfState, ServerInfo};

use super::notify::Notify;
use super::proto::{decode_response, encode_request, Request, Response};
use super::state::Control;
use crate::lifecycle::ShutdownFlag;

const HELLO_DEADLINE: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct DiscoverySetup {
    /// Servers seen in gossip (alive LAN members with `role=consul` in this datacenter).
    pub members: std::sync::Arc<crate::gossip::MembersView>,
    /// Pause between rounds (bounded: discovery must finish quickly at start).
    pub interval: Duration,
    pub bootstrap_expect: u32,
    pub read_replica: bool,
    pub datacenter: String,
}

/// `ip`, `ip:port`, `[v6]:port`. Host names and cloud auto-join need a resolver that does
/// not block the control shard; they are refused with a message instead.
pub fn parse_join(addr: &str, default_port: u16) -> Result<SocketAddr, String> {
    if let Ok(sa) = addr.parse::<SocketAddr>() {
        return Ok(sa);
    }
    if let Ok(ip) = addr.trim_matches(|c| c == '[' || c == ']').parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, default_port));
    }
    Err(format!("join address {addr:?} is not an IP address (host names and cloud auto-join are not supported yet)"))
}

impl Control {
    /// A server is configured once it has a membership with voters or any log state.
    pub fn configured(&self) -> bool {
        let st = self.raft.status();
        !st.conf.voters.is_empty() || st.term > 0 || st.last_index > 0
    }

    /// Answers another server's Hello and remembers it.
    pub fn hello(&mut self, them: ServerInfo, datacenter: String) -> Response {
        let my_dc = self.datacenter.clone();
        if datacenter == my_dc && them.id != self.me.id && them.id != 0 {
            self.known.insert(them.id, them);
        }
        let mut known: Vec<ServerInfo> = self.known.values().cloned().collect();
        known.push(self.me.clone());
        for s in &self.raft.status().conf.servers {
            if !known.iter().any(|k| k.id == s.id) {
                known.push(s.clone());
            }
        }
        Response::Hello { known, configured: self.configured(), leader: self.leader_info(), datacenter: my_dc }
    }
}

pub async fn run_discovery(ctl: Rc<RefCell<Control>>, notify: Rc<Notify>, setup: DiscoverySetup, shutdown: ShutdownFlag) {
    let mut warned = std::collections::HashSet::new();
    loop {
        if shutdown.is_set() {
            return;
        }
        let (me, configured, wants_join, targets, transport) = {
            let c = ctl.borrow();
            let st = c.raft.status();
            let in_conf = st.conf.voters.contains(&c.me.id) || st.conf.learners.contains(&c.me.id);
            let learner = st.conf.learners.contains(&c.me.id);
            let mut targets: Vec<SocketAddr> = Vec::new();
            for s in setup.members.servers().iter() {
                targets.push(s.rpc);
            }
            for s in c.known.values().chain(st.conf.servers.iter()) {
                if let Ok(a) = s.address.parse::<SocketAddr>() {
                    targets.push(a);
                }
            }
            let mine: Option<SocketAddr> = c.me.address.parse().ok();
            targets.retain(|t| Some(*t) != mine);
            targets.sort();
            targets.dedup();
            let configured = c.configured();
            // Our entry in the membership names an old address or node name (restarted
            // with other flags): the leader rewrites it, as Consul's reconciliation does.
            let stale_entry = in_conf && st.conf.server(c.me.id) != Some(&c.me);
            let wants_join = configured && (!in_conf || (learner && !setup.read_replica) || stale_entry);
            (c.me.clone(), configured, wants_join, targets, c.transport.clone())
        };
        // -bootstrap-expect counts the servers gossip shows, as Consul's does.
        {
            let mut c = ctl.borrow_mut();
            for s in setup.members.servers().iter() {
                if s.info.id != me.id && s.info.id != 0 && !s.read_replica {
                    c.known.insert(s.info.id, s.info.clone());
                }
            }
        }
        if configured && ctl.borrow().is_leader() {
            let alive = setup.members.servers();
            let left: Vec<u64> = setup
                .members
                .members(false)
                .iter()
                .filter(|m| m.status == 3 && m.tags.get("role").map(String::as_str) == Some("consul"))
                .filter(|m| m.tags.get("dc") == Some(&setup.datacenter))
                .filter_map(|m| m.tags.get("id").map(|id| crate::lifecycle::raft_id_from_node_id(id)))
                .collect();
            ctl.borrow_mut().reconcile(&alive, &left);
            notify.signal();
        }
        if wants_join && ctl.borrow().is_leader() {
            let mut c = ctl.borrow_mut();
            let me = c.me.clone();
            let _ = c.join(me, setup.read_replica);
            drop(c);
            notify.signal();
            glommio::timer::sleep(setup.interval).await;
            continue;
        }
        if configured && !wants_join {
            // A voter (or read replica) in the configuration: Raft carries on from here.
            glommio::timer::sleep(setup.interval * 5).await;
            continue;
        }
        let mut others_configured = false;
        let mut leader: Option<ServerInfo> = None;
        for t in &targets {
            let req = Request::Hello { me: me.clone(), datacenter: setup.datacenter.clone(), bootstrap_expect: setup.bootstrap_expect, read_replica: setup.read_replica };
            let Ok(Ok(Response::Hello { known, configured, leader: l, datacenter })) = transport
                .call(*t, encode_request(&req), Some(HELLO_DEADLINE))
                .await
                .map_err(|e| e.to_string())
                .map(|b| decode_response(&b))
            else {
                continue;
            };
            if datacenter != setup.datacenter {
                if warned.insert(format!("dc:{t}")) {
                    tracing::warn!("server at {t} is in datacenter {datacenter:?}, not {:?}: ignored", setup.datacenter);
                }
                continue;
            }
            others_configured |= configured;
            if l.is_some() {
                leader = l;
            }
            let mut c = ctl.borrow_mut();
            for k in known {
                if k.id != me.id && k.id != 0 {
                    c.known.insert(k.id, k);
                }
            }
        }
        if !configured && !others_configured && setup.bootstrap_expect > 1 {
            let mut c = ctl.borrow_mut();
            let mut servers: Vec<ServerInfo> = c.known.values().cloned().collect();
            servers.push(me.clone());
            servers.sort_by_key(|s| s.id);
            if servers.len() >= setup.bootstrap_expect as usize && c.pending_bootstrap.is_none() {
                let voters = servers.iter().map(|s| s.id).collect();
                tracing::info!(servers = servers.len(), "found the expected servers: bootstrapping the cluster");
                c.pending_bootstrap = Some(ConfState { voters, learners: vec![], servers });
                drop(c);
                notify.signal();
            }
        } else if others_configured || wants_join {
            if let Some(l) = leader.filter(|l| l.id != me.id) {
                if let Ok(addr) = l.address.parse::<SocketAddr>() {
                    let req = Request::Join { me: me.clone(), read_replica: setup.read_replica };
                    match transport.call(addr, encode_request(&req), Some(HELLO_DEADLINE)).await {
                        Ok(b) => match decode_response(&b) {
                            Ok(Response::Done) => {}
                            other => tracing::debug!("join via {addr}: {other:?}"),
                        },
                        Err(e) => tracing::debug!("join via {addr}: {e}"),
                    }
                    notify.signal();
                }
            }
        }
        glommio::timer::sleep(setup.interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::parse_join;

    #[test]
    fn join_addresses() {
        assert_eq!(parse_join("127.0.0.2", 8301).unwrap().to_string(), "127.0.0.2:8301");
        assert_eq!(parse_join("127.0.0.2:9000", 8301).unwrap().to_string(), "127.0.0.2:9000");
        assert_eq!(parse_join("::1", 8301).unwrap().to_string(), "[::1]:8301");
        assert!(parse_join("provider=aws tag_key=x", 8301).is_err());
    }
}
