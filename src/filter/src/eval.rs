//! Evaluation of a parsed filter over the JSON Consul would return for one
//! element, following go-bexpr v0.1.2's `evaluate.go`:
//!
//! * a selector walks objects by exact, case-sensitive key (Go field names);
//! * a list met before the selector ends is searched with the same remaining
//!   selector, true if ANY element matches (`Checks.Status != "passing"`
//!   means "some check is not passing"); nested lists flatten;
//! * a list at the end of the selector is the operand itself (`in`,
//!   `is empty`);
//! * a missing map key answers false for `==`, `is not empty`, `in`/`contains`
//!   and true for every other operator (bexpr's map branch);
//! * the literal is coerced to the field's type (`Port == "8080"` works,
//!   `Port == "x"` is a coercion error), as bexpr's validation does.
//!
//! Consul validates selectors and operators against the Go type before it
//! looks at data; without the type, this module raises the same messages when
//! it meets the offending value, and treats an absent struct field (an
//! `omitempty` field Go left out of the JSON) as its zero value.

use serde_json::Value;

use crate::ast::{Expr, MatchExpr, MatchOp};
use crate::error::FilterError;
use crate::gostr;

/// Fields that are Go maps in Consul's filtered types; a key missing under
/// one of these gets bexpr's missing-map-key answer, anything else missing is
/// an omitted zero value.
const MAP_FIELDS: &[&str] = &[
    "Meta",
    "NodeMeta",
    "ServiceMeta",
    "TaggedAddresses",
    "ServiceTaggedAddresses",
];

pub(crate) fn eval(expr: &Expr, v: &Value) -> Result<bool, FilterError> {
    match expr {
        Expr::And(terms) => {
            for t in terms {
                if !eval(t, v)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Expr::Or(terms) => {
            for t in terms {
                if eval(t, v)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Expr::Not(e) => Ok(!eval(e, v)?),
        Expr::Match(m) => walk(m, 0, v),
    }
}

enum Target<'a> {
    Present(&'a Value),
    MissingMapKey,
    Zero,
}

fn walk(m: &MatchExpr, depth: usize, v: &Value) -> Result<bool, FilterError> {
    if depth >= m.selector.len() {
        return apply(m, Target::Present(v));
    }
    match v {
        Value::Object(map) => match map.get(&m.selector[depth]) {
            Some(next) => walk(m, depth + 1, next),
            None => {
                let in_map = depth > 0 && MAP_FIELDS.contains(&m.selector[depth - 1].as_str());
                apply(m, if in_map { Target::MissingMapKey } else { Target::Zero })
            }
        },
        Value::Array(items) => {
            for item in items {
                if walk(m, depth, item)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Value::Null => apply(m, Target::Zero),
        _ => Err(FilterError::new(format!(
            "Selector {} is not valid",
            gostr::quote(&m.selector_text(depth + 1))
        ))),
    }
}

fn literal(m: &MatchExpr) -> &str {
    m.value.as_deref().unwrap_or("")
}

fn invalid_op(m: &MatchExpr) -> FilterError {
    FilterError::new(format!(
        "Invalid match operator {} for selector {}",
        gostr::quote(m.op.go_name()),
        gostr::quote(&m.selector_text(m.selector.len()))
    ))
}

fn coerce_error(m: &MatchExpr, why: String) -> FilterError {
    FilterError::new(format!(
        "Failed to coerce value {} for selector {}: {}",
        gostr::quote(literal(m)),
        gostr::quote(&m.selector_text(m.selector.len())),
        why
    ))
}

fn regex_match(m: &MatchExpr, s: &str) -> bool {
    m.regex.as_ref().is_some_and(|re| re.is_match(s))
}

/// Whether the literal equals the zero value of the field's unknown type.
fn is_zero_literal(lit: &str) -> bool {
    lit.is_empty()
        || gostr::parse_bool(lit) == Ok(false)
        || gostr::parse_int(lit) == Ok(0)
        || gostr::parse_float(lit) == Ok(0.0)
}

/// Equality of a literal with a scalar JSON value, coercing the literal to
/// the value's type. Ok(None) for objects, arrays and null.
fn scalar_eq(m: &MatchExpr, v: &Value) -> Result<Option<bool>, FilterError> {
    let lit = literal(m);
    let eq = match v {
        Value::String(s) => s == lit,
        Value::Bool(b) => *b == gostr::parse_bool(lit).map_err(|e| coerce_error(m, e))?,
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i == gostr::parse_int(lit).map_err(|e| coerce_error(m, e))?
            } else if let Some(u) = n.as_u64() {
                u == gostr::parse_uint(lit).map_err(|e| coerce_error(m, e))?
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                f == gostr::parse_float(lit).map_err(|e| coerce_error(m, e))?
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(eq))
}

fn apply(m: &MatchExpr, target: Target<'_>) -> Result<bool, FilterError> {
    use MatchOp::*;
    let lit = literal(m);
    let v = match target {
        Target::MissingMapKey => return Ok(!matches!(m.op, Equal | IsNotEmpty | In)),
        Target::Zero | Target::Present(Value::Null) => {
            return Ok(match m.op {
                Equal => is_zero_literal(lit),
                NotEqual => !is_zero_literal(lit),
                IsEmpty | NotIn => true,
                IsNotEmpty | In => false,
                Matches => regex_match(m, ""),
                NotMatches => !regex_match(m, ""),
            })
        }
        Target::Present(v) => v,
    };
    match (m.op, v) {
        (Equal | NotEqual, Value::String(_) | Value::Bool(_) | Value::Number(_)) => {
            let eq = scalar_eq(m, v)?.unwrap_or(false);
            Ok(eq == (m.op == Equal))
        }
        (In | NotIn, Value::String(s)) => Ok(s.contains(lit) == (m.op == In)),
        (Matches | NotMatches, Value::String(s)) => Ok(regex_match(m, s) == (m.op == Matches)),
        (IsEmpty | IsNotEmpty, Value::Array(a)) => Ok(a.is_empty() == (m.op == IsEmpty)),
        (IsEmpty | IsNotEmpty, Value::Object(o)) => Ok(o.is_empty() == (m.op == IsEmpty)),
        (In | NotIn, Value::Object(o)) => Ok(o.contains_key(lit) == (m.op == In)),
        (In | NotIn, Value::Array(items)) => {
            let mut found = false;
            for item in items {
                match scalar_eq(m, item)? {
                    Some(true) => {
                        found = true;
                        break;
                    }
                    Some(false) => {}
                    None if item.is_null() => {}
                    // A list of structs supports only emptiness checks.
                    None => return Err(invalid_op(m)),
                }
            }
            Ok(found == (m.op == In))
        }
        _ => Err(invalid_op(m)),
    }
}
