//! `PUT /v1/txn`: Consul's `Txn` handler (agent/txn_endpoint.go). Limits
//! and decoding first; read-only txns are served from the snapshot under
//! the requested consistency (no Raft, no blocking); writes go through
//! `propose`. 200 on success, 409 with the errors on rollback.

use ballast_store::{
    txn_precheck, txn_read_only, validate_txn, ApplyResult, Command, TxnError, TxnLimits, TxnOp,
    TxnResponse, TxnResult,
};
use serde::ser::{Serialize, SerializeMap, SerializeStruct, Serializer};

use crate::backend::{Backend, LeaderStatus};
use crate::blocking::read_gate;
use crate::kv::KvPairJson;
use crate::params::QueryOptions;
use crate::router::Call;
use crate::server::{Body, Response};
use crate::txn_json::{parse_txn_body, ParsedOp};
use crate::write::{backend_error, propose};

const TXN_SIZE_DOC: &str = "https://www.consul.io/docs/agent/config/config-files#txn_max_req_len";

pub(crate) async fn handle<B: Backend>(call: Call<'_, B>) -> Response {
    let limits = &call.ctx.opts;
    // Consul: the effective request limit is the larger of the two.
    let max_len = limits.txn_max_req_len.max(limits.kv_max_value_size);
    let body = match &call.req.body {
        Body::TooLarge {
            content_length: Some(n),
        } => return too_large(Some(*n), max_len),
        Body::TooLarge {
            content_length: None,
        } => return too_large(None, max_len),
        Body::Complete(b) if b.len() > max_len => return too_large(Some(b.len() as u64), max_len),
        Body::Complete(b) => b,
    };
    let parsed = match parse_txn_body(body) {
        Ok(p) => p,
        Err(e) => return Response::text(400, format!("Failed to parse body: {e}")),
    };
    if parsed.len() > limits.txn_max_ops {
        return Response::text(
            413,
            format!(
                "Transaction contains too many operations ({} > {})",
                parsed.len(),
                limits.txn_max_ops
            ),
        );
    }
    let mut ops = Vec::with_capacity(parsed.len());
    let mut unsupported = Vec::new();
    for op in parsed {
        match op {
            ParsedOp::Kv(kv) => ops.push(TxnOp::Kv(kv)),
            ParsedOp::Catalog(kind) => unsupported.push(TxnError {
                op_index: ops.len() + unsupported.len(),
                what: format!("{kind} operations are not supported by this server"),
            }),
            ParsedOp::Empty => {}
        }
    }
    let txn_limits = TxnLimits {
        max_ops: limits.txn_max_ops,
        kv_max_value_size: limits.kv_max_value_size,
    };
    if let Err(e) = validate_txn(&ops, &txn_limits) {
        return Response::text(413, e.to_string());
    }
    if !unsupported.is_empty() {
        let resp = TxnResponse {
            results: Vec::new(),
            errors: unsupported,
        };
        return call.json(
            409,
            &TxnJson {
                resp: &resp,
                read_meta: None,
            },
        );
    }
    if ballast_store::txn_is_write(&ops) {
        write_txn(&call, ops).await
    } else {
        read_txn(&call, ops).await
    }
}

fn too_large(content_length: Option<u64>, max: usize) -> Response {
    let text = match content_length {
        Some(n) => {
            format!("Request body({n} bytes) too large, max size: {max} bytes. See {TXN_SIZE_DOC}.")
        }
        None => format!("Request body too large, max size: {max} bytes. See {TXN_SIZE_DOC}."),
    };
    Response::text(413, text)
}

