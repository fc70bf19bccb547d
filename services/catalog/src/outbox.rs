//! The outbox publisher: a background task that moves change events from the `outbox` table
//! to the Redis stream `catalog.events`, and drops the cached copy of each changed entry as it
//! goes. It runs after every write (woken by [`Outbox::wake`]) and once a second, so events
//! written while Redis was down go out when it is back.
//!
//! Delivery is at least once: a batch is deleted from the table only after Redis accepted it,
//! and an event published twice (the delete failed) keeps its `event_id`, which consumers use
//! to store it once. Rows are claimed with `FOR UPDATE SKIP LOCKED`, so several catalog
//! replicas can publish side by side.
//!
//! The entries' fields are the event contract's (`cluster_events`), the request's
//! `traceparent` among them, so activity stores the event in the trace of the change.

use std::sync::Arc;
use std::time::Duration;

use cluster_events::{EncodeError, Event, Kind, UnknownKind};
use deadpool_postgres::Pool;
use redis::streams::StreamMaxlen;
use service_common::redis::Redis;
use service_common::status::OutboxFigures;
use tokio::sync::{watch, Notify};
use tokio_postgres::Row;

use crate::cache::Cache;

/// Events published per round trip.
const BATCH: i64 = 100;
/// The stream is trimmed to about this many entries, so it cannot fill Redis's memory when
/// no consumer reads it.
const STREAM_MAX_LEN: usize = 100_000;
/// How often the table is checked without being woken.
const POLL: Duration = Duration::from_secs(1);

/// The handle request handlers use to wake the publisher.
#[derive(Debug, Clone, Default)]
pub struct Outbox {
    wake: Arc<Notify>,
}

impl Outbox {
    /// Asks the publisher to run now (after a committed change).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Why a round of publishing stopped.
#[derive(Debug, thiserror::Error)]
enum PublishError {
    #[error("database: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("database: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("redis is unavailable")]
    RedisDown,
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// Why an outbox row cannot be published.
#[derive(Debug, thiserror::Error)]
enum BadRow {
    #[error(transparent)]
    Kind(#[from] UnknownKind),
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// The stream entry fields of the event an outbox row holds.
fn entry_fields(row: &Row) -> Result<Vec<(&'static str, String)>, BadRow> {
    let event = Event {
        event_id: row.get("event_id"),
        kind: row.get::<_, &str>("kind").parse::<Kind>()?,
        name: row.get("name"),
        description: row.get("description"),
        occurred_at: row.get("occurred_at"),
        traceparent: row.get("traceparent"),
    };
    Ok(event.to_fields()?)
}

/// The publisher task's inputs.
pub struct Publisher {
    pub pool: Pool,
    pub redis: Redis,
    pub cache: Cache,
    pub stream: String,
    pub outbox: Outbox,
}

impl Publisher {
    /// Publishes until `stop` turns true, then returns after the round in progress.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut failing = false;
        loop {
            if *stop.borrow() {
                return;
            }
            match self.publish_batch().await {
                Ok(count) => {
                    if failing {
                        tracing::info!("outbox publishing resumed");
                        failing = false;
                    }
                    if count == BATCH as usize {
                        continue;
                    }
                }
                Err(err) => {
                    // Logged once per outage, not once per second.
                    if !failing {
                        tracing::warn!(error = %err, "outbox publishing paused; events are kept");
                        failing = true;
                    }
                }
            }
            tokio::select! {
                () = self.outbox.wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Publishes up to one batch; returns how many events went out.
    async fn publish_batch(&self) -> Result<usize, PublishError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let rows = tx
            .query(
                "SELECT id, event_id::text AS event_id, kind, name, description, occurred_at,
                        traceparent
                 FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                &[&BATCH],
            )
            .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut conn = self.redis.connection().ok_or(PublishError::RedisDown)?;
        let mut pipe = redis::pipe();
        let mut ids = Vec::with_capacity(rows.len());
        for row in &rows {
            ids.push(row.get::<_, i64>("id"));
            // The table's CHECK and `now()` make a row that cannot be written all but
            // impossible; should one appear, it is dropped with this error instead of
            // blocking every event behind it.
            match entry_fields(row) {
                Ok(fields) => {
                    pipe.xadd_maxlen(
                        &self.stream,
                        StreamMaxlen::Approx(STREAM_MAX_LEN),
                        "*",
                        &fields,
                    )
                    .ignore();
                }
                Err(err) => tracing::error!(error = %err, "dropped an outbox event"),
            }
            pipe.del(self.cache.key(&row.get::<_, String>("name")))
                .ignore();
        }
        let sent: redis::RedisResult<()> = pipe.query_async(&mut conn).await;
        self.redis.observe(sent)?;
        tx.execute("DELETE FROM outbox WHERE id = ANY($1)", &[&ids])
            .await?;
        tx.commit().await?;
        tracing::debug!(count = ids.len(), "events published");
        Ok(ids.len())
    }
}

/// How many events wait in the outbox and how old the oldest is, in one query: for the
/// metrics and `GET /status`.
pub async fn figures(pool: &Pool) -> Result<OutboxFigures, String> {
    let client = pool.get().await.map_err(|e| e.to_string())?;
    let row = client
        .query_one(
            "SELECT count(*),
                    COALESCE(EXTRACT(EPOCH FROM now() - min(occurred_at)), 0)::float8
             FROM outbox",
            &[],
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(OutboxFigures {
        backlog: row.get(0),
        oldest_age_seconds: row.get::<_, f64>(1).max(0.0),
    })
}
