//! Entries added, edited and deleted through web reach catalog, then activity's feed, and
//! show on the page; hostile text is stored as given and shown escaped.

use std::time::Duration;

use service_test_support::wait_for;
use services_e2e::Cluster;

use crate::visitor::Visitor;

/// What catalog answers for one entry: status and JSON body.
async fn catalog_entry(cluster: &Cluster, name: &str) -> (u16, serde_json::Value) {
    let response = reqwest::get(format!("{}/info/{name}", cluster.catalog))
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// activity's feed as (kind, name), newest first.
async fn feed(cluster: &Cluster) -> Vec<(String, String)> {
    let body: serde_json::Value = reqwest::get(format!("{}/activity?limit=100", cluster.activity))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn wait_for_event(cluster: &Cluster, kind: &str, name: &str) {
    let want = (kind.to_owned(), name.to_owned());
    wait_for(
        &format!("activity to record {kind} {name}"),
        Duration::from_secs(20),
        || {
            let want = want.clone();
            async move { feed(cluster).await.contains(&want) }
        },
    )
    .await;
}

#[tokio::test]
async fn an_entry_added_through_web_reaches_catalog_then_the_activity_feed() {
    let cluster = Cluster::start().await;
    let visitor = Visitor::arrive(&cluster.web).await;

    let location = visitor
        .submit_ok(
            "/entries",
            &[
                ("name", "postgres"),
                ("description", "the database\r\nof record"),
            ],
        )
        .await;
    assert_eq!(location, "/?added=postgres");

    let (status, entry) = catalog_entry(&cluster, "postgres").await;
    assert_eq!(status, 200);
    assert_eq!(entry["description"], "the database\nof record");

    wait_for_event(&cluster, "created", "postgres").await;
    let (_, html) = visitor.page(&location).await;
    assert!(
        html.contains(r#"<p class="notice" id="notice">Added postgres.</p>"#),
        "{html}"
    );
    assert!(html.contains(r#"<td class="name">postgres</td>"#), "{html}");
    assert!(
        html.contains("<li><strong>created</strong> postgres"),
        "{html}"
    );
    assert!(html.contains("created: 1"), "{html}");

    // Edit, then delete, each reaching catalog and then the feed.
    let (status, form) = visitor.page("/entries/postgres/edit").await;
    assert_eq!(status, 200);
    assert!(
        form.contains(">the database\nof record</textarea>"),
        "{form}"
    );
    visitor
        .submit_ok(
            "/entries/postgres",
            &[("description", "still the database")],
        )
        .await;
    assert_eq!(
        catalog_entry(&cluster, "postgres").await.1["description"],
        "still the database"
    );
    wait_for_event(&cluster, "updated", "postgres").await;

    visitor.submit_ok("/entries/postgres/delete", &[]).await;
    assert_eq!(catalog_entry(&cluster, "postgres").await.0, 404);
    wait_for_event(&cluster, "deleted", "postgres").await;
    let (_, html) = visitor.page("/").await;
    assert!(
        !html.contains(r#"<td class="name">postgres</td>"#),
        "{html}"
    );
    assert!(
        html.contains("<li><strong>deleted</strong> postgres"),
        "{html}"
    );
}

#[tokio::test]
async fn hostile_descriptions_are_stored_as_given_and_shown_escaped() {
    let cluster = Cluster::start().await;
    let visitor = Visitor::arrive(&cluster.web).await;
    let hostile =
        r#"<script>alert('x')</script>"><img src=x onerror=alert(1)>'; DROP TABLE info; --"#;
    visitor
        .submit_ok("/entries", &[("name", "hostile"), ("description", hostile)])
        .await;

    let (status, entry) = catalog_entry(&cluster, "hostile").await;
    assert_eq!(status, 200);
    assert_eq!(entry["description"], hostile, "stored exactly as typed");

    let (_, html) = visitor.page("/").await;
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("<img src=x"), "{html}");
    assert!(
        html.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;&#34;&#62;&#60;img src=x onerror=alert(1)&#62;&#39;; DROP TABLE info; --"),
        "{html}"
    );
    let (_, edit) = visitor.page("/entries/hostile/edit").await;
    assert!(!edit.contains("<script>alert"), "{edit}");
}

#[tokio::test]
async fn catalog_refusals_are_shown_with_the_form_kept() {
    let cluster = Cluster::start().await;
    let visitor = Visitor::arrive(&cluster.web).await;

    // A name catalog refuses: its own message, the typed values kept.
    let response = visitor
        .submit(
            "/entries",
            &[("name", "no spaces allowed"), ("description", "typed text")],
        )
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(
        html.contains(
            "a name is 1 to 64 characters of A-Z, a-z, 0-9, &#39;_&#39;, &#39;.&#39;, &#39;-&#39;"
        ),
        "{html}"
    );
    assert!(html.contains(r#"value="no spaces allowed""#), "{html}");
    assert!(html.contains(">typed text</textarea>"), "{html}");

    // Adding a name that exists does not replace it.
    visitor
        .submit_ok("/entries", &[("name", "redis"), ("description", "first")])
        .await;
    let response = visitor
        .submit("/entries", &[("name", "redis"), ("description", "second")])
        .await;
    assert_eq!(response.status(), 409);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("An entry named redis already exists: use Edit to change it."));
    assert_eq!(
        catalog_entry(&cluster, "redis").await.1["description"],
        "first"
    );

    // A description over catalog's limit.
    let long = "x".repeat(4097);
    let response = visitor
        .submit("/entries/redis", &[("description", &long)])
        .await;
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("description is longer than 4096 characters"));
    assert_eq!(
        catalog_entry(&cluster, "redis").await.1["description"],
        "first"
    );
}

#[tokio::test]
async fn a_forged_form_changes_nothing_in_catalog() {
    let cluster = Cluster::start().await;
    let visitor = Visitor::arrive(&cluster.web).await;
    visitor
        .submit_ok("/entries", &[("name", "kept"), ("description", "original")])
        .await;
    // Another site's form: the browser sends the cookie, but the page's token is unknown.
    let response = reqwest::Client::new()
        .post(format!("{}/entries/kept/delete", cluster.web))
        .header("cookie", "csrf=ffffffffffffffffffffffffffffffff")
        .form(&[("csrf_token", "00000000000000000000000000000000")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(catalog_entry(&cluster, "kept").await.0, 200);
}

#[tokio::test]
async fn of_two_people_adding_one_name_at_once_exactly_one_wins() {
    let cluster = Cluster::start().await;
    let mut visitors = Vec::new();
    for _ in 0..8 {
        visitors.push(Visitor::arrive(&cluster.web).await);
    }
    let adds = visitors.iter().enumerate().map(|(i, visitor)| async move {
        let description = format!("visitor {i}");
        let response = visitor
            .submit(
                "/entries",
                &[("name", "contested"), ("description", &description)],
            )
            .await;
        (response.status().as_u16(), description)
    });
    let outcomes = futures_util::future::join_all(adds).await;
    let winners: Vec<&String> = outcomes
        .iter()
        .filter(|(status, _)| *status == 303)
        .map(|(_, description)| description)
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|(status, _)| *status == 303 || *status == 409),
        "{outcomes:?}"
    );
    // The one that was told it won is the one stored.
    assert_eq!(
        catalog_entry(&cluster, "contested").await.1["description"],
        winners[0].as_str()
    );
}
