//! Hostile input: stored as data or refused, never executed, never a 500.

use reqwest::Method;

use crate::support::{assert_error, json, spawn_app};

#[tokio::test]
async fn sql_and_html_in_descriptions_are_stored_and_returned_verbatim() {
    let app = spawn_app().await;
    let cases = [
        ("sql", "'; DROP TABLE info; --"),
        ("sql2", "x' OR '1'='1"),
        ("sql3", "$1; SELECT pg_sleep(10); $$ \\ \" `"),
        (
            "html",
            "<script>alert('x')</script><img src=x onerror=alert(1)>",
        ),
        ("entities", "&lt;b&gt; &amp; </textarea>"),
        ("unicode", "日本語 🦀 \u{202e}reversed\u{202c} e\u{301}"),
        ("controls", "tab\tnewline\ncarriage\rbell\u{7}"),
    ];
    for (name, description) in cases {
        let (status, body) = json(app.put(name, description).await).await;
        assert_eq!(status, 201, "case {name}: {body}");
        let (status, body) = json(app.get(&format!("/info/{name}")).await).await;
        assert_eq!(status, 200, "case {name}");
        assert_eq!(body["description"], description, "case {name}");
    }
    // The table is still there and holds exactly those rows.
    assert_eq!(app.count("info").await, cases.len() as i64);
    let stored: String = app
        .db()
        .await
        .query_one("SELECT description FROM info WHERE name = 'html'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, cases[3].1);
}

#[tokio::test]
async fn sql_in_names_and_queries_is_refused_as_invalid() {
    let app = spawn_app().await;
    assert_eq!(app.put("keep", "me").await.status(), 201);
    let paths = [
        "/info/x';DROP%20TABLE%20info;--",
        "/info/x%27%20OR%20%271%27=%271",
        "/info?after=a'%20OR%20'1'='1",
        "/info?limit=1;DROP%20TABLE%20info",
        "/info/%3Cscript%3E",
    ];
    for path in paths {
        let (status, body) = json(app.get(path).await).await;
        assert_eq!(status, 400, "case {path}: {body}");
    }
    assert_error(
        app.delete("/info/keep'--").await,
        400,
        "a name is",
        "delete",
    )
    .await;
    assert_eq!(app.count("info").await, 1);
}

#[tokio::test]
async fn a_one_megabyte_body_is_refused_with_413_and_nothing_is_stored() {
    let app = spawn_app().await;
    let huge = serde_json::json!({ "description": "x".repeat(1024 * 1024) }).to_string();
    let response = app
        .send_raw(
            Method::PUT,
            "/info/huge",
            Some("application/json"),
            huge.clone().into_bytes(),
        )
        .await;
    assert_eq!(response.status(), 413);
    let body: serde_json::Value = response.json().await.expect("a JSON error");
    assert_eq!(
        body["error"], "the request body is larger than the limit of 65536 bytes",
        "{body}"
    );

    // The same body without a length (chunked): the limit holds while reading.
    let mut request = b"PUT /info/huge HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
        Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        .to_vec();
    for chunk in huge.as_bytes().chunks(64 * 1024) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let answer = app.raw_http(&request).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(r#"{"error":"#), "{answer}");

    assert_eq!(app.count("info").await, 0);
    assert_eq!(app.count("outbox").await, 0);
    // The service still serves.
    assert_eq!(app.put("small", "fine").await.status(), 201);
}

#[tokio::test]
async fn invalid_utf8_is_refused_in_bodies_and_paths() {
    let app = spawn_app().await;
    let mut body = br#"{"description":""#.to_vec();
    body.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    body.extend_from_slice(br#""}"#);
    let response = app
        .send_raw(Method::PUT, "/info/bytes", Some("application/json"), body)
        .await;
    assert_error(response, 400, "not valid JSON", "body").await;

    // A lone surrogate is valid JSON syntax but not a Unicode scalar value.
    let response = app
        .send_raw(
            Method::PUT,
            "/info/surrogate",
            Some("application/json"),
            br#"{"description":"\ud800"}"#.to_vec(),
        )
        .await;
    assert_eq!(response.status(), 400);

    let (status, _) = json(app.get("/info/%FF%FE").await).await;
    assert_eq!(status, 400);
    let (status, _) = json(app.get("/info?after=%FF").await).await;
    assert_eq!(status, 400);
    assert_eq!(app.count("info").await, 0);
}
