//! The catalog database restarted and killed, Redis stopped, during writes.

use std::time::Duration;

use crate::under_load;

const SECONDS: fn(u64) -> Duration = Duration::from_secs;

#[test]
fn catalog_database_restarted_during_writes_loses_nothing() {
    under_load("dbrestart", SECONDS(2), SECONDS(4), |cluster| {
        cluster.docker(&["restart", "-t", "5"], "catalog-db");
        cluster.wait_healthy("catalog-db");
    });
}

#[test]
fn catalog_database_killed_and_started_during_writes_loses_nothing() {
    under_load("dbkill", SECONDS(2), SECONDS(4), |cluster| {
        cluster.docker(&["kill", "-s", "KILL"], "catalog-db");
        std::thread::sleep(SECONDS(2));
        cluster.docker(&["start"], "catalog-db");
        cluster.wait_healthy("catalog-db");
    });
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
