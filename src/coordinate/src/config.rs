//! Tuning parameters of the Vivaldi algorithm, with serf's defaults.

/// Parameters of the Vivaldi-based coordinate algorithm (serf's `coordinate.Config`).
///
/// References named in serf: [1] Dabek et al., "Vivaldi" (SIGCOMM 2004); [2] Ledlie et al.,
/// "Network Coordinates in the Wild" (NSDI 2007); [3] Lee et al., "On suitability of
/// Euclidean embedding for host-based network coordinate systems" (ToN 2010).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Number of Euclidean dimensions; [2] saw no gain beyond 7, serf uses 8 plus height.
    pub dimensionality: usize,
    /// Error of a node that has made no observations yet, and the cap on the error.
    pub vivaldi_error_max: f64,
    /// Maximum impact of one observation on a node's confidence ([1]).
    pub vivaldi_ce: f64,
    /// Maximum impact of one observation on a node's coordinate ([1]).
    pub vivaldi_cc: f64,
    /// Samples kept for the adjustment term ([3]); 0 disables the adjustment.
    pub adjustment_window_size: usize,
    /// Floor of the height; must stay positive, so it adds a tiny error to every estimate.
    pub height_min: f64,
    /// RTT samples kept per peer for the moving median that rides out blips ([2]).
    pub latency_filter_size: usize,
    /// How strongly gravity pulls coordinates back toward the origin against drift ([2]).
    pub gravity_rho: f64,
}

impl Default for Config {
    /// serf's `DefaultConfig()`.
    fn default() -> Self {
        Config {
            dimensionality: 8,
            vivaldi_error_max: 1.5,
            vivaldi_ce: 0.25,
            vivaldi_cc: 0.25,
            adjustment_window_size: 20,
            height_min: 10.0e-6,
            latency_filter_size: 3,
            gravity_rho: 150.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_serf() {
        let c = Config::default();
        assert_eq!(c.dimensionality, 8);
        assert_eq!(c.vivaldi_error_max, 1.5);
        assert_eq!(c.vivaldi_ce, 0.25);
        assert_eq!(c.vivaldi_cc, 0.25);
        assert_eq!(c.adjustment_window_size, 20);
        assert_eq!(c.height_min, 1.0e-5);
        assert_eq!(c.latency_filter_size, 3);
        assert_eq!(c.gravity_rho, 150.0);
    }
}
