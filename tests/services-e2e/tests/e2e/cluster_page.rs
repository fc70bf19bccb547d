//! web's cluster page in a real Chromium: every service ready with each database's
//! migrations; catalog stopped, its row turns unreachable by the page's own refresh; started
//! again, it recovers. Without JavaScript the page is whole and reloads itself.

use std::time::Duration;

use fantoccini::{Client, Locator};
use services_e2e::Cluster;

use crate::chromium;

/// Longer than a few of the page's refreshes (2 s each), and than a backend timeout.
const LIVE: Duration = Duration::from_secs(20);

async fn wait_for(browser: &Client, css: &str) -> Result<(), fantoccini::error::CmdError> {
    browser
        .wait()
        .at_most(LIVE)
        .for_element(Locator::Css(css))
        .await
        .map(drop)
}

/// Until the row of `service` reads `state`.
async fn service_is(
    browser: &Client,
    service: &str,
    state: &str,
) -> Result<(), fantoccini::error::CmdError> {
    wait_for(
        browser,
        &format!(r#"tr[data-service="{service}"][data-state="{state}"]"#),
    )
    .await
}

/// Until the row of `database` says whether it is current (`true`, `false`, `unknown`).
async fn database_is(
    browser: &Client,
    database: &str,
    current: &str,
) -> Result<(), fantoccini::error::CmdError> {
    wait_for(
        browser,
        &format!(r#"tr[data-database="{database}"][data-current="{current}"]"#),
    )
    .await
}

async fn text(browser: &Client, css: &str) -> Result<String, fantoccini::error::CmdError> {
    browser.find(Locator::Css(css)).await?.text().await
}

#[tokio::test]
async fn the_cluster_page_follows_a_service_going_down_and_coming_back() {
    let mut cluster = Cluster::start_whole().await;
    let (_driver, browser) = chromium::session().await;

    let outcome = async {
        browser.goto(&format!("{}/cluster", cluster.web)).await?;
        for service in ["web", "catalog", "activity", "hello", "echo"] {
            service_is(&browser, service, "ready").await?;
        }
        // Each database as its service reports it, against the files it was built with.
        database_is(&browser, "catalog", "true").await?;
        database_is(&browser, "activity", "true").await?;
        let catalog_version = text(&browser, r#"tr[data-database="catalog"] td.version"#).await?;
        let latest_catalog = services_e2e::latest_version("catalog");
        assert_eq!(catalog_version, format!("V{latest_catalog}"));
        let activity_version = text(&browser, r#"tr[data-database="activity"] td.version"#).await?;
        assert_eq!(
            activity_version,
            format!("V{}", services_e2e::latest_version("activity"))
        );
        assert_eq!(text(&browser, "#outbox").await?, "0 waiting");
        wait_for(&browser, r#"li[data-replica="echo-e2e"]"#).await?;

        // The page refreshes by itself: the read time moves and web's rate becomes a figure.
        let first = text(&browser, "#updated").await?;
        let deadline = tokio::time::Instant::now() + LIVE;
        let rate = loop {
            let rate = text(&browser, r#"tr[data-service="web"] td.rate"#).await?;
            if text(&browser, "#updated").await? != first {
                if let Ok(rate) = rate.parse::<f64>() {
                    break rate;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the page never refreshed"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert!(rate > 0.0, "web answered the page's own refreshes: {rate}");
        chromium::screenshot(&browser, "cluster-page.png").await?;

        cluster.stop_catalog().await;
        service_is(&browser, "catalog", "unreachable").await?;
        database_is(&browser, "catalog", "unknown").await?;
        let outbox = text(&browser, "#outbox").await?;
        assert!(outbox.contains("catalog is unavailable"), "{outbox}");
        // The others stay as they were.
        service_is(&browser, "activity", "ready").await?;

        cluster.start_catalog().await;
        service_is(&browser, "catalog", "ready").await?;
        database_is(&browser, "catalog", "true").await?;
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let closed = browser.close().await;
    outcome.expect("the browser steps succeed");
    closed.expect("the session closes");
}

#[tokio::test]
async fn without_javascript_the_cluster_page_is_whole_and_reloads_itself() {
    let cluster = Cluster::start_whole().await;
    let page = reqwest::get(format!("{}/cluster", cluster.web))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"<noscript><meta http-equiv="refresh" content="5"></noscript>"#),
        "{html}"
    );
    for service in ["web", "catalog", "activity", "hello", "echo"] {
        assert!(
            html.contains(&format!(r#"data-service="{service}" data-state="ready""#)),
            "{service}: {html}"
        );
    }
    assert!(
        html.contains(r#"data-database="catalog" data-current="true""#),
        "{html}"
    );

    let panel = reqwest::get(format!("{}/cluster/panel", cluster.web))
        .await
        .unwrap();
    assert_eq!(panel.headers()["cache-control"], "no-store");
    let fragment = panel.text().await.unwrap();
    assert!(
        fragment.contains(r#"id="services""#) && !fragment.contains("<html"),
        "{fragment}"
    );
}
