//! The stream consumer: reads the events stream (`cluster_events::STREAM`) through a consumer group, stores each batch in
//! one transaction (an event already stored is skipped), and acknowledges the batch only after
//! the commit. Delivery is therefore at least once and storage exactly once.
//!
//! Each session (one dedicated Redis connection: a blocking `XREADGROUP` would hold up every
//! other command on a shared one) first creates the group if it is missing (Redis restarted
//! empty, or first start), then re-reads this consumer's own unacknowledged entries (a crash
//! between commit and acknowledgement), takes over entries another consumer left unacknowledged
//! for a minute (a replica that went away), and then waits for new ones. Any error ends the
//! session; the next one starts after a back-off.

use std::time::{Duration, Instant};

use cluster_events::Event;
use deadpool_postgres::Pool;
use redis::aio::MultiplexedConnection;
use redis::streams::{
    StreamAutoClaimOptions, StreamAutoClaimReply, StreamId, StreamReadOptions, StreamReadReply,
};
use redis::{AsyncCommands, RedisResult};
use service_common::redis::Redis;
use service_common::trace::TraceContext;
use tokio::sync::watch;

use crate::store::{self, StoreError};

/// Entries read per call.
const BATCH: usize = 100;
/// How long one `XREADGROUP` waits for new entries.
const BLOCK: Duration = Duration::from_secs(2);
/// An entry unacknowledged this long by another consumer is taken over.
const CLAIM_IDLE: Duration = Duration::from_secs(60);
/// Back-off between sessions after a failure: doubles from the first to the last.
const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// Where and as whom to consume.
pub struct Consumer {
    pub pool: Pool,
    pub redis: Redis,
    pub stream: String,
    pub group: String,
    pub name: String,
}

#[derive(Debug, thiserror::Error)]
enum ConsumeError {
    #[error("redis")]
    Redis(#[from] redis::RedisError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Consumer {
    /// Consumes until `stop` turns true; returns after the batch in progress is stored and
    /// acknowledged.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut retry = RETRY_FIRST;
        let mut failing = false;
        loop {
            if *stop.borrow() {
                return;
            }
            match self.session(&mut stop, &mut failing, &mut retry).await {
                Ok(()) => return,
                Err(err) => {
                    // Logged once per outage, not once per retry.
                    if !failing {
                        let err = anyhow::Error::from(err);
                        tracing::warn!(
                            error = format!("{err:#}"),
                            "event consumer paused; retrying"
                        );
                        failing = true;
                    }
                }
            }
            tokio::select! {
                () = tokio::time::sleep(retry) => {}
                _ = stop.changed() => {}
            }
            retry = (retry * 2).min(RETRY_MAX);
        }
    }

    /// One connection's worth of consuming; `Ok` when stopped.
    async fn session(
        &self,
        stop: &mut watch::Receiver<bool>,
        failing: &mut bool,
        retry: &mut Duration,
    ) -> Result<(), ConsumeError> {
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(BLOCK + Duration::from_secs(5)));
        let mut conn = self
            .redis
            .client()
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        self.ensure_group(&mut conn).await?;
        if *failing {
            tracing::info!("event consumer resumed");
            *failing = false;
        }
        *retry = RETRY_FIRST;

        // Our own entries delivered earlier but never acknowledged, oldest first.
        let mut pending_from = "0-0".to_owned();
        loop {
            let entries = self.read(&mut conn, &pending_from, None).await?;
            let Some(last) = entries.last() else { break };
            pending_from = last.id.clone();
            self.handle(&mut conn, &entries).await?;
        }
        self.claim_abandoned(&mut conn).await?;

        let mut last_claim = Instant::now();
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            let entries = tokio::select! {
                entries = self.read(&mut conn, ">", Some(BLOCK)) => entries?,
                _ = stop.changed() => return Ok(()),
            };
            self.handle(&mut conn, &entries).await?;
            if last_claim.elapsed() >= CLAIM_IDLE {
                self.claim_abandoned(&mut conn).await?;
                last_claim = Instant::now();
            }
        }
    }

    async fn ensure_group(&self, conn: &mut MultiplexedConnection) -> RedisResult<()> {
        // From the start of the stream, not `$`: events published before the group existed
        // (the catalog started first, or Redis restarted empty) are still consumed.
        let created: RedisResult<()> = conn
            .xgroup_create_mkstream(&self.stream, &self.group, "0")
            .await;
        match created {
            Err(err) if err.code() == Some("BUSYGROUP") => Ok(()),
            other => other,
        }
    }

    async fn read(
        &self,
        conn: &mut MultiplexedConnection,
        from: &str,
        block: Option<Duration>,
    ) -> RedisResult<Vec<StreamId>> {
        let mut options = StreamReadOptions::default()
            .group(&self.group, &self.name)
            .count(BATCH);
        if let Some(block) = block {
            options = options.block(block.as_millis() as usize);
        }
        let reply: Option<StreamReadReply> = conn
            .xread_options(&[&self.stream], &[from], &options)
            .await?;
        Ok(reply
            .map(|r| r.keys.into_iter().flat_map(|k| k.ids).collect())
            .unwrap_or_default())
    }

    async fn claim_abandoned(&self, conn: &mut MultiplexedConnection) -> Result<(), ConsumeError> {
        let mut start = "0-0".to_owned();
        loop {
            let reply: StreamAutoClaimReply = conn
                .xautoclaim_options(
                    &self.stream,
                    &self.group,
                    &self.name,
                    CLAIM_IDLE.as_millis() as usize,
                    &start,
                    StreamAutoClaimOptions::default().count(BATCH),
                )
                .await?;
            if !reply.claimed.is_empty() {
                tracing::info!(
                    count = reply.claimed.len(),
                    "took over unacknowledged events"
                );
                self.handle(conn, &reply.claimed).await?;
            }
            if reply.next_stream_id == "0-0" {
                return Ok(());
            }
            start = reply.next_stream_id;
        }
    }

    /// Stores the events of `entries`, then acknowledges all of them. An entry that is not a
    /// valid event is logged and acknowledged too: delivering it again would not fix it.
    async fn handle(
        &self,
        conn: &mut MultiplexedConnection,
        entries: &[StreamId],
    ) -> Result<(), ConsumeError> {
        if entries.is_empty() {
            return Ok(());
        }
        let events: Vec<(Event, TraceContext)> = entries
            .iter()
            .filter_map(|entry| match Event::from_fields(&entry.map) {
                Ok(event) => Some(received(event)),
                Err(err) => {
                    tracing::warn!(entry = %entry.id, error = %err, "skipped a malformed event");
                    None
                }
            })
            .collect();
        let inserted = store::insert(&self.pool, &events).await?;
        let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
        let _acked: usize = conn.xack(&self.stream, &self.group, &ids).await?;
        tracing::debug!(
            received = entries.len(),
            stored = inserted,
            "events consumed"
        );
        Ok(())
    }
}

/// The event in the trace of the change that made it: continued from the `traceparent` it
/// carries, or a new trace when it has none or one that is malformed (its text is never
/// logged or stored). Logged in that trace, so this line is found by the same id as the
/// lines of the request in web and catalog.
fn received(event: Event) -> (Event, TraceContext) {
    let trace = event
        .traceparent
        .as_deref()
        .and_then(TraceContext::parse)
        .map_or_else(TraceContext::new_root, |parent| parent.child());
    let span = tracing::info_span!("event", trace_id = %trace.trace_id());
    span.in_scope(|| {
        tracing::info!(event_id = %event.event_id, kind = event.kind.as_str(), "event received");
    });
    (event, trace)
}
