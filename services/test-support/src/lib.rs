//! Fixtures for the services' integration tests, against the real servers the test harness
//! (`scripts/test.sh`) starts: a fresh, migrated PostgreSQL database per test, a unique Redis
//! key prefix per test, private `redis-server` processes a test may stop and restart, and
//! reading a service's metrics.

mod database;
mod metrics;
mod redis_server;
mod service;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use database::{client, database_url_for, fresh_database, superuser_client, test_database_url};
pub use metrics::{metric_value, scrape};
pub use redis_server::RedisServer;
pub use service::{fresh_prefix, json, TestService};

/// `TEST_REDIS_URL`, the harness's shared Redis; panics with the way to set it when missing.
pub fn test_redis_url() -> String {
    required_env("TEST_REDIS_URL")
}

fn required_env(var: &str) -> String {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!(
            "{var} is not set: run the tests through scripts/test.sh, or \
             `. scripts/local-servers.sh; start_local_servers` first"
        ),
    }
}

/// A name no other test (in this process or another) uses: `prefix` plus the process id, the
/// clock and a counter. Lowercase letters, digits and `_` only, so it is a valid database name.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{prefix}_{:x}_{:x}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Polls `condition` every 50 ms until it holds, and panics naming `what` if it still does
/// not after `limit`. For things that happen in the background (an event reaching a consumer);
/// the limit is generous and never a measurement.
pub async fn wait_for<F, Fut>(what: &str, limit: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    loop {
        if condition().await {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "gave up after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
