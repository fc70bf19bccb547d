//! The catalog's own metrics, beside the shared request and pool metrics: the outbox backlog
//! (events written but not yet on the stream) and the age of its oldest event, read at each
//! scrape with one query. A backlog that only grows means the publisher is stuck: Redis is
//! down, or the stream refuses writes.

use deadpool_postgres::Pool;
use service_common::metrics::pool;
use service_common::metrics::prometheus_client::metrics::gauge::Gauge;
use service_common::Metrics;
use std::sync::atomic::AtomicU64;

/// Registers the pool's figures, `catalog_outbox_backlog` and
/// `catalog_outbox_oldest_age_seconds` in `metrics`.
pub fn register(metrics: &Metrics, db: &Pool) {
    pool::register(metrics, db);
    let backlog = metrics.register(
        "catalog_outbox_backlog",
        "Change events in the outbox, not yet published to the stream",
        Gauge::<i64>::default(),
    );
    let oldest = metrics.register(
        "catalog_outbox_oldest_age_seconds",
        "Age of the oldest change event not yet published (0 when none waits)",
        Gauge::<f64, AtomicU64>::default(),
    );
    let db = db.clone();
    metrics.on_scrape("outbox", move || {
        let (db, backlog, oldest) = (db.clone(), backlog.clone(), oldest.clone());
        async move {
            let figures = crate::outbox::figures(&db).await?;
            backlog.set(figures.backlog);
            oldest.set(figures.oldest_age_seconds);
            Ok(())
        }
    });
}
