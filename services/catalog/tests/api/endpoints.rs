//! Each endpoint's normal behaviour.

use reqwest::Method;

use crate::support::{assert_error, json, spawn_app};

#[tokio::test]
async fn put_creates_an_entry_then_replaces_it_and_get_returns_the_latest() {
    let app = spawn_app().await;

    let response = app.put("redis", "an in-memory data store").await;
    assert_eq!(
        response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap()),
        Some("/info/redis")
    );
    let (status, created) = json(response).await;
    assert_eq!(status, 201);
    assert_eq!(created["name"], "redis");
    assert_eq!(created["description"], "an in-memory data store");

    let (status, replaced) = json(app.put("redis", "a data structure server").await).await;
    assert_eq!(status, 200);
    assert_eq!(replaced["description"], "a data structure server");
    assert_eq!(replaced["created_at"], created["created_at"]);

    let (status, read) = json(app.get("/info/redis").await).await;
    assert_eq!(status, 200);
    assert_eq!(read, replaced);
    assert_eq!(app.count("info").await, 1);
}

#[tokio::test]
async fn if_none_match_star_creates_and_never_replaces() {
    let app = spawn_app().await;
    let (status, created) = json(app.create("redis", "first").await).await;
    assert_eq!(status, 201);
    assert_eq!(created["description"], "first");
    assert_error(
        app.create("redis", "second").await,
        412,
        "already exists",
        "create over an existing entry",
    )
    .await;
    let (_, read) = json(app.get("/info/redis").await).await;
    assert_eq!(read["description"], "first");
}

#[tokio::test]
async fn of_many_concurrent_creates_of_one_name_exactly_one_wins() {
    let app = spawn_app().await;
    let attempts = (0..16).map(|i| {
        let app = &app;
        async move {
            app.create("race", &format!("writer {i}"))
                .await
                .status()
                .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 412).count(),
        15,
        "{statuses:?}"
    );
    assert_eq!(app.count("info").await, 1);
    // Exactly one `created` event reaches the stream: the refused creates wrote nothing.
    app.wait_for_empty_outbox().await;
    assert_eq!(app.events().await.len(), 1);
}

#[tokio::test]
async fn get_of_a_missing_entry_is_404() {
    let app = spawn_app().await;
    assert_error(
        app.get("/info/nothing").await,
        404,
        "no entry named nothing",
        "get",
    )
    .await;
}

#[tokio::test]
async fn delete_removes_the_entry_and_a_second_delete_is_404() {
    let app = spawn_app().await;
    assert_eq!(app.put("gone", "soon").await.status(), 201);
    // Read once so the entry is cached: the delete must drop the cached copy too.
    assert_eq!(app.get("/info/gone").await.status(), 200);

    let response = app.delete("/info/gone").await;
    assert_eq!(response.status(), 204);
    assert_eq!(response.text().await.unwrap(), "");
    assert_error(
        app.get("/info/gone").await,
        404,
        "no entry",
        "get after delete",
    )
    .await;
    assert_error(
        app.delete("/info/gone").await,
        404,
        "no entry",
        "second delete",
    )
    .await;
    assert_eq!(app.count("info").await, 0);
}

#[tokio::test]
async fn list_pages_through_every_entry_in_name_order_with_keyset_pagination() {
    let app = spawn_app().await;
    let names = ["delta", "alpha", "echo", "Bravo", "charlie"];
    for name in names {
        assert_eq!(app.put(name, &format!("about {name}")).await.status(), 201);
    }

    let mut seen = Vec::new();
    let mut path = "/info?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let (status, page) = json(app.get(&path).await).await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|e| e["name"].as_str().unwrap().to_owned()));
        match page["next"].as_str() {
            Some(next) => path = format!("/info?limit=2&after={next}"),
            None => break,
        }
    }
    // Byte order: capitals first.
    assert_eq!(seen, ["Bravo", "alpha", "charlie", "delta", "echo"]);
    assert_eq!(pages, 3);

    // An exact fit ends without an empty extra page.
    let (_, page) = json(app.get("/info?limit=5").await).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 5);
    assert_eq!(page["next"], serde_json::Value::Null);

    // The default page holds them all, with every field.
    let (_, page) = json(app.get("/info").await).await;
    let first = &page["items"][0];
    assert_eq!(first["name"], "Bravo");
    assert_eq!(first["description"], "about Bravo");
    assert!(first["created_at"].is_string() && first["updated_at"].is_string());

    // `after` need not name an existing entry.
    let (_, page) = json(app.get("/info?after=c").await).await;
    let names: Vec<_> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].clone())
        .collect();
    assert_eq!(names, ["charlie", "delta", "echo"]);
}

#[tokio::test]
async fn an_empty_catalog_lists_no_entries() {
    let app = spawn_app().await;
    let (status, page) = json(app.get("/info").await).await;
    assert_eq!(status, 200);
    assert_eq!(page, serde_json::json!({ "items": [], "next": null }));
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json_errors() {
    let app = spawn_app().await;
    assert_error(
        app.get("/nothing/here").await,
        404,
        "no such route",
        "unknown path",
    )
    .await;
    assert_error(
        app.request(Method::POST, "/info/x").await,
        405,
        "method not allowed",
        "POST entry",
    )
    .await;
    assert_error(
        app.request(Method::DELETE, "/info").await,
        405,
        "method not allowed",
        "DELETE list",
    )
    .await;
}
