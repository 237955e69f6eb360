//! Deadlines on glommio timers.

use std::future::Future;
use std::time::{Duration, Instant};

use futures_lite::future;
use glommio::timer::Timer;

/// Run `fut` until `deadline`; `None` if the deadline passed first.
pub async fn until<T>(deadline: Instant, fut: impl Future<Output = T>) -> Option<T> {
    let left = deadline.saturating_duration_since(Instant::now());
    within(left, fut).await
}

/// Run `fut` for at most `dur`; `None` on timeout.
pub async fn within<T>(dur: Duration, fut: impl Future<Output = T>) -> Option<T> {
    future::or(async { Some(fut.await) }, async {
        Timer::new(dur).await;
        None
    })
    .await
}
