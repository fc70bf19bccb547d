//! HTTP checks from the host, with retries while a container is still starting.

use std::thread::sleep;
use std::time::{Duration, Instant};

/// A client with short timeouts and no connection reuse, so each request is a new
/// connection (and, behind a name with several containers, may reach another one).
pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("the HTTP client builds")
}

/// GETs `url` until it answers 2xx or `within` passes; returns the body.
pub fn get_text(url: &str, within: Duration) -> String {
    let client = client();
    let deadline = Instant::now() + within;
    loop {
        let last = match client.get(url).send() {
            Ok(response) if response.status().is_success() => {
                return response.text().expect("the body reads");
            }
            Ok(response) => format!("status {}", response.status()),
            Err(err) => format!("{err:#}"),
        };
        assert!(
            Instant::now() < deadline,
            "GET {url} gave no 2xx answer within {within:?}; last: {last}"
        );
        sleep(Duration::from_millis(250));
    }
}

/// Polls `url` until its body satisfies `check` or `within` passes; returns that body.
pub fn get_until(url: &str, within: Duration, what: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + within;
    loop {
        let body = get_text(url, within);
        if check(&body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "GET {url}: {what} did not happen within {within:?}; last body:\n{body}"
        );
        sleep(Duration::from_millis(250));
    }
}
