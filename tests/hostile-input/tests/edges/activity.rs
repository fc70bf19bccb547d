//! activity's edges: its HTTP API under generated requests, and its input stream under
//! generated entries (anyone who can write to Redis can write to `catalog.events`): a
//! malformed entry is skipped, never stored, and never stops the events behind it.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use hostile_input::raw::request;
use hostile_input::{exchange, services};
use proptest::prelude::*;
use service_common::HttpConfig;
use service_test_support::{test_redis_url, unique_name, wait_for};

use crate::strategies::{self, encode, runtime, LIMIT};

#[test]
fn generated_requests_get_json_answers_and_never_a_server_error() {
    let rt = runtime();
    let prefix = format!("{}:", unique_name("hostile"));
    let app = rt.block_on(services::activity(HttpConfig::for_tests(), &prefix));
    let path = prop_oneof![
        3 => Just("/activity".to_owned()),
        1 => Just("/stats".to_owned()),
        1 => strategies::path_segment().prop_map(|s| format!("/activity/{}", encode(&s))),
        1 => strategies::path_segment().prop_map(|s| format!("/{}", encode(&s))),
    ];
    let method = prop::sample::select(vec![
        "GET", "GET", "GET", "POST", "DELETE", "PUT", "OPTIONS",
    ]);
    proptest!(strategies::config(128), |(
        method in method,
        path in path,
        query in strategies::query(&["limit"]),
        headers in strategies::headers(),
        body in prop::collection::vec(any::<u8>(), 0..64),
    )| {
        let target = format!("{path}?{query}");
        let headers: Vec<(&[u8], &[u8])> = headers.iter().map(|(n, v)| (n.as_slice(), v.as_slice())).collect();
        let answer = rt.block_on(exchange(app.port, &request(method, target.as_bytes(), &headers, &body), LIMIT));
        let case = format!("{method} {target}");
        let status = answer.status().unwrap_or(0);
        prop_assert!((200..500).contains(&status), "{}: {}", case, answer.text());
        let json = answer.json(&case);
        if status >= 400 {
            prop_assert!(json["error"].as_str().is_some_and(|m| !m.is_empty()), "{}: {}", case, json);
        }
        if method == "GET" && path == "/activity" {
            prop_assert!(matches!(status, 200 | 400), "{}: {}", case, answer.text());
        }
    });
}

/// One field of a generated stream entry: absent, valid, or broken in a given way.
#[derive(Debug, Clone)]
enum Field {
    Absent,
    Valid(Vec<u8>),
    Broken(Vec<u8>),
}

fn uuid() -> impl Strategy<Value = String> {
    "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
}

fn field(
    valid: BoxedStrategy<Vec<u8>>,
    broken: BoxedStrategy<Vec<u8>>,
) -> impl Strategy<Value = Field> {
    prop_oneof![
        6 => valid.prop_map(Field::Valid),
        2 => broken.prop_map(Field::Broken),
        1 => Just(Field::Absent),
    ]
}

/// Bytes that are never UTF-8. High bytes alone are not enough: `C3 A9` is "é". 0xFF never
/// occurs in UTF-8, so a value that starts with it is always invalid.
fn not_utf8() -> BoxedStrategy<Vec<u8>> {
    prop::collection::vec(0x80u8..=0xff, 0..5)
        .prop_map(|rest| [vec![0xff], rest].concat())
        .boxed()
}

/// A stream entry: the five fields of an event, each maybe broken, plus unknown fields.
#[derive(Debug, Clone)]
struct Entry {
    event_id: Field,
    kind: Field,
    name: Field,
    description: Field,
    occurred_at: Field,
    extra: Vec<(String, Vec<u8>)>,
}

