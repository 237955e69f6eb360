//! Keeps the transport's peer table and the published cluster view in step with the
//! membership the core has in force. Runs on the tick and after membership changes.
use ballast_raft::Role;

use super::proto::{Response, WireServer};
use super::state::Control;
use crate::cluster_view::{ClusterInfo, ServerEntry};

pub fn sync(c: &mut Control) {
    let st = c.raft.status();
    let mut servers: Vec<ServerEntry> = Vec::new();
    for info in &st.conf.servers {
        let last_index = if info.id == c.me.id {
            st.last_index
        } else {
            st.peers.iter().find(|p| p.id == info.id).map_or(0, |p| p.match_index)
        };
        servers.push(ServerEntry { info: info.clone(), voter: st.conf.voters.contains(&info.id), last_index });
    }
    if !servers.iter().any(|s| s.info.id == c.me.id) && (st.conf.voters.contains(&c.me.id) || st.conf.learners.contains(&c.me.id)) {
        // A membership written before server addresses were recorded: we know ourselves.
        servers.push(ServerEntry { info: c.me.clone(), voter: st.conf.voters.contains(&c.me.id), last_index: st.last_index });
    }
    // Members, plus servers discovery heard of: a server not configured yet must still
    // answer the votes and appends of the servers that will make it a member.
    // The membership's address wins over a discovered one.
    let mut wanted: Vec<(u64, std::net::SocketAddr)> = Vec::new();
    for s in servers.iter().map(|s| &s.info).chain(c.known.values()) {
        if s.id != c.me.id && !wanted.iter().any(|(id, _)| *id == s.id) {
            if let Ok(a) = s.address.parse() {
                wanted.push((s.id, a));
            }
        }
    }
    let have = c.transport.peers();
    for (id, addr) in &wanted {
        if !have.iter().any(|(i, a)| i == id && a == addr) {
            c.transport.set_peer(*id, *addr);
        }
    }
    for (id, _) in have {
        if !wanted.iter().any(|(i, _)| *i == id) {
            c.transport.remove_peer(id);
        }
    }
    let state = match st.role {
        Role::Leader => "Leader",
        Role::Follower => "Follower",
        Role::Candidate | Role::PreCandidate => "Candidate",
    };
    c.cluster.publish_if_changed(ClusterInfo {
        servers,
        leader: st.leader,
        term: st.term,
        commit: st.commit,
        last_index: st.last_index,
        applied: c.applied(),
        conf_index: c.raft.conf_index(),
        state,
    });
}

/// The leader's answer to a forwarded configuration request.
pub fn to_wire(c: &mut Control) -> Response {
    if !c.is_leader() {
        return Response::NotLeader { leader: c.leader_info() };
    }
    sync(c);
    let info = c.cluster.load();
    let servers = info.servers.iter().map(|s| WireServer { info: s.info.clone(), voter: s.voter, last_index: s.last_index }).collect();
    Response::Configuration { servers, leader: info.leader.unwrap_or(0), index: info.conf_index }
}

pub fn from_wire(servers: Vec<WireServer>, leader: u64, index: u64) -> ClusterInfo {
    ClusterInfo {
        servers: servers.into_iter().map(|s| ServerEntry { info: s.info, voter: s.voter, last_index: s.last_index }).collect(),
        leader: (leader != 0).then_some(leader),
        conf_index: index,
        state: "Follower",
        ..ClusterInfo::default()
    }
}
