//! Compact binary form of a coordinate, carried in gossip ack payloads.
//!
//! Layout (little-endian): `version: u8 = 1`, `dims: u8`, then `dims` f64 vector
//! components, then f64 `error`, `adjustment`, `height`. 8 dimensions take 90 bytes.
//! f64 rather than f32 so a coordinate survives the round trip bit for bit (the JSON the
//! HTTP API shows must match what the node computed).

use std::fmt;

use crate::coordinate::Coordinate;

pub const VERSION: u8 = 1;
/// Largest dimensionality accepted, so a decoder never allocates on a hostile length.
pub const MAX_DIMENSIONS: usize = 32;
const HEADER: usize = 2;
const SCALARS: usize = 3;

/// Bytes needed for a coordinate of `dims` dimensions.
pub const fn encoded_len(dims: usize) -> usize {
    HEADER + (dims + SCALARS) * 8
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// Fewer bytes than the header.
    Truncated { len: usize },
    UnknownVersion(u8),
    /// 0 or more than `MAX_DIMENSIONS`.
    BadDimensions(usize),
    /// The length does not match what the header announces.
    LengthMismatch { expected: usize, actual: usize },
    /// A component is NaN or infinite.
    NonFinite,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated { len } => write!(f, "coordinate payload truncated: {len} bytes"),
            WireError::UnknownVersion(v) => write!(f, "unknown coordinate encoding version {v}"),
            WireError::BadDimensions(d) => {
                write!(f, "coordinate dimensionality {d} outside 1..={MAX_DIMENSIONS}")
            }
            WireError::LengthMismatch { expected, actual } => {
                write!(f, "coordinate payload is {actual} bytes, expected {expected}")
            }
            WireError::NonFinite => f.write_str("coordinate has a NaN or infinite component"),
        }
    }
}

impl std::error::Error for WireError {}

/// Appends the encoding of `coord` to `out`. Refuses what `decode` would refuse, so a node
/// never gossips something its peers will drop.
pub fn encode_into(coord: &Coordinate, out: &mut Vec<u8>) -> Result<(), WireError> {
    let dims = coord.vec.len();
    if dims == 0 || dims > MAX_DIMENSIONS {
        return Err(WireError::BadDimensions(dims));
    }
    if !coord.is_valid() {
        return Err(WireError::NonFinite);
    }
    out.reserve(encoded_len(dims));
    out.push(VERSION);
    out.push(dims as u8);
    for x in coord.vec.iter().chain([&coord.error, &coord.adjustment, &coord.height]) {
        out.extend_from_slice(&x.to_le_bytes());
    }
    Ok(())
}

pub fn encode(coord: &Coordinate) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::with_capacity(encoded_len(coord.vec.len().min(MAX_DIMENSIONS)));
    encode_into(coord, &mut out)?;
    Ok(out)
}

/// Parses exactly one encoded coordinate; any other input is an error, never a panic.
pub fn decode(bytes: &[u8]) -> Result<Coordinate, WireError> {
    let [version, dims, body @ ..] = bytes else {
        return Err(WireError::Truncated { len: bytes.len() });
    };
    if *version != VERSION {
        return Err(WireError::UnknownVersion(*version));
    }
    let dims = usize::from(*dims);
    if dims == 0 || dims > MAX_DIMENSIONS {
        return Err(WireError::BadDimensions(dims));
    }
    let expected = encoded_len(dims);
    if bytes.len() != expected {
        return Err(WireError::LengthMismatch { expected, actual: bytes.len() });
    }
    let mut values = body.chunks_exact(8).map(|chunk| {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(chunk);
        f64::from_le_bytes(raw)
    });
    let vec: Vec<f64> = values.by_ref().take(dims).collect();
    let (Some(error), Some(adjustment), Some(height)) = (values.next(), values.next(), values.next())
    else {
        // Unreachable given the length check; kept as an error rather than a panic.
        return Err(WireError::LengthMismatch { expected, actual: bytes.len() });
    };
    let coord = Coordinate { vec, error, adjustment, height };
    if !coord.is_valid() {
        return Err(WireError::NonFinite);
    }
    Ok(coord)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn sample() -> Coordinate {
        Coordinate {
            vec: (0..8).map(|i| (i as f64 - 3.5) * 1.234e-3).collect(),
            error: 0.37,
            adjustment: -2.5e-4,
            height: 1.0e-5,
        }
    }

    #[test]
    fn round_trips_bit_for_bit_within_budget() {
        let c = sample();
        let bytes = encode(&c).unwrap();
        assert_eq!(bytes.len(), 90);
        assert!(bytes.len() <= 128);
        assert_eq!(bytes.len(), encoded_len(8));
        assert_eq!(decode(&bytes).unwrap(), c);
        let fresh = Coordinate::new(&Config::default());
        assert_eq!(decode(&encode(&fresh).unwrap()).unwrap(), fresh);
    }

    #[test]
    fn encode_into_appends() {
        let mut out = vec![0xAA];
        encode_into(&sample(), &mut out).unwrap();
        assert_eq!(out[0], 0xAA);
        assert_eq!(decode(&out[1..]).unwrap(), sample());
    }

    #[test]
    fn refuses_to_encode_what_cannot_be_decoded() {
        let mut c = sample();
        c.height = f64::NAN;
        assert_eq!(encode(&c), Err(WireError::NonFinite));
        assert_eq!(encode(&Coordinate::default()), Err(WireError::BadDimensions(0)));
        let wide = Coordinate { vec: vec![0.0; MAX_DIMENSIONS + 1], ..sample() };
        assert_eq!(encode(&wide), Err(WireError::BadDimensions(MAX_DIMENSIONS + 1)));
        let widest = Coordinate { vec: vec![0.0; MAX_DIMENSIONS], ..sample() };
        assert_eq!(decode(&encode(&widest).unwrap()).unwrap(), widest);
    }

    #[test]
    fn each_kind_of_bad_input_has_its_error() {
        let good = encode(&sample()).unwrap();
        assert_eq!(decode(&[]), Err(WireError::Truncated { len: 0 }));
        assert_eq!(decode(&[1]), Err(WireError::Truncated { len: 1 }));
        let mut v = good.clone();
        v[0] = 2;
        assert_eq!(decode(&v), Err(WireError::UnknownVersion(2)));
        let mut v = good.clone();
        v[1] = 0;
        assert_eq!(decode(&v), Err(WireError::BadDimensions(0)));
        v[1] = 200;
        assert_eq!(decode(&v), Err(WireError::BadDimensions(200)));
        assert_eq!(
            decode(&good[..good.len() - 1]),
            Err(WireError::LengthMismatch { expected: 90, actual: 89 })
        );
        let mut v = good.clone();
        v.push(0);
        assert_eq!(decode(&v), Err(WireError::LengthMismatch { expected: 90, actual: 91 }));
        for (offset, bad) in [(2, f64::NAN), (66, f64::INFINITY), (82, f64::NEG_INFINITY)] {
            let mut v = good.clone();
            v[offset..offset + 8].copy_from_slice(&bad.to_le_bytes());
            assert_eq!(decode(&v), Err(WireError::NonFinite), "offset {offset}");
        }
    }
}
