//! The validation the state store itself performs during a registration:
//! service metadata (`structs.ValidateServiceMetadata`) and node IDs as
//! memdb's UUID index parses them (`parseUUIDString` in
//! `agent/consul/state/schema.go`).

use std::collections::BTreeMap;
use std::sync::Arc;

const META_MAX_KEY_PAIRS: usize = 64;
const META_KEY_MAX_LENGTH: usize = 128;
const META_VALUE_MAX_LENGTH: usize = 512;
const META_KEY_RESERVED_PREFIX: &str = "consul-";
/// `allowedConsulMetaKeysForMeshGateway`.
const MESH_GATEWAY_ALLOWED_KEY: &str = "consul-wan-federation";

/// `ValidateServiceMetadata(kind, meta, false)`. Pairs are checked in key
/// order (Go walks a map in random order; every server must agree here).
pub(crate) fn service_meta(kind: &str, meta: &BTreeMap<String, String>) -> Result<(), String> {
    if meta.len() > META_MAX_KEY_PAIRS {
        return Err(format!(
            "Node metadata cannot contain more than {META_MAX_KEY_PAIRS} key/value pairs"
        ));
    }
    for (key, value) in meta {
        if let Err(e) = meta_pair(kind, key, value) {
            return Err(format!(
                "Couldn't load metadata pair ('{key}', '{value}'): {e}"
            ));
        }
    }
    Ok(())
}

fn meta_pair(kind: &str, key: &str, value: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("Key cannot be blank".to_string());
    }
    let format_ok = key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !format_ok {
        return Err("Key contains invalid characters".to_string());
    }
    if key.len() > META_KEY_MAX_LENGTH {
        return Err(format!(
            "Key is too long (limit: {META_KEY_MAX_LENGTH} characters)"
        ));
    }
    let allowed = kind == "mesh-gateway" && key == MESH_GATEWAY_ALLOWED_KEY;
    if key.starts_with(META_KEY_RESERVED_PREFIX) && !allowed {
        return Err(format!(
            "Key prefix '{META_KEY_RESERVED_PREFIX}' is reserved for internal use"
        ));
    }
    if value.len() > META_VALUE_MAX_LENGTH {
        return Err(format!(
            "Value is too long (limit: {META_VALUE_MAX_LENGTH} characters)"
        ));
    }
    Ok(())
}

/// A full node ID as the UUID index stores it (`uuidStringToBytes`):
/// lowercase hex without hyphens. Errors carry Consul's texts.
pub(crate) fn node_id_key(id: &str) -> Result<Arc<str>, String> {
    if id.len() != 36 {
        return Err("UUID must be 36 characters".to_string());
    }
    uuid_hex(id)
}

/// A node-ID prefix for lookups (`resizeNodeLookupKey` then
/// `variableLengthUUIDStringToBytes`).
pub(crate) fn node_id_prefix(query: &str) -> Result<Arc<str>, String> {
    let resized = if !query.len().is_multiple_of(2) {
        // Go slices bytes; a query ending in a multi-byte char cannot be
        // hex anyway, so an unsplittable one is simply not an ID.
        match query.get(..query.len() - 1) {
            Some(s) => s,
            None => return Err("invalid UUID".to_string()),
        }
    } else {
        query
    };
    if resized.len() > 36 {
        return Err(format!(
            "Invalid UUID length. UUID have 36 characters; got {}",
            resized.len()
        ));
    }
    uuid_hex(resized)
}

fn uuid_hex(s: &str) -> Result<Arc<str>, String> {
    let hyphens = s.matches('-').count();
    if hyphens > 4 {
        return Err(format!(
            "UUID should have maximum of 4 \"-\"; got {hyphens}"
        ));
    }
    let sanitized: String = s.chars().filter(|c| *c != '-').collect();
    if !sanitized.len().is_multiple_of(2) {
        return Err("UUID (without hyphens) must be even length".to_string());
    }
    if let Some(bad) = sanitized.bytes().position(|b| !b.is_ascii_hexdigit()) {
        // Go's hex.InvalidByteError text.
        // Go's hex.InvalidByteError: `%#U` of the byte as a rune.
        let c = sanitized.as_bytes()[bad] as char;
        let shown = if c.is_control() {
            format!("U+{:04X}", c as u32)
        } else {
            format!("U+{:04X} '{c}'", c as u32)
        };
        return Err(format!("invalid UUID: encoding/hex: invalid byte: {shown}"));
    }
    Ok(Arc::from(sanitized.to_ascii_lowercase()))
}
