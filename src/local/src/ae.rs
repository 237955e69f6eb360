//! Anti-entropy timing (agent/ae/ae.go): a full sync every minute plus a
//! random stagger that grows with the cluster (x2 past 128 nodes, x3 past
//! 256, ... by log2), so large clusters do not hammer the servers.

use std::time::Duration;

use rand::Rng;

/// Time between two full syncs before the stagger.
pub const AE_BASE_INTERVAL: Duration = Duration::from_secs(60);
/// Cluster size after which syncs are spread out (`scaleThreshold`).
pub const SCALE_THRESHOLD: usize = 128;
/// Max wait before a full sync after a server joined (`serverUpIntv`).
pub const SERVER_UP_INTERVAL: Duration = Duration::from_secs(3);
/// Min wait before a failed full sync is retried (`retryFailIntv`).
pub const RETRY_FAIL_INTERVAL: Duration = Duration::from_secs(15);

/// `scaleFactor`: 1 up to 128 nodes, then `ceil(log2(n) - log2(128)) + 1`.
pub fn scale_factor(nodes: usize) -> u32 {
    if nodes <= SCALE_THRESHOLD {
        return 1;
    }
    ((nodes as f64).log2() - (SCALE_THRESHOLD as f64).log2()).ceil() as u32 + 1
}

/// `lib.RandomStagger`: uniform in `[0, d)` (zero for zero).
pub fn random_stagger(d: Duration) -> Duration {
    let nanos = d.as_nanos().min(u64::MAX as u128) as u64;
    if nanos == 0 {
        return Duration::ZERO;
    }
    Duration::from_nanos(rand::thread_rng().gen_range(0..nanos))
}

/// `Delayer.Jitter`: a random delay up to `scale_factor * d`.
pub fn jitter(d: Duration, cluster_size: usize) -> Duration {
    random_stagger(d * scale_factor(cluster_size))
}

/// Wait until the next full sync: `1m + jitter(1m)`.
pub fn ae_interval(cluster_size: usize) -> Duration {
    AE_BASE_INTERVAL + jitter(AE_BASE_INTERVAL, cluster_size)
}

/// [`ae_interval`] with the random draw given (`unit` in `[0, 1)`), for
/// callers that want determinism.
pub fn ae_interval_with(cluster_size: usize, unit: f64) -> Duration {
    let span = AE_BASE_INTERVAL * scale_factor(cluster_size);
    AE_BASE_INTERVAL + span.mul_f64(unit.clamp(0.0, 1.0 - f64::EPSILON))
}

/// Wait before retrying a failed full sync: `15s + jitter(15s)`.
pub fn retry_fail_interval(cluster_size: usize) -> Duration {
    RETRY_FAIL_INTERVAL + jitter(RETRY_FAIL_INTERVAL, cluster_size)
}

/// Delay of a full sync triggered by a server joining: `jitter(3s)`.
pub fn server_up_delay(cluster_size: usize) -> Duration {
    jitter(SERVER_UP_INTERVAL, cluster_size)
}
