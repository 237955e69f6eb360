//! The `/v1/txn` request body decoded as Consul decodes `api.TxnOps`: Go
//! `encoding/json` with `DisallowUnknownFields`, field names matched
//! case-insensitively, `Value` as standard base64, only the first JSON
//! value read (trailing bytes ignored), errors worded like Go's.

use ballast_store::{KvVerb, TxnKvOp};
use serde_json::{Map, Value};

/// One decoded operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParsedOp {
    Kv(TxnKvOp),
    /// A `Node`, `Service` or `Check` op (the name is the kind).
    Catalog(&'static str),
    /// Every member null: Consul's `convertOps` drops such an op.
    Empty,
}

/// Decode the body; the error is the text after `Failed to parse body: `.
pub fn parse_txn_body(body: &[u8]) -> Result<Vec<ParsedOp>, String> {
    let mut stream = serde_json::Deserializer::from_slice(body).into_iter::<Value>();
    let value = match stream.next() {
        None => return Err("EOF".to_string()),
        Some(Err(e)) => return Err(syntax_error(&e)),
        Some(Ok(v)) => v,
    };
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        other => return Err(type_error(&other, None, "api.TxnOps")),
    };
    items.iter().map(parse_op).collect()
}

fn syntax_error(e: &serde_json::Error) -> String {
    if e.is_eof() {
        "unexpected EOF".to_string()
    } else {
        // serde_json's wording differs from Go's here; the status (400)
        // and the prefix are what clients act on.
        let msg = e.to_string();
        match msg.find(" at line ") {
            Some(i) => msg[..i].to_string(),
            None => msg,
        }
    }
}

/// Go's `UnmarshalTypeError` text.
fn type_error(v: &Value, field: Option<(&str, &str)>, ty: &str) -> String {
    let what = match v {
        Value::Null => "null".to_string(),
        Value::Bool(_) => "bool".to_string(),
        Value::Number(n) => format!("number {n}"),
        Value::String(_) => "string".to_string(),
        Value::Array(_) => "array".to_string(),
        Value::Object(_) => "object".to_string(),
    };
    match field {
        Some((strukt, path)) => {
            format!(
                "json: cannot unmarshal {what} into Go struct field {strukt}.{path} of type {ty}"
            )
        }
        None => format!("json: cannot unmarshal {what} into Go value of type {ty}"),
    }
}

/// Go's field lookup: exact name first, else case-insensitive.
fn match_field<'a>(key: &str, names: &[&'a str]) -> Option<&'a str> {
    names
        .iter()
        .find(|n| **n == key)
        .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(key)))
        .copied()
}

fn parse_op(v: &Value) -> Result<ParsedOp, String> {
    let obj = match v {
        Value::Object(o) => o,
        Value::Null => return Ok(ParsedOp::Empty),
        other => return Err(type_error(other, None, "api.TxnOp")),
    };
    let mut result = ParsedOp::Empty;
    for (key, val) in obj {
        let Some(field) = match_field(key, &["KV", "Node", "Service", "Check"]) else {
            return Err(format!("json: unknown field \"{key}\""));
        };
        if val.is_null() {
            continue;
        }
        let ty = match field {
            "KV" => "api.KVTxnOp",
            "Node" => "api.NodeTxnOp",
            "Service" => "api.ServiceTxnOp",
            _ => "api.CheckTxnOp",
        };
        let Value::Object(inner) = val else {
            return Err(type_error(val, Some(("TxnOp", field)), ty));
        };
        // Go fills every non-null member; any one decides the kind, and KV
        // takes precedence in `convertOps`.
        match field {
            "KV" => result = ParsedOp::Kv(parse_kv(inner)?),
            "Node" if !matches!(result, ParsedOp::Kv(_)) => result = ParsedOp::Catalog("Node"),
            "Service" if !matches!(result, ParsedOp::Kv(_)) => {
                result = ParsedOp::Catalog("Service")
            }
            "Check" if !matches!(result, ParsedOp::Kv(_)) => result = ParsedOp::Catalog("Check"),
            _ => {}
        }
    }
    Ok(result)
}

const KV_FIELDS: &[&str] = &[
    "Verb",
    "Key",
    "Value",
    "Flags",
    "Index",
    "Session",
    "Namespace",
    "Partition",
];

