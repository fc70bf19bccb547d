//! `k8s/app/observability` on a real single-node cluster: the offline overlay with the
//! observability component (Prometheus, an exporter per database, one for Redis). Prometheus,
//! asked through its Service, finds every service's Pods through the headless `*-metrics`
//! Services and both databases and Redis through their exporters, every target up; web's
//! request counter rises with traffic; no alert fires.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use compose_tests::http;
use kubernetes_tests::app::{self, Manifests, WEB_NODE_PORT};
use kubernetes_tests::Cluster;
use serde_json::Value;

/// How long the app and its monitoring may take to become ready on a busy 2-core machine.
const READY: Duration = Duration::from_secs(300);
/// A scrape every 5 s, the DNS names refreshed every 5 s and the cluster DNS every 2 s.
const SCRAPED: Duration = Duration::from_secs(120);

/// The jobs of the component's prometheus.yml, and the `service` labels of its services job.
const JOBS: [&str; 5] = ["services", "echo", "postgres", "redis", "prometheus"];
const SERVICES: [&str; 5] = ["web", "catalog", "activity", "hello1402", "hello1403"];

/// `(job, service or instance) -> health` of every active target.
fn targets(body: &str) -> BTreeMap<(String, String), String> {
    let value: Value = serde_json::from_str(body).unwrap_or_default();
    value["data"]["activeTargets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let labels = &t["labels"];
            let who = labels["service"]
                .as_str()
                .or(labels["database"].as_str())
                .or(labels["instance"].as_str())
                .unwrap_or_default();
            (
                (
                    labels["job"].as_str().unwrap_or_default().to_owned(),
                    format!("{who} {}", labels["instance"].as_str().unwrap_or_default()),
                ),
                t["health"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn every_target_up(body: &str) -> bool {
    let found = targets(body);
    let jobs: BTreeSet<&str> = found.keys().map(|(job, _)| job.as_str()).collect();
    let services_up = SERVICES.iter().all(|service| {
        found.iter().any(|((job, who), health)| {
            job == "services" && who.starts_with(&format!("{service} ")) && health == "up"
        })
    });
    JOBS.iter().all(|job| jobs.contains(job))
        && services_up
        && found.values().all(|health| health == "up")
}

/// The URL of an instant query: every byte but letters and digits percent-encoded.
fn query_url(prometheus: &str, promql: &str) -> String {
    let encoded: String = promql
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{prometheus}/api/v1/query?query={encoded}")
}

/// The value of a one-series answer to an instant query.
fn value_of(body: &str) -> Option<f64> {
    let value: Value = serde_json::from_str(body).ok()?;
    value["data"]["result"][0]["value"][1]
        .as_str()?
        .parse()
        .ok()
}

fn query(prometheus: &str, promql: &str) -> Option<f64> {
    value_of(&http::get_text(&query_url(prometheus, promql), SCRAPED))
}

#[test]
fn the_observability_component_scrapes_every_service_and_store_on_a_real_cluster() {
    let manifests = Manifests::copy();
    let cluster = Cluster::start("t-obs");
    cluster.load_images(&manifests.images("app/observability"));
    eprintln!("== kubectl apply -k k8s/app/observability");
    let took = app::deploy(&cluster, &manifests.path("app/observability"), READY);
    eprintln!("kubectl apply -k k8s/app/observability to every workload Ready: {took:?}");

    let prometheus = format!("http://{}:9090", app::cluster_ip(&cluster, "prometheus"));
    let web = cluster.node_url(WEB_NODE_PORT);
    cluster.in_net(|| {
        let body = http::get_until(
            &format!("{prometheus}/api/v1/targets?state=active"),
            SCRAPED,
            "every target of every job up",
            every_target_up,
        );
        let found = targets(&body);
        eprintln!(
            "Prometheus targets, all up: {:?}",
            found.keys().collect::<Vec<_>>()
        );
        let echo = found.keys().filter(|(job, _)| job == "echo").count();
        assert!(
            echo >= 2,
            "each echo replica is a target of its own: {found:?}"
        );

        // Traffic through web shows in its counter.
        let web_requests = r#"sum(http_requests_total{service="web"})"#;
        let before = query(&prometheus, web_requests).unwrap_or(0.0);
        for _ in 0..20 {
            http::get_text(&format!("{web}/"), SCRAPED);
        }
        let after = http::get_until(
            &query_url(&prometheus, web_requests),
            SCRAPED,
            "web's request counter risen by the 20 pages",
            |body| value_of(body).is_some_and(|v| v >= before + 20.0),
        );
        eprintln!(
            "web's requests before {before}, after: {:?}",
            value_of(&after)
        );
        for (series, what) in [
            ("pg_up", "both databases through their exporters"),
            ("redis_up", "Redis through its exporter"),
        ] {
            let up = query(&prometheus, &format!("min({series})"));
            assert_eq!(up, Some(1.0), "{what}: min({series}) = {up:?}");
        }
        let catalog_pods = query(&prometheus, r#"count(up{service="catalog"})"#);
        assert!(catalog_pods.is_some_and(|n| n >= 1.0), "{catalog_pods:?}");
        assert_eq!(
            query(&prometheus, "count(catalog_outbox_backlog)"),
            catalog_pods,
            "catalog's outbox figures, one series per Pod"
        );
        let firing = http::get_text(&format!("{prometheus}/api/v1/alerts"), SCRAPED);
        assert!(
            !firing.contains(r#""state":"firing""#),
            "no alert fires: {firing}"
        );
    });
    cluster.stop_and_check_host();
}
