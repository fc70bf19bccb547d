//! The `info` and `outbox` tables: every query of the service. A change and its outbox event
//! are written in one transaction, so an event exists exactly when its change committed.
//! Errors are [`StoreError`]; what they mean for an HTTP client is decided in `error`.

use cluster_events::Kind;
use deadpool_postgres::Pool;
use service_common::trace::TraceContext;
use tokio_postgres::Row;

use crate::entry::{Description, Entry, Name};

/// A failed database call. Whether it means the database is unavailable is
/// `service_common::postgres::is_unavailable`'s to say.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no database connection")]
    Connection(#[from] deadpool_postgres::PoolError),
    #[error("database query failed")]
    Query(#[from] tokio_postgres::Error),
}

/// What a `PUT` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Created,
    Replaced,
}

const ENTRY_COLUMNS: &str = "name, description, created_at, updated_at";

fn entry(row: &Row) -> Entry {
    Entry {
        name: row.get("name"),
        description: row.get("description"),
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
    }
}

/// One entry, or `None`.
pub async fn get(pool: &Pool, name: &Name) -> Result<Option<Entry>, StoreError> {
    let client = pool.get().await?;
    let statement = client
        .prepare_cached(&format!("SELECT {ENTRY_COLUMNS} FROM info WHERE name = $1"))
        .await?;
    let row = client.query_opt(&statement, &[&name.as_str()]).await?;
    Ok(row.as_ref().map(entry))
}

/// Up to `limit` entries in name order, starting after `after`, and whether more follow.
pub async fn list(
    pool: &Pool,
    after: Option<&Name>,
    limit: i64,
) -> Result<(Vec<Entry>, bool), StoreError> {
    let client = pool.get().await?;
    // One row more than asked tells whether another page exists. Two statements rather than
    // `$1 IS NULL OR name > $1`, which would keep the planner off the primary key index.
    let rows = match after {
        Some(after) => {
            let statement = client
                .prepare_cached(&format!(
                    "SELECT {ENTRY_COLUMNS} FROM info WHERE name > $1 ORDER BY name LIMIT $2"
                ))
                .await?;
            client
                .query(&statement, &[&after.as_str(), &(limit + 1)])
                .await?
        }
        None => {
            let statement = client
                .prepare_cached(&format!(
                    "SELECT {ENTRY_COLUMNS} FROM info ORDER BY name LIMIT $1"
                ))
                .await?;
            client.query(&statement, &[&(limit + 1)]).await?
        }
    };
    let more = rows.len() as i64 > limit;
    let entries = rows.iter().take(limit as usize).map(entry).collect();
    Ok((entries, more))
}

/// The outbox's `traceparent`: the change's trace, naming catalog's span as the parent.
fn traceparent(trace: Option<TraceContext>) -> Option<String> {
    trace.as_ref().map(TraceContext::header_value)
}

/// Creates or replaces an entry and records the `created` or `updated` event, in `trace`.
pub async fn put(
    pool: &Pool,
    name: &Name,
    description: &Description,
    trace: Option<TraceContext>,
) -> Result<(Entry, Written), StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    // `xmax = 0` holds for a freshly inserted row and not for an updated one.
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO info (name, description) VALUES ($1, $2)
                 ON CONFLICT (name) DO UPDATE
                     SET description = EXCLUDED.description, updated_at = now()
                 RETURNING {ENTRY_COLUMNS}, (xmax = 0) AS inserted"
            ),
            &[&name.as_str(), &description.as_str()],
        )
        .await?;
    let written = if row.get("inserted") {
        Written::Created
    } else {
        Written::Replaced
    };
    let kind = match written {
        Written::Created => Kind::Created,
        Written::Replaced => Kind::Updated,
    };
    tx.execute(
        "INSERT INTO outbox (kind, name, description, traceparent) VALUES ($1, $2, $3, $4)",
        &[
            &kind.as_str(),
            &name.as_str(),
            &description.as_str(),
            &traceparent(trace),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok((entry(&row), written))
}

/// Creates an entry only if no entry has its name, and records the `created` event in
/// `trace`; `None` when one exists. The check and the insert are one statement, so of two
/// concurrent creates of one name exactly one succeeds.
pub async fn create(
    pool: &Pool,
    name: &Name,
    description: &Description,
    trace: Option<TraceContext>,
) -> Result<Option<Entry>, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let row = tx
        .query_opt(
            &format!(
                "INSERT INTO info (name, description) VALUES ($1, $2)
                 ON CONFLICT (name) DO NOTHING
                 RETURNING {ENTRY_COLUMNS}"
            ),
            &[&name.as_str(), &description.as_str()],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    tx.execute(
        "INSERT INTO outbox (kind, name, description, traceparent) VALUES ($1, $2, $3, $4)",
        &[
            &Kind::Created.as_str(),
            &name.as_str(),
            &description.as_str(),
            &traceparent(trace),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(Some(entry(&row)))
}

/// Deletes an entry and records the `deleted` event in `trace`; `false` when there was none.
pub async fn delete(
    pool: &Pool,
    name: &Name,
    trace: Option<TraceContext>,
) -> Result<bool, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let deleted = tx
        .execute("DELETE FROM info WHERE name = $1", &[&name.as_str()])
        .await?;
    if deleted == 0 {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO outbox (kind, name, traceparent) VALUES ($1, $2, $3)",
        &[&Kind::Deleted.as_str(), &name.as_str(), &traceparent(trace)],
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