fn entry() -> impl Strategy<Value = Entry> {
    let text = || {
        any::<String>()
            .prop_filter("no NUL", |s| !s.contains('\0'))
            .prop_map(String::into_bytes)
    };
    (
        field(
            uuid().prop_map(String::into_bytes).boxed(),
            prop_oneof![
                Just(b"not-a-uuid".to_vec()),
                "[0-9a-f]{32}".prop_map(String::into_bytes),
                "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-g]{11}z"
                    .prop_map(String::into_bytes),
                Just(b"' OR 1=1 --".to_vec()),
                not_utf8(),
            ]
            .boxed(),
        ),
        field(
            prop::sample::select(vec!["created", "updated", "deleted"])
                .prop_map(|s| s.as_bytes().to_vec())
                .boxed(),
            prop_oneof![
                Just(b"CREATED".to_vec()),
                Just(b"dropped".to_vec()),
                Just(Vec::new()),
                not_utf8()
            ]
            .boxed(),
        ),
        field(
            text().boxed(),
            prop_oneof![Just(b"a\0b".to_vec()), not_utf8()].boxed(),
        ),
        field(
            text().boxed(),
            prop_oneof![Just(b"\0".to_vec()), not_utf8()].boxed(),
        ),
        field(
            prop::sample::select(vec![
                "2026-11-25T10:48:05.414594Z",
                "1970-01-01T00:00:00+00:00",
                "9999-12-31T23:59:59+23:59",
                "0000-01-01T00:00:00+01:00",
            ])
            .prop_map(|s| s.as_bytes().to_vec())
            .boxed(),
            prop_oneof![
                Just(b"yesterday".to_vec()),
                Just(b"2026-13-45T99:00:00Z".to_vec()),
                Just(b"1732531685".to_vec()),
                not_utf8(),
            ]
            .boxed(),
        ),
        prop::collection::vec(
            ("[a-z_]{1,10}", prop::collection::vec(any::<u8>(), 0..12)),
            0..3,
        ),
    )
        .prop_map(
            |(event_id, kind, name, description, occurred_at, extra)| Entry {
                event_id,
                kind,
                name,
                description,
                occurred_at,
                extra: extra
                    .into_iter()
                    .filter(|(k, _)| {
                        !["event_id", "kind", "name", "description", "occurred_at"]
                            .contains(&k.as_str())
                    })
                    .collect(),
            },
        )
}

impl Entry {
    /// The event id activity must store this entry under, or `None` when it must skip it:
    /// every required field present and valid, the description absent or valid.
    fn stored_id(&self) -> Option<String> {
        let valid = |f: &Field| matches!(f, Field::Valid(_));
        let Field::Valid(id) = &self.event_id else {
            return None;
        };
        (valid(&self.kind)
            && valid(&self.name)
            && valid(&self.occurred_at)
            && !matches!(self.description, Field::Broken(_)))
        .then(|| String::from_utf8_lossy(id).into_owned())
    }

    fn fields(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = self.extra.clone();
        for (key, field) in [
            ("event_id", &self.event_id),
            ("kind", &self.kind),
            ("name", &self.name),
            ("description", &self.description),
            ("occurred_at", &self.occurred_at),
        ] {
            if let Field::Valid(v) | Field::Broken(v) = field {
                out.push((key.to_owned(), v.clone()));
            }
        }
        out
    }
}

async fn xadd(
    conn: &mut redis::aio::MultiplexedConnection,
    stream: &str,
    fields: &[(String, Vec<u8>)],
) {
    let mut command = redis::cmd("XADD");
    command.arg(stream).arg("*");
    if fields.is_empty() {
        // XADD needs at least one field.
        command.arg("junk").arg("");
    }
    for (key, value) in fields {
        command.arg(key).arg(value.as_slice());
    }
    let _: String = command.query_async(conn).await.expect("XADD");
}

