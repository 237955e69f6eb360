//! The keyring HTTP API's JSON (/v1/operator/keyring), field for field as Consul's
//! structs.KeyringResponse (agent/structs/structs.go), which the HTTP handler returns as
//! is; and the tally of per-agent replies that fills it (serf keymanager.go).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::keyop::KeyOpReply;

/// One pool's answer. Maps are BTreeMaps so the JSON has sorted keys, as Go writes maps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KeyringResponse {
    #[serde(rename = "WAN")]
    pub wan: bool,
    #[serde(rename = "Datacenter")]
    pub datacenter: String,
    #[serde(rename = "Segment")]
    pub segment: String,
    #[serde(rename = "Partition", skip_serializing_if = "String::is_empty")]
    pub partition: String,
    #[serde(rename = "Messages", skip_serializing_if = "BTreeMap::is_empty")]
    pub messages: BTreeMap<String, String>,
    /// Base64 key -> number of agents that have it installed.
    #[serde(rename = "Keys")]
    pub keys: BTreeMap<String, u32>,
    /// Base64 key -> number of agents using it as their primary.
    #[serde(rename = "PrimaryKeys")]
    pub primary_keys: BTreeMap<String, u32>,
    #[serde(rename = "NumNodes")]
    pub num_nodes: u32,
    #[serde(rename = "Error", skip_serializing_if = "String::is_empty")]
    pub error: String,
}

/// Body of POST (install), PUT (use) and DELETE (remove) on /v1/operator/keyring.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KeyringRequest {
    #[serde(rename = "Key")]
    pub key: String,
}

/// Gathers the replies of one pool's agents to a key query.
#[derive(Debug, Clone)]
pub struct KeyTally {
    num_nodes: u32,
    num_resp: u32,
    num_err: u32,
    messages: BTreeMap<String, String>,
    keys: BTreeMap<String, u32>,
    primary_keys: BTreeMap<String, u32>,
}

impl KeyTally {
    /// `num_nodes`: members the pool knows of when the query goes out.
    pub fn new(num_nodes: u32) -> KeyTally {
        KeyTally {
            num_nodes,
            num_resp: 0,
            num_err: 0,
            messages: BTreeMap::new(),
            keys: BTreeMap::new(),
            primary_keys: BTreeMap::new(),
        }
    }

    /// One agent's reply, or the raw bytes that failed to decode.
    pub fn add(&mut self, from: &str, reply: Result<&KeyOpReply, &[u8]>) {
        self.num_resp += 1;
        let reply = match reply {
            Ok(r) => r,
            Err(raw) => {
                // serf keymanager.go streamKeyResp's text.
                self.messages.insert(from.to_owned(), format!("Failed to decode key query response: {raw:?}"));
                self.num_err += 1;
                return;
            }
        };
        if let Err(msg) = &reply.result {
            self.messages.insert(from.to_owned(), msg.clone());
            self.num_err += 1;
        }
        for k in &reply.keys {
            *self.keys.entry(k.clone()).or_insert(0) += 1;
        }
        if let Some(p) = &reply.primary {
            *self.primary_keys.entry(p.clone()).or_insert(0) += 1;
        }
    }

    /// True once every known agent answered (the query can stop waiting).
    pub fn complete(&self) -> bool {
        self.num_resp >= self.num_nodes
    }

    /// The pool's response; `error` carries serf's texts when agents failed or stayed silent.
    pub fn finish(self, wan: bool, datacenter: &str, segment: &str) -> KeyringResponse {
        let error = if self.num_err != 0 {
            format!("{}/{} nodes reported failure", self.num_err, self.num_nodes)
        } else if self.num_resp != self.num_nodes {
            format!("{}/{} nodes reported success", self.num_resp, self.num_nodes)
        } else {
            String::new()
        };
        KeyringResponse {
            wan,
            datacenter: datacenter.to_owned(),
            segment: segment.to_owned(),
            partition: String::new(),
            messages: self.messages,
            keys: self.keys,
            primary_keys: self.primary_keys,
            num_nodes: self.num_nodes,
            error,
        }
    }
}
