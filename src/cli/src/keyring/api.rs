//! The part of Consul's Go API client (api/operator_keyring.go) the keyring command uses.
use std::collections::BTreeMap;

use serde::Deserialize;

use crate::api::{unexpected, ApiClient};

const KEYRING: &str = "/v1/operator/keyring";

/// api.KeyringResponse: one gossip pool's view of the keys.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct KeyringResponse {
    #[serde(rename = "WAN")]
    pub wan: bool,
    #[serde(rename = "Datacenter")]
    pub datacenter: String,
    #[serde(rename = "Segment")]
    pub segment: String,
    #[serde(rename = "Partition")]
    pub partition: String,
    #[serde(rename = "Messages", deserialize_with = "null_as_empty")]
    pub messages: BTreeMap<String, String>,
    #[serde(rename = "Keys", deserialize_with = "null_as_empty")]
    pub keys: BTreeMap<String, i64>,
    #[serde(rename = "PrimaryKeys", deserialize_with = "null_as_empty")]
    pub primary_keys: BTreeMap<String, i64>,
    #[serde(rename = "NumNodes")]
    pub num_nodes: i64,
}

fn null_as_empty<'de, D, T>(d: D) -> Result<BTreeMap<String, T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<BTreeMap<String, T>>::deserialize(d)?.unwrap_or_default())
}

/// The body of install/use/remove, encoded as Go's json.Encoder does (HTML characters
/// escaped, trailing newline).
fn key_body(key: &str) -> Vec<u8> {
    let json = serde_json::json!({ "Key": key }).to_string();
    let escaped = json.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026");
    (escaped + "\n").into_bytes()
}

impl ApiClient {
    /// Operator.KeyringList: `?relay-factor=` when non-zero, `?local-only=true` when set.
    pub fn keyring_list(&self, relay_factor: u8, local_only: bool) -> Result<Vec<KeyringResponse>, String> {
        let mut params = Vec::new();
        if relay_factor != 0 {
            params.push(("relay-factor", relay_factor.to_string()));
        }
        if local_only {
            params.push(("local-only", "true".to_string()));
        }
        let resp = self.send("GET", KEYRING, params, None, None)?;
        if resp.status != 200 {
            return Err(unexpected(resp.status, &resp.body));
        }
        let out: Option<Vec<KeyringResponse>> = serde_json::from_slice(&resp.body).map_err(|e| e.to_string())?;
        Ok(out.unwrap_or_default())
    }

    /// Operator.KeyringInstall (POST), KeyringUse (PUT) and KeyringRemove (DELETE).
    pub fn keyring_write(&self, method: &str, key: &str, relay_factor: u8) -> Result<(), String> {
        let params = if relay_factor != 0 { vec![("relay-factor", relay_factor.to_string())] } else { Vec::new() };
        let body = key_body(key);
        let resp = self.send(method, KEYRING, params, Some(&body), Some("application/json"))?;
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
    fn body_is_go_json() {
        assert_eq!(key_body("a+b/c=="), b"{\"Key\":\"a+b/c==\"}\n");
        assert_eq!(key_body("<&>"), b"{\"Key\":\"\\u003c\\u0026\\u003e\"}\n");
    }

    #[test]
    fn null_maps_decode_as_empty() {
        let r: KeyringResponse =
            serde_json::from_str(r#"{"WAN":true,"Datacenter":"dc1","Keys":null,"NumNodes":3}"#).unwrap();
        assert!(r.wan && r.keys.is_empty() && r.num_nodes == 3);
    }
}
