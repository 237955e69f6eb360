mod decode_tests;
mod duration_tests;
mod persist_tests;
mod state_tests;
mod sync_tests;
mod validate_tests;

use std::collections::BTreeMap;

use crate::state::{LocalConfig, LocalState, NodeInfo};

pub(crate) fn node() -> NodeInfo {
    NodeInfo {
        node_name: "node-1".into(),
        node_id: "6f1c9c2e-1b9a-4c4e-9f7d-2a0b3c4d5e6f".into(),
        datacenter: "dc1".into(),
        address: "10.0.0.1".into(),
        tagged_addresses: BTreeMap::from([("lan".into(), "10.0.0.1".into()), ("wan".into(), "10.0.0.1".into())]),
        meta: BTreeMap::from([("rack".into(), "r1".into())]),
    }
}

pub(crate) fn state() -> LocalState {
    LocalState::new(node(), LocalConfig::default())
}

pub(crate) fn register(st: &mut LocalState, body: &str) {
    let def = crate::decode_service_registration(body.as_bytes()).expect("decodes");
    st.register_service(&def, "", false).expect("registers");
}
