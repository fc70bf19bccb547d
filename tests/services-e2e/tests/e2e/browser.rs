//! The web app driven in a real headless Chromium through chromedriver: add an entry with
//! the form, see it listed, delete it.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use services_e2e::Cluster;

use crate::chromium;

/// Waits until the page's notice reads `expected`. After a click that submits a form, the old
/// page, with its own notice, stays until the redirect's page replaces it: an element found
/// then may be stale by the time it is read, and its text is the old one.
async fn wait_for_notice(browser: &Client, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let text = match browser.find(Locator::Id("notice")).await {
            Ok(notice) => notice.text().await.ok(),
            Err(_) => None,
        };
        if text.as_deref() == Some(expected) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the notice never read {expected:?}; last: {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_entry_is_added_listed_and_deleted_in_a_real_browser() {
    let cluster = Cluster::start_whole().await;
    let (_driver, browser) = chromium::session().await;

    let outcome = async {
        browser.goto(&cluster.web).await?;
        browser
            .find(Locator::Id("name"))
            .await?
            .send_keys("chromium")
            .await?;
        browser
            .find(Locator::Id("description"))
            .await?
            .send_keys("added <b>by</b> a real browser")
            .await?;
        browser.find(Locator::Id("add")).await?.click().await?;

        // The redirect lands on the list, which now has the entry.
        let row = browser
            .wait()
            .for_element(Locator::Css(r#"tr[data-name="chromium"]"#))
            .await?;
        let text = row.text().await?;
        assert!(
            text.contains("chromium") && text.contains("added <b>by</b> a real browser"),
            "{text}"
        );
        wait_for_notice(&browser, "Added chromium.").await;
        let hello = browser.find(Locator::Id("hello")).await?.text().await?;
        assert_eq!(hello, "hello world");

        // The feed shows the entry once activity has consumed catalog's event: the page is
        // rendered on the server, so it is read again until then.
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let feed = browser.find(Locator::Id("activity")).await?.text().await?;
            if feed.contains("created chromium") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the feed never showed the entry: {feed}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
            browser
                .goto(&format!("{}/?added=chromium", cluster.web))
                .await?;
        }
        chromium::screenshot(&browser, "web-app.png").await?;

        let row = browser
            .find(Locator::Css(r#"tr[data-name="chromium"]"#))
            .await?;
        row.find(Locator::Css(r#"button[name="delete"]"#))
            .await?
            .click()
            .await?;
        wait_for_notice(&browser, "Deleted chromium.").await;
        let rows = browser
            .find_all(Locator::Css(r#"tr[data-name="chromium"]"#))
            .await?;
        assert!(rows.is_empty(), "the entry is still listed");
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    // Close the session whatever happened, so no Chromium is left behind.
    let closed = browser.close().await;
    outcome.expect("the browser steps succeed");
    closed.expect("the session closes");

    let response = reqwest::get(format!("{}/info/chromium", cluster.catalog))
        .await
        .unwrap();
    assert_eq!(response.status(), 404, "catalog no longer has the entry");
}
