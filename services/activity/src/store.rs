//! The `events` table: storing each event once, the feed, and the counts. Errors are
//! [`StoreError`]; what they mean for an HTTP client is decided in `error`.

use std::collections::BTreeMap;

use cluster_events::{Event, Kind, UnknownKind};
use deadpool_postgres::Pool;
use serde::Serialize;
use service_common::trace::TraceContext;

/// An event and the trace it was received in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stored {
    #[serde(flatten)]
    pub event: Event,
    /// The trace id of the change, as its log lines show it; `null` for events stored before
    /// traces were recorded.
    pub trace_id: Option<String>,
}

/// Stores `events` in one transaction, each with its trace; an event whose id is already
/// stored is skipped, so a redelivered event changes nothing. Returns how many were new.
pub async fn insert(pool: &Pool, events: &[(Event, TraceContext)]) -> Result<u64, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let statement = tx
        .prepare_cached(
            "INSERT INTO events (event_id, kind, name, description, occurred_at, trace_id)
             VALUES ($1::text::uuid, $2, $3, $4, $5, $6)
             ON CONFLICT (event_id) DO NOTHING",
        )
        .await?;
    let mut inserted = 0;
    for (event, trace) in events {
        inserted += tx
            .execute(
                &statement,
                &[
                    &event.event_id,
                    &event.kind.as_str(),
                    &event.name,
                    &event.description,
                    &event.occurred_at,
                    &trace.trace_id().to_string(),
                ],
            )
            .await?;
    }
    tx.commit().await?;
    Ok(inserted)
}

/// The newest `limit` events, newest first.
pub async fn recent(pool: &Pool, limit: i64) -> Result<Vec<Stored>, StoreError> {
    let client = pool.get().await?;
    let statement = client
        .prepare_cached(
            "SELECT event_id::text AS event_id, kind, name, description, occurred_at, trace_id
             FROM events ORDER BY occurred_at DESC, seq DESC LIMIT $1",
        )
        .await?;
    let rows = client.query(&statement, &[&limit]).await?;
    rows.iter()
        .map(|row| {
            Ok(Stored {
                event: Event {
                    event_id: row.get("event_id"),
                    kind: row.get::<_, &str>("kind").parse()?,
                    name: row.get("name"),
                    description: row.get("description"),
                    occurred_at: row.get("occurred_at"),
                    traceparent: None,
                },
                trace_id: row.get("trace_id"),
            })
        })
        .collect()
}

/// The body of `GET /stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub total: i64,
    /// Every kind, zero included.
    pub counts: BTreeMap<String, i64>,
}

/// How many events of each kind are stored.
pub async fn stats(pool: &Pool) -> Result<Stats, StoreError> {
    let client = pool.get().await?;
    let rows = client
        .query("SELECT kind, count(*) FROM events GROUP BY kind", &[])
        .await?;
    let mut counts: BTreeMap<String, i64> = Kind::ALL
        .into_iter()
        .map(|kind| (kind.as_str().to_owned(), 0))
        .collect();
    for row in &rows {
        counts.insert(row.get(0), row.get(1));
    }
    Ok(Stats {
        total: counts.values().sum(),
        counts,
    })
}

/// A failed database call, or a stored row that is not an event. Whether it means the
/// database is unavailable is `service_common::postgres::is_unavailable`'s to say.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A row the table's CHECK should have kept out.
    #[error("a stored event is malformed")]
    Malformed(#[from] UnknownKind),
    #[error("no database connection")]
    Connection(#[from] deadpool_postgres::PoolError),
    #[error("database query failed")]
    Query(#[from] tokio_postgres::Error),
}