async fn read_txn<B: Backend>(call: &Call<'_, B>, ops: Vec<TxnOp>) -> Response {
    let opts = match QueryOptions::parse(&call.query, call.req.cache_control.as_deref()) {
        Ok(o) => o,
        Err(bad) => return Response::text(400, bad.0),
    };
    if let Err(r) = call.check_datacenter(&opts.datacenter) {
        return r;
    }
    let backend = &*call.ctx.backend;
    if let Err(e) = read_gate(backend, opts.consistency).await {
        return backend_error(&e);
    }
    let resp = txn_read_only(&backend.state(), &ops);
    let leader = backend.leader_status();
    let status = if resp.is_ok() { 200 } else { 409 };
    let mut out = call.json(
        status,
        &TxnJson {
            resp: &resp,
            read_meta: Some(&leader),
        },
    );
    // No blocking for txns, so only the leader headers (no index).
    out.set_header("X-Consul-Lastcontact", leader.last_contact_ms.to_string());
    out.set_header(
        "X-Consul-Knownleader",
        if leader.known_leader { "true" } else { "false" },
    );
    out
}

async fn write_txn<B: Backend>(call: &Call<'_, B>, ops: Vec<TxnOp>) -> Response {
    // Writes ignore consistency and blocking parameters (Consul parses only
    // the datacenter and token here).
    if let Err(r) = call.check_datacenter(call.query.get("dc")) {
        return r;
    }
    // Consul's leader-side preCheck runs before anything reaches Raft.
    let errors = txn_precheck(&ops);
    if !errors.is_empty() {
        let resp = TxnResponse {
            results: Vec::new(),
            errors,
        };
        return call.json(
            409,
            &TxnJson {
                resp: &resp,
                read_meta: None,
            },
        );
    }
    match propose(call.ctx, Command::Txn { ops }).await {
        Ok(ApplyResult::Txn(resp)) => {
            let status = if resp.is_ok() { 200 } else { 409 };
            call.json(
                status,
                &TxnJson {
                    resp: &resp,
                    read_meta: None,
                },
            )
        }
        Ok(ApplyResult::Error(msg)) => Response::text(500, msg),
        Ok(ApplyResult::Bool(_)) => Response::text(500, "unexpected result for a transaction"),
        Err(r) => r,
    }
}

/// `structs.TxnResponse`, or `TxnReadResponse` (with the embedded
/// `QueryMeta` fields) for read-only txns.
struct TxnJson<'a> {
    resp: &'a TxnResponse,
    read_meta: Option<&'a LeaderStatus>,
}

struct ResultJson<'a>(&'a TxnResult);

impl Serialize for ResultJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        match self.0 {
            TxnResult::Kv(entry) => m.serialize_entry("KV", &KvPairJson(entry))?,
        }
        m.end()
    }
}

struct ErrorJson<'a>(&'a TxnError);

impl Serialize for ErrorJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("TxnError", 2)?;
        st.serialize_field("OpIndex", &self.0.op_index)?;
        st.serialize_field("What", &self.0.what)?;
        st.end()
    }
}

impl Serialize for TxnJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("TxnResponse", 9)?;
        // Go nil slices encode as null.
        if self.resp.results.is_empty() {
            st.serialize_field("Results", &())?;
        } else {
            let results: Vec<ResultJson<'_>> = self.resp.results.iter().map(ResultJson).collect();
            st.serialize_field("Results", &results)?;
        }
        if self.resp.errors.is_empty() {
            st.serialize_field("Errors", &())?;
        } else {
            let errors: Vec<ErrorJson<'_>> = self.resp.errors.iter().map(ErrorJson).collect();
            st.serialize_field("Errors", &errors)?;
        }
        if let Some(leader) = self.read_meta {
            // SetQueryMeta raises a zero index to 1; LastContact is a Go
            // Duration (nanoseconds).
            st.serialize_field("Index", &1u64)?;
            st.serialize_field(
                "LastContact",
                &(leader.last_contact_ms.saturating_mul(1_000_000)),
            )?;
            st.serialize_field("KnownLeader", &leader.known_leader)?;
            st.serialize_field("ConsistencyLevel", "")?;
            st.serialize_field("NotModified", &false)?;
            st.serialize_field("Backend", &0u8)?;
            st.serialize_field("ResultsFilteredByACLs", &false)?;
        }
        st.end()
    }
}
