//! The control shard of a client agent: no Raft, no log, no state store; only the LAN
//! gossip pool and the gossip requests of the service shards. Everything else a client's
//! HTTP API serves is forwarded to a server from the service shards themselves.
use std::sync::Arc;
use std::time::Duration;

use ballast_http::BackendError;
use ballast_shards::{QueueReceiver, QueueSender};

use crate::gossip::{handle_op, GossipAgent, GossipSetup, MembersView};
use crate::lifecycle::ShutdownFlag;
use crate::messages::{ToControl, ToService, WriteFailure};

pub struct ClientSetup {
    pub gossip: GossipSetup,
    pub members: Arc<MembersView>,
    pub shutdown: ShutdownFlag,
}

pub async fn run_client_control(
    setup: ClientSetup,
    to_services: Vec<QueueSender<ToService>>,
    from_services: Vec<QueueReceiver<ToControl>>,
) -> Result<(), String> {
    let gossip = match GossipAgent::start(setup.gossip, setup.members.clone(), setup.shutdown.clone()) {
        Ok(g) => g,
        Err(e) => {
            for link in &to_services {
                let _ = link.try_send(ToService::Fatal);
            }
            return Err(e);
        }
    };
    for link in &to_services {
        let _ = link.try_send(ToService::Started);
    }
    for (shard, rx) in from_services.into_iter().enumerate() {
        let (gossip, link, shutdown) = (gossip.clone(), to_services[shard].clone(), setup.shutdown.clone());
        glommio::spawn_local(async move {
            let mut batch = Vec::with_capacity(64);
            while rx.recv_batch(&mut batch, 64).await > 0 {
                for msg in batch.drain(..) {
                    let refused = || WriteFailure::Forward("client agents forward writes to a server".into());
                    let reply = match msg {
                        ToControl::Gossip { id, op } => {
                            handle_op(&gossip, link.clone(), id, op, shutdown.clone());
                            continue;
                        }
                        // A client's service shards forward these; answer rather than hang.
                        ToControl::Propose { id, .. } => ToService::Written { id, result: Err(refused()) },
                        ToControl::ReadBarrier { id } => ToService::ReadReady { id, result: Err(refused()) },
                        ToControl::Operator { id, .. } => {
                            ToService::OperatorDone { id, result: Err(BackendError::Internal("client agents forward operator requests".into())) }
                        }
                    };
                    let _ = link.try_send(reply);
                }
            }
        })
        .detach();
    }
    while !setup.shutdown.is_set() {
        glommio::timer::sleep(Duration::from_millis(100)).await;
    }
    for link in &to_services {
        let _ = link.try_send(ToService::Shutdown);
    }
    Ok(())
}
