//! web over loopback: the page with every backend down, the cluster panel against the real
//! hello and echo services, the visit counter against the harness's Redis, and the CSRF
//! checks of the forms.

use std::net::TcpListener;

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::redirect::Policy;
use service_common::{Env, HttpConfig, LogFormat};
use web::Config;

/// A URL where nothing listens: a port bound and released.
fn unreachable_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port())
}

/// Redis on a port where nothing listens.
const NO_REDIS: &str = "redis://127.0.0.1:1";

async fn spawn_web(config: Config) -> String {
    let app = web::build(&config).await.expect("web starts");
    let url = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until(std::future::pending()));
    url
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// The page's CSRF token and cookie header, as a browser would hold them.
async fn token_and_cookie(base: &str) -> (String, String) {
    let response = client().get(base).send().await.unwrap();
    let set_cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let html = response.text().await.unwrap();
    let marker = r#"name="csrf_token" value=""#;
    let start = html.find(marker).expect("the page has a form with a token") + marker.len();
    let token = html[start..start + 32].to_owned();
    assert_eq!(cookie, format!("csrf={token}"));
    (token, cookie)
}

#[tokio::test]
async fn the_page_renders_with_every_backend_down_and_names_each_one() {
    let base = spawn_web(Config::for_tests(&unreachable_url(), NO_REDIS)).await;
    let response = client().get(&base).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let html = response.text().await.unwrap();
    for expected in [
        "Entries unavailable: catalog is unavailable: cannot connect",
        "Activity feed unavailable: activity is unavailable: cannot connect",
        "hello is unavailable: cannot connect",
        "echo is unavailable: cannot connect",
        "Visit counter unavailable: Redis is unavailable",
        r#"<form method="post" action="/entries" id="add-entry">"#,
    ] {
        assert!(html.contains(expected), "missing {expected:?} in {html}");
    }
    let health = client()
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = client().get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "Redis down only degrades web");
    assert!(ready
        .text()
        .await
        .unwrap()
        .contains(r#""status":"degraded""#));
}

#[tokio::test]
async fn the_cluster_panel_shows_the_hello_chain_and_the_echo_replica() {
    let first = hello::build(&hello::Config::for_tests()).await.unwrap();
    let first_url = format!("http://127.0.0.1:{}", first.port());
    tokio::spawn(first.run_until(std::future::pending()));
    let second = hello::build(&hello::Config {
        upstream_url: Some(first_url),
        ..hello::Config::for_tests()
    })
    .await
    .unwrap();
    let hello_url = format!("http://127.0.0.1:{}", second.port());
    tokio::spawn(second.run_until(std::future::pending()));
    let echo = echo::build(&echo::Config {
        http: HttpConfig::for_tests(),
        log_format: LogFormat::Text,
        hostname: echo::hostname(&Env::from_pairs([("HOSTNAME", "echo-replica-2")])).unwrap(),
    })
    .await
    .unwrap();
    let echo_url = format!("http://127.0.0.1:{}", echo.port());
    tokio::spawn(echo.run_until(std::future::pending()));

    let base = spawn_web(Config {
        hello_url,
        echo_url,
        ..Config::for_tests(&unreachable_url(), NO_REDIS)
    })
    .await;
    let html = client()
        .get(&base)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"<dd id="hello">hello world</dd>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<dd id="echo">echo-replica-2</dd>"#),
        "{html}"
    );
    assert!(html.contains("catalog is unavailable"), "{html}");
}

#[tokio::test]
async fn a_broken_hello_chain_shows_which_hop_failed() {
    let dead_upstream = unreachable_url();
    let head = hello::build(&hello::Config {
        upstream_url: Some(dead_upstream.clone()),
        ..hello::Config::for_tests()
    })
    .await
    .unwrap();
    let hello_url = format!("http://127.0.0.1:{}", head.port());
    tokio::spawn(head.run_until(std::future::pending()));
    let base = spawn_web(Config {
        hello_url,
        ..Config::for_tests(&unreachable_url(), NO_REDIS)
    })
    .await;
    let html = client()
        .get(&base)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let shown = format!(
        r#"<dd id="hello"><span class="unavailable">hello answered 502 Bad Gateway: bad gateway: upstream {dead_upstream} is unreachable</span></dd>"#
    );
    assert!(html.contains(&shown), "{html}");
}

#[tokio::test]
async fn the_visit_counter_counts_each_view_in_redis() {
    let config = Config {
        visits_key: service_test_support::unique_name("web_visits"),
        ..Config::for_tests(&unreachable_url(), &service_test_support::test_redis_url())
    };
    let base = spawn_web(config).await;
    for n in 1..=3 {
        let html = client()
            .get(&base)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(&format!("Visits: <strong>{n}</strong>")),
            "view {n}: {html}"
        );
    }
}

