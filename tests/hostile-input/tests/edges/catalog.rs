//! catalog's JSON API under generated requests: any method, any path segment, any body,
//! any content type, random headers and query strings. A model of what should be stored
//! follows along; at the end the database and the event stream must hold exactly that.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use hostile_input::raw::request;
use hostile_input::{exchange, services, Answer};
use proptest::prelude::*;
use service_common::HttpConfig;

use crate::strategies::{self, encode, is_valid_name, runtime, LIMIT};

/// A body for `PUT /info/{name}`.
#[derive(Debug, Clone)]
enum Body {
    /// `{"description": text}`.
    Description(String),
    /// `{"description": text}` plus another field.
    Extra(String, String, serde_json::Value),
    /// Any JSON at all.
    Json(serde_json::Value),
    /// Any bytes at all.
    Bytes(Vec<u8>),
    /// `{"description":"…"}` with raw bytes inside the string (invalid UTF-8 or a lone
    /// surrogate escape).
    BadText(Vec<u8>),
}

impl Body {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Self::Description(text) => serde_json::json!({ "description": text })
                .to_string()
                .into_bytes(),
            Self::Extra(text, key, value) => {
                let mut object = serde_json::Map::new();
                object.insert("description".into(), text.clone().into());
                object.insert(key.clone(), value.clone());
                serde_json::Value::Object(object).to_string().into_bytes()
            }
            Self::Json(value) => value.to_string().into_bytes(),
            Self::Bytes(bytes) => bytes.clone(),
            Self::BadText(inner) => {
                let mut out = br#"{"description":""#.to_vec();
                out.extend_from_slice(inner);
                out.extend_from_slice(br#""}"#);
                out
            }
        }
    }

    /// The description this body validly sets, or `None` when catalog must refuse it. The
    /// rules, written again as the oracle: a JSON object with exactly the key `description`,
    /// a string of at most 4096 characters without NUL.
    fn valid_description(&self) -> Option<String> {
        let value: serde_json::Value = serde_json::from_slice(&self.bytes()).ok()?;
        let object = value.as_object()?;
        if object.len() != 1 {
            return None;
        }
        let text = object.get("description")?.as_str()?;
        (!text.contains('\0') && text.chars().count() <= 4096).then(|| text.to_owned())
    }
}

fn description() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        1 => (4090usize..4100).prop_map(|n| "é".repeat(n)),
        1 => Just("a\0b".to_owned()),
        1 => Just("'; DROP TABLE info; --".to_owned()),
    ]
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        4 => description().prop_map(Body::Description),
        1 => (description(), "[a-z_]{1,12}", strategies::json_value())
            .prop_filter("another key", |(_, k, _)| k != "description")
            .prop_map(|(d, k, v)| Body::Extra(d, k, v)),
        2 => strategies::json_value().prop_map(Body::Json),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Body::Bytes),
        1 => prop_oneof![
            prop::collection::vec(0x80u8..=0xff, 1..8),
            Just(br"\ud800".to_vec()),
            Just(br"\udfff\ud800".to_vec()),
        ]
        .prop_map(Body::BadText),
    ]
}

fn content_type() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![
        6 => Just(Some("application/json")),
        1 => Just(Some("application/json; charset=utf-8")),
        1 => Just(Some("text/plain")),
        1 => Just(Some("application/x-www-form-urlencoded")),
        1 => Just(None),
    ]
}

/// One request to `/info/{segment}`.
#[derive(Debug, Clone)]
struct Op {
    method: &'static str,
    segment: Vec<u8>,
    body: Body,
    content_type: Option<&'static str>,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
}

fn op() -> impl Strategy<Value = Op> {
    (
        prop::sample::select(vec!["GET", "PUT", "PUT", "PUT", "DELETE", "POST", "PATCH"]),
        prop_oneof![
            // A few names again and again, so reads, replaces and deletes meet stored entries.
            2 => prop::sample::select(vec!["a", "b", "..", "x.y-z_0"]).prop_map(|s| s.as_bytes().to_vec()),
            3 => strategies::path_segment(),
        ],
        body(),
        content_type(),
        strategies::headers(),
    )
        .prop_map(|(method, segment, body, content_type, headers)| Op {
            method,
            segment,
            body,
            content_type,
            headers,
        })
}

impl Op {
    fn request(&self) -> Vec<u8> {
        let target = format!("/info/{}", encode(&self.segment));
        let mut headers: Vec<(&[u8], &[u8])> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_slice(), v.as_slice()))
            .collect();
        if let Some(content_type) = self.content_type {
            headers.push((b"Content-Type", content_type.as_bytes()));
        }
        let body = if matches!(self.method, "PUT" | "POST" | "PATCH") {
            self.body.bytes()
        } else {
            Vec::new()
        };
        request(self.method, target.as_bytes(), &headers, &body)
    }
}

