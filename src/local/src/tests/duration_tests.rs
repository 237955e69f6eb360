use std::time::Duration;

use crate::ae::{ae_interval, ae_interval_with, random_stagger, scale_factor, AE_BASE_INTERVAL};
use crate::duration::{format_go_duration, parse_go_duration};

#[test]
fn parses_go_durations() {
    assert_eq!(parse_go_duration("10s"), Ok(10_000_000_000));
    assert_eq!(parse_go_duration("1m30s"), Ok(90_000_000_000));
    assert_eq!(parse_go_duration("500ms"), Ok(500_000_000));
    assert_eq!(parse_go_duration("1.5h"), Ok(5_400_000_000_000));
    assert_eq!(parse_go_duration("300.0s"), Ok(300_000_000_000));
    assert_eq!(parse_go_duration("2us"), Ok(2_000));
    assert_eq!(parse_go_duration("2µs"), Ok(2_000));
    assert_eq!(parse_go_duration("0"), Ok(0));
    assert_eq!(parse_go_duration("-1s"), Ok(-1_000_000_000));
    assert_eq!(parse_go_duration(".5s"), Ok(500_000_000));
}

#[test]
fn duration_errors_use_go_text() {
    assert_eq!(parse_go_duration("abc"), Err("time: invalid duration \"abc\"".into()));
    assert_eq!(parse_go_duration(""), Err("time: invalid duration \"\"".into()));
    assert_eq!(parse_go_duration("10"), Err("time: missing unit in duration \"10\"".into()));
    assert_eq!(parse_go_duration("10x"), Err("time: unknown unit \"x\" in duration \"10x\"".into()));
    assert_eq!(parse_go_duration("."), Err("time: invalid duration \".\"".into()));
    assert!(parse_go_duration("9999999999999999999h").is_err());
}

#[test]
fn formats_like_go() {
    assert_eq!(format_go_duration(0), "0s");
    assert_eq!(format_go_duration(10_000_000_000), "10s");
    assert_eq!(format_go_duration(90_000_000_000), "1m30s");
    assert_eq!(format_go_duration(3_600_000_000_000), "1h0m0s");
    assert_eq!(format_go_duration(500_000_000), "500ms");
    assert_eq!(format_go_duration(1_500_000_000), "1.5s");
    assert_eq!(format_go_duration(1_500), "1.5µs");
    assert_eq!(format_go_duration(7), "7ns");
    assert_eq!(format_go_duration(-90_000_000_000), "-1m30s");
}

#[test]
fn scale_factor_doubles_per_cluster_doubling() {
    assert_eq!(scale_factor(1), 1);
    assert_eq!(scale_factor(128), 1);
    assert_eq!(scale_factor(129), 2);
    assert_eq!(scale_factor(256), 2);
    assert_eq!(scale_factor(257), 3);
    assert_eq!(scale_factor(8192), 7);
    assert_eq!(scale_factor(8193), 8);
}

#[test]
fn ae_interval_stays_within_scaled_window() {
    assert_eq!(ae_interval_with(10, 0.0), AE_BASE_INTERVAL);
    assert_eq!(ae_interval_with(300, 0.5), AE_BASE_INTERVAL + Duration::from_secs(90));
    for _ in 0..50 {
        let d = ae_interval(1000);
        assert!(d >= AE_BASE_INTERVAL && d < AE_BASE_INTERVAL * 5, "{d:?}");
    }
    assert_eq!(random_stagger(Duration::ZERO), Duration::ZERO);
    assert!(random_stagger(Duration::from_secs(1)) < Duration::from_secs(1));
}
