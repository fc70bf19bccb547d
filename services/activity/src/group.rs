//! The consumer group as the figures see it: how far behind the stream it is.

use redis::streams::StreamInfoGroupsReply;
use service_common::redis::Redis;
use service_common::status::{count, ConsumerFigures};

/// The group `group` on `stream`, read through the shared Redis connection.
#[derive(Clone)]
pub struct ConsumerGroup {
    pub redis: Redis,
    pub stream: String,
    pub group: String,
}

impl ConsumerGroup {
    /// The group's lag and pending count, from one `XINFO GROUPS`.
    pub async fn figures(&self) -> Result<ConsumerFigures, String> {
        // During the back-off after a failure, Redis is known down: no wait for it.
        let mut conn = self.redis.connection().ok_or("redis is unavailable")?;
        let reply: StreamInfoGroupsReply = self
            .redis
            .observe(
                redis::cmd("XINFO")
                    .arg("GROUPS")
                    .arg(&self.stream)
                    .query_async(&mut conn)
                    .await,
            )
            .map_err(|e| e.to_string())?;
        let info = reply
            .groups
            .into_iter()
            .find(|g| g.name == self.group)
            .ok_or_else(|| format!("no consumer group {} on {} yet", self.group, self.stream))?;
        Ok(ConsumerFigures {
            lag: info.lag.map(count),
            pending: count(info.pending),
        })
    }
}
