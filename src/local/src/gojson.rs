//! JSON decoding the way Go's `encoding/json` does it for Consul's request
//! structs: keys matched to field names exactly first, then ASCII
//! case-insensitively; `null` leaves a field untouched; a wrong type or (in
//! strict decoders) an unknown key is remembered and decoding goes on, so the
//! error reported is the first one in document order, with Go's wording.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A parsed JSON value that keeps object keys in document order (Go applies
/// duplicate keys in order, the last one wins).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum JVal {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    Arr(Vec<JVal>),
    Obj(Vec<(String, JVal)>),
}

impl JVal {
    /// The word Go uses for this value in `cannot unmarshal <kind> into ...`.
    fn kind(&self) -> String {
        match self {
            JVal::Null => "null".into(),
            JVal::Bool(_) => "bool".into(),
            JVal::Int(_) | JVal::Uint(_) | JVal::Float(_) => "number".into(),
            JVal::Str(_) => "string".into(),
            JVal::Arr(_) => "array".into(),
            JVal::Obj(_) => "object".into(),
        }
    }

    /// Go's `interface{}` view of a number: always a float64.
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            JVal::Int(i) => Some(*i as f64),
            JVal::Uint(u) => Some(*u as f64),
            JVal::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// Plain serde_json value (object keys sorted), for data this crate
    /// carries without interpreting (Proxy, Connect).
    pub(crate) fn to_value(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            JVal::Null => Value::Null,
            JVal::Bool(b) => Value::Bool(*b),
            JVal::Int(i) => Value::from(*i),
            JVal::Uint(u) => Value::from(*u),
            JVal::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null),
            JVal::Str(s) => Value::String(s.clone()),
            JVal::Arr(a) => Value::Array(a.iter().map(JVal::to_value).collect()),
            JVal::Obj(o) => {
                let mut m = serde_json::Map::new();
                for (k, v) in o {
                    m.insert(k.clone(), v.to_value());
                }
                Value::Object(m)
            }
        }
    }
}

