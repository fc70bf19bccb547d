//! `/metrics` on the metrics port: requests by route template, the pool, the outbox backlog.

use service_test_support::metric_value;

use crate::support::{spawn_app, spawn_app_with_redis};

#[tokio::test]
async fn requests_are_counted_under_their_route_template() {
    let app = spawn_app().await;
    assert_eq!(app.put("first", "one").await.status(), 201);
    for name in ["first", "first", "missing"] {
        app.get(&format!("/info/{name}")).await;
    }
    let text = app.metrics().await;
    let get_200 = r#"http_requests_total{route="/info/{name}",method="GET",status="200"}"#;
    let get_404 = r#"http_requests_total{route="/info/{name}",method="GET",status="404"}"#;
    assert_eq!(metric_value(&text, get_200), Some(2.0), "{text}");
    assert_eq!(metric_value(&text, get_404), Some(1.0), "{text}");
    assert!(
        !text.contains("first") && !text.contains("missing"),
        "{text}"
    );
    assert!(
        metric_value(&text, "db_pool_size").is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert_eq!(metric_value(&text, "db_pool_waiting"), Some(0.0), "{text}");

    for name in ["first", "first"] {
        app.get(&format!("/info/{name}")).await;
    }
    let text = app.metrics().await;
    assert_eq!(
        metric_value(&text, get_200),
        Some(4.0),
        "the counter rises: {text}"
    );
}

#[tokio::test]
async fn events_waiting_in_the_outbox_show_as_a_backlog_and_an_age() {
    // Redis on a port where nothing listens: the publisher cannot send, the events wait.
    let app = spawn_app_with_redis("redis://127.0.0.1:1").await;
    for name in ["a", "b", "c"] {
        assert_eq!(app.put(name, "waiting").await.status(), 201);
    }
    let text = app.metrics().await;
    assert_eq!(
        metric_value(&text, "catalog_outbox_backlog"),
        Some(3.0),
        "{text}"
    );
    let age = metric_value(&text, "catalog_outbox_oldest_age_seconds").expect("an age");
    assert!((0.0..60.0).contains(&age), "{text}");
}

#[tokio::test]
async fn an_empty_outbox_has_no_backlog() {
    let app = spawn_app().await;
    assert_eq!(app.put("sent", "published").await.status(), 201);
    app.wait_for_empty_outbox().await;
    let text = app.metrics().await;
    assert_eq!(
        metric_value(&text, "catalog_outbox_backlog"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        metric_value(&text, "catalog_outbox_oldest_age_seconds"),
        Some(0.0),
        "{text}"
    );
}
