//! One node's coordinate estimate, refined from RTT observations (serf's coordinate.Client).

use std::time::Duration;

use crate::config::Config;
use crate::coordinate::Coordinate;
use crate::error::Error;
use crate::latency_filter::LatencyFilter;
use crate::rng::SplitMix64;
use crate::vector::ZERO_THRESHOLD;

/// Observations above this are rejected as nonsense (serf's maxRTT).
pub const MAX_RTT: Duration = Duration::from_secs(10);

/// Counters of unusual events during updates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Times the coordinate was reset to the origin because the maths produced NaN/inf.
    pub resets: u64,
    /// Zero RTT observations (coarse clocks); accepted, counted as serf's metric does.
    pub zero_rtts: u64,
}

/// Holds the local coordinate and the state the Vivaldi update needs. Not internally
/// locked: the owner (one gossip shard) calls it with `&mut self`.
#[derive(Debug, Clone)]
pub struct Client {
    coord: Coordinate,
    origin: Coordinate,
    config: Config,
    adjustment_index: usize,
    adjustment_samples: Vec<f64>,
    latency_filter: LatencyFilter,
    stats: ClientStats,
    rng: SplitMix64,
}

impl Client {
    /// A client at the origin whose random directions come from a per-process seed.
    pub fn new(config: Config) -> Result<Client, Error> {
        Client::with_rng(config, SplitMix64::from_entropy())
    }

    /// A client whose random directions (used only when two points coincide) are
    /// reproducible from `seed`.
    pub fn with_seed(config: Config, seed: u64) -> Result<Client, Error> {
        Client::with_rng(config, SplitMix64::new(seed))
    }

