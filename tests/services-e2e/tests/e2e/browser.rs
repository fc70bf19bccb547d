//! The web app driven in a real headless Chromium through chromedriver: add an entry with
//! the form, see it listed, delete it.

use std::net::TcpListener;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use services_e2e::Cluster;
use tokio::process::{Child, Command};

/// chromedriver on a free loopback port, killed when dropped.
struct Driver {
    url: String,
    _child: Child,
}

async fn start_chromedriver() -> Driver {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver runs: scripts/test.sh installs the chromium-driver package");
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not start listening"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Driver {
        url: format!("http://127.0.0.1:{port}"),
        _child: child,
    }
}

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
    let cluster = Cluster::start().await;
    let driver = start_chromedriver().await;
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            // --no-sandbox: the tests run as root, which Chromium's sandbox refuses.
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]
        }),
    );
    let browser = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session starts");

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
