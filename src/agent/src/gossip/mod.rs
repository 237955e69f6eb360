//! Gossip on the control shard: the LAN pool (every agent of the datacenter) and, on
//! servers, the WAN pool (servers of every datacenter). Each pool is the sans-IO core in
//! `ballast-gossip` driven by [`pool::Pool`]. This module adds what Consul layers on Serf:
//! member tags, the member list in `serf.Member` shape, servers found through gossip,
//! joins with retries, leave, force-leave, keyring operations and Vivaldi coordinates.
mod coords;
mod framing;
mod keyring_ops;
mod ops;
mod pool;
mod view;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use ballast_config::GossipTuning;
use ballast_gossip::{Config, Status};
use ballast_keyring::Keyring;

use crate::control::parse_join;
use crate::lifecycle::{raft_id_from_node_id, ShutdownFlag};
pub use ops::handle as handle_op;
pub use pool::{Pool, PoolKind};
pub use view::{KnownServer, MembersView};

/// How long a graceful leave may take to spread before the agent stops (Serf's
/// broadcast timeout).
const LEAVE_PROPAGATE: Duration = Duration::from_secs(5);

pub struct PoolSetup {
    pub bind: SocketAddr,
    pub advertise: SocketAddr,
    pub name: String,
    pub tags: BTreeMap<String, String>,
    pub tuning: GossipTuning,
    pub reconnect_timeout: Duration,
    pub keyring: Option<Keyring>,
    pub keyring_path: Option<PathBuf>,
    /// `-join` (once, at start) and `-retry-join` addresses, their default port, interval
    /// and attempt limit (0 = forever).
    pub start_join: Vec<String>,
    pub retry_join: Vec<String>,
    pub retry_interval: Duration,
    pub retry_max: u32,
}

pub struct GossipSetup {
    pub datacenter: String,
    pub lan: PoolSetup,
    pub wan: Option<PoolSetup>,
}

pub struct GossipAgent {
    pub lan: Rc<Pool>,
    lan_coords: Rc<std::cell::RefCell<coords::CoordState>>,
    pub wan: Option<Rc<Pool>>,
    pub datacenter: String,
    shutdown: ShutdownFlag,
}

impl GossipAgent {
    pub fn start(setup: GossipSetup, view: Arc<MembersView>, shutdown: ShutdownFlag) -> Result<Rc<GossipAgent>, String> {
        let (lan, lan_coords) = start_pool(PoolKind::Lan, &setup.lan, view.clone(), shutdown.clone())?;
        let wan = match &setup.wan {
            Some(w) => Some(start_pool(PoolKind::Wan, w, view.clone(), shutdown.clone())?.0),
            None => None,
        };
        let agent = Rc::new(GossipAgent { lan, lan_coords, wan, datacenter: setup.datacenter.clone(), shutdown });
        if agent.wan.is_some() {
            glommio::spawn_local(agent.clone().flood_wan()).detach();
        }
        for (kind, p) in [(PoolKind::Lan, Some(setup.lan)), (PoolKind::Wan, setup.wan)] {
            let Some(p) = p else { continue };
            let a = agent.clone();
            glommio::spawn_local(async move { a.join_at_start(kind, p).await }).detach();
        }
        Ok(agent)
    }

    fn pool(&self, wan: bool) -> Result<&Rc<Pool>, String> {
        match (wan, &self.wan) {
            (false, _) => Ok(&self.lan),
            (true, Some(w)) => Ok(w),
            (true, None) => Err("WAN pool is not available on client agents".into()),
        }
    }

