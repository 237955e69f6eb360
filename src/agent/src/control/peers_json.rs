//! peers.json outage recovery, as Consul documents it: an operator writes
//! `<data_dir>/raft/peers.json` on every surviving server and starts them; each server
//! reads it once at start, forces that membership (committing everything in its log into a
//! snapshot, as hashicorp/raft's RecoverCluster does) and deletes the file.
use std::path::{Path, PathBuf};

use ballast_raft::{ConfState, ServerInfo};
use serde::Deserialize;

use crate::lifecycle::raft_id_from_node_id;

#[derive(Deserialize)]
struct PeerEntry {
    id: String,
    address: String,
    #[serde(default)]
    non_voter: bool,
}

pub fn path(raft_dir: &Path) -> PathBuf {
    raft_dir.join("peers.json")
}

/// The membership the file asks for, or None when there is no file.
pub fn load(raft_dir: &Path) -> Result<Option<ConfState>, String> {
    let p = path(raft_dir);
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("reading {}: {e}", p.display())),
    };
    parse(&text).map(Some).map_err(|e| format!("recovery file {}: {e}", p.display()))
}

pub fn parse(text: &str) -> Result<ConfState, String> {
    if text.trim().is_empty() {
        return Err("the file is empty".into());
    }
    let entries: Vec<PeerEntry> = serde_json::from_str(text).map_err(|e| {
        if serde_json::from_str::<Vec<String>>(text).is_ok() {
            "the old list-of-addresses format (Raft protocol 2) names no server IDs; use the protocol 3 format [{\"id\": ..., \"address\": ..., \"non_voter\": false}]".to_string()
        } else {
            format!("not valid peers.json: {e}")
        }
    })?;
    let mut conf = ConfState::default();
    for p in entries {
        if p.id.is_empty() || p.address.parse::<std::net::SocketAddr>().is_err() {
            return Err(format!("entry {:?} / {:?}: needs a node ID and an ip:port address", p.id, p.address));
        }
        let id = raft_id_from_node_id(&p.id);
        if conf.servers.iter().any(|s| s.id == id) {
            return Err(format!("server ID {} appears twice", p.id));
        }
        if p.non_voter {
            conf.learners.push(id);
        } else {
            conf.voters.push(id);
        }
        conf.servers.push(ServerInfo { id, address: p.address.clone(), node: p.address, node_id: p.id });
    }
    if conf.voters.is_empty() {
        return Err("no voting server listed".into());
    }
    Ok(conf)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn protocol_3_format_and_errors() {
        let c = parse(r#"[{"id":"adf4238a-882b-9ddc-4a9d-5b6758e4159e","address":"10.1.0.1:8300","non_voter":false},
                          {"id":"8b6dda82-3103-11e7-93ae-92361f002671","address":"10.1.0.2:8300","non_voter":true}]"#)
        .unwrap();
        assert_eq!((c.voters.len(), c.learners.len(), c.servers.len()), (1, 1, 2));
        assert!(parse(r#"["10.1.0.1:8300"]"#).unwrap_err().contains("protocol 2"));
        assert!(parse("").is_err());
        assert!(parse(r#"[{"id":"x","address":"nope"}]"#).is_err());
        assert!(parse(r#"[{"id":"x","address":"10.0.0.1:8300","non_voter":true}]"#).unwrap_err().contains("no voting"));
    }
}
