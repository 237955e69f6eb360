//! A network coordinate and the distance estimate between two of them (serf's Coordinate).

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use crate::config::Config;
use crate::error::Error;
use crate::rng::SplitMix64;
use crate::vector::{add, diff, magnitude, mul, unit_vector_at, ZERO_THRESHOLD};

const SECONDS_TO_NANOSECONDS: f64 = 1.0e9;

/// A Vivaldi coordinate. All values are seconds except `error`, which is dimensionless.
/// JSON field names are Consul's (`Vec`, `Error`, `Adjustment`, `Height`); like Go's
/// decoder, missing or null fields read as zero/empty and lower-case names are accepted.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Coordinate {
    /// Euclidean part.
    #[serde(rename = "Vec", alias = "vec", deserialize_with = "null_as_default")]
    pub vec: Vec<f64>,
    /// Confidence in this coordinate; lower is better.
    #[serde(rename = "Error", alias = "error", deserialize_with = "null_as_default")]
    pub error: f64,
    /// Offset learned from the recent gap between observed and estimated RTTs ([3]).
    #[serde(rename = "Adjustment", alias = "adjustment", deserialize_with = "null_as_default")]
    pub adjustment: f64,
    /// Non-Euclidean access-link delay to the core network.
    #[serde(rename = "Height", alias = "height", deserialize_with = "null_as_default")]
    pub height: f64,
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl Coordinate {
    /// A coordinate at the origin, with maximum error and minimum height.
    pub fn new(config: &Config) -> Self {
        Coordinate {
            vec: vec![0.0; config.dimensionality],
            error: config.vivaldi_error_max,
            adjustment: 0.0,
            height: config.height_min,
        }
    }

    /// False if any component is NaN or infinite.
    pub fn is_valid(&self) -> bool {
        self.vec.iter().all(|x| x.is_finite())
            && self.error.is_finite()
            && self.adjustment.is_finite()
            && self.height.is_finite()
    }

    /// True when both have the same number of dimensions.
    pub fn is_compatible_with(&self, other: &Coordinate) -> bool {
        self.vec.len() == other.vec.len()
    }

    /// Estimated RTT to `other` (serf's DistanceTo). Incompatible coordinates give
    /// `Duration::MAX` ("unknown", sorts last, as Consul sorts a missing coordinate);
    /// a negative estimate (only possible with negative heights) gives zero.
    pub fn distance_to(&self, other: &Coordinate) -> Duration {
        self.try_distance_to(other).unwrap_or(Duration::MAX)
    }

    /// As [`distance_to`](Self::distance_to), but incompatible dimensions are an error.
    pub fn try_distance_to(&self, other: &Coordinate) -> Result<Duration, Error> {
        if !self.is_compatible_with(other) {
            return Err(Error::IncompatibleDimensions);
        }
        let nanos = self.distance_nanos(other);
        Ok(Duration::from_nanos(u64::try_from(nanos).unwrap_or(0)))
    }

    /// Go's `a.DistanceTo(b).Seconds()`: the estimate quantised to whole nanoseconds, in
    /// seconds; what Consul sorts `?near=` results by. Incompatible gives +infinity.
    pub fn distance_seconds(&self, other: &Coordinate) -> f64 {
        if !self.is_compatible_with(other) {
            return f64::INFINITY;
        }
        go_seconds(self.distance_nanos(other))
    }

    /// The estimate in whole nanoseconds, as Go's `time.Duration(dist * 1e9)` (truncating;
    /// Rust's cast saturates where Go's is undefined). The adjusted distance is used only
    /// when positive: a large negative adjustment must not produce a nonsense estimate.
    pub(crate) fn distance_nanos(&self, other: &Coordinate) -> i64 {
        let raw = self.raw_distance(other);
        let adjusted = raw + self.adjustment + other.adjustment;
        let dist = if adjusted > 0.0 { adjusted } else { raw };
        (dist * SECONDS_TO_NANOSECONDS) as i64
    }

    /// Vivaldi distance in seconds without the adjustment terms. Dimensions must match.
    pub(crate) fn raw_distance(&self, other: &Coordinate) -> f64 {
        magnitude(&diff(&self.vec, &other.vec)) + self.height + other.height
    }

    /// This coordinate pushed by `force` seconds away from `other` (toward it when
    /// negative); the height moves in proportion, never below `height_min`.
    /// Dimensions must match.
    pub(crate) fn apply_force(
        &self,
        config: &Config,
        force: f64,
        other: &Coordinate,
        rng: &mut SplitMix64,
    ) -> Coordinate {
        let (unit, mag) = unit_vector_at(&self.vec, &other.vec, rng);
        let mut moved = self.clone();
        moved.vec = add(&self.vec, &mul(&unit, force));
        if mag > ZERO_THRESHOLD {
            let height = (self.height + other.height) * force / mag + self.height;
            moved.height = height.max(config.height_min);
        }
        moved
    }
}

