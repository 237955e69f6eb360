//! The part of Consul's Go API client (api/agent.go) the services commands use: the
//! AgentServiceRegistration body and the register / deregister calls.
use std::collections::BTreeMap;

use percent_encoding::utf8_percent_encode;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::api::{unexpected, ApiClient, PATH};

/// api.ServiceAddress.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceAddress {
    pub address: String,
    pub port: i64,
}

/// api.AgentWeights.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Weights {
    pub passing: i64,
    pub warning: i64,
}

/// api.AgentServiceRegistration, serialized as the Go client does: fields in Go's order,
/// `omitempty` ones left out when empty, `Check` and `Checks` always present (null when unset).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceRegistration {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(rename = "ID", skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "is_zero")]
    pub port: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub address: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub socket_path: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tagged_addresses: BTreeMap<String, ServiceAddress>,
    #[serde(skip_serializing_if = "is_false")]
    pub enable_tag_override: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub meta: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights: Option<Weights>,
    /// An api.AgentServiceCheck, already keyed by its JSON field names.
    pub check: Option<Map<String, Value>>,
    pub checks: Option<Vec<Map<String, Value>>>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub partition: String,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// `?ns=` when a namespace was given (the Go client adds it to every request).
fn ns_param(namespace: &str) -> Vec<(&'static str, String)> {
    if namespace.is_empty() {
        Vec::new()
    } else {
        vec![("ns", namespace.to_string())]
    }
}

impl ApiClient {
    /// Agent.ServiceRegister: PUT /v1/agent/service/register with the JSON registration.
    pub fn agent_service_register(&self, svc: &ServiceRegistration, namespace: &str) -> Result<(), String> {
        let body = serde_json::to_vec(svc).map_err(|e| e.to_string())?;
        let resp = self.send("PUT", "/v1/agent/service/register", ns_param(namespace), Some(&body), Some("application/json"))?;
        if resp.status != 200 {
            return Err(unexpected(resp.status, &resp.body));
        }
        Ok(())
    }

    /// Agent.ServiceDeregister: PUT /v1/agent/service/deregister/<id>.
    pub fn agent_service_deregister(&self, id: &str, namespace: &str) -> Result<(), String> {
        let path = format!("/v1/agent/service/deregister/{}", utf8_percent_encode(id, PATH));
        let resp = self.send("PUT", &path, ns_param(namespace), None, None)?;
        if resp.status != 200 {
            return Err(unexpected(resp.status, &resp.body));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_registration_serializes_like_the_go_client() {
        let svc = ServiceRegistration { name: "web".into(), port: 8080, ..Default::default() };
        assert_eq!(serde_json::to_string(&svc).unwrap(), r#"{"Name":"web","Port":8080,"Check":null,"Checks":null}"#);
        let full = ServiceRegistration {
            id: "web1".into(),
            name: "web".into(),
            tags: vec!["a".into()],
            tagged_addresses: [("lan".to_string(), ServiceAddress { address: "10.0.0.1".into(), port: 80 })].into(),
            weights: Some(Weights { passing: 1, warning: 1 }),
            checks: Some(vec![]),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&full).unwrap(),
            r#"{"ID":"web1","Name":"web","Tags":["a"],"TaggedAddresses":{"lan":{"Address":"10.0.0.1","Port":80}},"Weights":{"Passing":1,"Warning":1},"Check":null,"Checks":[]}"#
        );
    }
}
