//! The part of Consul's Go API client (api/agent.go) `maint` uses: the agent's node name,
//! its checks, and the node and service maintenance switches.
use std::collections::BTreeMap;

use percent_encoding::utf8_percent_encode;
use serde::Deserialize;

use crate::api::{unexpected, ApiClient, PATH};

/// The fields of api.AgentCheck that `maint` reads.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase", default)]
pub struct AgentCheck {
    #[serde(rename = "CheckID")]
    pub check_id: String,
    #[serde(rename = "ServiceID")]
    pub service_id: String,
    pub notes: String,
}

/// What maintenance applies to.
#[derive(Clone, Copy, Debug)]
pub enum MaintTarget<'a> {
    Node,
    Service(&'a str),
}

impl ApiClient {
    fn require_ok(&self, method: &str, path: &str, params: Vec<(&str, String)>) -> Result<Vec<u8>, String> {
        let resp = self.send(method, path, params, None, None)?;
        if resp.status != 200 {
            return Err(unexpected(resp.status, &resp.body));
        }
        Ok(resp.body)
    }

    /// Agent.NodeName: `Config.NodeName` from GET /v1/agent/self.
    pub fn agent_node_name(&self) -> Result<String, String> {
        let me = self.agent_self()?;
        Ok(me.get("Config").and_then(|c| c.get("NodeName")).and_then(|n| n.as_str()).unwrap_or_default().to_string())
    }

    /// Agent.Checks: GET /v1/agent/checks, by check ID.
    pub fn agent_checks(&self) -> Result<BTreeMap<String, AgentCheck>, String> {
        let body = self.require_ok("GET", "/v1/agent/checks", Vec::new())?;
        let checks: Option<BTreeMap<String, Option<AgentCheck>>> =
            serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        Ok(checks.unwrap_or_default().into_iter().filter_map(|(k, v)| v.map(|c| (k, c))).collect())
    }

    /// Agent.Enable/DisableNodeMaintenance and Enable/DisableServiceMaintenance:
    /// PUT ...?enable=true&reason=<r> to enable, ?enable=false to disable.
    pub fn agent_maintenance(&self, target: MaintTarget, enable: bool, reason: &str) -> Result<(), String> {
        let path = match target {
            MaintTarget::Node => "/v1/agent/maintenance".to_string(),
            MaintTarget::Service(id) => format!("/v1/agent/service/maintenance/{}", utf8_percent_encode(id, PATH)),
        };
        let mut params = vec![("enable", enable.to_string())];
        if enable {
            // The Go client sets reason even when empty (`&reason=`).
            params.push(("reason", reason.to_string()));
        }
        self.require_ok("PUT", &path, params).map(|_| ())
    }
}
