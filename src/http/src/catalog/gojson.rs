//! Reading a parsed JSON document the way Go's `encoding/json` fills a struct:
//! field names match case-insensitively (exact spelling first), `null` leaves
//! a field at its zero value, unknown keys are ignored, and a value of the
//! wrong JSON type fails with Go's `UnmarshalTypeError` text. Map keys are
//! data and keep their case.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Go's decode error text (Consul prefixes `Request decode failed: `).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeError(pub String);

/// Parse the first JSON value of a body as Go's `json.Decoder.Decode` does
/// (trailing bytes after it are never read).
pub(crate) fn parse_body(body: &[u8]) -> Result<Value, DecodeError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(DecodeError("EOF".to_string()));
    }
    let mut values = serde_json::Deserializer::from_slice(body).into_iter::<Value>();
    match values.next() {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) if e.is_eof() => Err(DecodeError("unexpected EOF".to_string())),
        Some(Err(e)) => Err(DecodeError(e.to_string())),
        None => Err(DecodeError("EOF".to_string())),
    }
}

/// The JSON kind Go names in `cannot unmarshal <kind> into ...`.
fn kind(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(_) => "bool".to_string(),
        Value::Number(_) => "number".to_string(),
        Value::String(_) => "string".to_string(),
        Value::Array(_) => "array".to_string(),
        Value::Object(_) => "object".to_string(),
    }
}

/// One JSON object being read as the Go struct at `path` (`RegisterRequest`,
/// `RegisterRequest.Service`, ...).
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
    root: &'static str,
}

