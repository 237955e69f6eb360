//! Reads with Consul's consistency modes and blocking (`?index`, `?wait`).
//!
//! Race-free wait: register the watcher FIRST, then load the snapshot and
//! evaluate; a publish after the registration fires the watcher, a publish
//! before it is visible in the snapshot. A wake is no promise of change,
//! so the loop re-evaluates and parks again if the index did not move.

use std::pin::pin;
use std::time::Duration;

use ballast_store::{StateSnapshot, WatchTarget};
use futures_lite::future;
use glommio::timer::Timer;
use rand::Rng;

use crate::backend::{Backend, BackendError, LeaderStatus};
use crate::params::{Consistency, QueryOptions};
use crate::server::{GaugeGuard, Response, ServerCtx};

/// Query metadata for the response headers (`setMeta`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadMeta {
    pub index: u64,
    pub leader: LeaderStatus,
    pub consistency: Consistency,
}

impl ReadMeta {
    /// `X-Consul-Index` (never 0), `X-Consul-Knownleader`,
    /// `X-Consul-Lastcontact`, `X-Consul-Effective-Consistency`.
    pub fn apply(&self, resp: &mut Response) {
        resp.set_header(
            "X-Consul-Lastcontact",
            self.leader.last_contact_ms.to_string(),
        );
        resp.set_header("X-Consul-Index", self.index.max(1).to_string());
        resp.set_header(
            "X-Consul-Knownleader",
            if self.leader.known_leader {
                "true"
            } else {
                "false"
            },
        );
        resp.set_header(
            "X-Consul-Effective-Consistency",
            self.consistency.header_value(),
        );
    }
}

/// Make a read allowed under `mode`: stale reads anything local; the
/// default mode serves from the leader's own state, or on a follower after
/// a read barrier through the leader (instead of forwarding the request);
/// consistent always takes a barrier.
pub(crate) async fn read_gate<B: Backend>(
    backend: &B,
    mode: Consistency,
) -> Result<(), BackendError> {
    match mode {
        Consistency::Stale => Ok(()),
        Consistency::Consistent => backend.consistent_barrier().await,
        Consistency::Default => {
            let status = backend.leader_status();
            if status.is_leader {
                backend.lease_read_ready().await
            } else if status.known_leader {
                backend.consistent_barrier().await
            } else {
                Err(BackendError::NoLeader)
            }
        }
    }
}

/// Consul's `BlockingTimeout`: absent or non-positive `wait` gets the
/// default, longer ones the maximum, plus up to 1/16 random jitter.
pub(crate) fn blocking_timeout(wait_ns: Option<i64>, default: Duration, max: Duration) -> Duration {
    let mut wait = match wait_ns {
        Some(ns) if ns > 0 => Duration::from_nanos(ns as u64),
        _ => default,
    };
    if wait > max {
        wait = max;
    }
    let jitter_max = wait.as_nanos() as u64 / 16;
    if jitter_max > 0 {
        wait += Duration::from_nanos(rand::thread_rng().gen_range(0..jitter_max));
    }
    wait
}

/// Run `query` (result, index) under `opts`: consistency gate, then block
/// while the index is `<= opts.min_index` (when `min_index > 0`) until a
/// change under `target` raises it or the wait expires.
pub(crate) async fn blocking_read<B: Backend, T>(
    ctx: &ServerCtx<B>,
    opts: &QueryOptions,
    target: WatchTarget,
    query: impl Fn(&StateSnapshot) -> (T, u64),
) -> Result<(T, ReadMeta), BackendError> {
    let backend = &*ctx.backend;
    read_gate(backend, opts.consistency).await?;
    let meta = |index: u64| ReadMeta {
        index,
        leader: backend.leader_status(),
        consistency: opts.consistency,
    };
    if opts.min_index == 0 {
        let (value, index) = query(&backend.state());
        return Ok((value, meta(index)));
    }
    let wait = blocking_timeout(
        opts.max_query_time_ns,
        ctx.opts.default_query_time,
        ctx.opts.max_query_time,
    );
    let mut deadline = pin!(Timer::new(wait));
    let mut waited = false;
    loop {
        let watch = backend.watches().register(target.clone());
        let (value, index) = query(&backend.state());
        if index.max(1) > opts.min_index {
            drop(watch);
            if waited && opts.consistency == Consistency::Consistent {
                // What woke us must be confirmed as current, as Consul does
                // a consistent read on every pass of its blocking loop.
                drop(value);
                backend.consistent_barrier().await?;
                let (value, index) = query(&backend.state());
                return Ok((value, meta(index)));
            }
            return Ok((value, meta(index)));
        }
        // Hold no result while parked: only the watcher and the timer.
        drop(value);
        let changed = {
            let _parked = GaugeGuard::new(&ctx.opts.stats, |s| &s.parked);
            future::or(
                async {
                    watch.await;
                    true
                },
                async {
                    deadline.as_mut().await;
                    false
                },
            )
            .await
        };
        if !changed {
            let (value, index) = query(&backend.state());
            return Ok((value, meta(index)));
        }
        waited = true;
    }
}

#[cfg(test)]
mod tests {
    use super::blocking_timeout;
    use std::time::Duration;

    #[test]
    fn timeout_defaults_clamps_and_jitters() {
        let d = Duration::from_secs(300);
        let m = Duration::from_secs(600);
        for _ in 0..100 {
            let t = blocking_timeout(None, d, m);
            assert!(t >= d && t < d + d / 16);
            let t = blocking_timeout(Some(-5), d, m);
            assert!(t >= d && t < d + d / 16);
            let t = blocking_timeout(Some(3_600_000_000_000), d, m);
            assert!(t >= m && t < m + m / 16);
            let t = blocking_timeout(Some(1_000_000_000), d, m);
            assert!(t >= Duration::from_secs(1) && t < Duration::from_millis(1063));
        }
    }
}
