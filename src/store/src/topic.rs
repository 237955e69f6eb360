//! Names of the watch topics catalog writes fire (`WatchTarget::Topic`).
//! A blocking catalog/health read parks on the topic that guards it; a
//! write lists in its `ChangeSet.topics` every topic whose reads could now
//! answer differently.

use std::sync::Arc;

use crate::catalog::tables::lower;

/// `/v1/catalog/nodes`.
pub fn nodes() -> Arc<str> {
    Arc::from("catalog/nodes")
}

/// `/v1/catalog/services` (with or without node-meta filters).
pub fn services() -> Arc<str> {
    Arc::from("catalog/services")
}

/// `/v1/health/state/<state>`.
pub fn checks() -> Arc<str> {
    Arc::from("catalog/checks")
}

/// `/v1/catalog/service/<s>`, `/v1/health/service/<s>`,
/// `/v1/health/checks/<s>`; the name is lowercased (Consul matches service
/// names case-insensitively).
pub fn service(name: &str) -> Arc<str> {
    Arc::from(format!("catalog/service/{}", lower(name)))
}

/// `/v1/catalog/node/<n>`, `/v1/catalog/node-services/<n>`,
/// `/v1/health/node/<n>`; lowercased like node names.
pub fn node(name: &str) -> Arc<str> {
    Arc::from(format!("catalog/node/{}", lower(name)))
}