impl<'a> Obj<'a> {
    /// The top-level struct (`structs.RegisterRequest` for `root`
    /// `RegisterRequest`).
    pub fn root(v: &'a Value, root: &'static str) -> Result<Obj<'a>, DecodeError> {
        match v {
            Value::Object(map) => Ok(Obj { map, path: String::new(), root }),
            other => Err(DecodeError(format!(
                "json: cannot unmarshal {} into Go value of type structs.{root}",
                kind(other)
            ))),
        }
    }

    /// The value for Go field `name`: the exact key if present, else the
    /// first key equal under case folding. `null` counts as absent.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        let v = self.map.get(name).or_else(|| {
            self.map
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })?;
        (!v.is_null()).then_some(v)
    }

    fn field_path(&self, name: &str) -> String {
        if self.path.is_empty() {
            format!("{}.{name}", self.root)
        } else {
            format!("{}.{}.{name}", self.root, self.path)
        }
    }

    fn type_error(&self, name: &str, v: &Value, go_type: &str) -> DecodeError {
        let what = match v {
            Value::Number(n) if go_type.contains("int") => format!("number {n}"),
            other => kind(other),
        };
        DecodeError(format!(
            "json: cannot unmarshal {what} into Go struct field {} of type {go_type}",
            self.field_path(name)
        ))
    }

    /// A nested struct field (a Go struct or pointer to one).
    pub fn object(&self, name: &str, go_type: &str) -> Result<Option<Obj<'a>>, DecodeError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Obj {
                map,
                path: if self.path.is_empty() { name.to_string() } else { format!("{}.{name}", self.path) },
                root: self.root,
            })),
            Some(v) => Err(self.type_error(name, v, go_type)),
        }
    }

    /// A slice of structs (`[]*HealthCheck`); `null` elements are skipped.
    pub fn objects(&self, name: &str, go_type: &str) -> Result<Vec<Obj<'a>>, DecodeError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::Null => {}
                        Value::Object(map) => out.push(Obj {
                            map,
                            path: if self.path.is_empty() { name.to_string() } else { format!("{}.{name}", self.path) },
                            root: self.root,
                        }),
                        other => return Err(self.type_error(name, other, go_type.trim_start_matches("[]"))),
                    }
                }
                Ok(out)
            }
            Some(v) => Err(self.type_error(name, v, go_type)),
        }
    }

    /// A `string` (or string-typed) field.
    pub fn string(&self, name: &str, go_type: &str) -> Result<String, DecodeError> {
        match self.get(name) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(v) => Err(self.type_error(name, v, go_type)),
        }
    }

    pub fn boolean(&self, name: &str) -> Result<bool, DecodeError> {
        match self.get(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(self.type_error(name, v, "bool")),
        }
    }

    /// A Go `int` (64-bit): an integer literal in range.
    pub fn int(&self, name: &str) -> Result<i64, DecodeError> {
        match self.get(name) {
            None => Ok(0),
            Some(v @ Value::Number(n)) => n.as_i64().ok_or_else(|| self.type_error(name, v, "int")),
            Some(v) => Err(self.type_error(name, v, "int")),
        }
    }

    /// A Go `uint`.
    pub fn uint(&self, name: &str) -> Result<u64, DecodeError> {
        match self.get(name) {
            None => Ok(0),
            Some(v @ Value::Number(n)) => n.as_u64().ok_or_else(|| self.type_error(name, v, "uint")),
            Some(v) => Err(self.type_error(name, v, "uint")),
        }
    }

    /// A `[]string`.
    pub fn strings(&self, name: &str) -> Result<Vec<String>, DecodeError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| match i {
                    Value::String(s) => Ok(s.clone()),
                    Value::Null => Ok(String::new()),
                    other => Err(self.type_error(name, other, "string")),
                })
                .collect(),
            Some(v) => Err(self.type_error(name, v, "[]string")),
        }
    }

    /// A `map[string]string`; keys keep their case.
    pub fn string_map(&self, name: &str) -> Result<BTreeMap<String, String>, DecodeError> {
        match self.get(name) {
            None => Ok(BTreeMap::new()),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    Value::Null => Ok((k.clone(), String::new())),
                    other => Err(self.type_error(name, other, "string")),
                })
                .collect(),
            Some(v) => Err(self.type_error(name, v, "map[string]string")),
        }
    }

    /// A `map[string][]string` (check `Header`).
    pub fn header_map(&self, name: &str) -> Result<BTreeMap<String, Vec<String>>, DecodeError> {
        match self.get(name) {
            None => Ok(BTreeMap::new()),
            Some(Value::Object(map)) => {
                let mut out = BTreeMap::new();
                for (k, v) in map {
                    let values = match v {
                        Value::Null => Vec::new(),
                        Value::Array(items) => items
                            .iter()
                            .map(|i| match i {
                                Value::String(s) => Ok(s.clone()),
                                Value::Null => Ok(String::new()),
                                other => Err(self.type_error(name, other, "string")),
                            })
                            .collect::<Result<_, _>>()?,
                        other => return Err(self.type_error(name, other, "[]string")),
                    };
                    out.insert(k.clone(), values);
                }
                Ok(out)
            }
            Some(v) => Err(self.type_error(name, v, "map[string][]string")),
        }
    }

    /// A map of objects (`map[string]structs.ServiceAddress`), in key order.
    pub fn object_map(&self, name: &str, go_type: &str) -> Result<Vec<(String, Obj<'a>)>, DecodeError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Object(map)) => {
                let mut out = Vec::with_capacity(map.len());
                for (k, v) in map {
                    match v {
                        Value::Null => {}
                        Value::Object(inner) => out.push((
                            k.clone(),
                            Obj { map: inner, path: format!("{}.{k}", if self.path.is_empty() { name.to_string() } else { format!("{}.{name}", self.path) }), root: self.root },
                        )),
                        other => return Err(self.type_error(name, other, go_type.trim_start_matches("map[string]"))),
                    }
                }
                Ok(out)
            }
            Some(v) => Err(self.type_error(name, v, go_type)),
        }
    }

    /// A duration field decoded through an `interface{}` as Consul's
    /// `HealthCheckDefinition.UnmarshalJSON` does: a Go duration string, or a
    /// number of nanoseconds; any other JSON type is ignored.
    pub fn duration(&self, name: &str) -> Result<i64, DecodeError> {
        match self.get(name) {
            Some(Value::String(s)) => crate::duration::parse_go_duration(s)
                .ok_or_else(|| DecodeError(format!("time: invalid duration {}", ballast_store::go_quote(s)))),
            Some(Value::Number(n)) => Ok(n.as_f64().map_or(0, |f| f as i64)),
            _ => Ok(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_and_maps_keep_case() {
        let v = parse_body(br#"{"node":"n1","NODEMETA":{"Rack":"a"},"Address":null}"#).unwrap();
        let o = Obj::root(&v, "RegisterRequest").unwrap();
        assert_eq!(o.string("Node", "string").unwrap(), "n1");
        assert_eq!(o.string("Address", "string").unwrap(), "");
        assert_eq!(o.string_map("NodeMeta").unwrap().get("Rack").map(String::as_str), Some("a"));
    }

    #[test]
    fn type_errors_read_like_go() {
        let v = parse_body(br#"{"Service":{"Port":"80","Tags":[1]}}"#).unwrap();
        let o = Obj::root(&v, "RegisterRequest").unwrap();
        let svc = o.object("Service", "structs.NodeService").unwrap().unwrap();
        assert_eq!(
            svc.int("Port").unwrap_err().0,
            "json: cannot unmarshal string into Go struct field RegisterRequest.Service.Port of type int"
        );
        assert_eq!(
            parse_body(br#"{"Port":1.5}"#).map(|v| Obj::root(&v, "X").unwrap().int("Port").unwrap_err().0).unwrap(),
            "json: cannot unmarshal number 1.5 into Go struct field X.Port of type int"
        );
        assert_eq!(parse_body(b"  ").unwrap_err().0, "EOF");
        assert_eq!(parse_body(b"{\"a\":").unwrap_err().0, "unexpected EOF");
        assert!(Obj::root(&Value::Array(vec![]), "RegisterRequest").is_err());
        // Trailing bytes after the first value are not read.
        assert!(parse_body(b"{} trailing").is_ok());
    }
}
