//! The web app's own flow, as a browser does it: add a catalog entry through the page's form
//! and see it, and its creation event, on the page.

use std::time::Duration;

use crate::http;

/// Adds the entry `name` through the form at `base` (the web app's URL) and waits until the
/// page lists it and the activity feed counts one creation.
pub fn add_entry_and_see_it_in_the_feed(
    base: &str,
    name: &str,
    description: &str,
    within: Duration,
) {
    // The CSRF cookie and the form's hidden field carry the same token.
    let client = http::client();
    let response = client.get(format!("{base}/")).send().unwrap();
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("csrf="))
        .and_then(|v| v.split(';').next())
        .expect("the page sets the csrf cookie")
        .to_owned();
    let response = client
        .post(format!("{base}/entries"))
        .header("cookie", format!("csrf={cookie}"))
        .form(&[
            ("csrf_token", cookie.as_str()),
            ("name", name),
            ("description", description),
        ])
        .send()
        .unwrap();
    assert!(
        response.status().is_redirection(),
        "adding an entry redirects back, got {}: {}",
        response.status(),
        response.text().unwrap_or_default()
    );

    // The entry comes from catalog; its creation reaches the feed through Redis and
    // activity.
    let page = http::get_until(
        &format!("{base}/"),
        within,
        "the entry in the page",
        |body| body.contains(description),
    );
    assert!(page.contains(name));
    http::get_until(
        &format!("{base}/"),
        within,
        "the creation in the activity feed",
        |body| body.contains("created: 1"),
    );
}
