//! The part of Consul's Go API client (api/agent.go) the membership commands use: same
//! paths, query parameters and error texts.
use std::collections::BTreeMap;

use serde::Deserialize;

use crate::api::{unexpected, ApiClient, PATH};
use percent_encoding::utf8_percent_encode;

/// api.AgentMember as the Go client decodes it (missing fields zero, unknown ignored).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase", default)]
pub struct AgentMember {
    pub name: String,
    pub addr: String,
    pub port: u16,
    #[serde(deserialize_with = "null_as_empty")]
    pub tags: BTreeMap<String, String>,
    pub status: i64,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(Option::<BTreeMap<String, String>>::deserialize(d)?.unwrap_or_default())
}

/// api.MembersOpts.
#[derive(Clone, Debug, Default)]
pub struct MembersOpts {
    pub wan: bool,
    pub segment: String,
    pub filter: String,
}

fn require_ok(resp: &crate::http_client::Response) -> Result<(), String> {
    if resp.status != 200 {
        return Err(unexpected(resp.status, &resp.body));
    }
    Ok(())
}

impl ApiClient {
    /// Agent.MembersOpts: `?segment=` is always sent (even empty), `wan=1`, `filter=`.
    pub fn agent_members(&self, opts: &MembersOpts) -> Result<Vec<AgentMember>, String> {
        let mut params = vec![("segment", opts.segment.clone())];
        if opts.wan {
            params.push(("wan", "1".to_string()));
        }
        if !opts.filter.is_empty() {
            params.push(("filter", opts.filter.clone()));
        }
        let resp = self.send("GET", "/v1/agent/members", params, None, None)?;
        require_ok(&resp)?;
        let members: Option<Vec<AgentMember>> = serde_json::from_slice(&resp.body).map_err(|e| e.to_string())?;
        Ok(members.unwrap_or_default())
    }

    /// Agent.Join: PUT /v1/agent/join/<addr>[?wan=1].
    pub fn agent_join(&self, addr: &str, wan: bool) -> Result<(), String> {
        let path = format!("/v1/agent/join/{}", utf8_percent_encode(addr, PATH));
        let params = if wan { vec![("wan", "1".to_string())] } else { Vec::new() };
        require_ok(&self.send("PUT", &path, params, None, None)?)
    }

    /// Agent.Leave: PUT /v1/agent/leave.
    pub fn agent_leave(&self) -> Result<(), String> {
        require_ok(&self.send("PUT", "/v1/agent/leave", Vec::new(), None, None)?)
    }

    /// Agent.ForceLeaveOpts: PUT /v1/agent/force-leave/<node>[?prune=1][&wan=1].
    pub fn agent_force_leave(&self, node: &str, prune: bool, wan: bool) -> Result<(), String> {
        let path = format!("/v1/agent/force-leave/{}", utf8_percent_encode(node, PATH));
        let mut params = Vec::new();
        if prune {
            params.push(("prune", "1".to_string()));
        }
        if wan {
            params.push(("wan", "1".to_string()));
        }
        require_ok(&self.send("PUT", &path, params, None, None)?)
    }

    /// Agent.Self: GET /v1/agent/self, decoded as Go's map[string]map[string]interface{}.
    pub fn agent_self(&self) -> Result<BTreeMap<String, BTreeMap<String, serde_json::Value>>, String> {
        let resp = self.send("GET", "/v1/agent/self", Vec::new(), None, None)?;
        require_ok(&resp)?;
        let out: Option<BTreeMap<String, Option<BTreeMap<String, serde_json::Value>>>> =
            serde_json::from_slice(&resp.body).map_err(|e| e.to_string())?;
        Ok(out.unwrap_or_default().into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect())
    }
}
