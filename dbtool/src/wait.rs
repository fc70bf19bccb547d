//! `dbtool wait`: block until the database is reachable and nothing local is pending.

use std::time::{Duration, Instant};

use crate::context::Context;
use crate::error::Error;
use crate::plan;
use crate::progress::Progress;

pub async fn wait(ctx: &Context, timeout: Duration) -> Result<(), Error> {
    let local = ctx.local()?;
    let started = Instant::now();
    let deadline = started + timeout;
    let mut announced = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let attempt = Context {
            wait: left,
            progress: if announced {
                Progress::quiet()
            } else {
                ctx.progress
            },
            ..ctx.clone()
        };
        let client = attempt.connect().await?;
        let applied = ctx
            .history_table(&client)
            .await?
            .read(&client)
            .await?
            .unwrap_or_default();
        drop(client);
        let pending = match plan::pending(&applied, &local, None, false) {
            Ok(pending) => pending,
            // An out-of-order file stays pending forever: report it now, not at the timeout.
            Err(err) => return Err(err),
        };
        let Some(first) = pending.first() else {
            ctx.progress.line("database is reachable and up to date");
            return Ok(());
        };
        if Instant::now() + Duration::from_millis(500) > deadline {
            return Err(Error::StillPending {
                count: pending.len(),
                first: first.label(),
                waited_secs: started.elapsed().as_secs(),
            });
        }
        if !announced {
            ctx.progress.line(&format!(
                "waiting for {} pending migration(s), first {}",
                pending.len(),
                first.label()
            ));
            announced = true;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
