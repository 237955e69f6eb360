//! Errors, with serf's messages where serf has one (Consul passes them through to logs).

use std::fmt;
use std::time::Duration;

use crate::go_duration::format_go_duration;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// `Config::dimensionality` was 0.
    ZeroDimensionality,
    /// `Config::latency_filter_size` was 0 (serf would index an empty slice and panic).
    ZeroLatencyFilterSize,
    /// The two coordinates have different numbers of dimensions.
    IncompatibleDimensions,
    /// A component is NaN or infinite.
    InvalidCoordinate,
    /// An RTT observation above `MAX_RTT`.
    RttOutOfRange { rtt: Duration, max: Duration },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ZeroDimensionality => f.write_str("dimensionality must be >0"),
            Error::ZeroLatencyFilterSize => f.write_str("latency filter size must be >0"),
            Error::IncompatibleDimensions => f.write_str("dimensions aren't compatible"),
            Error::InvalidCoordinate => f.write_str("coordinate is invalid"),
            // serf's text, trailing space included.
            Error::RttOutOfRange { rtt, max } => write!(
                f,
                "round trip time not in valid range, duration {} is not a positive value less than {} ",
                format_go_duration(*rtt),
                format_go_duration(*max)
            ),
        }
    }
}

impl std::error::Error for Error {}
