//! Redis stopped and started again under a running catalog (a private redis-server, so the
//! other tests keep theirs).

use std::time::Duration;

use redis::AsyncCommands;
use service_test_support::{wait_for, RedisServer};

use crate::support::{json, spawn_app_with_redis};

#[tokio::test]
async fn with_redis_killed_the_catalog_keeps_serving_and_publishes_the_kept_events_when_it_returns()
{
    let mut redis_server = RedisServer::start().await;
    let app = spawn_app_with_redis(&redis_server.url()).await;
    assert_eq!(
        app.put("before", "written with Redis up").await.status(),
        201
    );
    wait_for("the first event", Duration::from_secs(20), || async {
        app.events().await.len() == 1
    })
    .await;
    assert_eq!(app.get("/info/before").await.status(), 200);

    redis_server.stop().await;

    // Reads (cache skipped), writes (events kept) and lists all still work.
    let (status, entry) = json(app.get("/info/before").await).await;
    assert_eq!(
        (status, entry["description"].as_str()),
        (200, Some("written with Redis up"))
    );
    assert_eq!(
        app.put("during", "written with Redis down").await.status(),
        201
    );
    assert_eq!(
        app.put("before", "changed with Redis down").await.status(),
        200
    );
    assert_eq!(app.put("doomed", "short-lived").await.status(), 201);
    assert_eq!(app.delete("/info/doomed").await.status(), 204);
    let (status, entry) = json(app.get("/info/before").await).await;
    assert_eq!(
        (status, entry["description"].as_str()),
        (200, Some("changed with Redis down"))
    );
    let (status, page) = json(app.get("/info").await).await;
    assert_eq!(status, 200);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.count("outbox").await,
        4,
        "the events wait in the outbox"
    );

    let (status, report) = json(app.get("/readyz").await).await;
    assert_eq!(status, 200, "the catalog is still ready: {report}");
    assert_eq!(report["checks"][1]["name"], "redis");
    assert_eq!(report["checks"][1]["status"], "degraded");

    redis_server.restart().await;

    wait_for("the outbox to drain", Duration::from_secs(30), || async {
        app.count("outbox").await == 0
    })
    .await;
    let kinds: Vec<(String, String)> = app
        .events()
        .await
        .into_iter()
        .map(|e| (e["kind"].clone(), e["name"].clone()))
        .collect();
    let expected = [
        ("created", "during"),
        ("updated", "before"),
        ("created", "doomed"),
        ("deleted", "doomed"),
    ]
    .map(|(k, n)| (k.to_owned(), n.to_owned()));
    // Redis came back empty (no persistence): the stream holds exactly the kept events.
    assert_eq!(kinds, expected);
    wait_for("readiness to recover", Duration::from_secs(20), || async {
        let (_, report) = json(app.get("/readyz").await).await;
        report["checks"][1]["status"] == "ok"
    })
    .await;
}

#[tokio::test]
async fn a_change_made_while_redis_hangs_is_not_hidden_by_the_cached_copy_when_redis_answers_again()
{
    let redis_server = RedisServer::start().await;
    let app = spawn_app_with_redis(&redis_server.url()).await;
    assert_eq!(app.put("entry", "old").await.status(), 201);
    // Let the publisher drop the key for the event first, or it races the read below.
    app.wait_for_empty_outbox().await;
    assert_eq!(app.get("/info/entry").await.status(), 200);
    let mut redis = app.redis().await;
    let key = app.cache_key("entry");
    let cached: Option<String> = redis.get(&key).await.unwrap();
    assert!(cached.is_some(), "the read filled the cache");

    // Frozen, not dead: the cached copy survives, but the write cannot delete it.
    redis_server.pause();
    assert_eq!(app.put("entry", "new").await.status(), 200);
    let (_, entry) = json(app.get("/info/entry").await).await;
    assert_eq!(entry["description"], "new");
    redis_server.resume();

    // Whether the write's own delete reaches Redis late or is lost, the outbox publisher
    // drops the cached copy again as it publishes the event.
    app.wait_for_empty_outbox().await;
    let (_, entry) = json(app.get("/info/entry").await).await;
    assert_eq!(entry["description"], "new");
}
