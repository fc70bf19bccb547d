//! The Redis read-through cache of single entries, stored as the JSON the API returns so a
//! hit is answered without parsing. Redis is optional here: every failure is logged and the
//! caller goes to the database, and while Redis is known to be down it is not even asked.

use std::time::Duration;

use redis::AsyncCommands;
use service_common::redis::Redis;

use crate::entry::Name;

/// The cache of one service instance: the shared client, the key prefix and the time limit.
#[derive(Debug, Clone)]
pub struct Cache {
    redis: Redis,
    prefix: String,
    ttl_seconds: u64,
}

impl Cache {
    pub fn new(redis: Redis, key_prefix: &str, ttl: Duration) -> Self {
        Self {
            redis,
            prefix: format!("{key_prefix}catalog:info:"),
            ttl_seconds: ttl.as_secs().max(1),
        }
    }

    /// The key of one entry.
    pub fn key(&self, name: &str) -> String {
        format!("{}{}", self.prefix, name)
    }

    /// The cached JSON of `name`, or `None` on a miss or when Redis is unavailable.
    pub async fn get(&self, name: &Name) -> Option<Vec<u8>> {
        let mut conn = self.redis.connection()?;
        let result: redis::RedisResult<Option<Vec<u8>>> = conn.get(self.key(name.as_str())).await;
        match self.redis.observe(result) {
            Ok(hit) => hit,
            Err(err) => {
                tracing::warn!(error = %err, "cache read skipped");
                None
            }
        }
    }

    /// Stores the JSON of `name` for the time limit (best effort).
    pub async fn put(&self, name: &Name, json: &[u8]) {
        let Some(mut conn) = self.redis.connection() else {
            return;
        };
        let result: redis::RedisResult<()> = conn
            .set_ex(self.key(name.as_str()), json, self.ttl_seconds)
            .await;
        if let Err(err) = self.redis.observe(result) {
            tracing::warn!(error = %err, "cache write skipped");
        }
    }

    /// Drops the cached copy of `name` after a change (best effort: if Redis is down now, the
    /// outbox publisher drops it again when it publishes the change's event).
    pub async fn invalidate(&self, name: &Name) {
        let Some(mut conn) = self.redis.connection() else {
            return;
        };
        let result: redis::RedisResult<()> = conn.del(self.key(name.as_str())).await;
        if let Err(err) = self.redis.observe(result) {
            tracing::warn!(error = %err, "cache invalidation deferred to the outbox");
        }
    }
}
