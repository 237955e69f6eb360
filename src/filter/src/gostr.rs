//! The few Go standard-library string routines whose exact behaviour shows
//! through Consul's filter errors and literal handling: `strconv.Quote`
//! (`%q`), `strconv.Unquote`, and the base-0 `ParseInt`/`ParseUint`/
//! `ParseBool`/`ParseFloat` that go-bexpr uses to coerce literals.

/// Go's `%q` / `strconv.Quote` for valid UTF-8 text.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                if (c as u32) <= 0xffff {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.Unquote` restricted to what the filter grammar can hand it:
/// a backtick raw string or a double-quoted string. `Err(())` is Go's
/// `ErrSyntax` ("invalid syntax").
pub(crate) fn unquote(lit: &str) -> Result<String, ()> {
    let b = lit.as_bytes();
    if b.len() < 2 || b[0] != b[b.len() - 1] {
        return Err(());
    }
    let inner = &lit[1..lit.len() - 1];
    match b[0] {
        b'`' => {
            if inner.contains('`') {
                return Err(());
            }
            // Go discards carriage returns inside raw strings.
            Ok(inner.chars().filter(|&c| c != '\r').collect())
        }
        b'"' => unquote_double(inner),
        _ => Err(()),
    }
}

fn unquote_double(inner: &str) -> Result<String, ()> {
    if inner.contains('\n') {
        return Err(());
    }
    if !inner.contains('\\') && !inner.contains('"') {
        return Ok(inner.to_string());
    }
    // Bytes, because \x and octal escapes produce single bytes in Go.
    let mut out: Vec<u8> = Vec::with_capacity(inner.len());
    let mut chars = inner.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c == '"' {
            return Err(());
        }
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let (_, esc) = chars.next().ok_or(())?;
        let simple = match esc {
            'a' => Some(0x07u8),
            'b' => Some(0x08),
            'f' => Some(0x0c),
            'n' => Some(b'\n'),
            'r' => Some(b'\r'),
            't' => Some(b'\t'),
            'v' => Some(0x0b),
            '\\' => Some(b'\\'),
            '"' => Some(b'"'),
            _ => None,
        };
        if let Some(byte) = simple {
            out.push(byte);
            continue;
        }
        match esc {
            'x' | 'u' | 'U' => {
                let n = match esc {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let mut v: u32 = 0;
                for _ in 0..n {
                    let (_, h) = chars.next().ok_or(())?;
                    v = v * 16 + h.to_digit(16).ok_or(())?;
                }
                if esc == 'x' {
                    out.push(v as u8);
                } else {
                    let ch = char::from_u32(v).ok_or(())?;
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
            }
            '0'..='7' => {
                let mut v: u32 = esc.to_digit(8).ok_or(())?;
                for _ in 0..2 {
                    let (_, d) = chars.next().ok_or(())?;
                    v = v * 8 + d.to_digit(8).ok_or(())?;
                }
                if v > 255 {
                    return Err(());
                }
                out.push(v as u8);
            }
            _ => return Err(()),
        }
    }
    // A Go string may hold invalid UTF-8 after \x escapes; JSON text never
    // does, so a lossy conversion cannot turn a non-match into a match
    // except against a literal U+FFFD.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The text of a Go `*strconv.NumError`.
pub(crate) fn num_error(func: &str, input: &str, out_of_range: bool) -> String {
    let why = if out_of_range {
        "value out of range"
    } else {
        "invalid syntax"
    };
    format!("strconv.{}: parsing {}: {}", func, quote(input), why)
}

/// `strconv.ParseBool`.
pub(crate) fn parse_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(num_error("ParseBool", s, false)),
    }
}

