//! The catalog database restarted and killed, Redis stopped, during writes.

use std::cell::Cell;
use std::time::{Duration, Instant};

use fault_tests::Outcome;

use crate::under_load;

/// Prints how long after the database was ready again the last error answer came: the
/// recovery figure for docs/faults.md (a figure, not an assertion: tests do not time).
fn report_recovery(case: &str, ready: Option<Instant>, outcome: &Outcome) {
    let Some(ready) = ready else { return };
    match outcome.last_failure {
        Some(last) if last > ready => eprintln!(
            "{case}: the last error answer came {} ms after the database was ready",
            (last - ready).as_millis()
        ),
        _ => eprintln!("{case}: no error answer after the database was ready"),
    }
}

const SECONDS: fn(u64) -> Duration = Duration::from_secs;

#[test]
fn catalog_database_restarted_during_writes_loses_nothing() {
    let ready = Cell::new(None);
    let (_cluster, outcome) = under_load("dbrestart", SECONDS(2), SECONDS(4), |cluster| {
        cluster.docker(&["restart", "-t", "5"], "catalog-db");
        cluster.wait_healthy("catalog-db");
        ready.set(Some(Instant::now()));
    });
    report_recovery("dbrestart", ready.get(), &outcome);
}

#[test]
fn catalog_database_killed_and_started_during_writes_loses_nothing() {
    let ready = Cell::new(None);
    let (_cluster, outcome) = under_load("dbkill", SECONDS(2), SECONDS(4), |cluster| {
        cluster.docker(&["kill", "-s", "KILL"], "catalog-db");
        std::thread::sleep(SECONDS(2));
        cluster.docker(&["start"], "catalog-db");
        cluster.wait_healthy("catalog-db");
        ready.set(Some(Instant::now()));
    });
    report_recovery("dbkill", ready.get(), &outcome);
}

#[test]
fn redis_stopped_during_writes_loses_no_event() {
    under_load("redis", SECONDS(2), SECONDS(4), |cluster| {
        cluster.docker(&["stop", "-t", "5"], "redis");
        std::thread::sleep(SECONDS(4));
        cluster.docker(&["start"], "redis");
        cluster.wait_healthy("redis");
    });
}
