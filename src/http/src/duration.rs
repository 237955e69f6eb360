//! Go's `time.ParseDuration` syntax, which Consul uses for `?wait=` (and
//! clients rely on: the Go client sends `15000ms`, ecwid `10s`, Patroni
//! `12.5s`). Only validity and the value matter; errors carry no detail
//! because Consul answers every failure with the same `Invalid wait time`.

/// Nanoseconds in each unit Go accepts.
const UNITS: &[(&str, u128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("\u{00b5}s", 1_000), // micro sign
    ("\u{03bc}s", 1_000), // Greek mu
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Parse a Go duration string into signed nanoseconds (Go's `Duration`).
/// Returns `None` for anything Go rejects, including overflow of `i64`.
pub fn parse_go_duration(input: &str) -> Option<i64> {
    let mut s = input;
    let mut negative = false;
    if let Some(rest) = s.strip_prefix('-') {
        negative = true;
        s = rest;
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest;
    }
    if s == "0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    // Accumulated in u128 so intermediate products cannot overflow; the i64
    // range check happens once per term and at the end.
    let limit: u128 = 1u128 << 63;
    let mut total: u128 = 0;
    while !s.is_empty() {
        let bytes = s.as_bytes();
        if !(bytes[0] == b'.' || bytes[0].is_ascii_digit()) {
            return None;
        }
        let int_len = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
        let int_digits = &s[..int_len];
        s = &s[int_len..];
        let mut frac_digits = "";
        if let Some(rest) = s.strip_prefix('.') {
            let frac_len = rest.bytes().take_while(|b| b.is_ascii_digit()).count();
            frac_digits = &rest[..frac_len];
            s = &rest[frac_len..];
        }
        if int_digits.is_empty() && frac_digits.is_empty() {
            return None; // "." or ".s"
        }
        let unit_len = s
            .bytes()
            .take_while(|b| *b != b'.' && !b.is_ascii_digit())
            .count();
        let unit = &s[..unit_len];
        s = &s[unit_len..];
        let scale = UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, ns)| *ns)?;

        let mut whole: u128 = 0;
        for d in int_digits.bytes() {
            whole = whole * 10 + u128::from(d - b'0');
            if whole >= limit {
                return None;
            }
        }
        let mut term = whole.checked_mul(scale)?;
        if term > limit {
            return None;
        }
        // Fraction: like Go, digits beyond what can change the result are
        // dropped rather than rounded.
        let mut frac: u128 = 0;
        let mut frac_scale: u128 = 1;
        for d in frac_digits.bytes() {
            if frac_scale > u128::from(u64::MAX) {
                break;
            }
            frac = frac * 10 + u128::from(d - b'0');
            frac_scale *= 10;
        }
        term += frac * scale / frac_scale;
        total += term;
        if total > limit {
            return None;
        }
    }
    if negative {
        Some((total as i128).wrapping_neg() as i64)
    } else if total == limit {
        None
    } else {
        Some(total as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_go_duration as p;

    const S: i64 = 1_000_000_000;

    #[test]
    fn accepts_what_go_accepts() {
        assert_eq!(p("0"), Some(0));
        assert_eq!(p("10s"), Some(10 * S));
        assert_eq!(p("1.5s"), Some(1_500_000_000));
        assert_eq!(p("1500ms"), Some(1_500_000_000));
        assert_eq!(p("5m"), Some(300 * S));
        assert_eq!(p("1h2m"), Some(3720 * S));
        assert_eq!(p("9.997s"), Some(9_997_000_000));
        assert_eq!(p("12.5s"), Some(12_500_000_000));
        assert_eq!(p(".5s"), Some(500_000_000));
        assert_eq!(p("5.s"), Some(5 * S));
        assert_eq!(p("3µs"), Some(3_000));
        assert_eq!(p("3μs"), Some(3_000));
        assert_eq!(p("3us"), Some(3_000));
        assert_eq!(p("7ns"), Some(7));
        assert_eq!(p("-2s"), Some(-2 * S));
        assert_eq!(p("+2s"), Some(2 * S));
        assert_eq!(p("1h1m1s1ms1us1ns"), Some(3_661_001_001_001));
        assert_eq!(p("2562047h47m16.854775807s"), Some(i64::MAX));
        assert_eq!(p("-2562047h47m16.854775808s"), Some(i64::MIN));
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "",
            "10",
            "s",
            ".",
            ".s",
            "1x",
            "1.2.3s",
            "abc",
            "-",
            "+",
            "1 s",
            " 1s",
            "1s ",
            "2562047h47m16.854775808s",
            "99999999999999999999s",
            "1e3s",
            "0x10s",
            "1S",
        ] {
            assert_eq!(p(bad), None, "{bad:?} must be rejected");
        }
    }
}
