//! The part of Consul's Go API client (api/operator_raft.go) the raft commands use: same
//! paths, parameters and error texts.
use serde::Deserialize;

use crate::api::{unexpected, ApiClient};

/// api.RaftServer as decoded by the Go client (missing fields stay zero, unknown ignored).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase", default)]
pub struct RaftServer {
    #[serde(rename = "ID")]
    pub id: String,
    pub node: String,
    pub address: String,
    pub leader: bool,
    pub protocol_version: String,
    pub voter: bool,
    pub last_index: u64,
}

/// api.RaftConfiguration; `"Servers":null` decodes as empty.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase", default)]
pub struct RaftConfiguration {
    #[serde(deserialize_with = "null_as_empty")]
    pub servers: Vec<RaftServer>,
    pub index: u64,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<RaftServer>, D::Error> {
    Ok(Option::<Vec<RaftServer>>::deserialize(d)?.unwrap_or_default())
}

/// api.TransferLeaderResponse.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TransferLeaderResponse {
    pub success: bool,
}

/// Which peer remove-peer names.
#[derive(Clone, Debug)]
pub enum Peer<'a> {
    Id(&'a str),
    Address(&'a str),
}

const CONFIGURATION: &str = "/v1/operator/raft/configuration";
const PEER: &str = "/v1/operator/raft/peer";
const TRANSFER: &str = "/v1/operator/raft/transfer-leader";

impl ApiClient {
    /// Query options as the Go client sets them: `?stale` when allowed.
    fn query_params(&self) -> Vec<(&'static str, String)> {
        if self.stale {
            vec![("stale", String::new())]
        } else {
            Vec::new()
        }
    }

    /// Operator.RaftGetConfiguration.
    pub fn raft_configuration(&self) -> Result<RaftConfiguration, String> {
        let resp = self.send("GET", CONFIGURATION, self.query_params(), None, None)?;
        if resp.status != 200 {
            return Err(unexpected(resp.status, &resp.body));
        }
        serde_json::from_slice(&resp.body).map_err(|e| e.to_string())
    }

    /// Operator.RaftRemovePeerByID / RaftRemovePeerByAddress (write options: no `?stale`).
    pub fn raft_remove_peer(&self, peer: &Peer) -> Result<(), String> {
        let param = match peer {
            Peer::Id(id) => ("id", id.to_string()),
            Peer::Address(addr) => ("address", addr.to_string()),
        };
        let resp = self.send("DELETE", PEER, vec![param], None, None)?;
        if resp.status != 200 {
            return Err(unexpected(resp.status, &resp.body));
        }
        Ok(())
    }

    /// Operator.RaftLeaderTransfer: `?id=` only when one is given.
    pub fn raft_transfer_leader(&self, id: &str) -> Result<TransferLeaderResponse, String> {
        let mut params = self.query_params();
        if !id.is_empty() {
            params.push(("id", id.to_string()));
        }
        let resp = self.send("POST", TRANSFER, params, None, None)?;
        if resp.status != 200 {
            return Err(unexpected(resp.status, &resp.body));
        }
        serde_json::from_slice(&resp.body).map_err(|e| e.to_string())
    }
}
