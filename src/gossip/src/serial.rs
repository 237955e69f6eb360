//! Wrap-safe ordering of incarnations and Lamport times (RFC 1982 serial
//! arithmetic): after a counter wraps, the small new value still counts as newer.

/// `a` is strictly newer than `b`.
pub fn incarnation_newer(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// `a` is strictly newer than `b`.
pub fn ltime_newer(a: u64, b: u64) -> bool {
    (a.wrapping_sub(b) as i64) > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_order() {
        assert!(incarnation_newer(2, 1));
        assert!(!incarnation_newer(1, 1));
        assert!(!incarnation_newer(1, 2));
        assert!(ltime_newer(10, 9));
        assert!(!ltime_newer(9, 9));
    }

    #[test]
    fn wrap_counts_as_newer() {
        assert!(incarnation_newer(0, u32::MAX));
        assert!(incarnation_newer(3, u32::MAX - 2));
        assert!(!incarnation_newer(u32::MAX, 0));
        assert!(ltime_newer(1, u64::MAX));
        assert!(!ltime_newer(u64::MAX, 1));
    }
}
