//! Vector arithmetic on the Euclidean part of a coordinate. Callers check dimensions first.

use crate::rng::SplitMix64;

/// Below this distance two points count as on top of each other (seconds), as in serf.
pub(crate) const ZERO_THRESHOLD: f64 = 1.0e-6;

pub(crate) fn add(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

pub(crate) fn diff(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

pub(crate) fn mul(v: &[f64], factor: f64) -> Vec<f64> {
    v.iter().map(|x| x * factor).collect()
}

pub(crate) fn magnitude(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Unit vector pointing at `from` away from `at` (the way `from` moves when repelled by
/// `at`), plus the distance between them. Coincident points get a random direction and a
/// distance of 0, so the caller knows not to scale the height by it.
pub(crate) fn unit_vector_at(from: &[f64], at: &[f64], rng: &mut SplitMix64) -> (Vec<f64>, f64) {
    let d = diff(from, at);
    let mag = magnitude(&d);
    if mag > ZERO_THRESHOLD {
        return (mul(&d, 1.0 / mag), mag);
    }
    let random: Vec<f64> = d.iter().map(|_| rng.next_f64() - 0.5).collect();
    let mag = magnitude(&random);
    if mag > ZERO_THRESHOLD {
        return (mul(&random, 1.0 / mag), 0.0);
    }
    // Practically unreachable: every random component landed next to 0.5.
    let mut axis = vec![0.0; d.len()];
    if let Some(first) = axis.first_mut() {
        *first = 1.0;
    }
    (axis, 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9
    }

    #[test]
    fn arithmetic() {
        let v1 = [1.0, -3.0, 3.0];
        let v2 = [-4.0, 5.0, 6.0];
        assert_eq!(add(&v1, &v2), vec![-3.0, 2.0, 9.0]);
        assert_eq!(diff(&v1, &v2), vec![5.0, -8.0, -3.0]);
        assert_eq!(add(&v1, &[0.0; 3]), v1.to_vec());
        assert_eq!(mul(&v1, 2.0), vec![2.0, -6.0, 6.0]);
        assert_eq!(magnitude(&[0.0; 3]), 0.0);
        assert!(close(magnitude(&[1.0, -2.0, 3.0]), 14f64.sqrt()));
    }

    #[test]
    fn unit_vector_normalises_and_reports_distance() {
        let mut rng = SplitMix64::new(1);
        let a = [1.0, 2.0, 3.0];
        let b = [0.5, 0.6, 0.7];
        let (u, mag) = unit_vector_at(&a, &b, &mut rng);
        assert!(close(magnitude(&u), 1.0));
        assert!(close(mag, magnitude(&diff(&a, &b))));
        // Direction: parallel to a - b.
        let d = diff(&a, &b);
        for (ui, di) in u.iter().zip(&d) {
            assert!(close(*ui, di / mag));
        }
    }

    #[test]
    fn coincident_points_get_a_seeded_random_unit_vector() {
        let a = [1.0, 2.0, 3.0];
        let (u1, m1) = unit_vector_at(&a, &a, &mut SplitMix64::new(9));
        let (u2, _) = unit_vector_at(&a, &a, &mut SplitMix64::new(9));
        let (u3, _) = unit_vector_at(&a, &a, &mut SplitMix64::new(10));
        assert!(close(magnitude(&u1), 1.0));
        assert_eq!(m1, 0.0);
        assert_eq!(u1, u2, "same seed, same direction");
        assert_ne!(u1, u3, "different seed, different direction");
    }
}