impl<'de> Deserialize<'de> for JVal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = JVal;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<JVal, E> {
                Ok(JVal::Null)
            }
            fn visit_none<E>(self) -> Result<JVal, E> {
                Ok(JVal::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<JVal, E> {
                Ok(JVal::Bool(b))
            }
            fn visit_i64<E>(self, i: i64) -> Result<JVal, E> {
                Ok(JVal::Int(i))
            }
            fn visit_u64<E>(self, u: u64) -> Result<JVal, E> {
                Ok(JVal::Uint(u))
            }
            fn visit_f64<E>(self, f: f64) -> Result<JVal, E> {
                Ok(JVal::Float(f))
            }
            fn visit_str<E>(self, s: &str) -> Result<JVal, E> {
                Ok(JVal::Str(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> Result<JVal, E> {
                Ok(JVal::Str(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<JVal, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = a.next_element()? {
                    out.push(v);
                }
                Ok(JVal::Arr(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<JVal, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = a.next_entry::<String, JVal>()? {
                    out.push((k, v));
                }
                Ok(JVal::Obj(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parse a request body as Go's `json.Decoder.Decode` does: the first JSON
/// value only (trailing bytes are not read), `EOF` for an empty body.
pub(crate) fn parse_body(body: &[u8]) -> Result<JVal, String> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err("EOF".into());
    }
    let mut stream = serde_json::Deserializer::from_slice(body).into_iter::<JVal>();
    match stream.next() {
        None => Err("EOF".into()),
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => Err(go_syntax_text(&e, body)),
    }
}

/// Go's wording for a malformed document (`unexpected EOF`,
/// `invalid character 'x' looking for beginning of value`).
fn go_syntax_text(e: &serde_json::Error, body: &[u8]) -> String {
    if e.is_eof() {
        return "unexpected EOF".into();
    }
    match offending_byte(body, e.line(), e.column()) {
        Some(b) => format!("invalid character {} looking for beginning of value", go_quote_char(b)),
        None => "unexpected EOF".into(),
    }
}

fn offending_byte(body: &[u8], line: usize, column: usize) -> Option<u8> {
    let mut cur_line = 1;
    let mut line_start = 0;
    for (i, b) in body.iter().enumerate() {
        if cur_line == line {
            break;
        }
        if *b == b'\n' {
            cur_line += 1;
            line_start = i + 1;
        }
    }
    let idx = line_start + column.checked_sub(1)?;
    body.get(idx).copied()
}

fn go_quote_char(b: u8) -> String {
    match b {
        b'\'' => "'\\''".into(),
        b'"' => "'\"'".into(),
        0x20..=0x7e => format!("'{}'", b as char),
        _ => format!("'\\x{b:02x}'"),
    }
}

/// Go's `%q` for a key in `json: unknown field "k"`.
fn go_quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// First-error-wins collector (Go's `decodeState.saveError`).
#[derive(Debug, Default)]
pub(crate) struct Errs {
    first: Option<String>,
}

impl Errs {
    pub(crate) fn save(&mut self, e: String) {
        if self.first.is_none() {
            self.first = Some(e);
        }
    }
    pub(crate) fn has(&self) -> bool {
        self.first.is_some()
    }
    pub(crate) fn into_result(self) -> Result<(), String> {
        match self.first {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
    fn type_err(&mut self, v: &JVal, field: &str, ty: &str) {
        self.save(format!("json: cannot unmarshal {} into Go struct field .{field} of type {ty}", v.kind()));
    }
}

/// Walk an object's members in document order, resolving each key to a
/// field of `names` like Go (exact, then case-insensitive). `on` gets the
/// canonical field name. Unknown keys are errors only when `strict`
/// (Consul's `DisallowUnknownFields` decoders).
pub(crate) fn walk_object(
    v: &JVal,
    names: &[&'static str],
    strict: bool,
    type_name: &str,
    errs: &mut Errs,
    mut on: impl FnMut(&'static str, &JVal, &mut Errs),
) {
    let entries = match v {
        JVal::Null => return,
        JVal::Obj(entries) => entries,
        other => {
            errs.save(format!("json: cannot unmarshal {} into Go value of type {type_name}", other.kind()));
            return;
        }
    };
    for (key, val) in entries {
        let field = names
            .iter()
            .find(|n| **n == key.as_str())
            .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(key)));
        match field {
            Some(name) => on(name, val, errs),
            None if strict => errs.save(format!("json: unknown field {}", go_quote(key))),
            None => {}
        }
    }
}

pub(crate) fn get_string(v: &JVal, field: &str, errs: &mut Errs) -> Option<String> {
    match v {
        JVal::Null => None,
        JVal::Str(s) => Some(s.clone()),
        other => {
            errs.type_err(other, field, "string");
            None
        }
    }
}

pub(crate) fn get_bool(v: &JVal, field: &str, errs: &mut Errs) -> Option<bool> {
    match v {
        JVal::Null => None,
        JVal::Bool(b) => Some(*b),
        other => {
            errs.type_err(other, field, "bool");
            None
        }
    }
}

/// Go `int` (64-bit): only integral literals that fit.
pub(crate) fn get_int(v: &JVal, field: &str, errs: &mut Errs) -> Option<i64> {
    match v {
        JVal::Null => None,
        JVal::Int(i) => Some(*i),
        JVal::Uint(u) => match i64::try_from(*u) {
            Ok(i) => Some(i),
            Err(_) => {
                errs.save(format!("json: cannot unmarshal number {u} into Go struct field .{field} of type int"));
                None
            }
        },
        JVal::Float(f) => {
            errs.save(format!("json: cannot unmarshal number {f:?} into Go struct field .{field} of type int"));
            None
        }
        other => {
            errs.type_err(other, field, "int");
            None
        }
    }
}

pub(crate) fn get_string_slice(v: &JVal, field: &str, errs: &mut Errs) -> Option<Vec<String>> {
    match v {
        JVal::Null => None,
        JVal::Arr(items) => Some(
            items
                .iter()
                .map(|i| match i {
                    JVal::Str(s) => s.clone(),
                    JVal::Null => String::new(),
                    other => {
                        errs.type_err(other, field, "string");
                        String::new()
                    }
                })
                .collect(),
        ),
        other => {
            errs.type_err(other, field, "[]string");
            None
        }
    }
}

pub(crate) fn get_string_map(v: &JVal, field: &str, errs: &mut Errs) -> Option<BTreeMap<String, String>> {
    match v {
        JVal::Null => None,
        JVal::Obj(entries) => {
            let mut out = BTreeMap::new();
            for (k, val) in entries {
                match val {
                    JVal::Str(s) => {
                        out.insert(k.clone(), s.clone());
                    }
                    JVal::Null => {
                        out.insert(k.clone(), String::new());
                    }
                    other => errs.type_err(other, field, "string"),
                }
            }
            Some(out)
        }
        other => {
            errs.type_err(other, field, "map[string]string");
            None
        }
    }
}

/// `map[string][]string` (HTTP check headers).
pub(crate) fn get_header_map(v: &JVal, field: &str, errs: &mut Errs) -> Option<BTreeMap<String, Vec<String>>> {
    match v {
        JVal::Null => None,
        JVal::Obj(entries) => {
            let mut out = BTreeMap::new();
            for (k, val) in entries {
                let list = get_string_slice(val, field, errs).unwrap_or_default();
                out.insert(k.clone(), list);
            }
            Some(out)
        }
        other => {
            errs.type_err(other, field, "map[string][]string");
            None
        }
    }
}
