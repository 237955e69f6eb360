//! Gossip membership as the service shards see it: the LAN and WAN member lists (in
//! Consul's `serf.Member` shape) and the servers of this datacenter a client agent
//! forwards to. Published by the control shard behind atomic pointers; read without
//! locks on any shard.
use std::net::SocketAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use ballast_http::{Coord, Member};
use ballast_raft::ServerInfo;

/// A server of this datacenter, as its LAN member tags describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownServer {
    pub info: ServerInfo,
    /// Its RPC address (`ip` + the `port` tag).
    pub rpc: SocketAddr,
    /// `expect` tag (its -bootstrap-expect), 0 when absent.
    pub expect: u32,
    pub read_replica: bool,
}

#[derive(Default)]
pub struct MembersView {
    lan: ArcSwap<Vec<Member>>,
    wan: ArcSwap<Vec<Member>>,
    servers: ArcSwap<Vec<KnownServer>>,
    /// This agent's own LAN coordinate (`/v1/agent/self`'s `Coord`).
    coord: ArcSwap<Option<Coord>>,
    /// Coordinates of the members each pool has probed (and our own), by node name.
    lan_coords: ArcSwap<Vec<(String, Coord)>>,
    wan_coords: ArcSwap<Vec<(String, Coord)>>,
}

impl MembersView {
    pub fn members(&self, wan: bool) -> Arc<Vec<Member>> {
        if wan { self.wan.load_full() } else { self.lan.load_full() }
    }

    /// Alive servers of this datacenter (from the LAN pool).
    pub fn servers(&self) -> Arc<Vec<KnownServer>> {
        self.servers.load_full()
    }

    pub fn coord(&self) -> Option<Coord> {
        (**self.coord.load()).clone()
    }

    pub fn publish_members(&self, wan: bool, members: Vec<Member>) {
        let slot = if wan { &self.wan } else { &self.lan };
        if **slot.load() != members {
            slot.store(Arc::new(members));
        }
    }

    pub fn publish_servers(&self, servers: Vec<KnownServer>) {
        if **self.servers.load() != servers {
            self.servers.store(Arc::new(servers));
        }
    }

    pub fn coords(&self, wan: bool) -> Arc<Vec<(String, Coord)>> {
        if wan { self.wan_coords.load_full() } else { self.lan_coords.load_full() }
    }

    pub fn publish_coords(&self, wan: bool, coords: Vec<(String, Coord)>) {
        let slot = if wan { &self.wan_coords } else { &self.lan_coords };
        slot.store(Arc::new(coords));
    }

    pub fn publish_coord(&self, coord: Coord) {
        self.coord.store(Arc::new(Some(coord)));
    }
}
