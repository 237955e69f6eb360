//! Query parameters of the catalog and health reads, parsed in the order of
//! Consul's handlers: `near` and `node-meta` (never rejected), then the
//! common options (`HTTPHandlers.parse`), then at RPC time the datacenter
//! and the filter expression.

use std::collections::BTreeMap;

use crate::backend::Backend;
use crate::params::QueryOptions;
use crate::router::Call;
use crate::server::Response;

use super::filter::ElementFilter;

pub(crate) struct ReadArgs {
    pub opts: QueryOptions,
    /// `?near=` resolved (`_agent` = this agent's node name); "" = no sort.
    pub near: String,
    /// `?node-meta=k:v` (repeatable; a later value for a key wins, as in
    /// Consul's map). Empty = no filter.
    pub node_meta: BTreeMap<String, String>,
    /// `?tag=` values when present at all (`TagFilter`).
    pub tags: Option<Vec<String>>,
    filter: String,
}

impl ReadArgs {
    pub fn parse<B: Backend>(call: &Call<'_, B>) -> Result<ReadArgs, Response> {
        let near = match call.query.get("near") {
            "" => String::new(),
            "_agent" => call.ctx.backend.agent_info().config.node_name,
            other => other.to_string(),
        };
        let mut node_meta = BTreeMap::new();
        for raw in call.query.all("node-meta") {
            let (k, v) = raw.split_once(':').unwrap_or((raw, ""));
            node_meta.insert(k.to_string(), v.to_string());
        }
        let tags = call.query.has("tag").then(|| call.query.all("tag").map(str::to_string).collect());
        let opts = QueryOptions::parse(&call.query, call.req.cache_control.as_deref())
            .map_err(|bad| Response::text(400, bad.0))?;
        Ok(ReadArgs { opts, near, node_meta, tags, filter: call.query.get("filter").to_string() })
    }

    /// What the server RPC checks before running the query: the datacenter,
    /// then the filter expression.
    pub fn rpc_checks<B>(&self, call: &Call<'_, B>) -> Result<ElementFilter, Response> {
        call.check_datacenter(&self.opts.datacenter)?;
        ElementFilter::parse(&self.filter)
    }

    /// `structs.SatisfiesMetaFilters`.
    pub fn meta_matches(&self, meta: &BTreeMap<String, String>) -> bool {
        self.node_meta.iter().all(|(k, v)| meta.get(k) == Some(v))
    }

    /// `serviceTagsFilter`: every requested tag present, compared
    /// case-insensitively.
    pub fn tags_match(&self, service_tags: &[String]) -> bool {
        let Some(wanted) = &self.tags else { return true };
        wanted.iter().all(|w| {
            let w = w.to_lowercase();
            service_tags.iter().any(|t| t.to_lowercase() == w)
        })
    }
}

/// Go's `strconv.ParseBool`.
pub(crate) fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The route remainder after `prefix`.
pub(crate) fn path_arg<'a, B>(call: &'a Call<'_, B>, prefix: &str) -> &'a str {
    call.req.path.strip_prefix(prefix).unwrap_or("")
}
