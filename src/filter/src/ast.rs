//! The parsed form of a filter expression (go-bexpr's AST).

use std::sync::Arc;

use regex::Regex;

/// Match operators. `contains` parses to `In` and `not contains` to `NotIn`,
/// exactly as in go-bexpr: `Tags contains "x"` and `"x" in Tags` are one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MatchOp {
    Equal,
    NotEqual,
    In,
    NotIn,
    IsEmpty,
    IsNotEmpty,
    Matches,
    NotMatches,
}

impl MatchOp {
    /// go-bexpr's `MatchOperator.String()`, which Consul's errors quote.
    pub(crate) fn go_name(self) -> &'static str {
        match self {
            MatchOp::Equal => "Equal",
            MatchOp::NotEqual => "Not Equal",
            MatchOp::In => "In",
            MatchOp::NotIn => "Not In",
            MatchOp::IsEmpty => "Is Empty",
            MatchOp::IsNotEmpty => "Is Not Empty",
            MatchOp::Matches => "Matches",
            MatchOp::NotMatches => "Not Matches",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct MatchExpr {
    /// Path segments; `a.b["c"]` is `["a", "b", "c"]`.
    pub(crate) selector: Vec<String>,
    pub(crate) op: MatchOp,
    /// The raw (unquoted) literal; None for `is empty` / `is not empty`.
    pub(crate) value: Option<String>,
    /// Compiled once for `matches` / `not matches`.
    pub(crate) regex: Option<Regex>,
}

impl MatchExpr {
    /// go-bexpr's `Selector.String()`: segments joined with dots.
    pub(crate) fn selector_text(&self, upto: usize) -> String {
        self.selector[..upto.min(self.selector.len())].join(".")
    }
}

/// Children are shared so the parser's memo table can hand out a subtree
/// more than once without copying it.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    /// go-bexpr nests `a and b and c` to the right; a flat list evaluates
    /// the same (left to right, short-circuit) without a deep recursion.
    And(Vec<Arc<Expr>>),
    Or(Vec<Arc<Expr>>),
    Not(Arc<Expr>),
    Match(MatchExpr),
}
