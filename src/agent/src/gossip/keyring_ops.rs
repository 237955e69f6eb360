//! `consul keyring` across a pool, as Serf's key manager does it: the agent that got the
//! request applies the operation to its own keyring, then asks every member with a
//! gossip query; each member applies it, persists its keyring file and answers; the
//! answers are tallied into Consul's `KeyringResponse`. Queries travel encrypted with the
//! current keys, so a rotation (install, use, remove) never cuts anyone off.
use std::rc::Rc;
use std::time::Duration;

use ballast_keyring::{apply, KeyOp, KeyOpReply, KeyTally, KeyringResponse};

use super::pool::{Pool, PoolKind};
use super::GossipAgent;

const QUERY_PREFIX: &str = "_serf_";
/// Serf's QueryTimeoutMult.
const QUERY_TIMEOUT_MULT: u32 = 16;
/// Rounds of asking before silent members are reported.
const QUERY_ATTEMPTS: usize = 3;

/// A member's side: apply an operation another agent asked for and answer.
pub fn on_query(pool: &Rc<Pool>, id: u64, from: &str, name: &str, payload: &[u8]) {
    let Some(op_name) = name.strip_prefix(QUERY_PREFIX) else { return };
    let op = match KeyOp::decode(payload) {
        Ok(op) if op.query_name() == op_name => op,
        Ok(_) | Err(_) => {
            tracing::warn!(pool = pool.kind.label(), "serf: bad key query {name:?} from {from}");
            return;
        }
    };
    let pool = pool.clone();
    glommio::spawn_local(async move {
        let reply = apply_locally(&pool, &op).await;
        if let Ok(bytes) = reply.encode() {
            pool.with_core(|c, now| c.respond(id, bytes, now));
        }
    })
    .detach();
}

/// Applies `op` to this agent's keyring for `pool` and persists the file when it changed
/// (off the executor: the write ends with an fsync).
async fn apply_locally(pool: &Rc<Pool>, op: &KeyOp) -> KeyOpReply {
    let (reply, to_save) = {
        let mut ring = pool.keyring.borrow_mut();
        let reply = apply(ring.as_mut(), op);
        let changed = reply.result.is_ok() && !matches!(op, KeyOp::List);
        (reply, if changed { ring.clone() } else { None })
    };
    if let (Some(ring), Some(path)) = (to_save, pool.keyring_path.clone()) {
        let saved = glommio::executor().spawn_blocking(move || ballast_keyring::save(&path, &ring)).await;
        if let Err(e) = saved {
            tracing::error!(pool = pool.kind.label(), "serf: failed to write keyring file: {e}");
            return KeyOpReply::error(e.to_string());
        }
    }
    reply
}

impl GossipAgent {
    /// One `KeyringResponse` per pool (WAN first, as Consul lists them). `local_only`
    /// answers from this agent's own keyrings without asking anyone.
    pub async fn keyring(&self, op: KeyOp, local_only: bool) -> Result<Vec<KeyringResponse>, String> {
        let mut out = Vec::new();
        for pool in self.wan.iter().chain(std::iter::once(&self.lan)) {
            out.push(self.keyring_pool(pool, &op, local_only).await?);
        }
        Ok(out)
    }

    async fn keyring_pool(&self, pool: &Rc<Pool>, op: &KeyOp, local_only: bool) -> Result<KeyringResponse, String> {
        let wan = pool.kind == PoolKind::Wan;
        let me = pool.core().config().name.clone();
        let local = apply_locally(pool, op).await;
        if local_only {
            let mut tally = KeyTally::new(1);
            tally.add(&me, Ok(&local));
            return Ok(tally.finish(wan, &self.datacenter, ""));
        }
        let (alive, timeout) = {
            let core = pool.core();
            let alive = core.num_alive().max(1) as u32;
            let log = ((alive as f64 + 1.0).log10().ceil() as u32).max(1);
            (alive, core.config().gossip_interval * QUERY_TIMEOUT_MULT * log)
        };
        let mut tally = KeyTally::new(alive);
        tally.add(&me, Ok(&local));
        let name = format!("{QUERY_PREFIX}{}", op.query_name());
        let mut answered: Vec<String> = vec![me.clone()];
        // An answer is one datagram, as in Serf; the operations are idempotent, so members
        // that stayed silent are asked again (answers from those already counted are ignored).
        for _attempt in 0..QUERY_ATTEMPTS {
            let wait = pool
                .start_query(&name, op.encode(), timeout)
                .ok_or_else(|| "too many keyring operations in progress".to_string())?;
            let mut seen = 0;
            let deadline = std::time::Instant::now() + timeout + Duration::from_secs(1);
            loop {
                let (fresh, done) = {
                    let w = wait.borrow();
                    (w.responses[seen..].to_vec(), w.done)
                };
                seen += fresh.len();
                for (from, payload) in fresh {
                    if answered.contains(&from) {
                        continue;
                    }
                    answered.push(from.clone());
                    match KeyOpReply::decode(&payload) {
                        Ok(r) => tally.add(&from, Ok(&r)),
                        Err(_) => tally.add(&from, Err(&payload)),
                    }
                }
                if done || tally.complete() || std::time::Instant::now() >= deadline {
                    break;
                }
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                crate::deadline::within(left, Pool::query_progress(&wait)).await;
            }
            if tally.complete() {
                break;
            }
        }
        if !tally.complete() {
            let silent: Vec<String> = pool
                .core()
                .members()
                .filter(|m| matches!(m.status, ballast_gossip::Status::Alive) && !answered.contains(&m.name))
                .map(|m| m.name.clone())
                .collect();
            tracing::warn!(pool = pool.kind.label(), ?silent, "serf: key query ({name}) timed out without an answer from some members");
        }
        Ok(tally.finish(wan, &self.datacenter, ""))
    }
}
