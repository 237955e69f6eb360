//! Consul's `?filter=` expressions.
//!
//! Consul 1.2x filters with hashicorp/go-bexpr v0.1.2 (its `go.mod` pins
//! that version). This crate parses the same grammar with the same error
//! texts and evaluates it over the JSON Consul would return for one element
//! (field names are the Go names). See `parser.rs` for the grammar and
//! `eval.rs` for the matching rules.
//!
//! ```
//! use ballast_filter::Filter;
//! let f = Filter::parse(r#"Service.Tags contains "v2" and Checks.Status == passing"#).unwrap();
//! let entry = serde_json::json!({
//!     "Service": {"Tags": ["v1", "v2"]},
//!     "Checks": [{"Status": "passing"}, {"Status": "critical"}],
//! });
//! assert!(f.matches(&entry).unwrap());
//! ```

mod ast;
mod error;
mod eval;
mod gostr;
mod parser;

use std::sync::Arc;

use regex::RegexBuilder;
use serde_json::Value;

pub use error::FilterError;
pub use parser::MAX_NESTING;

use ast::{Expr, MatchOp};

/// Compiled-program budget for one `matches` pattern; RE2 bounds its
/// programs too, and a hostile pattern must not cost unbounded memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A parsed filter expression. Cheap to share between threads.
#[derive(Debug, Clone)]
pub struct Filter {
    expr: Arc<Expr>,
}

impl Filter {
    /// Parses `expr`. Consul answers a parse failure with status 500 and the
    /// error's Display text as the body (see [`FilterError::status`]).
    /// An empty expression is a parse error here as in bexpr; endpoints treat
    /// an absent or empty `filter` as "no filter" (use [`Filter::parse_optional`]).
    pub fn parse(expr: &str) -> Result<Filter, FilterError> {
        let parsed = parser::parse(expr).map_err(FilterError::new)?;
        let expr = compile_regexes(&parsed)?;
        Ok(Filter { expr })
    }

    /// `None` for an empty expression (Consul does no filtering then),
    /// otherwise [`Filter::parse`].
    pub fn parse_optional(expr: &str) -> Result<Option<Filter>, FilterError> {
        if expr.is_empty() {
            return Ok(None);
        }
        Filter::parse(expr).map(Some)
    }

    /// Whether one element (a Node, ServiceNode, HealthCheck, CheckServiceNode,
    /// AgentService ... as JSON) matches.
    pub fn matches(&self, v: &Value) -> Result<bool, FilterError> {
        eval::eval(&self.expr, v)
    }

    /// Keeps the matching elements, in order. On error `items` is unchanged
    /// and the whole request fails, as Consul's `Filter.Execute` does.
    pub fn filter_in_place(&self, items: &mut Vec<Value>) -> Result<(), FilterError> {
        let keep = items
            .iter()
            .map(|v| self.matches(v))
            .collect::<Result<Vec<bool>, FilterError>>()?;
        let mut flags = keep.into_iter();
        items.retain(|_| flags.next().unwrap_or(false));
        Ok(())
    }

    /// The same for map-shaped answers (`/v1/agent/services`,
    /// `/v1/agent/checks`): the filter sees each value, keys are kept with
    /// their values.
    pub fn filter_map_values(
        &self,
        map: &mut serde_json::Map<String, Value>,
    ) -> Result<(), FilterError> {
        let mut drop = Vec::new();
        for (k, v) in map.iter() {
            if !self.matches(v)? {
                drop.push(k.clone());
            }
        }
        for k in drop {
            map.remove(&k);
        }
        Ok(())
    }
}

/// bexpr's validation compiles each `matches` pattern once, before any data
/// is seen, failing creation with this message on a bad pattern.
fn compile_regexes(expr: &Arc<Expr>) -> Result<Arc<Expr>, FilterError> {
    Ok(match &**expr {
        Expr::And(terms) => Arc::new(Expr::And(compile_all(terms)?)),
        Expr::Or(terms) => Arc::new(Expr::Or(compile_all(terms)?)),
        Expr::Not(e) => Arc::new(Expr::Not(compile_regexes(e)?)),
        Expr::Match(m) if matches!(m.op, MatchOp::Matches | MatchOp::NotMatches) => {
            let raw = m.value.clone().unwrap_or_default();
            let re = RegexBuilder::new(&raw)
                .size_limit(REGEX_SIZE_LIMIT)
                .dfa_size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| {
                    let why = e.to_string().replace('\n', " ");
                    FilterError::new(format!(
                        "Failed to compile regular expression {}: error parsing regexp: {}",
                        gostr::quote(&raw),
                        why.split_whitespace().collect::<Vec<_>>().join(" ")
                    ))
                })?;
            let mut m = m.clone();
            m.regex = Some(re);
            Arc::new(Expr::Match(m))
        }
        Expr::Match(_) => expr.clone(),
    })
}

fn compile_all(terms: &[Arc<Expr>]) -> Result<Vec<Arc<Expr>>, FilterError> {
    terms.iter().map(compile_regexes).collect()
}
