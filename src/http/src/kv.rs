//! `/v1/kv/<key>`: Consul's `KVSEndpoint` (agent/kvs_endpoint.go), with its
//! validation order, messages and status codes.

use std::sync::Arc;

use ballast_store::{ApplyResult, Command, KvEntry, WatchTarget};
use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::backend::Backend;
use crate::blocking::blocking_read;
use crate::params::{parse_go_uint, parse_uint_error, QueryOptions};
use crate::router::Call;
use crate::server::{Body, Response};
use crate::write::{backend_error, propose};

const KV_SIZE_DOC: &str = "https://www.consul.io/docs/agent/config/config-files#kv_max_value_size";

/// One `KVPair` in Consul's field order; `Session` omitted when unlocked.
pub(crate) struct KvPairJson<'a>(pub &'a KvEntry);

impl Serialize for KvPairJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use base64::Engine;
        let e = self.0;
        let has_session = e.session.as_deref().is_some_and(|s| !s.is_empty());
        let mut st = s.serialize_struct("KVPair", 6 + usize::from(has_session))?;
        st.serialize_field("LockIndex", &e.lock_index)?;
        st.serialize_field("Key", &*e.key)?;
        st.serialize_field("Flags", &e.flags)?;
        let value = e
            .value
            .as_deref()
            .map(|v| base64::engine::general_purpose::STANDARD.encode(v));
        st.serialize_field("Value", &value)?;
        if has_session {
            st.serialize_field("Session", &e.session.as_deref())?;
        }
        st.serialize_field("CreateIndex", &e.create_index)?;
        st.serialize_field("ModifyIndex", &e.modify_index)?;
        st.end()
    }
}

struct KvList<'a>(&'a [Arc<KvEntry>]);

impl Serialize for KvList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|e| KvPairJson(e)))
    }
}

pub(crate) async fn handle<B: Backend>(call: Call<'_, B>) -> Response {
    let opts = match QueryOptions::parse(&call.query, call.req.cache_control.as_deref()) {
        Ok(o) => o,
        Err(bad) => return Response::text(400, bad.0),
    };
    let key = call
        .req
        .path
        .strip_prefix("/v1/kv/")
        .unwrap_or("")
        .to_string();
    match call.req.method.as_str() {
        "GET" if call.query.has("keys") => get_keys(&call, &opts, key).await,
        "GET" => get(&call, &opts, key).await,
        "PUT" => put(&call, &opts, key).await,
        _ => delete(&call, &opts, key).await,
    }
}

async fn get<B: Backend>(call: &Call<'_, B>, opts: &QueryOptions, key: String) -> Response {
    let recurse = call.query.has("recurse");
    if !recurse && key.is_empty() {
        return Response::text(400, "Missing key name");
    }
    if let Err(r) = call.check_datacenter(&opts.datacenter) {
        return r;
    }
    let key: Arc<str> = key.into();
    let result = if recurse {
        blocking_read(call.ctx, opts, WatchTarget::Prefix(key.clone()), |s| {
            s.kv_list(&key)
        })
        .await
    } else {
        blocking_read(call.ctx, opts, WatchTarget::Key(key.clone()), |s| {
            let (entry, index) = s.kv_get(&key);
            (entry.into_iter().collect::<Vec<_>>(), index)
        })
        .await
    };
    let (entries, meta) = match result {
        Ok(r) => r,
        Err(e) => return backend_error(&e),
    };
    let mut resp = if entries.is_empty() {
        Response::empty(404)
    } else if call.query.has("raw") && !recurse {
        let mut r = Response::empty(200);
        r.body = entries[0].value_bytes().to_vec();
        r.set_header("Content-Type", "text/plain");
        r.set_header("X-Content-Type-Options", "nosniff");
        r.set_header("Content-Security-Policy", "sandbox");
        r
    } else {
        call.json(200, &KvList(&entries))
    };
    meta.apply(&mut resp);
    resp
}

async fn get_keys<B: Backend>(call: &Call<'_, B>, opts: &QueryOptions, prefix: String) -> Response {
    // Consul reads both spellings; the correct one wins when both are set.
    let separator = if call.query.has("separator") {
        call.query.get("separator")
    } else {
        call.query.get("seperator")
    };
    let separator = (!separator.is_empty()).then(|| separator.to_string());
    if let Err(r) = call.check_datacenter(&opts.datacenter) {
        return r;
    }
    let prefix: Arc<str> = prefix.into();
    let result = blocking_read(call.ctx, opts, WatchTarget::Prefix(prefix.clone()), |s| {
        s.kv_keys(&prefix, separator.as_deref())
    })
    .await;
    let (keys, meta) = match result {
        Ok(r) => r,
        Err(e) => return backend_error(&e),
    };
    // No 404 for the root: an empty store lists as `[]`.
    let mut resp = if keys.is_empty() && !prefix.is_empty() {
        Response::empty(404)
    } else {
        call.json(200, &keys)
    };
    meta.apply(&mut resp);
    resp
}

