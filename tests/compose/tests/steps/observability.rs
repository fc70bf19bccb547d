//! compose/app's `observability` and `load` profiles: Prometheus scrapes every service (each
//! echo replica), both databases and Redis through their exporters, counts the requests the
//! load generator and the test make, and has the alert rules loaded. Asked through
//! Prometheus's own HTTP API.

use std::collections::BTreeSet;
use std::thread::sleep;
use std::time::{Duration, Instant};

use compose_tests::app::App;
use compose_tests::platforms::engine_platform;
use compose_tests::project::Compose;
use compose_tests::{free_port, http};
use serde_json::Value;

const START: Duration = Duration::from_secs(120);
/// Five-second scrapes and service discovery: a few rounds.
const SCRAPES: Duration = Duration::from_secs(60);

/// The compose services Prometheus scrapes on their metrics port (echo last: its replicas
/// are found through DNS).
const SERVICES: [&str; 6] = [
    "web",
    "catalog",
    "activity",
    "hello1402",
    "hello1403",
    "echo",
];

/// `GET {prometheus}/api/v1/{path}`'s `data`, once Prometheus answers.
fn api(prometheus: &str, path: &str) -> Value {
    let body = http::get_text(&format!("{prometheus}/api/v1/{path}"), START);
    let answer: Value = serde_json::from_str(&body).expect("Prometheus answers JSON");
    assert_eq!(answer["status"], "success", "{path}: {answer}");
    answer["data"].clone()
}

/// The value of an instant query that returns one number (`sum(…)`), or `None` while the
/// result is empty.
fn number(prometheus: &str, promql: &str) -> Option<f64> {
    let encoded: String = promql
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let data = api(prometheus, &format!("query?query={encoded}"));
    data["result"].as_array()?.first().map(|sample| {
        sample["value"][1]
            .as_str()
            .and_then(|v| v.parse().ok())
            .expect("a number")
    })
}

/// Polls until `check` holds or [`SCRAPES`] pass; `what` and the last `state` name the failure.
fn eventually<T: std::fmt::Debug>(
    what: &str,
    mut state: impl FnMut() -> T,
    check: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + SCRAPES;
    loop {
        let now = state();
        if check(&now) {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "{what} within {SCRAPES:?}; last: {now:?}"
        );
        sleep(Duration::from_secs(1));
    }
}

