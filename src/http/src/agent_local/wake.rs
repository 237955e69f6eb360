//! Waking hash-blocking readers of `/v1/agent/service/<id>` on a change of
//! the local state. The state is shared by every shard, the watch registry is
//! per shard: the handlers notify their own shard; the agent may notify the
//! other shards (and its own changes) with [`notify_local_change`].

use std::sync::Arc;

use ballast_store::{ChangeSet, WatchRegistry};

/// The watch topic fired when the agent's local services or checks changed.
pub const LOCAL_STATE_TOPIC: &str = "agent/local";

pub(super) fn topic() -> Arc<str> {
    Arc::from(LOCAL_STATE_TOPIC)
}

/// Wake every reader parked on the local state in `watches`.
pub fn notify_local_change(watches: &WatchRegistry) {
    let changes = ChangeSet { topics: vec![topic()], ..ChangeSet::default() };
    watches.notify(&changes);
}