fn parse_kv(obj: &Map<String, Value>) -> Result<TxnKvOp, String> {
    let mut op = TxnKvOp {
        verb: KvVerb::parse(""),
        key: String::new(),
        value: None,
        flags: 0,
        index: 0,
        session: String::new(),
    };
    for (key, val) in obj {
        let Some(field) = match_field(key, KV_FIELDS) else {
            return Err(format!("json: unknown field \"{key}\""));
        };
        if val.is_null() {
            // Go leaves the zero value (nil for Value).
            if field == "Value" {
                op.value = None;
            }
            continue;
        }
        let path = format!("KV.{field}");
        let string_field = |ty: &str| -> Result<String, String> {
            match val {
                Value::String(s) => Ok(s.clone()),
                other => Err(type_error(other, Some(("KVTxnOp", &path)), ty)),
            }
        };
        let uint_field = || -> Result<u64, String> {
            match val {
                Value::Number(n) => n
                    .as_u64()
                    .ok_or_else(|| type_error(val, Some(("KVTxnOp", &path)), "uint64")),
                other => Err(type_error(other, Some(("KVTxnOp", &path)), "uint64")),
            }
        };
        match field {
            "Verb" => op.verb = KvVerb::parse(&string_field("api.KVOp")?),
            "Key" => op.key = string_field("string")?,
            "Value" => {
                let s = string_field("[]uint8")?;
                op.value = Some(decode_base64(&s)?);
            }
            "Flags" => op.flags = uint_field()?,
            "Index" => op.index = uint_field()?,
            "Session" => op.session = string_field("string")?,
            // Enterprise scoping: accepted, only the default scope exists.
            _ => {
                string_field("string")?;
            }
        }
    }
    Ok(op)
}

/// Go's `[]byte` JSON decoding: standard alphabet with padding; CR and LF
/// are skipped.
fn decode_base64(s: &str) -> Result<Vec<u8>, String> {
    use base64::Engine;
    let cleaned: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .map_err(|e| {
            let at = match e {
                base64::DecodeError::InvalidByte(i, _) => i,
                base64::DecodeError::InvalidLastSymbol(i, _) => i,
                base64::DecodeError::InvalidLength(n) => n,
                base64::DecodeError::InvalidPadding => cleaned.len(),
            };
            format!("illegal base64 data at input byte {at}")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(op: &ParsedOp) -> &TxnKvOp {
        match op {
            ParsedOp::Kv(k) => k,
            other => panic!("not a KV op: {other:?}"),
        }
    }

    #[test]
    fn decodes_consul_shapes_case_insensitively() {
        let ops = parse_txn_body(
            br#"[{"KV":{"Verb":"set","Key":"a","Value":"aGVsbG8=","Flags":7}},
                 {"kv":{"verb":"cas","key":"b","value":null,"index":3,"session":"s"}},
                 {"KV":{"Verb":"get","Key":"c"}}] trailing"#,
        )
        .unwrap();
        assert_eq!(ops.len(), 3);
        let a = kv(&ops[0]);
        assert_eq!(
            (a.verb.clone(), a.key.as_str(), a.flags),
            (KvVerb::Set, "a", 7)
        );
        assert_eq!(a.value.as_deref(), Some(&b"hello"[..]));
        let b = kv(&ops[1]);
        assert_eq!(
            (b.verb.clone(), b.index, b.session.as_str()),
            (KvVerb::Cas, 3, "s")
        );
        assert_eq!(b.value, None);
        assert_eq!(parse_txn_body(b"null").unwrap(), vec![]);
        assert_eq!(parse_txn_body(b"[null]").unwrap(), vec![ParsedOp::Empty]);
        assert_eq!(
            parse_txn_body(br#"[{"Node":{"Verb":"get"}}]"#).unwrap(),
            vec![ParsedOp::Catalog("Node")]
        );
    }

    #[test]
    fn errors_read_like_go() {
        let err = |b: &[u8]| parse_txn_body(b).unwrap_err();
        assert_eq!(err(b""), "EOF");
        assert_eq!(err(b"[{"), "unexpected EOF");
        assert_eq!(
            err(br#"{"KV":1}"#),
            "json: cannot unmarshal object into Go value of type api.TxnOps"
        );
        assert_eq!(
            err(br#"["x"]"#),
            "json: cannot unmarshal string into Go value of type api.TxnOp"
        );
        assert_eq!(err(br#"[{"Bogus":{}}]"#), "json: unknown field \"Bogus\"");
        assert_eq!(
            err(br#"[{"KV":{"Nope":1}}]"#),
            "json: unknown field \"Nope\""
        );
        assert_eq!(
            err(br#"[{"KV":{"Flags":"x"}}]"#),
            "json: cannot unmarshal string into Go struct field KVTxnOp.KV.Flags of type uint64"
        );
        assert_eq!(
            err(br#"[{"KV":{"Index":-1}}]"#),
            "json: cannot unmarshal number -1 into Go struct field KVTxnOp.KV.Index of type uint64"
        );
        assert_eq!(
            err(br#"[{"KV":{"Value":"!!!!"}}]"#),
            "illegal base64 data at input byte 0"
        );
    }
}