/// Consul's `lib.ComputeDistance`: seconds between two coordinates, +infinity when either
/// is missing (or they are incompatible), so unknown nodes sort last.
pub fn compute_distance(a: Option<&Coordinate>, b: Option<&Coordinate>) -> f64 {
    match (a, b) {
        (Some(a), Some(b)) => a.distance_seconds(b),
        _ => f64::INFINITY,
    }
}

/// Go's `Duration.Seconds()`: whole seconds plus the nanosecond remainder.
fn go_seconds(nanos: i64) -> f64 {
    let secs = nanos / 1_000_000_000;
    let rem = nanos % 1_000_000_000;
    secs as f64 + rem as f64 / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-6
    }

    fn three_d(height_min: f64) -> Config {
        Config { dimensionality: 3, height_min, ..Config::default() }
    }

    fn at(config: &Config, vec: [f64; 3]) -> Coordinate {
        Coordinate { vec: vec.to_vec(), ..Coordinate::new(config) }
    }

    #[test]
    fn new_is_origin_with_config_values() {
        let config = Config::default();
        let c = Coordinate::new(&config);
        assert_eq!(c.vec, vec![0.0; 8]);
        assert_eq!(c.error, 1.5);
        assert_eq!(c.adjustment, 0.0);
        assert_eq!(c.height, 1.0e-5);
    }

    #[test]
    fn clone_is_independent() {
        let mut c = Coordinate::new(&Config::default());
        c.vec[0] = 1.0;
        c.error = 5.0;
        c.adjustment = 10.0;
        c.height = 4.2;
        let mut other = c.clone();
        assert_eq!(c, other);
        other.vec[0] += 0.5;
        assert_ne!(c, other);
    }

    #[test]
    fn every_component_is_checked_for_nan_and_infinity() {
        let base = Coordinate::new(&Config::default());
        for field in 0..base.vec.len() + 3 {
            for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                let mut c = base.clone();
                match field {
                    i if i < c.vec.len() => c.vec[i] = bad,
                    i if i == c.vec.len() => c.error = bad,
                    i if i == c.vec.len() + 1 => c.adjustment = bad,
                    _ => c.height = bad,
                }
                assert!(!c.is_valid(), "field {field} = {bad}");
            }
        }
        assert!(base.is_valid());
    }

    #[test]
    fn compatibility_is_by_dimension() {
        let c1 = Coordinate::new(&three_d(0.0));
        let c2 = Coordinate::new(&three_d(0.0));
        let alien = Coordinate::new(&Config { dimensionality: 2, ..Config::default() });
        assert!(c1.is_compatible_with(&c1) && c1.is_compatible_with(&c2));
        assert!(c2.is_compatible_with(&c1) && alien.is_compatible_with(&alien));
        assert!(!c1.is_compatible_with(&alien) && !alien.is_compatible_with(&c2));
    }

    #[test]
    fn apply_force_direction_magnitude_and_height() {
        let mut rng = SplitMix64::new(3);
        let config = three_d(0.0);
        let origin = Coordinate::new(&config);
        let above = at(&config, [0.0, 0.0, 2.9]);
        let c = origin.apply_force(&config, 5.3, &above, &mut rng);
        assert_eq!(c.vec, vec![0.0, 0.0, -5.3]);

        let right = at(&config, [3.4, 0.0, -5.3]);
        let c = c.apply_force(&config, 2.0, &right, &mut rng);
        assert_eq!(c.vec, vec![-2.0, 0.0, -5.3]);

        // On top of each other: one unit away in a random direction, no division by zero.
        let c = origin.apply_force(&config, 1.0, &origin, &mut rng);
        assert!(close(origin.distance_seconds(&c), 1.0));

        // Height grows with the force, scaled by the distance...
        let config = three_d(10.0e-6);
        let origin = Coordinate::new(&config);
        let c = origin.apply_force(&config, 5.3, &above, &mut rng);
        assert_eq!(c.vec, vec![0.0, 0.0, -5.3]);
        let want = config.height_min + 5.3 * config.height_min / 2.9;
        assert!((c.height - want).abs() < 1e-15);
        // ...and never drops below the floor.
        let c = origin.apply_force(&config, -5.3, &above, &mut rng);
        assert_eq!(c.vec, vec![0.0, 0.0, 5.3]);
        assert_eq!(c.height, config.height_min);
    }

    const D12: f64 = 4.104875150354758;

    #[test]
    fn distance_includes_heights_and_positive_adjustments_only() {
        let config = three_d(0.0);
        let mut c1 = at(&config, [-0.5, 1.3, 2.4]);
        let mut c2 = at(&config, [1.2, -2.3, 3.4]);
        assert_eq!(c1.distance_seconds(&c1), 0.0);
        assert_eq!(c1.distance_seconds(&c2), c2.distance_seconds(&c1));
        assert!(close(c1.distance_seconds(&c2), D12));
        assert!(close(c1.raw_distance(&c2), D12));

        // A negative total adjustment would make the estimate <= 0: fall back to raw.
        c1.adjustment = -1.0e6;
        assert!(close(c1.distance_seconds(&c2), D12));
        assert!(close(c1.raw_distance(&c2), D12));

        c1.adjustment = 0.1;
        c2.adjustment = 0.2;
        assert!(close(c1.distance_seconds(&c2), D12 + 0.3));
        assert!(close(c1.raw_distance(&c2), D12), "raw ignores adjustment");

        c1.height = 0.7;
        c2.height = 0.1;
        assert!(close(c1.distance_seconds(&c2), D12 + 0.3 + 0.8));
        assert!(close(c1.raw_distance(&c2), D12 + 0.8));

        // A negative adjustment that leaves the sum positive is applied.
        c1.adjustment = -0.5;
        c2.adjustment = 0.0;
        assert!(close(c1.distance_seconds(&c2), D12 + 0.8 - 0.5));
    }

    #[test]
    fn distance_is_quantised_to_nanoseconds_like_go() {
        let config = three_d(0.0);
        let c1 = Coordinate::new(&config);
        let c2 = at(&config, [0.0, 0.0, 12.345]);
        assert_eq!(c1.distance_to(&c2), Duration::from_nanos((12.345 * 1e9) as u64));
        let tiny = at(&config, [0.0, 0.0, 1.9e-9]);
        assert_eq!(c1.distance_to(&tiny), Duration::from_nanos(1));
        assert_eq!(c1.distance_seconds(&tiny), 1e-9);
    }

    #[test]
    fn incompatible_or_missing_is_unknown_not_a_panic() {
        let c3 = Coordinate::new(&three_d(0.0));
        let c8 = Coordinate::new(&Config::default());
        assert_eq!(c3.distance_to(&c8), Duration::MAX);
        assert_eq!(c3.try_distance_to(&c8), Err(Error::IncompatibleDimensions));
        assert_eq!(c3.distance_seconds(&c8), f64::INFINITY);
        assert_eq!(compute_distance(None, Some(&c8)), f64::INFINITY);
        assert_eq!(compute_distance(Some(&c8), None), f64::INFINITY);
        assert!(close(compute_distance(Some(&c8), Some(&c8)), 2.0e-5));
    }

    #[test]
    fn negative_heights_clamp_duration_but_not_seconds() {
        let config = three_d(0.0);
        let mut c1 = Coordinate::new(&config);
        c1.height = -2.0;
        let c2 = at(&config, [0.0, 0.0, 1.0]);
        assert_eq!(c1.distance_to(&c2), Duration::ZERO);
        assert!(close(c1.distance_seconds(&c2), -1.0));
    }

    #[test]
    fn json_uses_consul_field_names() {
        let c = Coordinate { vec: vec![0.5, -1.0], error: 1.5, adjustment: 0.25, height: 2.0 };
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(text, r#"{"Vec":[0.5,-1.0],"Error":1.5,"Adjustment":0.25,"Height":2.0}"#);
        let back: Coordinate = serde_json::from_str(&text).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn json_decoding_is_as_lenient_as_go() {
        let c: Coordinate = serde_json::from_str(r#"{"Vec":null,"Error":null,"Height":0.1}"#).unwrap();
        assert_eq!(c, Coordinate { vec: vec![], error: 0.0, adjustment: 0.0, height: 0.1 });
        let c: Coordinate =
            serde_json::from_str(r#"{"vec":[1],"error":2,"adjustment":3,"height":4,"X":1}"#).unwrap();
        assert_eq!(c, Coordinate { vec: vec![1.0], error: 2.0, adjustment: 3.0, height: 4.0 });
        assert!(serde_json::from_str::<Coordinate>(r#"{"Vec":"x"}"#).is_err());
    }
}
