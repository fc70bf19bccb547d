//! The PostgreSQL pool's figures, read from deadpool at each scrape: connections open, idle,
//! the most allowed, and requests waiting for one (non-zero for long means the pool is too
//! small or the database too slow).

use deadpool_postgres::Pool;
use prometheus_client::metrics::gauge::Gauge;

use super::Metrics;

/// Registers `db_pool_max_size`, `db_pool_size`, `db_pool_available` and `db_pool_waiting`
/// for `pool`.
pub fn register(metrics: &Metrics, pool: &Pool) {
    let gauges = [
        (
            "db_pool_max_size",
            "Most database connections the pool opens",
        ),
        ("db_pool_size", "Database connections open"),
        ("db_pool_available", "Database connections open and idle"),
        (
            "db_pool_waiting",
            "Requests waiting for a database connection",
        ),
    ]
    .map(|(name, help)| metrics.register(name, help, Gauge::<i64>::default()));
    let pool = pool.clone();
    metrics.on_scrape("db_pool", move || {
        let status = pool.status();
        let values = [
            status.max_size,
            status.size,
            status.available,
            status.waiting,
        ];
        for (gauge, value) in gauges.iter().zip(values) {
            gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
        }
        async { Ok(()) }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postgres::{self, PoolSettings};

    #[tokio::test]
    async fn an_unused_pool_shows_its_limit_and_no_connection() {
        let settings = PoolSettings {
            max_size: 3,
            ..PoolSettings::default()
        };
        let pool = postgres::pool("postgres://nobody@127.0.0.1:1/nothing", settings).unwrap();
        let metrics = Metrics::new();
        register(&metrics, &pool);
        let text = metrics.render().await;
        for line in ["db_pool_max_size 3", "db_pool_size 0", "db_pool_waiting 0"] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
    }
}
