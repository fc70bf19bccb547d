//! activity's own metrics, beside the shared request and pool metrics: its consumer group's
//! lag (stream entries not yet delivered to the group) and pending count (delivered, not yet
//! acknowledged), from one `XINFO GROUPS` at each scrape on the shared Redis connection.

use deadpool_postgres::Pool;
use service_common::metrics::pool;
use service_common::metrics::prometheus_client::metrics::gauge::Gauge;
use service_common::Metrics;

use crate::group::ConsumerGroup;

/// Registers the pool's figures, `activity_consumer_lag` and `activity_consumer_pending` in
/// `metrics`, for the consumer group `group`.
pub fn register(metrics: &Metrics, db: &Pool, group: &ConsumerGroup) {
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
    let group = group.clone();
    metrics.on_scrape("consumer_group", move || {
        let (group, lag, pending) = (group.clone(), lag.clone(), pending.clone());
        async move {
            let figures = group.figures().await?;
            pending.set(figures.pending);
            lag.set(figures.lag.ok_or("redis cannot tell the group's lag")?);
            Ok(())
        }
    });
}
