//! `?near=`: Consul's `sortNodesByDistanceFrom`: when the source node has a
//! coordinate, a stable sort by estimated RTT from it; nodes without a
//! coordinate (infinite distance) keep their order at the end. An unknown
//! source leaves the order as it is.

use ballast_coordinate::{compute_distance, Coordinate};

use crate::backend::Coord;

fn to_coordinate(c: &Coord) -> Coordinate {
    Coordinate { vec: c.vec.clone(), error: c.error, adjustment: c.adjustment, height: c.height }
}

/// Node names compare case-insensitively, as the catalog's node index does.
fn find<'a>(coords: &'a [(String, Coord)], node: &str) -> Option<&'a Coord> {
    coords.iter().find(|(n, _)| n.eq_ignore_ascii_case(node)).map(|(_, c)| c)
}

pub(crate) fn sort_by_distance<T>(items: &mut Vec<T>, source: &str, coords: &[(String, Coord)], node_of: impl Fn(&T) -> &str) {
    if source.is_empty() {
        return;
    }
    let Some(origin) = find(coords, source).map(to_coordinate) else { return };
    let mut keyed: Vec<(f64, usize)> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let other = find(coords, node_of(item)).map(to_coordinate);
            let d = compute_distance(Some(&origin), other.as_ref());
            (if d.is_nan() { f64::INFINITY } else { d }, i)
        })
        .collect();
    // Stable by construction: ties keep their index order.
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let order: Vec<usize> = keyed.into_iter().map(|(_, i)| i).collect();
    apply_order(items, &order);
}

/// Rebuild `items` so that position k holds the old `items[order[k]]`.
fn apply_order<T>(items: &mut Vec<T>, order: &[usize]) {
    let mut old: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(order.iter().filter_map(|&i| old.get_mut(i).and_then(Option::take)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(x: f64) -> Coord {
        Coord { vec: vec![x, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], error: 1.5, adjustment: 0.0, height: 0.00001 }
    }

    #[test]
    fn sorts_by_rtt_unknown_last_stable() {
        let coords = vec![("src".to_string(), c(0.0)), ("far".to_string(), c(0.5)), ("near".to_string(), c(0.01)), ("mid".to_string(), c(0.1))];
        let mut items = vec!["x1", "far", "x2", "NEAR", "mid"];
        sort_by_distance(&mut items, "src", &coords, |s| s);
        assert_eq!(items, vec!["NEAR", "mid", "far", "x1", "x2"]);
        let mut same = vec!["b", "a"];
        sort_by_distance(&mut same, "unknown", &coords, |s| s);
        assert_eq!(same, vec!["b", "a"]);
    }
}