    fn with_rng(config: Config, rng: SplitMix64) -> Result<Client, Error> {
        if config.dimensionality == 0 {
            return Err(Error::ZeroDimensionality);
        }
        if config.latency_filter_size == 0 {
            return Err(Error::ZeroLatencyFilterSize);
        }
        Ok(Client {
            coord: Coordinate::new(&config),
            origin: Coordinate::new(&config),
            adjustment_index: 0,
            adjustment_samples: vec![0.0; config.adjustment_window_size],
            latency_filter: LatencyFilter::new(config.latency_filter_size),
            stats: ClientStats::default(),
            rng,
            config,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A copy of the current coordinate.
    pub fn get_coordinate(&self) -> Coordinate {
        self.coord.clone()
    }

    /// Forces the coordinate to a known state (e.g. one persisted before a restart).
    pub fn set_coordinate(&mut self, coord: &Coordinate) -> Result<(), Error> {
        self.check_coordinate(coord)?;
        self.coord = coord.clone();
        Ok(())
    }

    /// Drops the latency history of a node that left.
    pub fn forget_node(&mut self, node: &str) {
        self.latency_filter.forget(node);
    }

    pub fn stats(&self) -> ClientStats {
        self.stats
    }

    /// Estimated RTT from this node to `other` (see [`Coordinate::distance_to`]).
    pub fn distance_to(&self, other: &Coordinate) -> Duration {
        self.coord.distance_to(other)
    }

    /// Go's `DistanceTo(other).Seconds()` from this node.
    pub fn distance_seconds(&self, other: &Coordinate) -> f64 {
        self.coord.distance_seconds(other)
    }

    /// Folds in one observation: `rtt` to `node`, whose coordinate is `other`. Returns the
    /// updated coordinate. Nothing changes when an error is returned.
    pub fn update(&mut self, node: &str, other: &Coordinate, rtt: Duration) -> Result<Coordinate, Error> {
        self.check_coordinate(other)?;
        // Zero is allowed: seen with coarse monotonic clocks (consul#3789); the maths
        // clamps it. Negative cannot be expressed by Duration.
        if rtt > MAX_RTT {
            return Err(Error::RttOutOfRange { rtt, max: MAX_RTT });
        }
        if rtt.is_zero() {
            self.stats.zero_rtts += 1;
        }
        let rtt_seconds = self.latency_filter.push(node, rtt.as_secs_f64());
        self.update_vivaldi(other, rtt_seconds);
        self.update_adjustment(other, rtt_seconds);
        self.update_gravity();
        if !self.coord.is_valid() {
            self.stats.resets += 1;
            self.coord = Coordinate::new(&self.config);
        }
        Ok(self.coord.clone())
    }

    fn check_coordinate(&self, coord: &Coordinate) -> Result<(), Error> {
        if !self.coord.is_compatible_with(coord) {
            return Err(Error::IncompatibleDimensions);
        }
        if !coord.is_valid() {
            return Err(Error::InvalidCoordinate);
        }
        Ok(())
    }

    /// The spring step: move along the line to `other` by a share of the prediction error,
    /// the share weighted by how confident we are relative to the peer.
    fn update_vivaldi(&mut self, other: &Coordinate, rtt_seconds: f64) {
        let dist = self.coord.distance_seconds(other);
        let rtt_seconds = rtt_seconds.max(ZERO_THRESHOLD);
        let wrongness = (dist - rtt_seconds).abs() / rtt_seconds;

        let total_error = (self.coord.error + other.error).max(ZERO_THRESHOLD);
        let weight = self.coord.error / total_error;

        let ce = self.config.vivaldi_ce;
        let error = ce * weight * wrongness + self.coord.error * (1.0 - ce * weight);
        self.coord.error = error.min(self.config.vivaldi_error_max);

        let force = self.config.vivaldi_cc * weight * (rtt_seconds - dist);
        self.coord = self.coord.apply_force(&self.config, force, other, &mut self.rng);
    }

    /// Adjustment = half the mean gap between observed and raw estimated RTT over the
    /// window ([3]); it absorbs what the Euclidean model cannot express. The window starts
    /// full of zeros, so early samples count for less.
    fn update_adjustment(&mut self, other: &Coordinate, rtt_seconds: f64) {
        let window = self.config.adjustment_window_size;
        if window == 0 {
            return;
        }
        // The existing adjustments must not feed back into the new one: raw distance.
        let dist = self.coord.raw_distance(other);
        self.adjustment_samples[self.adjustment_index] = rtt_seconds - dist;
        self.adjustment_index = (self.adjustment_index + 1) % window;
        let sum: f64 = self.adjustment_samples.iter().sum();
        self.coord.adjustment = sum / (2.0 * window as f64);
    }

    /// A weak pull toward the origin, growing with the square of the distance, so the
    /// whole system does not drift away over time ([2]).
    fn update_gravity(&mut self) {
        let dist = self.origin.distance_seconds(&self.coord);
        let force = -(dist / self.config.gravity_rho).powi(2);
        self.coord = self.coord.apply_force(&self.config, force, &self.origin, &mut self.rng);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three_d() -> Config {
        Config { dimensionality: 3, ..Config::default() }
    }

    #[test]
    fn new_validates_config_and_starts_at_origin() {
        let zero = Config { dimensionality: 0, ..Config::default() };
        let err = Client::with_seed(zero, 1).unwrap_err();
        assert!(err.to_string().contains("dimensionality"));
        let no_filter = Config { latency_filter_size: 0, ..Config::default() };
        assert_eq!(Client::with_seed(no_filter, 1).unwrap_err(), Error::ZeroLatencyFilterSize);

        let config = Config { dimensionality: 7, ..Config::default() };
        let client = Client::new(config.clone()).unwrap();
        assert_eq!(client.get_coordinate(), Coordinate::new(&config));
        assert_eq!(client.stats(), ClientStats::default());
    }

    #[test]
    fn update_moves_away_from_a_peer_that_is_farther_than_estimated() {
        let config = three_d();
        let mut client = Client::with_seed(config.clone(), 1).unwrap();
        assert_eq!(client.get_coordinate().vec, vec![0.0; 3]);

        let mut other = Coordinate::new(&config);
        other.vec[2] = 0.001;
        let rtt = Duration::from_secs_f64(2.0 * other.vec[2]);
        let c = client.update("node", &other, rtt).unwrap();
        assert!(c.vec[2] < 0.0, "z = {} should be < 0", c.vec[2]);
        assert_eq!(client.get_coordinate(), c);

        let mut known = c.clone();
        known.vec[2] = 99.0;
        client.set_coordinate(&known).unwrap();
        assert_eq!(client.get_coordinate().vec[2], 99.0);
    }

    #[test]
    fn update_moves_toward_a_peer_that_is_closer_than_estimated() {
        let config = three_d();
        let mut client = Client::with_seed(config.clone(), 1).unwrap();
        let mut other = Coordinate::new(&config);
        other.vec[2] = 0.010;
        let c = client.update("node", &other, Duration::from_millis(2)).unwrap();
        assert!(c.vec[2] > 0.0, "z = {} should be > 0", c.vec[2]);
    }

    #[test]
    fn rtt_above_ten_seconds_is_rejected_with_serfs_text_and_no_change() {
        let config = three_d();
        let mut client = Client::with_seed(config.clone(), 1).unwrap();
        let mut other = Coordinate::new(&config);
        other.vec[2] = 0.001;
        let before = client.get_coordinate();
        for rtt in [Duration::from_secs(11), Duration::new(10, 1), Duration::MAX] {
            let err = client.update("node", &other, rtt).unwrap_err();
            assert!(matches!(err, Error::RttOutOfRange { .. }));
            assert_eq!(client.get_coordinate(), before);
        }
        let err = client.update("node", &other, Duration::from_secs(11)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "round trip time not in valid range, duration 11s is not a positive value less than 10s "
        );
        // Exactly the limit is accepted.
        client.update("node", &other, MAX_RTT).unwrap();
    }

    #[test]
    fn zero_rtt_is_accepted_and_counted() {
        let config = three_d();
        let mut client = Client::with_seed(config.clone(), 1).unwrap();
        let mut other = Coordinate::new(&config);
        other.vec[0] = 0.003;
        let c = client.update("node", &other, Duration::ZERO).unwrap();
        assert!(c.is_valid());
        assert_eq!(client.stats().zero_rtts, 1);
        assert_eq!(client.stats().resets, 0);
    }

    #[test]
    fn distance_to_uses_the_coordinate() {
        let config = Config { dimensionality: 3, height_min: 0.0, ..Config::default() };
        let client = Client::with_seed(config.clone(), 1).unwrap();
        let mut other = Coordinate::new(&config);
        other.vec[2] = 12.345;
        assert_eq!(client.distance_to(&other), Duration::from_nanos((12.345f64 * 1e9) as u64));
        assert_eq!(client.distance_seconds(&other), 12.345);
    }

    #[test]
    fn latency_filter_is_applied_per_node_and_forgotten() {
        // With a huge spike in the middle, the update uses the median, so the coordinate
        // after the spike equals that of a run where the spike was a normal sample.
        let config = three_d();
        let mut other = Coordinate::new(&config);
        other.vec[0] = 0.05;
        let run = |spike: Duration| {
            let mut c = Client::with_seed(config.clone(), 1).unwrap();
            c.update("peer", &other, Duration::from_millis(20)).unwrap();
            c.update("peer", &other, Duration::from_millis(20)).unwrap();
            c.update("peer", &other, spike).unwrap()
        };
        assert_eq!(run(Duration::from_secs(9)), run(Duration::from_millis(20)));

        // After forget_node the spike is the only sample, so it is used.
        let mut c = Client::with_seed(config.clone(), 1).unwrap();
        c.update("peer", &other, Duration::from_millis(20)).unwrap();
        c.update("peer", &other, Duration::from_millis(20)).unwrap();
        let before = c.get_coordinate();
        c.forget_node("peer");
        let after = c.update("peer", &other, Duration::from_secs(9)).unwrap();
        assert!(after.distance_seconds(&other) > before.distance_seconds(&other) + 1.0);
    }

    #[test]
    fn bad_and_incompatible_coordinates_are_refused_and_poison_resets() {
        let config = three_d();
        let mut client = Client::with_seed(config.clone(), 1).unwrap();
        let rtt = Duration::from_millis(250);

        let mut nan = Coordinate::new(&config);
        nan.vec[0] = f64::NAN;
        assert_eq!(client.update("node", &nan, rtt), Err(Error::InvalidCoordinate));
        assert_eq!(client.update("node", &nan, rtt).unwrap_err().to_string(), "coordinate is invalid");
        assert_eq!(client.set_coordinate(&nan), Err(Error::InvalidCoordinate));
        assert!(client.get_coordinate().is_valid());

        let wide = Coordinate::new(&Config { dimensionality: 6, ..config.clone() });
        let err = client.update("node", &wide, rtt).unwrap_err();
        assert_eq!(err.to_string(), "dimensions aren't compatible");
        assert_eq!(client.set_coordinate(&wide), Err(Error::IncompatibleDimensions));
        assert!(client.get_coordinate().is_valid());

        // Poisoned internal state is detected after the update and reset to the origin.
        client.coord.vec[0] = f64::NAN;
        let c = client.update("node", &Coordinate::new(&config), rtt).unwrap();
        assert!(c.is_valid());
        assert_eq!(c, Coordinate::new(&config));
        assert_eq!(client.stats().resets, 1);
    }

    #[test]
    fn adjustment_is_half_the_mean_residual_over_the_window() {
        let config = Config { dimensionality: 3, adjustment_window_size: 4, ..Config::default() };
        let mut client = Client::with_seed(config.clone(), 1).unwrap();
        let other = Coordinate::new(&config);
        let rtt = Duration::from_millis(10);
        let c = client.update("n", &other, rtt).unwrap();
        // Recompute what the adjustment must be from the post-Vivaldi coordinate: the
        // gravity step moves only the vector, by a negligible amount, not the adjustment.
        let residual = 0.010 - {
            let mut pre_gravity = c.clone();
            pre_gravity.adjustment = 0.0;
            pre_gravity.raw_distance(&other)
        };
        assert!((c.adjustment - residual / 8.0).abs() < 1e-9, "{} vs {}", c.adjustment, residual / 8.0);

        let disabled = Config { adjustment_window_size: 0, ..config };
        let mut client = Client::with_seed(disabled.clone(), 1).unwrap();
        let c = client.update("n", &Coordinate::new(&disabled), rtt).unwrap();
        assert_eq!(c.adjustment, 0.0);
    }

    #[test]
    fn gravity_pulls_a_far_coordinate_toward_the_origin() {
        let config = three_d();
        let mut client = Client::with_seed(config.clone(), 1).unwrap();
        let mut far = Coordinate::new(&config);
        far.vec = vec![100.0, 0.0, 0.0];
        client.set_coordinate(&far).unwrap();
        // A peer exactly where our estimate says, so Vivaldi adds no force; only gravity.
        let mut peer = Coordinate::new(&config);
        peer.vec = vec![100.0, 0.0, 0.0];
        peer.error = 1.5;
        let rtt = Duration::from_secs_f64(client.distance_seconds(&peer));
        let c = client.update("p", &peer, rtt).unwrap();
        let expected_pull = (100.0f64 / 150.0).powi(2);
        assert!(c.vec[0] < 100.0);
        assert!((100.0 - c.vec[0] - expected_pull).abs() < 1e-3, "moved {}", 100.0 - c.vec[0]);
    }

    #[test]
    fn same_seed_same_trajectory_from_coincident_start() {
        let config = Config::default();
        let origin = Coordinate::new(&config);
        let run = |seed| {
            let mut c = Client::with_seed(config.clone(), seed).unwrap();
            c.update("a", &origin, Duration::from_millis(5)).unwrap()
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42).vec, run(43).vec);
    }
}
