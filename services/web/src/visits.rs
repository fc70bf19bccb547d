//! The visit counter: one Redis `INCR` per page view.

use service_common::redis::{Redis, RedisSettings};

/// Why the counter could not be read.
#[derive(Debug, thiserror::Error)]
pub enum VisitsError {
    #[error("Redis is unavailable")]
    Unavailable,
    #[error("Redis refused the counter: {0}")]
    Refused(String),
}

/// The counter.
#[derive(Debug, Clone)]
pub struct Visits {
    redis: Redis,
    key: String,
}

impl Visits {
    /// No connection is made here: the page renders (without the counter) while Redis is down.
    pub fn new(redis_url: &str, key: String) -> anyhow::Result<Self> {
        let redis = Redis::new(redis_url, RedisSettings::default())
            .map_err(|e| anyhow::anyhow!("REDIS_URL is invalid: {e}"))?;
        Ok(Self { redis, key })
    }

    /// Counts this visit and returns the total.
    pub async fn count(&self) -> Result<i64, VisitsError> {
        let Some(mut conn) = self.redis.connection() else {
            return Err(VisitsError::Unavailable);
        };
        let result = self.redis.observe(
            redis::cmd("INCR")
                .arg(&self.key)
                .query_async(&mut conn)
                .await,
        );
        result.map_err(|e| {
            tracing::warn!(error = %e, "visit counter failed");
            if service_common::redis::is_unreachable(&e) {
                VisitsError::Unavailable
            } else {
                VisitsError::Refused(e.to_string())
            }
        })
    }

    /// Readiness probe.
    pub async fn ping(&self) -> Result<(), redis::RedisError> {
        self.redis.ping().await
    }
}