async fn stored_ids(app: &hostile_input::Running) -> BTreeSet<String> {
    app.db()
        .await
        .query("SELECT event_id::text FROM events", &[])
        .await
        .expect("read events")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[test]
fn malformed_stream_entries_are_skipped_and_valid_ones_stored_once() {
    let rt = runtime();
    let prefix = format!("{}:", unique_name("hostile"));
    let app = rt.block_on(services::activity(HttpConfig::for_tests(), &prefix));
    let stream = format!("{prefix}{}", activity::EVENTS_STREAM);
    let mut conn = rt.block_on(async {
        redis::Client::open(test_redis_url())
            .expect("redis url")
            .get_multiplexed_async_connection()
            .await
            .expect("redis")
    });
    let sentinel = |id: &str| {
        vec![
            ("event_id".to_owned(), id.as_bytes().to_vec()),
            ("kind".to_owned(), b"created".to_vec()),
            ("name".to_owned(), b"sentinel".to_vec()),
            ("occurred_at".to_owned(), b"2026-11-25T10:48:05Z".to_vec()),
        ]
    };
    // The first event proves the consumer group is reading before the generated ones go in.
    let first = "00000000-0000-4000-8000-000000000001";
    rt.block_on(async {
        xadd(&mut conn, &stream, &sentinel(first)).await;
        wait_for(
            "the first event stored",
            Duration::from_secs(30),
            || async { stored_ids(&app).await.contains(first) },
        )
        .await;
    });
    let expected = Mutex::new(BTreeSet::from([first.to_owned()]));
    proptest!(strategies::config(160), |(entry in entry(), twice in prop::bool::weighted(0.2))| {
        let mut conn = conn.clone();
        rt.block_on(async {
            xadd(&mut conn, &stream, &entry.fields()).await;
            if twice {
                // Delivered again (at-least-once): stored once.
                xadd(&mut conn, &stream, &entry.fields()).await;
            }
        });
        if let Some(id) = entry.stored_id() {
            expected.lock().expect("expected").insert(id);
        }
    });
    let last = "00000000-0000-4000-8000-000000000002";
    let mut expected = expected.into_inner().expect("expected");
    expected.insert(last.to_owned());
    rt.block_on(async {
        xadd(&mut conn, &stream, &sentinel(last)).await;
        wait_for("the last event stored", Duration::from_secs(30), || async {
            stored_ids(&app).await.contains(last)
        })
        .await;
        assert_eq!(stored_ids(&app).await, expected, "stored events");
        let (status, stats) = {
            let answer = exchange(app.port, &request("GET", b"/stats", &[], b""), LIMIT).await;
            (answer.status(), answer.json("stats"))
        };
        assert_eq!(status, Some(200));
        assert_eq!(
            stats["total"].as_u64(),
            Some(expected.len() as u64),
            "{stats}"
        );
    });
    assert!(expected.len() > 2, "no generated entry was valid");
}

/// A time inside RFC 3339's range whose UTC instant is not (year 10000): converting it to
/// UTC for storage must refuse it as a bad event, not panic the consumer task.
#[test]
fn an_event_time_past_year_9999_in_utc_does_not_stop_the_consumer() {
    let rt = runtime();
    let prefix = format!("{}:", unique_name("hostile"));
    let app = rt.block_on(services::activity(HttpConfig::for_tests(), &prefix));
    let stream = format!("{prefix}{}", activity::EVENTS_STREAM);
    rt.block_on(async {
        let mut conn = redis::Client::open(test_redis_url())
            .expect("redis url")
            .get_multiplexed_async_connection()
            .await
            .expect("redis");
        let event = |id: &str, at: &str| {
            vec![
                ("event_id".to_owned(), id.as_bytes().to_vec()),
                ("kind".to_owned(), b"created".to_vec()),
                ("name".to_owned(), b"late".to_vec()),
                ("occurred_at".to_owned(), at.as_bytes().to_vec()),
            ]
        };
        let hostile = "00000000-0000-4000-8000-00000000000a";
        let after = "00000000-0000-4000-8000-00000000000b";
        xadd(
            &mut conn,
            &stream,
            &event(hostile, "9999-12-31T23:59:59-23:59"),
        )
        .await;
        xadd(&mut conn, &stream, &event(after, "2026-11-25T10:48:05Z")).await;
        wait_for(
            "the event behind the hostile one stored",
            Duration::from_secs(20),
            || async { stored_ids(&app).await.contains(after) },
        )
        .await;
        assert!(!stored_ids(&app).await.contains(hostile));
    });
}