/// Digits and base of a base-0 Go integer literal, sign already removed.
/// Returns None on syntax error. Underscores are accepted only where Go's
/// `underscoreOK` accepts them (base-prefixed or octal literals, between
/// digits).
fn base0_magnitude(s: &str) -> Option<(u32, String)> {
    if s.is_empty() {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let (base, digits, prefixed) = if let Some(r) = lower.strip_prefix("0x") {
        (16, r.to_string(), true)
    } else if let Some(r) = lower.strip_prefix("0b") {
        (2, r.to_string(), true)
    } else if let Some(r) = lower.strip_prefix("0o") {
        (8, r.to_string(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string(), true)
    } else {
        (10, lower.clone(), false)
    };
    if digits.contains('_') {
        if !prefixed {
            return None;
        }
        // '_' must separate digits (or follow the prefix).
        let bytes = digits.as_bytes();
        let mut prev_digit = true; // the prefix counts as a digit
        for &c in bytes {
            if c == b'_' {
                if !prev_digit {
                    return None;
                }
                prev_digit = false;
            } else {
                prev_digit = true;
            }
        }
        if !prev_digit {
            return None;
        }
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() {
        return None;
    }
    if !clean.chars().all(|c| c.is_digit(base)) {
        return None;
    }
    Some((base, clean))
}

/// `strconv.ParseInt(s, 0, 64)`.
pub(crate) fn parse_int(s: &str) -> Result<i64, String> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (base, digits) = base0_magnitude(body).ok_or_else(|| num_error("ParseInt", s, false))?;
    let mag = u128::from_str_radix(&digits, base).map_err(|_| num_error("ParseInt", s, true))?;
    let limit = if neg { 1u128 << 63 } else { (1u128 << 63) - 1 };
    if mag > limit {
        return Err(num_error("ParseInt", s, true));
    }
    Ok(if neg { (mag as i128).wrapping_neg() as i64 } else { mag as i64 })
}

/// `strconv.ParseUint(s, 0, 64)`.
pub(crate) fn parse_uint(s: &str) -> Result<u64, String> {
    let (base, digits) = base0_magnitude(s).ok_or_else(|| num_error("ParseUint", s, false))?;
    let mag = u128::from_str_radix(&digits, base).map_err(|_| num_error("ParseUint", s, true))?;
    u64::try_from(mag).map_err(|_| num_error("ParseUint", s, true))
}

/// `strconv.ParseFloat(s, 64)` for decimal forms plus inf/nan.
pub(crate) fn parse_float(s: &str) -> Result<f64, String> {
    let ok_chars = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-'));
    if !ok_chars {
        return Err(num_error("ParseFloat", s, false));
    }
    match s.parse::<f64>() {
        Ok(f) if f.is_infinite() && !s.to_ascii_lowercase().contains("inf") => {
            Err(num_error("ParseFloat", s, true))
        }
        Ok(f) => Ok(f),
        Err(_) => Err(num_error("ParseFloat", s, false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes_like_go() {
        assert_eq!(quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(quote("\u{1}"), "\"\\x01\"");
        assert_eq!(quote("héllo"), "\"héllo\"");
    }

    #[test]
    fn unquote_double_and_raw() {
        assert_eq!(unquote("\"a\\tb\"").unwrap(), "a\tb");
        assert_eq!(unquote("\"\\u00e9\"").unwrap(), "é");
        assert_eq!(unquote("\"\\101\"").unwrap(), "A");
        assert_eq!(unquote("`a\\n\r`").unwrap(), "a\\n");
        assert!(unquote("\"a\\\"").is_err());
        assert!(unquote("\"\\'\"").is_err());
        assert!(unquote("\"\\q\"").is_err());
        assert!(unquote("\"\\ud800\"").is_err());
    }

    #[test]
    fn base0_integers() {
        assert_eq!(parse_int("0x1F").unwrap(), 31);
        assert_eq!(parse_int("017").unwrap(), 15);
        assert_eq!(parse_int("-0b101").unwrap(), -5);
        assert_eq!(parse_int("0x_1F").unwrap(), 31);
        assert!(parse_int("1_000").is_err());
        assert!(parse_int("80.0").is_err());
        assert_eq!(
            parse_int("abc").unwrap_err(),
            "strconv.ParseInt: parsing \"abc\": invalid syntax"
        );
        assert_eq!(
            parse_int("99999999999999999999").unwrap_err(),
            "strconv.ParseInt: parsing \"99999999999999999999\": value out of range"
        );
        assert_eq!(parse_int("-9223372036854775808").unwrap(), i64::MIN);
        assert!(parse_uint("-1").is_err());
    }

    #[test]
    fn bools_and_floats() {
        assert_eq!(parse_bool("T"), Ok(true));
        assert!(parse_bool("yes").is_err());
        assert_eq!(parse_float("1.5").unwrap(), 1.5);
        assert!(parse_float("1e999").is_err());
        assert!(parse_float("1,5").is_err());
    }
}
