//! The part of Consul's Go API client (api/kv.go) the kv commands use: same paths, the same
//! query parameters in the same (sorted) order, the same error texts. The request plumbing
//! (`send`) is shared with the operator calls in operator/api.rs.
use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;

use crate::http_client::{request, Endpoint, Response};

/// Go's url.PathEscape-for-paths: keeps `/` and the sub-delimiters Go leaves alone.
pub(crate) const PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-').remove(b'_').remove(b'.').remove(b'~')
    .remove(b'/').remove(b'$').remove(b'&').remove(b'+').remove(b',')
    .remove(b':').remove(b';').remove(b'=').remove(b'@');
/// Go's url.QueryEscape (a space becomes `+` afterwards).
const QUERY: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Connection settings from the HTTP API flags.
#[derive(Clone, Debug)]
pub struct ApiClient {
    pub endpoint: Endpoint,
    pub token: Option<String>,
    pub datacenter: Option<String>,
    pub stale: bool,
    /// `-partition`: the Go client adds `?partition=` to every request when set.
    pub partition: Option<String>,
}

/// A KV entry as the agent returns it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct KvPair {
    pub key: String,
    pub create_index: u64,
    pub modify_index: u64,
    pub lock_index: u64,
    pub flags: u64,
    #[serde(deserialize_with = "base64_value")]
    pub value: Vec<u8>,
    pub session: String,
}

fn base64_value<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    match s {
        None => Ok(Vec::new()),
        Some(s) => base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map_err(|e| serde::de::Error::custom(go_base64_error(&e))),
    }
}

/// Go's encoding/base64 error text.
pub fn go_base64_error(e: &base64::DecodeError) -> String {
    let at = match e {
        base64::DecodeError::InvalidByte(i, _) | base64::DecodeError::InvalidLastSymbol(i, _) => *i,
        base64::DecodeError::InvalidLength(n) => *n,
        base64::DecodeError::InvalidPadding => 0,
    };
    format!("illegal base64 data at input byte {at}")
}

/// How a PUT is qualified.
#[derive(Clone, Debug)]
pub enum PutMode {
    Plain,
    Cas(u64),
    Acquire(String),
    Release(String),
}

/// How a DELETE is qualified.
#[derive(Clone, Debug)]
pub enum DeleteMode {
    Plain,
    Cas(u64),
    Recurse,
}

impl ApiClient {
    fn call(
        &self,
        method: &str,
        key: &str,
        mut params: Vec<(&str, String)>,
        body: Option<&[u8]>,
    ) -> Result<Response, String> {
        if self.stale && method == "GET" {
            params.push(("stale", String::new()));
        }
        let key = key.strip_prefix('/').unwrap_or(key);
        let path = format!("/v1/kv/{}", utf8_percent_encode(key, PATH));
        let content_type = body.map(|_| "application/octet-stream");
        self.send(method, &path, params, body, content_type)
    }

    /// One request to `path` (already escaped) with `params` plus `?dc=`, encoded as Go's
    /// url.Values (sorted by key), and the token header.
    pub(crate) fn send(
        &self,
        method: &str,
        path: &str,
        mut params: Vec<(&str, String)>,
        body: Option<&[u8]>,
        content_type: Option<&str>,
    ) -> Result<Response, String> {
        if let Some(dc) = self.datacenter.as_deref().filter(|d| !d.is_empty()) {
            params.push(("dc", dc.to_string()));
        }
        if let Some(p) = self.partition.as_deref().filter(|p| !p.is_empty()) {
            params.push(("partition", p.to_string()));
        }
        // Go's url.Values.Encode sorts by key.
        params.sort_by(|a, b| a.0.cmp(b.0));
        let mut path = path.to_string();
        if !params.is_empty() {
            let q: Vec<String> = params
                .iter()
                .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, QUERY).to_string().replace("%20", "+")))
                .collect();
            path.push('?');
            path.push_str(&q.join("&"));
        }
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(t) = self.token.as_deref().filter(|t| !t.is_empty()) {
            headers.push(("X-Consul-Token", t));
        }
        if let Some(ct) = content_type {
            headers.push(("Content-Type", ct));
        }
        request(&self.endpoint, method, &path, &headers, body)
    }

    fn pairs(&self, key: &str, params: Vec<(&str, String)>) -> Result<Option<Vec<KvPair>>, String> {
        let resp = self.call("GET", key, params, None)?;
        match resp.status {
            200 => serde_json::from_slice(&resp.body).map(Some).map_err(|e| e.to_string()),
            404 => Ok(None),
            code => Err(unexpected(code, &resp.body)),
        }
    }

    /// api.KV.Get: None when the key does not exist.
    pub fn kv_get(&self, key: &str) -> Result<Option<KvPair>, String> {
        Ok(self.pairs(key, Vec::new())?.and_then(|mut v| if v.is_empty() { None } else { Some(v.remove(0)) }))
    }

    /// api.KV.List (`?recurse=`).
    pub fn kv_list(&self, prefix: &str) -> Result<Vec<KvPair>, String> {
        Ok(self.pairs(prefix, vec![("recurse", String::new())])?.unwrap_or_default())
    }

    /// api.KV.Keys (`?keys=&separator=`).
    pub fn kv_keys(&self, prefix: &str, separator: &str) -> Result<Vec<String>, String> {
        let mut params = vec![("keys", String::new())];
        if !separator.is_empty() {
            params.push(("separator", separator.to_string()));
        }
        let resp = self.call("GET", prefix, params, None)?;
        match resp.status {
            200 => serde_json::from_slice(&resp.body).map_err(|e| e.to_string()),
            404 => Ok(Vec::new()),
            code => Err(unexpected(code, &resp.body)),
        }
    }

    /// api.KV.Put / CAS / Acquire / Release; the bool is the agent's true/false answer.
    pub fn kv_put(&self, key: &str, value: &[u8], flags: u64, mode: &PutMode) -> Result<bool, String> {
        let mut params = Vec::new();
        if flags != 0 {
            params.push(("flags", flags.to_string()));
        }
        match mode {
            PutMode::Plain => {}
            PutMode::Cas(i) => params.push(("cas", i.to_string())),
            PutMode::Acquire(s) => params.push(("acquire", s.clone())),
            PutMode::Release(s) => params.push(("release", s.clone())),
        }
        let resp = self.call("PUT", key, params, Some(value))?;
        if resp.status != 200 {
            return Err(unexpected(resp.status, &resp.body));
        }
        Ok(String::from_utf8_lossy(&resp.body).contains("true"))
    }

    /// api.KV.Delete / DeleteCAS / DeleteTree.
    pub fn kv_delete(&self, key: &str, mode: &DeleteMode) -> Result<bool, String> {
        let params = match mode {
            DeleteMode::Plain => Vec::new(),
            DeleteMode::Cas(i) => vec![("cas", i.to_string())],
            DeleteMode::Recurse => vec![("recurse", String::new())],
        };
        let resp = self.call("DELETE", key, params, None)?;
        if resp.status != 200 {
            return Err(unexpected(resp.status, &resp.body));
        }
        Ok(String::from_utf8_lossy(&resp.body).contains("true"))
    }
}

/// The Go client's error for a non-2xx answer.
pub(crate) fn unexpected(code: u16, body: &[u8]) -> String {
    format!("Unexpected response code: {code} ({})", String::from_utf8_lossy(body))
}