#[tokio::test]
async fn forms_without_a_matching_token_are_refused_before_catalog_is_asked() {
    let base = spawn_web(Config::for_tests(&unreachable_url(), NO_REDIS)).await;
    let (token, cookie) = token_and_cookie(&base).await;
    let other = "ffffffffffffffffffffffffffffffff";
    let form = |csrf: &str| {
        vec![
            ("csrf_token", csrf.to_owned()),
            ("name", "forged".to_owned()),
            ("description", "from another site".to_owned()),
        ]
    };
    struct Case<'a> {
        path: &'a str,
        cookie: Option<&'a str>,
        token: &'a str,
        origin: Option<&'a str>,
        reason: &'a str,
    }
    let cases = [
        Case {
            path: "/entries",
            cookie: None,
            token: &token,
            origin: None,
            reason: "the browser sent no security cookie",
        },
        Case {
            path: "/entries",
            cookie: Some(&cookie),
            token: other,
            origin: None,
            reason: "the form's security token does not match",
        },
        Case {
            path: "/entries",
            cookie: Some(&cookie),
            token: "",
            origin: None,
            reason: "the form has no security token",
        },
        Case {
            path: "/entries",
            cookie: Some(&cookie),
            token: &token,
            origin: Some("http://evil.example"),
            reason: "the form was sent from another site",
        },
        Case {
            path: "/entries/forged",
            cookie: Some(&cookie),
            token: other,
            origin: None,
            reason: "the form's security token does not match",
        },
        Case {
            path: "/entries/forged/delete",
            cookie: None,
            token: &token,
            origin: None,
            reason: "the browser sent no security cookie",
        },
    ];
    for case in cases {
        let Case {
            path,
            cookie,
            token,
            origin,
            reason,
        } = case;
        let mut request = client().post(format!("{base}{path}")).form(&form(token));
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 403, "case {path} {reason}");
        let html = response.text().await.unwrap();
        // The page escapes the apostrophe like any other text.
        let shown = format!("Refused: {}.", reason.replace('\'', "&#39;"));
        assert!(html.contains(&shown), "case {path} {reason}: {html}");
    }

    // The same form with the right token gets through the check and reaches catalog, which
    // is down: the page says so and keeps what was typed.
    let response = client()
        .post(format!("{base}/entries"))
        .header(COOKIE, &cookie)
        .header("origin", &base)
        .form(&form(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let html = response.text().await.unwrap();
    assert!(
        html.contains(r#"<p class="error" id="error">catalog is unavailable: cannot connect</p>"#),
        "{html}"
    );
    assert!(html.contains(r#"value="forged""#), "{html}");
    assert!(html.contains(">from another site</textarea>"), "{html}");
}

#[tokio::test]
async fn every_post_route_refuses_a_form_without_the_token() {
    // catalog answers, and records what reaches it: a refused form must not.
    let (backend, seen) = recording_backend().await;
    let base = spawn_web(Config::for_tests(&backend, NO_REDIS)).await;
    let (_, cookie) = token_and_cookie(&base).await;
    seen.lock().unwrap().clear();
    for path in ["/entries", "/entries/forged", "/entries/forged/delete"] {
        let response = client()
            .post(format!("{base}{path}"))
            .header(COOKIE, &cookie)
            .form(&[("name", "forged"), ("description", "no token")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{path}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains("Refused: the form has no security token."),
            "{path}: {html}"
        );
        assert_eq!(*seen.lock().unwrap(), Vec::<String>::new(), "{path}");
    }
}

#[tokio::test]
async fn the_binary_refuses_a_bad_backend_url() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_web"))
        .env("CATALOG_URL", "catalog:8081")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: bad configuration: CATALOG_URL=\"catalog:8081\" is invalid: expected a URL starting with http://\n"
    );
}

/// A peer that answers 404 to everything and records the `x-request-id` of each request:
/// what web sends on the wire to the services behind it.
async fn recording_backend() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = seen.clone();
    let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap| {
        let record = record.clone();
        async move {
            let id = headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("(none)")
                .to_owned();
            record.lock().unwrap().push(id);
            axum::http::StatusCode::NOT_FOUND
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

#[tokio::test]
async fn the_request_id_is_forwarded_to_every_backend_call() {
    let (backend, seen) = recording_backend().await;
    let base = spawn_web(Config::for_tests(&backend, NO_REDIS)).await;

    // A caller's id is kept and sent on with each backend call of the page.
    let response = client()
        .get(&base)
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");
    let calls = std::mem::take(&mut *seen.lock().unwrap());
    assert!(calls.len() >= 2, "the page calls its backends: {calls:?}");
    assert!(calls.iter().all(|id| id == "trace-me-42"), "{calls:?}");

    // Without one, web's own generated id is the one the backends see.
    let response = client().get(&base).send().await.unwrap();
    let generated = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let calls = std::mem::take(&mut *seen.lock().unwrap());
    assert!(!calls.is_empty());
    assert!(
        calls.iter().all(|id| *id == generated),
        "{generated}: {calls:?}"
    );
}

#[tokio::test]
async fn metrics_show_requests_by_route_and_backend_failures_on_the_metrics_port_only() {
    let app = web::build(&Config::for_tests(&unreachable_url(), NO_REDIS))
        .await
        .expect("web starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    let metrics = format!("http://127.0.0.1:{}/metrics", app.metrics_port());
    tokio::spawn(app.run_until(std::future::pending()));
    for path in ["/", "/", "/entries/zq1/edit", "/entries/zq2/edit"] {
        // The edit pages answer 503: catalog is down.
        client().get(format!("{base}{path}")).send().await.unwrap();
    }
    // The published port has no /metrics: it is web's own 404 page.
    let public = client()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 404);
    let text = service_test_support::scrape(&metrics).await;
    for line in [
        r#"http_requests_total{route="/",method="GET",status="200"} 2"#,
        r#"route="/entries/{name}/edit",method="GET""#,
        r#"http_requests_total{route="unmatched",method="GET",status="404"} 1"#,
        r#"web_backend_failures_total{backend="catalog",reason="unreachable"}"#,
        r#"web_backend_failures_total{backend="echo",reason="unreachable"}"#,
        r#"web_backend_request_duration_seconds_count{backend="activity"}"#,
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
    assert!(!text.contains("zq"), "{text}");
}
