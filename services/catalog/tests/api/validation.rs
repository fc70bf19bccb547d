//! Every validation error: its status, its message, and that nothing was stored.

use reqwest::Method;

use crate::support::{assert_error, spawn_app};

/// (case, method, path, content type, body, status, message fragment)
type Case<'a> = (
    &'a str,
    Method,
    String,
    Option<&'a str>,
    String,
    u16,
    &'a str,
);

#[tokio::test]
async fn each_invalid_request_gets_its_status_and_message_and_stores_nothing() {
    let app = spawn_app().await;
    let too_long_name = "n".repeat(65);
    let too_long_description = serde_json::json!({ "description": "d".repeat(4097) }).to_string();
    let json = Some("application/json");
    let cases: Vec<Case> = vec![
        (
            "name with a space",
            Method::GET,
            "/info/two%20words".into(),
            None,
            String::new(),
            400,
            "a name is 1 to 64 characters",
        ),
        (
            "name too long",
            Method::GET,
            format!("/info/{too_long_name}"),
            None,
            String::new(),
            400,
            "a name is 1 to 64 characters",
        ),
        (
            "name with a quote",
            Method::PUT,
            "/info/it's".into(),
            json,
            r#"{"description":"x"}"#.into(),
            400,
            "a name is",
        ),
        (
            "name with a slash",
            Method::DELETE,
            "/info/a%2Fb".into(),
            None,
            String::new(),
            400,
            "a name is",
        ),
        (
            "non-ASCII name",
            Method::GET,
            "/info/%C3%A9".into(),
            None,
            String::new(),
            400,
            "a name is",
        ),
        (
            "no content type",
            Method::PUT,
            "/info/x".into(),
            None,
            r#"{"description":"x"}"#.into(),
            415,
            "Content-Type: application/json",
        ),
        (
            "text content type",
            Method::PUT,
            "/info/x".into(),
            Some("text/plain"),
            r#"{"description":"x"}"#.into(),
            415,
            "Content-Type: application/json",
        ),
        (
            "form content type",
            Method::PUT,
            "/info/x".into(),
            Some("application/x-www-form-urlencoded"),
            "description=x".into(),
            415,
            "application/json",
        ),
        (
            "broken JSON",
            Method::PUT,
            "/info/x".into(),
            json,
            r#"{"description": "#.into(),
            400,
            "not valid JSON",
        ),
        (
            "empty body",
            Method::PUT,
            "/info/x".into(),
            json,
            String::new(),
            400,
            "not valid JSON",
        ),
        (
            "JSON not an object",
            Method::PUT,
            "/info/x".into(),
            json,
            r#"["x"]"#.into(),
            422,
            "the body must be",
        ),
        (
            "description missing",
            Method::PUT,
            "/info/x".into(),
            json,
            "{}".into(),
            422,
            "missing field `description`",
        ),
        (
            "description a number",
            Method::PUT,
            "/info/x".into(),
            json,
            r#"{"description":5}"#.into(),
            422,
            "invalid type",
        ),
        (
            "description null",
            Method::PUT,
            "/info/x".into(),
            json,
            r#"{"description":null}"#.into(),
            422,
            "invalid type",
        ),
        (
            "unknown field",
            Method::PUT,
            "/info/x".into(),
            json,
            r#"{"description":"x","owner":"me"}"#.into(),
            422,
            "unknown field `owner`",
        ),
        (
            "description too long",
            Method::PUT,
            "/info/x".into(),
            json,
            too_long_description,
            422,
            "longer than 4096 characters",
        ),
        (
            "description with NUL",
            Method::PUT,
            "/info/x".into(),
            json,
            r#"{"description":"a\u0000b"}"#.into(),
            422,
            "NUL",
        ),
        (
            "limit zero",
            Method::GET,
            "/info?limit=0".into(),
            None,
            String::new(),
            400,
            "limit must be a whole number from 1 to 100",
        ),
        (
            "limit too large",
            Method::GET,
            "/info?limit=101".into(),
            None,
            String::new(),
            400,
            "limit must be",
        ),
        (
            "limit not a number",
            Method::GET,
            "/info?limit=ten".into(),
            None,
            String::new(),
            400,
            "limit must be",
        ),
        (
            "limit negative",
            Method::GET,
            "/info?limit=-5".into(),
            None,
            String::new(),
            400,
            "limit must be",
        ),
        (
            "after not a name",
            Method::GET,
            "/info?after=a%20b".into(),
            None,
            String::new(),
            400,
            "after must be an entry name",
        ),
        (
            "after empty",
            Method::GET,
            "/info?after=".into(),
            None,
            String::new(),
            400,
            "after must be an entry name",
        ),
    ];
    for (case, method, path, content_type, body, status, fragment) in cases {
        let response = app
            .send_raw(method, &path, content_type, body.into_bytes())
            .await;
        assert_error(response, status, fragment, case).await;
    }
    assert_eq!(
        app.count("info").await,
        0,
        "an invalid request stored an entry"
    );
    assert_eq!(
        app.count("outbox").await,
        0,
        "an invalid request recorded an event"
    );
}

#[tokio::test]
async fn the_limits_themselves_are_accepted() {
    let app = spawn_app().await;
    let name = "n".repeat(64);
    // 4096 characters of two bytes each: the limit counts characters.
    let description = "é".repeat(4096);
    let response = app.put(&name, &description).await;
    assert_eq!(response.status(), 201);
    let (_, entry) = crate::support::json(app.get(&format!("/info/{name}")).await).await;
    assert_eq!(entry["description"].as_str().unwrap(), description);
    assert_eq!(app.get("/info?limit=1").await.status(), 200);
    assert_eq!(app.get("/info?limit=100").await.status(), 200);
    let charset = app
        .send_raw(
            Method::PUT,
            "/info/charset",
            Some("application/json; charset=utf-8"),
            br#"{"description":"with a charset"}"#.to_vec(),
        )
        .await;
    assert_eq!(charset.status(), 201);
}
