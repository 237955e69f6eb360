//! Vivaldi network coordinates from probe round trips, as Consul's ping delegate does:
//! each ack carries the responder's coordinate; the prober updates its own from the RTT
//! and remembers the peer's. The pool's own coordinate rides on its next acks.
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use ballast_coordinate::{wire, Client, Config, Coordinate};
use ballast_gossip::Event;

use super::keyring_ops;
use super::pool::{Pool, PoolKind};

/// Coordinates known to one pool: ours and the last one each member sent us.
pub struct CoordState {
    client: Client,
    others: HashMap<String, Coordinate>,
}

pub fn to_json(c: &Coordinate) -> ballast_http::Coord {
    ballast_http::Coord { vec: c.vec.clone(), error: c.error, adjustment: c.adjustment, height: c.height }
}

/// Hooks the pool's events: coordinates here, keyring queries in `keyring_ops`. Returns
/// the pool's coordinate state (for `PUT /v1/coordinate/update`).
pub fn attach(pool: &Rc<Pool>) -> Rc<RefCell<CoordState>> {
    let client = Client::new(Config::default()).expect("the default Vivaldi config is valid");
    let state = Rc::new(RefCell::new(CoordState { client, others: HashMap::new() }));
    let hooked = state.clone();
    set_payload(pool, &state.borrow().client.get_coordinate());
    publish(pool, &state.borrow());
    let state_for_hook = hooked;
    pool.set_on_event(Box::new(move |pool, ev| match ev {
        Event::PingComplete { node, rtt, payload } => {
            let Ok(theirs) = wire::decode(&payload) else { return };
            let mut st = state_for_hook.borrow_mut();
            match st.client.update(&node, &theirs, rtt) {
                Ok(mine) => {
                    st.others.insert(node, theirs);
                    set_payload(pool, &mine);
                    publish(pool, &st);
                }
                Err(e) => tracing::debug!(pool = pool.kind.label(), "coordinate update with {node} rejected: {e}"),
            }
        }
        Event::Reap(m) => {
            let mut st = state_for_hook.borrow_mut();
            st.client.forget_node(&m.name);
            st.others.remove(&m.name);
            publish(pool, &st);
        }
        Event::Query { id, from, name, payload } => keyring_ops::on_query(pool, id, &from, &name, &payload),
        _ => {}
    }));
    state
}

/// `PUT /v1/coordinate/update`: a coordinate an agent reports for a node of this pool.
/// As Consul's catalog does, a node this pool does not know is skipped without an error;
/// a coordinate that is not valid or has other dimensions is refused.
pub fn update(pool: &Rc<Pool>, state: &Rc<RefCell<CoordState>>, node: &str, coord: Coordinate) -> Result<(), String> {
    let mine = state.borrow().client.get_coordinate();
    if !coord.is_valid() || !coord.is_compatible_with(&mine) {
        return Err("rejected bad coordinate".into());
    }
    if pool.core().member(node).is_none() {
        return Ok(());
    }
    let mut st = state.borrow_mut();
    if node == pool.core().config().name {
        st.client.set_coordinate(&coord).map_err(|e| e.to_string())?;
    } else {
        st.others.insert(node.to_string(), coord);
    }
    publish(pool, &st);
    Ok(())
}

fn set_payload(pool: &Rc<Pool>, mine: &Coordinate) {
    if let Ok(bytes) = wire::encode(mine) {
        pool.with_core(|c, _| c.set_ack_payload(bytes));
    }
}

fn publish(pool: &Pool, st: &CoordState) {
    let me = pool.core().config().name.clone();
    let mine = st.client.get_coordinate();
    let mut all: Vec<(String, ballast_http::Coord)> = st.others.iter().map(|(n, c)| (n.clone(), to_json(c))).collect();
    all.push((me, to_json(&mine)));
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let wan = pool.kind == PoolKind::Wan;
    if !wan {
        pool.view.publish_coord(to_json(&mine));
    }
    pool.view.publish_coords(wan, all);
}
