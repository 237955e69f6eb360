//! Every wait has a deadline: `within` races a future against a timer.
use std::future::Future;
use std::time::Duration;

/// `Some(output)` if `fut` finished within `limit`, else `None` (and `fut` is dropped).
pub async fn within<T>(limit: Duration, fut: impl Future<Output = T>) -> Option<T> {
    futures_lite::future::or(async { Some(fut.await) }, async {
        glommio::timer::sleep(limit).await;
        None
    })
    .await
}
