//! The part of Consul's Go API client (api/catalog.go) the catalog commands use: same paths,
//! the same query parameters (`near`, `node-meta=k:v`, `filter`, `stale`) and error texts.
use std::collections::BTreeMap;

use percent_encoding::utf8_percent_encode;
use serde::Deserialize;

use crate::api::{unexpected, ApiClient, PATH};

/// The QueryOptions the catalog commands set.
#[derive(Clone, Debug, Default)]
pub struct CatalogQuery {
    pub near: String,
    /// `-node-meta` pairs; sorted so requests are reproducible (Go iterates a map).
    pub node_meta: BTreeMap<String, String>,
    pub filter: String,
    /// `-namespace` (`?ns=`).
    pub namespace: String,
}

/// api.Node as the Go client decodes it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase", default)]
pub struct Node {
    #[serde(rename = "ID")]
    pub id: String,
    pub node: String,
    pub address: String,
    pub datacenter: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub tagged_addresses: BTreeMap<String, String>,
    #[serde(deserialize_with = "null_as_empty")]
    pub meta: BTreeMap<String, String>,
}

/// The fields of api.CatalogService that `catalog nodes -service` shows.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CatalogService {
    #[serde(rename = "ID")]
    pub id: String,
    pub node: String,
    pub address: String,
    pub datacenter: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub tagged_addresses: BTreeMap<String, String>,
    #[serde(deserialize_with = "null_as_empty")]
    pub node_meta: BTreeMap<String, String>,
}

/// The fields of api.AgentService that `catalog services -node` shows.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NodeService {
    pub service: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub tags: Vec<String>,
}

/// api.CatalogNode: the node and its services by ID.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CatalogNode {
    #[serde(deserialize_with = "null_as_empty")]
    pub services: BTreeMap<String, NodeService>,
}

fn null_as_empty<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl ApiClient {
    /// setQueryOptions for the catalog reads: `?stale`, `near`, one `node-meta=k:v` per pair,
    /// `filter`, `ns` (the Go client skips empty values).
    fn catalog_params(&self, q: &CatalogQuery) -> Vec<(&'static str, String)> {
        let mut params = Vec::new();
        if self.stale {
            params.push(("stale", String::new()));
        }
        if !q.near.is_empty() {
            params.push(("near", q.near.clone()));
        }
        for (k, v) in &q.node_meta {
            params.push(("node-meta", format!("{k}:{v}")));
        }
        if !q.filter.is_empty() {
            params.push(("filter", q.filter.clone()));
        }
        if !q.namespace.is_empty() {
            params.push(("ns", q.namespace.clone()));
        }
        params
    }

    /// One catalog GET, decoded; a JSON `null` body decodes as T's default.
    fn catalog_get<T: for<'de> Deserialize<'de> + Default>(
        &self,
        path: &str,
        params: Vec<(&'static str, String)>,
    ) -> Result<T, String> {
        let resp = self.send("GET", path, params, None, None)?;
        if resp.status != 200 {
            return Err(unexpected(resp.status, &resp.body));
        }
        let out: Option<T> = serde_json::from_slice(&resp.body).map_err(|e| e.to_string())?;
        Ok(out.unwrap_or_default())
    }

    /// Catalog.Datacenters: GET /v1/catalog/datacenters (no query options).
    pub fn catalog_datacenters(&self) -> Result<Vec<String>, String> {
        self.catalog_get("/v1/catalog/datacenters", Vec::new())
    }

    /// Catalog.Nodes: GET /v1/catalog/nodes.
    pub fn catalog_nodes(&self, q: &CatalogQuery) -> Result<Vec<Node>, String> {
        self.catalog_get("/v1/catalog/nodes", self.catalog_params(q))
    }

    /// Catalog.Service(service, "", q): GET /v1/catalog/service/<service>.
    pub fn catalog_service(&self, service: &str, q: &CatalogQuery) -> Result<Vec<CatalogService>, String> {
        let path = format!("/v1/catalog/service/{}", utf8_percent_encode(service, PATH));
        self.catalog_get(&path, self.catalog_params(q))
    }

    /// Catalog.Node: GET /v1/catalog/node/<node>; None when the agent answers `null`.
    pub fn catalog_node(&self, node: &str, q: &CatalogQuery) -> Result<Option<CatalogNode>, String> {
        let path = format!("/v1/catalog/node/{}", utf8_percent_encode(node, PATH));
        self.catalog_get(&path, self.catalog_params(q))
    }

    /// Catalog.Services: GET /v1/catalog/services, service name => tags.
    pub fn catalog_services(&self, q: &CatalogQuery) -> Result<BTreeMap<String, Vec<String>>, String> {
        let raw: BTreeMap<String, Option<Vec<String>>> =
            self.catalog_get("/v1/catalog/services", self.catalog_params(q))?;
        Ok(raw.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect())
    }
}