/// Checks one answer against the model, and updates the model with what was stored.
fn check(
    op: &Op,
    answer: &Answer,
    model: &mut BTreeMap<String, String>,
) -> Result<(), TestCaseError> {
    let case = format!("{op:?}");
    let status = answer.status().ok_or_else(|| {
        TestCaseError::fail(format!("{case}: no HTTP answer: {:?}", answer.text()))
    })?;
    prop_assert!(status < 500, "{}: server error {}", case, answer.text());
    if status == 204 {
        prop_assert_eq!(op.method, "DELETE");
    } else {
        let content_type = answer.header("content-type").unwrap_or_default();
        prop_assert!(
            content_type.starts_with("application/json"),
            "{}: {}",
            case,
            answer.text()
        );
        let body = answer.json(&case);
        if status >= 400 {
            let message = body["error"].as_str().unwrap_or_default();
            prop_assert!(
                !message.is_empty(),
                "{}: no error message: {}",
                case,
                answer.text()
            );
        }
    }
    let valid_name = is_valid_name(&op.segment);
    let name = String::from_utf8_lossy(&op.segment).into_owned();
    if !valid_name {
        // An empty segment is another path (`/info/`), which no route serves.
        let wanted = if op.segment.is_empty() { 404 } else { 400 };
        if matches!(op.method, "GET" | "PUT" | "DELETE") {
            prop_assert_eq!(status, wanted, "{}: {}", case, answer.text());
        } else {
            prop_assert!(
                status == 405 || status == wanted,
                "{}: {}",
                case,
                answer.text()
            );
        }
        return Ok(());
    }
    match op.method {
        "GET" => match model.get(&name) {
            Some(description) => {
                prop_assert_eq!(status, 200, "{}: {}", case, answer.text());
                let body = answer.json(&case);
                prop_assert_eq!(body["description"].as_str(), Some(description.as_str()));
            }
            None => prop_assert_eq!(status, 404, "{}: {}", case, answer.text()),
        },
        "DELETE" => {
            let wanted = if model.remove(&name).is_some() {
                204
            } else {
                404
            };
            prop_assert_eq!(status, wanted, "{}: {}", case, answer.text());
        }
        "PUT" => {
            let json_type = op
                .content_type
                .is_some_and(|t| t.starts_with("application/json"));
            match op.body.valid_description().filter(|_| json_type) {
                Some(description) => {
                    let wanted = if model.contains_key(&name) { 200 } else { 201 };
                    prop_assert_eq!(status, wanted, "{}: {}", case, answer.text());
                    model.insert(name, description);
                }
                None => prop_assert!(
                    matches!(status, 400 | 415 | 422),
                    "{}: refused body got {}",
                    case,
                    answer.text()
                ),
            }
        }
        _ => prop_assert_eq!(status, 405, "{}: {}", case, answer.text()),
    }
    Ok(())
}

#[test]
fn generated_requests_get_json_answers_and_store_exactly_the_valid_writes() {
    let rt = runtime();
    let app = rt.block_on(services::catalog(HttpConfig::for_tests()));
    let model = Mutex::new(BTreeMap::new());
    let writes = Mutex::new(0usize);
    proptest!(strategies::config(160), |(op in op())| {
        let answer = rt.block_on(exchange(app.port, &op.request(), LIMIT));
        check(&op, &answer, &mut model.lock().expect("model"))?;
        let accepted = matches!(
            (op.method, answer.status()),
            ("PUT", Some(200 | 201)) | ("DELETE", Some(204))
        );
        *writes.lock().expect("writes") += usize::from(accepted);
    });
    let model = model.into_inner().expect("model");
    let writes = writes.into_inner().expect("writes");
    assert!(
        writes > 0,
        "the generated requests never reached an accepted write"
    );
    rt.block_on(async {
        let db = app.db().await;
        let rows = db
            .query("SELECT name, description FROM info ORDER BY name", &[])
            .await
            .expect("read info");
        let stored: BTreeMap<String, String> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        assert_eq!(
            stored, model,
            "the database holds exactly the accepted writes"
        );
        // Each accepted write, and nothing else, became one event.
        service_test_support::wait_for("an empty outbox", Duration::from_secs(30), || async {
            let n: i64 = db
                .query_one("SELECT count(*) FROM outbox", &[])
                .await
                .expect("count outbox")
                .get(0);
            n == 0
        })
        .await;
        let mut redis = redis::Client::open(service_test_support::test_redis_url())
            .expect("redis url")
            .get_multiplexed_async_connection()
            .await
            .expect("redis");
        let events: usize = redis::cmd("XLEN")
            .arg(format!("{}{}", app.prefix, catalog::EVENTS_STREAM))
            .query_async(&mut redis)
            .await
            .expect("XLEN");
        assert_eq!(events, writes, "one event per accepted write");
    });
}

#[test]
fn generated_list_queries_get_a_page_or_a_clear_400() {
    let rt = runtime();
    let app = rt.block_on(services::catalog(HttpConfig::for_tests()));
    proptest!(strategies::config(96), |(query in strategies::query(&["limit", "after"]), headers in strategies::headers())| {
        let target = format!("/info?{query}");
        let headers: Vec<(&[u8], &[u8])> = headers.iter().map(|(n, v)| (n.as_slice(), v.as_slice())).collect();
        let answer = rt.block_on(exchange(app.port, &request("GET", target.as_bytes(), &headers, b""), LIMIT));
        let case = format!("GET {target}");
        let status = answer.status();
        prop_assert!(matches!(status, Some(200 | 400)), "{}: {}", case, answer.text());
        let body = answer.json(&case);
        if status == Some(200) {
            prop_assert!(body["items"].is_array(), "{}: {}", case, body);
        } else {
            prop_assert!(body["error"].as_str().is_some_and(|m| !m.is_empty()), "{}: {}", case, body);
        }
    });
}