#[test]
fn the_observability_profile_scrapes_every_service_both_databases_and_redis_under_the_load_profile()
{
    let prometheus_port = free_port();
    let app = App::up_with_env(
        &engine_platform(),
        Compose::V2,
        &[
            ("COMPOSE_PROFILES", "observability,load".to_owned()),
            ("PROMETHEUS_PORT", prometheus_port.to_string()),
        ],
        START,
    );
    let prometheus = format!("http://127.0.0.1:{prometheus_port}");
    let echo_replicas = app.project.containers(&[], Some("echo")).len();
    assert_eq!(echo_replicas, 3);

    // Every target found and up: one per service container (three for echo), two
    // PostgreSQL exporters, the Redis exporter, Prometheus itself.
    let want = SERVICES.len() - 1 + echo_replicas + 2 + 1 + 1;
    let targets = eventually(
        &format!("{want} targets, all up"),
        || {
            api(&prometheus, "targets?state=active")["activeTargets"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|t| {
                    let labels = &t["labels"];
                    let name = labels["service"]
                        .as_str()
                        .or(labels["database"].as_str())
                        .or(labels["job"].as_str())
                        .unwrap_or("?");
                    (
                        format!("{}/{name}", labels["job"].as_str().unwrap_or("?")),
                        t["health"].as_str().unwrap_or("?").to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        },
        |targets| targets.len() == want && targets.iter().all(|(_, health)| health == "up"),
    );
    let names: BTreeSet<&str> = targets.iter().map(|(name, _)| name.as_str()).collect();
    for service in &SERVICES[..5] {
        assert!(
            names.contains(format!("services/{service}").as_str()),
            "{names:?}"
        );
    }
    for other in [
        "echo/echo",
        "postgres/catalog",
        "postgres/activity",
        "redis/redis",
        "prometheus/prometheus",
    ] {
        assert!(names.contains(other), "{names:?}");
    }
    // The exporters reach what they watch.
    for (query, what) in [
        ("sum(pg_up)", "both databases answer their exporters"),
        ("sum(redis_up)", "Redis answers its exporter"),
    ] {
        let want = if query.contains("pg_up") { 2.0 } else { 1.0 };
        eventually(what, || number(&prometheus, query), |v| *v == Some(want));
    }

    // The load profile's generator writes by itself: its 50 entries first, then a tenth of
    // its requests. This test has written nothing yet.
    let catalog_writes = "sum(http_requests_total{service=\"catalog\",method=\"PUT\"})";
    eventually(
        "the load generator's writes counted in catalog",
        || number(&prometheus, catalog_writes).unwrap_or(0.0),
        |writes| *writes > 50.0,
    );

    // The test's own page views reach web's counter, and the pages' calls catalog's.
    let web_requests = "sum(http_requests_total{service=\"web\"})";
    let catalog_requests = "sum(http_requests_total{service=\"catalog\"})";
    let before = (
        number(&prometheus, web_requests).unwrap_or(0.0),
        number(&prometheus, catalog_requests).unwrap_or(0.0),
    );
    let base = app.web();
    for _ in 0..20 {
        http::get_text(&format!("{base}/"), START);
    }
    eventually(
        "web's and catalog's request counters rose with the traffic",
        || {
            (
                number(&prometheus, web_requests).unwrap_or(0.0),
                number(&prometheus, catalog_requests).unwrap_or(0.0),
            )
        },
        |(web, catalog)| *web >= before.0 + 20.0 && *catalog > before.1,
    );
    // catalog's outbox and activity's consumer report themselves.
    for series in ["catalog_outbox_backlog", "activity_consumer_lag"] {
        eventually(
            series,
            || number(&prometheus, &format!("count({series})")),
            |v| *v == Some(1.0),
        );
    }

    // Nothing fires on a healthy cluster (once the evaluations after the start have seen
    // every target up).
    eventually(
        "no alert firing on a healthy cluster",
        || api(&prometheus, "alerts")["alerts"].clone(),
        |alerts| {
            alerts
                .as_array()
                .is_some_and(|alerts| alerts.iter().all(|a| a["state"] != "firing"))
        },
    );

    // A stopped service is seen down at the next scrape, and its alert is on its way.
    app.project.compose(&["stop", "hello1402"]);
    eventually(
        "hello1402 seen down",
        || number(&prometheus, "sum(up{service=\"hello1402\"})"),
        |v| *v == Some(0.0),
    );
    eventually(
        "ServiceDown pending or firing for hello1402",
        || api(&prometheus, "alerts")["alerts"].clone(),
        |alerts| {
            alerts.as_array().is_some_and(|alerts| {
                alerts.iter().any(|a| {
                    a["labels"]["alertname"] == "ServiceDown"
                        && a["labels"]["service"] == "hello1402"
                })
            })
        },
    );
    app.project.compose(&["start", "hello1402"]);
    eventually(
        "hello1402 seen up again",
        || number(&prometheus, "sum(up{service=\"hello1402\"})"),
        |v| *v == Some(1.0),
    );

    // The alert rules are loaded.
    let rules: BTreeSet<String> = api(&prometheus, "rules")["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|group| group["rules"].as_array().cloned().unwrap_or_default())
        .filter_map(|rule| rule["name"].as_str().map(str::to_owned))
        .collect();
    for alert in [
        "ServiceDown",
        "EchoReplicasMissing",
        "OutboxBacklogGrowing",
        "ConsumerLagging",
    ] {
        assert!(rules.contains(alert), "{rules:?}");
    }
}
