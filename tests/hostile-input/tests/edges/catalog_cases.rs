//! catalog's hand-picked hostile cases, beside the generated ones of `catalog.rs`: SQL, HTML
//! and controls stored as data and returned verbatim, SQL in names and queries refused, a
//! 1 MB body refused with and without a length, invalid UTF-8 refused. Never executed, never
//! a 500, and nothing stored that should not be.

use hostile_input::raw::request;
use hostile_input::{exchange, services, Answer, Running};
use service_common::HttpConfig;

use crate::strategies::LIMIT;

/// One request on a fresh connection; a body is sent as JSON.
async fn send(app: &Running, method: &str, target: &str, body: Option<&[u8]>) -> Answer {
    let json: &[(&[u8], &[u8])] = &[(b"content-type", b"application/json")];
    let headers = if body.is_some() { json } else { &[] };
    let bytes = request(method, target.as_bytes(), headers, body.unwrap_or_default());
    exchange(app.port, &bytes, LIMIT).await
}

async fn put(app: &Running, name: &str, description: &str) -> Answer {
    let body = serde_json::json!({ "description": description }).to_string();
    send(app, "PUT", &format!("/info/{name}"), Some(body.as_bytes())).await
}

async fn count(app: &Running, table: &str) -> i64 {
    app.db()
        .await
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .expect("count")
        .get(0)
}

/// The status, and that the JSON error names `words`.
fn assert_refused(answer: &Answer, status: u16, words: &str, case: &str) {
    assert_eq!(
        answer.status(),
        Some(status),
        "case {case}: {}",
        answer.text()
    );
    let error = answer.json(case)["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        error.contains(words),
        "case {case}: {error:?} lacks {words:?}"
    );
}

#[tokio::test]
async fn sql_and_html_in_descriptions_are_stored_and_returned_verbatim() {
    let app = services::catalog(HttpConfig::for_tests()).await;
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
        let answer = put(&app, name, description).await;
        assert_eq!(answer.status(), Some(201), "case {name}: {}", answer.text());
        let answer = send(&app, "GET", &format!("/info/{name}"), None).await;
        assert_eq!(answer.status(), Some(200), "case {name}");
        assert_eq!(answer.json(name)["description"], description, "case {name}");
    }
    // The table is still there and holds exactly those rows.
    assert_eq!(count(&app, "info").await, cases.len() as i64);
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
    let app = services::catalog(HttpConfig::for_tests()).await;
    assert_eq!(put(&app, "keep", "me").await.status(), Some(201));
    let paths = [
        "/info/x';DROP%20TABLE%20info;--",
        "/info/x%27%20OR%20%271%27=%271",
        "/info?after=a'%20OR%20'1'='1",
        "/info?limit=1;DROP%20TABLE%20info",
        "/info/%3Cscript%3E",
    ];
    for path in paths {
        let answer = send(&app, "GET", path, None).await;
        assert_eq!(answer.status(), Some(400), "case {path}: {}", answer.text());
        answer.json(path);
    }
    let answer = send(&app, "DELETE", "/info/keep'--", None).await;
    assert_refused(&answer, 400, "a name is", "delete");
    assert_eq!(count(&app, "info").await, 1);
}

#[tokio::test]
async fn a_one_megabyte_body_is_refused_with_413_and_nothing_is_stored() {
    let app = services::catalog(HttpConfig::for_tests()).await;
    let huge = serde_json::json!({ "description": "x".repeat(1024 * 1024) }).to_string();
    let answer = send(&app, "PUT", "/info/huge", Some(huge.as_bytes())).await;
    assert_refused(
        &answer,
        413,
        "the request body is larger than the limit of 65536 bytes",
        "with a length",
    );

    // The same body without a length (chunked): the limit holds while reading.
    let mut chunked = b"PUT /info/huge HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
        Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        .to_vec();
    for chunk in huge.as_bytes().chunks(64 * 1024) {
        chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.extend_from_slice(chunk);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let answer = exchange(app.port, &chunked, LIMIT).await;
    assert_refused(&answer, 413, "larger than the limit", "chunked");

    assert_eq!(count(&app, "info").await, 0);
    assert_eq!(count(&app, "outbox").await, 0);
    // The service still serves.
    assert_eq!(put(&app, "small", "fine").await.status(), Some(201));
}

#[tokio::test]
async fn invalid_utf8_is_refused_in_bodies_and_paths() {
    let app = services::catalog(HttpConfig::for_tests()).await;
    let mut body = br#"{"description":""#.to_vec();
    body.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    body.extend_from_slice(br#""}"#);
    let answer = send(&app, "PUT", "/info/bytes", Some(&body)).await;
    assert_refused(&answer, 400, "not valid JSON", "body");

    // A lone surrogate is valid JSON syntax but not a Unicode scalar value.
    let surrogate = br#"{"description":"\ud800"}"#;
    let answer = send(&app, "PUT", "/info/surrogate", Some(surrogate)).await;
    assert_eq!(answer.status(), Some(400), "{}", answer.text());

    for path in ["/info/%FF%FE", "/info?after=%FF"] {
        let answer = send(&app, "GET", path, None).await;
        assert_eq!(answer.status(), Some(400), "case {path}: {}", answer.text());
    }
    assert_eq!(count(&app, "info").await, 0);
}