    /// Joins through each address (push-pull); the number that answered, or the errors
    /// as Consul words them when none did.
    pub async fn join(&self, addrs: &[String], wan: bool) -> Result<usize, String> {
        let pool = self.pool(wan)?.clone();
        let default_port = pool.core().config().addr.port();
        let mut ok = 0;
        let mut errors = Vec::new();
        for a in addrs {
            let target = match parse_join(a, default_port) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(format!("Failed to resolve {a}: {e}"));
                    continue;
                }
            };
            match pool.push_pull(target, true).await {
                Ok(()) => ok += 1,
                Err(e) => errors.push(format!("Failed to join {target}: {e}")),
            }
        }
        if ok == 0 && !errors.is_empty() {
            return Err(multierror(&errors));
        }
        Ok(ok)
    }

    /// Leaves every pool gracefully (Serf: leave intent, then wait for it to spread).
    pub async fn leave(&self) {
        let pools: Vec<Rc<Pool>> = std::iter::once(self.lan.clone()).chain(self.wan.clone()).collect();
        for p in &pools {
            p.with_core(|c, now| c.leave(now));
        }
        let deadline = std::time::Instant::now() + LEAVE_PROPAGATE;
        while std::time::Instant::now() < deadline && !pools.iter().all(|p| p.core().leave_done()) {
            glommio::timer::sleep(Duration::from_millis(50)).await;
        }
        tracing::info!("serf: graceful leave complete");
    }

    /// Consul's ForceLeave: unknown nodes are an error; `prune` forgets the node at once.
    /// On the LAN it also removes the node's WAN entry (`<node>.<dc>`) on a server.
    pub fn force_leave(&self, node: &str, prune: bool, wan: bool) -> Result<(), String> {
        tracing::info!(node, prune, wan, "agent: force leaving node");
        let pool = self.pool(wan)?;
        if pool.core().member(node).is_none() {
            return Err(format!("agent: No node found with name '{node}'"));
        }
        pool.with_core(|c, now| c.force_leave(node, prune, now))?;
        if !wan {
            if let Some(w) = &self.wan {
                let wan_name = format!("{node}.{}", self.datacenter);
                if w.core().member(&wan_name).is_some() {
                    let _ = w.with_core(|c, now| c.force_leave(&wan_name, prune, now));
                }
            }
        }
        Ok(())
    }

    /// Consul's flood joiner: a server joins the WAN pool of every server it sees in the
    /// LAN pool (their `wan_join_port` tag), so one datacenter's servers find each other
    /// on the WAN without configuration.
    async fn flood_wan(self: Rc<Self>) {
        const FLOOD_EVERY: Duration = Duration::from_secs(2);
        while !self.shutdown.is_set() {
            glommio::timer::sleep(FLOOD_EVERY).await;
            let Some(wan) = self.wan.clone() else { return };
            let targets: Vec<SocketAddr> = {
                let lan = self.lan.core();
                let wan_core = wan.core();
                lan.members()
                    .filter(|m| matches!(m.status, Status::Alive) && m.tags.get("role").map(String::as_str) == Some("consul"))
                    .filter(|m| m.tags.get("dc") == Some(&self.datacenter))
                    .filter(|m| {
                        let wan_name = format!("{}.{}", m.name, self.datacenter);
                        !wan_core.member(&wan_name).is_some_and(|w| matches!(w.status, Status::Alive))
                    })
                    .filter_map(|m| Some(SocketAddr::new(m.addr.ip(), m.tags.get("wan_join_port")?.parse().ok()?)))
                    .collect()
            };
            for t in targets {
                if let Err(e) = wan.push_pull(t, true).await {
                    tracing::debug!("serf: WAN flood join of {t} failed: {e}");
                }
            }
        }
    }

    /// `PUT /v1/coordinate/update` for a LAN node.
    pub fn update_coordinate(&self, node: &str, coord: ballast_coordinate::Coordinate) -> Result<(), String> {
        coords::update(&self.lan, &self.lan_coords, node, coord)
    }

    async fn join_at_start(self: Rc<Self>, kind: PoolKind, setup: PoolSetup) {
        let wan = kind == PoolKind::Wan;
        if !setup.start_join.is_empty() {
            match self.join(&setup.start_join, wan).await {
                Ok(n) => tracing::info!(pool = kind.label(), "agent: joined {n} agents (-join)"),
                Err(e) => tracing::warn!(pool = kind.label(), "agent: -join failed: {e}"),
            }
        }
        if setup.retry_join.is_empty() {
            return;
        }
        let mut attempt = 0u32;
        loop {
            if self.shutdown.is_set() {
                return;
            }
            attempt += 1;
            match self.join(&setup.retry_join, wan).await {
                Ok(n) => {
                    tracing::info!(pool = kind.label(), num_agents = n, "agent: Join cluster completed. Synced with initial agents");
                    return;
                }
                Err(e) => {
                    if setup.retry_max > 0 && attempt >= setup.retry_max {
                        tracing::error!(pool = kind.label(), "agent: max join retry exhausted, exiting: {e}");
                        self.shutdown.fail();
                        return;
                    }
                    tracing::warn!(pool = kind.label(), attempt, "agent: Join cluster failed, will retry in {:?}: {e}", setup.retry_interval);
                }
            }
            glommio::timer::sleep(setup.retry_interval).await;
        }
    }
}

