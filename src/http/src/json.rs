//! JSON output byte-compatible with Go's `encoding/json` as Consul uses it:
//! `<`, `>`, `&`, U+2028 and U+2029 escaped as `\u00XX`/`\u20XX`, and
//! `?pretty` as `json.MarshalIndent(obj, "", "    ")` plus a newline.

use std::io;

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

/// Wraps a serde_json formatter and adds Go's HTML-safe string escaping.
struct GoFormatter<F> {
    inner: F,
}

macro_rules! delegate {
    ($($name:ident),*) => {
        $(fn $name<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
            self.inner.$name(w)
        })*
    };
}

macro_rules! delegate_first {
    ($($name:ident),*) => {
        $(fn $name<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
            self.inner.$name(w, first)
        })*
    };
}

impl<F: Formatter> Formatter for GoFormatter<F> {
    delegate!(
        begin_array,
        end_array,
        end_array_value,
        begin_object,
        end_object
    );
    delegate!(end_object_key, begin_object_value, end_object_value);
    delegate_first!(begin_array_value, begin_object_key);

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let esc: &[u8] = match c {
                '<' => b"\\u003c",
                '>' => b"\\u003e",
                '&' => b"\\u0026",
                '\u{2028}' => b"\\u2028",
                '\u{2029}' => b"\\u2029",
                _ => continue,
            };
            w.write_all(&fragment.as_bytes()[start..i])?;
            w.write_all(esc)?;
            start = i + c.len_utf8();
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
}

/// Serialize `value` as Consul would. Our response types serialize
/// infallibly (string-keyed maps, no custom errors); should that ever
/// change, the failure is logged and `null` is sent rather than panicking.
pub fn to_json<T: Serialize + ?Sized>(value: &T, pretty: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    let result = if pretty {
        let fmt = GoFormatter {
            inner: PrettyFormatter::with_indent(b"    "),
        };
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        value.serialize(&mut ser)
    } else {
        let fmt = GoFormatter {
            inner: CompactFormatter,
        };
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        value.serialize(&mut ser)
    };
    if let Err(e) = result {
        tracing::error!("http: failed to encode response JSON: {e}");
        out.clear();
        out.extend_from_slice(b"null");
    }
    if pretty {
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::to_json;
    use std::collections::BTreeMap;

    #[test]
    fn escapes_like_go() {
        let s = "a<b>&c\u{2028}\u{2029}\"\n";
        assert_eq!(
            String::from_utf8(to_json(s, false)).unwrap(),
            "\"a\\u003cb\\u003e\\u0026c\\u2028\\u2029\\\"\\n\""
        );
    }

    #[test]
    fn pretty_matches_marshal_indent() {
        let mut m = BTreeMap::new();
        m.insert("A", vec![1, 2]);
        m.insert("B", vec![]);
        let out = String::from_utf8(to_json(&m, true)).unwrap();
        assert_eq!(
            out,
            "{\n    \"A\": [\n        1,\n        2\n    ],\n    \"B\": []\n}\n"
        );
        assert_eq!(
            String::from_utf8(to_json(&m, false)).unwrap(),
            "{\"A\":[1,2],\"B\":[]}"
        );
    }
}
