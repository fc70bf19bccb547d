//! activity killed mid-stream, an echo replica stopped, catalog sent SIGTERM, during load.

use std::time::{Duration, Instant};

use compose_tests::http;

use crate::under_load;

const SECONDS: fn(u64) -> Duration = Duration::from_secs;

#[test]
fn activity_killed_mid_stream_stores_every_event_once() {
    under_load("activitykill", SECONDS(2), SECONDS(3), |cluster| {
        cluster.docker(&["kill", "-s", "KILL"], "activity");
        std::thread::sleep(SECONDS(2));
        cluster.docker(&["start"], "activity");
        cluster.wait_healthy("activity");
    });
}

#[test]
fn catalog_sent_sigterm_finishes_its_requests_in_flight() {
    let (_cluster, outcome) = under_load("sigterm", SECONDS(2), SECONDS(4), |cluster| {
        // docker stop sends SIGTERM, then SIGKILL after 10 s: graceful shutdown must end
        // well before that.
        let started = Instant::now();
        cluster.docker(&["stop", "-t", "10"], "catalog");
        let stopping = started.elapsed();
        eprintln!("sigterm: catalog stopped {stopping:?} after SIGTERM");
        assert!(
            stopping < SECONDS(9),
            "catalog took {stopping:?} to stop: it waited for SIGKILL"
        );
        cluster.docker(&["start"], "catalog");
        cluster.wait_healthy("catalog");
    });
    // A request the server had accepted is answered; only new connections are refused while
    // it is down (a lost connection would be an in-flight request dropped).
    let lost: usize = outcome
        .failures
        .iter()
        .filter(|(kind, _)| kind.ends_with("connection lost"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        lost, 0,
        "in-flight requests were dropped: {:?}",
        outcome.failures
    );
}

#[test]
fn one_of_three_echo_replicas_stopped_and_the_page_keeps_answering() {
    under_load("echo", SECONDS(1), SECONDS(1), |cluster| {
        let replicas = cluster.containers("echo");
        assert_eq!(replicas.len(), 3, "compose/app runs three echo replicas");
        compose_tests::project::run(std::process::Command::new("docker").args([
            "stop",
            "-t",
            "5",
            &replicas[0],
        ]));
        let client = http::client();
        for i in 0..30 {
            let page = client
                .get(format!("{}/", cluster.web))
                .send()
                .and_then(|r| r.error_for_status())
                .and_then(|r| r.text())
                .unwrap_or_else(|e| panic!("page {i} failed with a replica down: {e}"));
            assert!(
                !page.contains("echo is unavailable"),
                "page {i}: echo unavailable with two replicas up"
            );
        }
    });
}