type PoolAndCoords = (Rc<Pool>, Rc<std::cell::RefCell<coords::CoordState>>);

fn start_pool(kind: PoolKind, s: &PoolSetup, view: Arc<MembersView>, shutdown: ShutdownFlag) -> Result<PoolAndCoords, String> {
    let mut cfg = match kind {
        PoolKind::Lan => Config::lan(&s.name, s.advertise),
        PoolKind::Wan => Config::wan(&s.name, s.advertise),
    };
    cfg.tags = s.tags.clone();
    let t = &s.tuning;
    if let Some(v) = t.gossip_nodes {
        cfg.gossip_nodes = v as usize;
    }
    if let Some(v) = t.gossip_interval {
        cfg.gossip_interval = v;
    }
    if let Some(v) = t.probe_interval {
        cfg.probe_interval = v;
    }
    if let Some(v) = t.probe_timeout {
        cfg.probe_timeout = v;
    }
    if let Some(v) = t.suspicion_mult {
        cfg.suspicion_mult = v;
    }
    if let Some(v) = t.retransmit_mult {
        cfg.retransmit_mult = v;
    }
    cfg.reconnect_timeout = s.reconnect_timeout;
    let encrypted = s.keyring.is_some();
    // Room for the sealing (version, nonce, tag) or the plain marker in one datagram.
    cfg.packet_budget = cfg.packet_budget.saturating_sub(ballast_keyring::OVERHEAD + 1);
    let pool = Pool::start(kind, cfg, s.bind, s.keyring.clone(), s.keyring_path.clone(), view, shutdown)?;
    let coords = coords::attach(&pool);
    tracing::info!(
        pool = kind.label(),
        bind = %s.bind,
        advertise = %s.advertise,
        encrypted,
        "serf: {} pool listening (udp and tcp)",
        kind.label().to_uppercase()
    );
    Ok((pool, coords))
}

fn multierror(errors: &[String]) -> String {
    let n = errors.len();
    let items: Vec<String> = errors.iter().map(|e| format!("\t* {e}")).collect();
    format!("{n} error{} occurred:\n{}\n\n", if n == 1 { "" } else { "s" }, items.join("\n"))
}

/// A core member in Consul's `serf.Member` JSON shape.
pub fn member_json(m: &ballast_gossip::Member) -> ballast_http::Member {
    ballast_http::Member {
        name: m.name.clone(),
        addr: m.addr.ip().to_string(),
        port: m.addr.port(),
        tags: m.tags.clone(),
        status: status_code(m.status),
        protocol_min: 1,
        protocol_max: 5,
        protocol_cur: 2,
        delegate_min: 2,
        delegate_max: 5,
        delegate_cur: 4,
    }
}

fn status_code(s: Status) -> u8 {
    match s {
        Status::None => 0,
        Status::Alive => 1,
        Status::Leaving => 2,
        Status::Left => 3,
        Status::Failed => 4,
    }
}

/// A live LAN member that is a server of this datacenter, from its tags (`role=consul`,
/// `dc`, `id`, `port`).
pub fn known_server(m: &ballast_gossip::Member) -> Option<KnownServer> {
    if !matches!(m.status, Status::Alive) || m.tags.get("role").map(String::as_str) != Some("consul") {
        return None;
    }
    let node_id = m.tags.get("id")?.clone();
    let port: u16 = m.tags.get("port")?.parse().ok()?;
    let rpc = SocketAddr::new(m.addr.ip(), port);
    Some(KnownServer {
        info: ballast_raft::ServerInfo { id: raft_id_from_node_id(&node_id), address: rpc.to_string(), node: m.name.clone(), node_id },
        rpc,
        expect: m.tags.get("expect").and_then(|e| e.parse().ok()).unwrap_or(0),
        read_replica: m.tags.contains_key("read_replica") || m.tags.contains_key("nonvoter"),
    })
}
