//! One "add entry" is one trace: web continues the caller's `traceparent` or starts a trace,
//! catalog continues it and stores it with the outbox row, the stream event carries it, and
//! activity stores the event in it. Every log line of the add, in each of the three services'
//! own JSON logs, carries the trace id. A malformed `traceparent` starts a new trace and its
//! text appears nowhere.

use std::time::Duration;

use serde_json::Value;
use service_test_support::wait_for;
use services_e2e::{Log, SeparateCluster};

use crate::visitor::Visitor;

/// The example of the W3C recommendation.
const SENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const SENT_TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";

fn is_trace_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The trace id of each line of `log` written inside a span (a request, or a received
/// event): every such line must carry one.
fn trace_ids(service: &str, log: &Log) -> Vec<String> {
    log.lines()
        .iter()
        .filter_map(|line| line.get("span"))
        .map(|span| {
            let id = span["trace_id"].as_str().unwrap_or_default();
            assert!(
                is_trace_id(id),
                "{service} logged a line without a trace id: {span}"
            );
            id.to_owned()
        })
        .collect()
}

/// The lines of `log` from line `from` on whose span is `route` requested with `method`.
fn request_lines(log: &Log, from: usize, method: &str, route: &str) -> Vec<Value> {
    log.lines()
        .into_iter()
        .skip(from)
        .filter(|line| line["span"]["method"] == method && line["span"]["route"] == route)
        .collect()
}

/// The trace id activity stored with the event of entry `name`, once it has one.
async fn stored_trace_id(cluster: &SeparateCluster, name: &str) -> String {
    let item = || async {
        let feed: Value = reqwest::get(format!("{}/activity", cluster.activity.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|item| item["name"] == name)
            .cloned()
    };
    wait_for(
        &format!("activity to store the event of {name}"),
        Duration::from_secs(20),
        || async { item().await.is_some() },
    )
    .await;
    let item = item().await.expect("stored");
    item["trace_id"]
        .as_str()
        .unwrap_or_else(|| panic!("the event of {name} was stored without a trace id: {item}"))
        .to_owned()
}

/// Adds entry `name` through web's form with `headers`; the trace id of web's line for it.
async fn add(
    cluster: &SeparateCluster,
    visitor: &Visitor,
    name: &str,
    headers: &[(&str, &str)],
) -> String {
    let from = cluster.web.log.lines().len();
    let response = visitor
        .submit_with(
            "/entries",
            &[("name", name), ("description", "one trace")],
            headers,
        )
        .await;
    assert_eq!(response.status(), 303, "the add of {name} was refused");
    let lines = request_lines(&cluster.web.log, from, "POST", "/entries");
    assert_eq!(lines.len(), 1, "web logged one line for the add: {lines:?}");
    lines[0]["span"]["trace_id"]
        .as_str()
        .expect("the line has a trace id")
        .to_owned()
}

/// The trace `trace_id` reached catalog's request log, activity's log of the received event
/// and activity's stored event of `name`.
async fn assert_followed(cluster: &SeparateCluster, name: &str, trace_id: &str) {
    assert_eq!(stored_trace_id(cluster, name).await, trace_id, "{name}");
    let catalog = request_lines(&cluster.catalog.log, 0, "PUT", "/info/{name}");
    assert!(
        catalog.iter().any(|l| l["span"]["trace_id"] == trace_id),
        "catalog logged no request in trace {trace_id}: {catalog:?}"
    );
    let received: Vec<Value> = cluster
        .activity
        .log
        .lines()
        .into_iter()
        .filter(|line| line["span"]["trace_id"] == trace_id)
        .collect();
    assert!(
        received
            .iter()
            .any(|l| l["fields"]["message"] == "event received"),
        "activity logged no event in trace {trace_id}: {}",
        cluster.activity.log.text()
    );
}

#[tokio::test]
async fn one_add_entry_is_one_trace_through_web_catalog_the_outbox_and_activity() {
    let cluster = SeparateCluster::start().await;
    let visitor = Visitor::arrive(&cluster.web.url).await;

    // A caller's trace is continued.
    let continued = add(&cluster, &visitor, "continued", &[("traceparent", SENT)]).await;
    assert_eq!(continued, SENT_TRACE_ID);
    assert_followed(&cluster, "continued", SENT_TRACE_ID).await;

    // Without one, web starts a trace.
    let started = add(&cluster, &visitor, "started", &[]).await;
    assert_ne!(started, SENT_TRACE_ID);
    assert_followed(&cluster, "started", &started).await;

    // A malformed one is replaced by a new trace, and its text is never written anywhere.
    let malformed = format!("{SENT}-<script>");
    let replaced = add(
        &cluster,
        &visitor,
        "replaced",
        &[("traceparent", &malformed)],
    )
    .await;
    assert!(![SENT_TRACE_ID, started.as_str()].contains(&replaced.as_str()));
    assert_followed(&cluster, "replaced", &replaced).await;

    for (service, log) in [
        ("web", &cluster.web.log),
        ("catalog", &cluster.catalog.log),
        ("activity", &cluster.activity.log),
    ] {
        let ids = trace_ids(service, log);
        assert!(!ids.is_empty(), "{service} logged no traced line");
        assert!(
            !log.text().contains("<script>"),
            "{service} wrote the malformed traceparent's text"
        );
    }
    // Each add is a trace of its own in every service: three ids, plus the visitor's
    // first page view in web.
    let catalog_traces: std::collections::BTreeSet<String> =
        trace_ids("catalog", &cluster.catalog.log)
            .into_iter()
            .collect();
    for id in [SENT_TRACE_ID, started.as_str(), replaced.as_str()] {
        assert!(catalog_traces.contains(id), "catalog: {catalog_traces:?}");
    }
}
