//! `GET /status` (the database's migrations against the files built in, the outbox) and what
//! `/readyz` says it has served: what web's cluster page shows of catalog.

use crate::support::{json, migrations, spawn_app, spawn_app_on};
use service_test_support::{client, fresh_database};

/// The labels of `migrations/catalog`'s up files, in version order.
fn labels() -> Vec<String> {
    let mut labels: Vec<(i32, String)> = std::fs::read_dir(migrations())
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let label = name.strip_suffix(".sql")?;
            if label.ends_with(".down") {
                return None;
            }
            let version = label.strip_prefix('V')?.split_once("__")?.0.parse().ok()?;
            Some((version, label.to_owned()))
        })
        .collect();
    labels.sort();
    labels.into_iter().map(|(_, label)| label).collect()
}

#[tokio::test]
async fn a_migrated_database_is_current_and_the_outbox_is_empty() {
    let app = spawn_app().await;
    let (status, body) = json(app.get("/status").await).await;
    assert_eq!(status, 200, "{body}");
    let latest = labels().len();
    let migrations = &body["migrations"]["ok"];
    assert_eq!(migrations["version"], latest, "{body}");
    assert_eq!(migrations["latest"], latest, "{body}");
    assert_eq!(migrations["applied"], latest, "{body}");
    assert_eq!(migrations["pending"], serde_json::json!([]), "{body}");
    assert_eq!(migrations["drift"], serde_json::json!([]), "{body}");
    assert_eq!(migrations["ahead"], serde_json::json!([]), "{body}");
    assert_eq!(body["outbox"]["ok"]["backlog"], 0, "{body}");
    assert!(body.get("consumer").is_none(), "{body}");
}

#[tokio::test]
async fn pending_files_and_a_changed_applied_file_are_named() {
    // Only the first migration applied: the database of a service whose new image is out
    // before its migration Job ran.
    let first = labels()[0].clone();
    let folder = tempfile::tempdir().unwrap();
    std::fs::copy(
        migrations().join(format!("{first}.sql")),
        folder.path().join(format!("{first}.sql")),
    )
    .unwrap();
    let database_url = fresh_database("catalog_status", Some(folder.path())).await;
    let app = spawn_app_on(&database_url, &service_test_support::test_redis_url()).await;

    let (_, body) = json(app.get("/status").await).await;
    let migrations = &body["migrations"]["ok"];
    assert_eq!(migrations["version"], 1, "{body}");
    assert_eq!(migrations["applied"], 1, "{body}");
    assert_eq!(
        migrations["pending"],
        serde_json::json!(labels()[1..]),
        "{body}"
    );
    assert_eq!(migrations["drift"], serde_json::json!([]), "{body}");
    // No outbox table yet: that part says why, the migrations part still shows.
    assert!(body["outbox"]["unavailable"].is_string(), "{body}");

    // The applied file as recorded no longer matches the one built in.
    client(&database_url)
        .await
        .execute(
            "UPDATE refinery_schema_history SET checksum = '1' WHERE version = 1",
            &[],
        )
        .await
        .unwrap();
    let (_, body) = json(app.get("/status").await).await;
    assert_eq!(
        body["migrations"]["ok"]["drift"],
        serde_json::json!([first]),
        "{body}"
    );

    // A migration a newer release applied, which this build has no file for.
    client(&database_url)
        .await
        .execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum)
             VALUES (99, 'from_a_newer_release', '2026-01-01T00:00:00Z', '1')",
            &[],
        )
        .await
        .unwrap();
    let (_, body) = json(app.get("/status").await).await;
    let migrations = &body["migrations"]["ok"];
    assert_eq!(
        migrations["ahead"],
        serde_json::json!(["V99__from_a_newer_release"]),
        "{body}"
    );
    assert_eq!(migrations["version"], 99, "{body}");
    assert_eq!(migrations["drift"], serde_json::json!([first]), "{body}");
}

#[tokio::test]
async fn without_its_database_status_still_answers_and_says_why() {
    let app = spawn_app_on(
        "postgres://catalog@127.0.0.1:1/catalog",
        &service_test_support::test_redis_url(),
    )
    .await;
    let (status, body) = json(app.get("/status").await).await;
    assert_eq!(status, 200, "{body}");
    let reason = body["migrations"]["unavailable"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("the database is unavailable"), "{body}");
    assert!(body["outbox"]["unavailable"].is_string(), "{body}");
}

#[tokio::test]
async fn readyz_counts_the_requests_answered() {
    let app = spawn_app().await;
    let (_, first) = json(app.get("/readyz").await).await;
    for _ in 0..3 {
        app.get("/info").await;
    }
    let (_, second) = json(app.get("/readyz").await).await;
    assert_eq!(first["served"]["instance"], second["served"]["instance"]);
    let count = |report: &serde_json::Value| report["served"]["requests"].as_u64().unwrap();
    // The first /readyz is counted once answered; then three lists and itself.
    assert_eq!(count(&second) - count(&first), 4, "{first} {second}");

    let other = spawn_app().await;
    let (_, report) = json(other.get("/readyz").await).await;
    assert_ne!(report["served"]["instance"], first["served"]["instance"]);
}