/// Consul's `conflictingFlags`: 400 echoing the whole query.
fn conflicting<B>(call: &Call<'_, B>, flags: &[&str]) -> Option<Response> {
    let present = flags.iter().filter(|f| call.query.has(f)).count();
    (present > 1)
        .then(|| Response::text(400, format!("Conflicting flags: {}", call.query.encode())))
}

/// A `?flags=`/`?cas=` value; a bad one is Consul's 500 with Go's error.
fn uint_param<B>(call: &Call<'_, B>, name: &str) -> Result<Option<u64>, Response> {
    if !call.query.has(name) {
        return Ok(None);
    }
    let raw = call.query.get(name);
    parse_go_uint(raw)
        .map(Some)
        .ok_or_else(|| Response::text(500, parse_uint_error(raw)))
}

async fn put<B: Backend>(call: &Call<'_, B>, opts: &QueryOptions, key: String) -> Response {
    if key.is_empty() {
        return Response::text(400, "Missing key name");
    }
    if let Some(r) = conflicting(call, &["cas", "acquire", "release"]) {
        return r;
    }
    let flags = match uint_param(call, "flags") {
        Ok(f) => f.unwrap_or(0),
        Err(r) => return r,
    };
    let cas = match uint_param(call, "cas") {
        Ok(c) => c,
        Err(r) => return r,
    };
    let max = call.ctx.opts.kv_max_value_size;
    let value = match &call.req.body {
        Body::TooLarge {
            content_length: Some(n),
        } => return too_large(Some(*n), max),
        Body::TooLarge {
            content_length: None,
        } => return too_large(None, max),
        Body::Complete(b) if b.len() > max => return too_large(Some(b.len() as u64), max),
        // An empty body stores nil (JSON null), as Consul's empty buffer.
        Body::Complete(b) => (!b.is_empty()).then(|| b.clone()),
    };
    if let Err(r) = call.check_datacenter(&opts.datacenter) {
        return r;
    }
    let plain_set = cas.is_none() && !call.query.has("acquire") && !call.query.has("release");
    let cmd = if let Some(index) = cas {
        Command::KvCas {
            key,
            value,
            flags,
            index,
        }
    } else if call.query.has("acquire") {
        Command::KvAcquire {
            key,
            value,
            flags,
            session: call.query.get("acquire").to_string(),
        }
    } else if call.query.has("release") {
        Command::KvRelease {
            key,
            value,
            flags,
            session: call.query.get("release").to_string(),
        }
    } else {
        Command::KvSet { key, value, flags }
    };
    bool_result(call, propose(call.ctx, cmd).await, plain_set)
}

fn too_large(content_length: Option<u64>, max: usize) -> Response {
    match content_length {
        Some(n) => Response::text(
            413,
            format!("Request body({n} bytes) too large, max size: {max} bytes. See {KV_SIZE_DOC}."),
        ),
        None => Response::text(
            413,
            format!("Request body too large, max size: {max} bytes. See {KV_SIZE_DOC}."),
        ),
    }
}

async fn delete<B: Backend>(call: &Call<'_, B>, opts: &QueryOptions, key: String) -> Response {
    if let Some(r) = conflicting(call, &["recurse", "cas"]) {
        return r;
    }
    let recurse = call.query.has("recurse");
    if !recurse && key.is_empty() {
        return Response::text(400, "Missing key name");
    }
    let cas = match uint_param(call, "cas") {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Err(r) = call.check_datacenter(&opts.datacenter) {
        return r;
    }
    let cmd = match cas {
        Some(index) => Command::KvDeleteCas { key, index },
        None if recurse => Command::KvDeleteTree { prefix: key },
        None => Command::KvDelete { key },
    };
    bool_result(call, propose(call.ctx, cmd).await, cas.is_none())
}

/// `true`/`false` body. Consul answers plain set/delete with `true` no
/// matter what the state machine said; cas/lock variants pass it through.
fn bool_result<B>(
    call: &Call<'_, B>,
    result: Result<ApplyResult, Response>,
    always_true: bool,
) -> Response {
    match result {
        Ok(ApplyResult::Bool(b)) => call.json(200, &(b || always_true)),
        Ok(ApplyResult::Error(msg)) => Response::text(500, msg),
        Ok(ApplyResult::Txn(_)) => Response::text(500, "unexpected txn result for a KV write"),
        Err(r) => r,
    }
}
