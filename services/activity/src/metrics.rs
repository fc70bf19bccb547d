//! activity's own metrics, beside the shared request and pool metrics: its consumer group's
//! lag (stream entries not yet delivered to the group) and pending count (delivered, not yet
//! acknowledged), from one `XINFO GROUPS` at each scrape on the shared Redis connection.

use deadpool_postgres::Pool;
use redis::streams::StreamInfoGroupsReply;
use service_common::metrics::pool;
use service_common::metrics::prometheus_client::metrics::gauge::Gauge;
use service_common::redis::Redis;
use service_common::Metrics;

/// Registers the pool's figures, `activity_consumer_lag` and `activity_consumer_pending` in
/// `metrics`, for the consumer group `group` of `stream`.
pub fn register(metrics: &Metrics, db: &Pool, redis: &Redis, stream: String, group: String) {
    pool::register(metrics, db);
    let lag = metrics.register(
        "activity_consumer_lag",
        "Events on the stream not yet delivered to the consumer group",
        Gauge::<i64>::default(),
    );
    let pending = metrics.register(
        "activity_consumer_pending",
        "Events delivered to the consumer group but not yet acknowledged",
        Gauge::<i64>::default(),
    );
    let redis = redis.clone();
    metrics.on_scrape("consumer_group", move || {
        let (redis, stream, group) = (redis.clone(), stream.clone(), group.clone());
        let (lag, pending) = (lag.clone(), pending.clone());
        async move {
            // During the back-off after a failure, Redis is known down: no wait for it.
            let mut conn = redis.connection().ok_or("redis is unavailable")?;
            let reply: StreamInfoGroupsReply = redis
                .observe(
                    redis::cmd("XINFO")
                        .arg("GROUPS")
                        .arg(&stream)
                        .query_async(&mut conn)
                        .await,
                )
                .map_err(|e| e.to_string())?;
            let info = reply
                .groups
                .into_iter()
                .find(|g| g.name == group)
                .ok_or_else(|| format!("no consumer group {group} on {stream} yet"))?;
            let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
            pending.set(count(info.pending));
            // Redis cannot always tell (entries deleted from the middle of the stream).
            let known = info.lag.ok_or("redis cannot tell the group's lag")?;
            lag.set(count(known));
            Ok(())
        }
    });
}
