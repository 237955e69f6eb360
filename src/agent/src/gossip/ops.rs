//! Service shards' gossip requests, carried out on the control shard: each runs in its
//! own task (a join or a keyring query waits on the network) and answers on the
//! requesting shard's bounded queue.
use std::rc::Rc;
use std::time::Duration;

use ballast_http::BackendError;
use ballast_shards::QueueSender;

use super::GossipAgent;
use crate::lifecycle::ShutdownFlag;
use crate::messages::{GossipOp, GossipReply, ToService};

/// Time for the HTTP answer to a leave to reach the client before the agent stops.
const LEAVE_REPLY_GRACE: Duration = Duration::from_millis(200);

pub fn handle(agent: &Rc<GossipAgent>, reply_to: QueueSender<ToService>, id: u64, op: GossipOp, shutdown: ShutdownFlag) {
    let agent = agent.clone();
    glommio::spawn_local(async move {
        let leaving = matches!(op, GossipOp::Leave);
        let result = run(&agent, op).await.map_err(BackendError::Internal);
        // The shard sized its queue above its in-flight bound: a full queue means it is
        // gone or shutting down, and the ticket times out there.
        let _ = reply_to.try_send(ToService::GossipDone { id, result });
        if leaving {
            glommio::timer::sleep(LEAVE_REPLY_GRACE).await;
            shutdown.trigger();
        }
    })
    .detach();
}

async fn run(agent: &Rc<GossipAgent>, op: GossipOp) -> Result<GossipReply, String> {
    match op {
        GossipOp::Join { addr, wan } => agent.join(&[addr], wan).await.map(|_| GossipReply::Done),
        GossipOp::Leave => {
            agent.leave().await;
            Ok(GossipReply::Done)
        }
        GossipOp::ForceLeave { node, prune, wan } => agent.force_leave(&node, prune, wan).map(|_| GossipReply::Done),
        GossipOp::Keyring { op, local_only } => agent.keyring(op, local_only).await.map(GossipReply::Keyring),
        GossipOp::CoordinateUpdate { node, coord } => agent.update_coordinate(&node, coord).map(|_| GossipReply::Done),
    }
}
