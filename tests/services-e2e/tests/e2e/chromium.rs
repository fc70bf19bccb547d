//! A headless Chromium driven through chromedriver, and the screenshots the README shows.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use tokio::process::{Child, Command};

/// chromedriver on a free loopback port, killed when dropped.
pub struct Driver {
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

/// A new Chromium session, in a window the size of the README's pictures. Keep the driver
/// until the session is closed.
pub async fn session() -> (Driver, Client) {
    let driver = start_chromedriver().await;
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            // --no-sandbox: the tests run as root, which Chromium's sandbox refuses.
            "args": [
                "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1100,1000", "--hide-scrollbars"
            ]
        }),
    );
    let browser = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session starts");
    (driver, browser)
}

/// Saves what the browser shows as `name` in `$SCREENSHOTS_DIR`, when it is set
/// (`scripts/screenshots.sh` sets it); does nothing otherwise.
pub async fn screenshot(browser: &Client, name: &str) -> Result<(), fantoccini::error::CmdError> {
    let Some(dir) = std::env::var_os("SCREENSHOTS_DIR") else {
        return Ok(());
    };
    let png = browser.screenshot().await?;
    let path = PathBuf::from(dir).join(name);
    std::fs::write(&path, png).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    Ok(())
}
