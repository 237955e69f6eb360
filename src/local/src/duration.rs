//! Go's `time.ParseDuration` and `time.Duration.String`, exactly: request
//! bodies carry durations as Go strings ("10s", "1m30s", "1.5h") and Consul
//! shows them back in Go's format ("1m30s", "1h0m0s", "500ms").

const NS: u64 = 1;
const US: u64 = 1_000;
const MS: u64 = 1_000_000;
const SEC: u64 = 1_000_000_000;
const MIN: u64 = 60 * SEC;
const HOUR: u64 = 60 * MIN;

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn invalid(orig: &str) -> String {
    format!("time: invalid duration {}", quote(orig))
}

fn unit_ns(u: &str) -> Option<u64> {
    Some(match u {
        "ns" => NS,
        "us" | "\u{00b5}s" | "\u{03bc}s" => US,
        "ms" => MS,
        "s" => SEC,
        "m" => MIN,
        "h" => HOUR,
        _ => return None,
    })
}

/// `time.ParseDuration`: nanoseconds, or Go's error text.
pub fn parse_go_duration(orig: &str) -> Result<i64, String> {
    let mut s = orig;
    let mut neg = false;
    if let Some(c) = s.chars().next() {
        if c == '-' || c == '+' {
            neg = c == '-';
            s = &s[1..];
        }
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid(orig));
    }
    let limit: u64 = 1 << 63;
    let mut total: u64 = 0;
    while !s.is_empty() {
        let b = s.as_bytes();
        if !(b[0] == b'.' || b[0].is_ascii_digit()) {
            return Err(invalid(orig));
        }
        // Integer part (overflow is an error, as Go's leadingInt).
        let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut v: u64 = 0;
        for &c in &b[..digits] {
            if v > limit / 10 {
                return Err(invalid(orig));
            }
            v = v * 10 + u64::from(c - b'0');
            if v > limit {
                return Err(invalid(orig));
            }
        }
        let pre = digits > 0;
        s = &s[digits..];
        // Fraction: digits past precision are consumed but ignored.
        let mut f: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut post = false;
        if s.as_bytes().first() == Some(&b'.') {
            s = &s[1..];
            let fd = s.as_bytes().iter().take_while(|c| c.is_ascii_digit()).count();
            let mut overflow = false;
            for &c in &s.as_bytes()[..fd] {
                if overflow {
                    continue;
                }
                if f > (limit - 1) / 10 {
                    overflow = true;
                    continue;
                }
                let y = f * 10 + u64::from(c - b'0');
                if y > limit {
                    overflow = true;
                    continue;
                }
                f = y;
                scale *= 10.0;
            }
            post = fd > 0;
            s = &s[fd..];
        }
        if !pre && !post {
            return Err(invalid(orig));
        }
        let unit_len = s.find(|c: char| c == '.' || c.is_ascii_digit()).unwrap_or(s.len());
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {}", quote(orig)));
        }
        let u = &s[..unit_len];
        s = &s[unit_len..];
        let unit = unit_ns(u).ok_or_else(|| format!("time: unknown unit {} in duration {}", quote(u), quote(orig)))?;
        if v > limit / unit {
            return Err(invalid(orig));
        }
        v *= unit;
        if f > 0 {
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > limit {
                return Err(invalid(orig));
            }
        }
        total += v;
        if total > limit {
            return Err(invalid(orig));
        }
    }
    if neg {
        return Ok((total as i64).wrapping_neg());
    }
    if total > limit - 1 {
        return Err(invalid(orig));
    }
    Ok(total as i64)
}

/// Fraction digits of `v / 10^prec` without trailing zeros ("" when zero).
fn frac(mut v: u64, prec: usize) -> (String, u64) {
    let mut digits: Vec<u8> = Vec::new();
    let mut print = false;
    for _ in 0..prec {
        let d = (v % 10) as u8;
        print = print || d != 0;
        if print {
            digits.push(b'0' + d);
        }
        v /= 10;
    }
    if !print {
        return (String::new(), v);
    }
    digits.push(b'.');
    digits.reverse();
    (String::from_utf8(digits).unwrap_or_default(), v)
}

/// `time.Duration.String()`.
pub fn format_go_duration(d: i64) -> String {
    let neg = d < 0;
    let mut u = d.unsigned_abs();
    let mut out = String::new();
    if u < SEC {
        if u == 0 {
            return "0s".into();
        }
        let (prec, unit) = if u < US {
            (0, "ns")
        } else if u < MS {
            (3, "\u{00b5}s")
        } else {
            (6, "ms")
        };
        let (f, rest) = frac(u, prec);
        out.push_str(&format!("{rest}{f}{unit}"));
    } else {
        let (f, secs) = frac(u, 9);
        u = secs;
        let s_part = format!("{}{f}s", u % 60);
        u /= 60;
        if u > 0 {
            let m_part = format!("{}m", u % 60);
            u /= 60;
            if u > 0 {
                out.push_str(&format!("{u}h"));
            }
            out.push_str(&m_part);
        }
        out.push_str(&s_part);
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

/// Consul's rendering of an optional duration field: `""` when zero.
pub fn format_nonzero(d: i64) -> String {
    if d == 0 {
        String::new()
    } else {
        format_go_duration(d)
    }
}
