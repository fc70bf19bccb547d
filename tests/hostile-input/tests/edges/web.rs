//! web's forms and paths under generated input, in front of a real catalog and activity:
//! a form is stored in the catalog exactly when its name and description are valid, and
//! no path parameter reaches anything but the entry it names.

use std::collections::BTreeMap;
use std::sync::Mutex;

use hostile_input::raw::request;
use hostile_input::{exchange, services, Running};
use proptest::prelude::*;
use service_common::HttpConfig;
use service_test_support::unique_name;

use crate::strategies::{self, encode, is_valid_name, runtime, LIMIT};

/// A well-formed CSRF token; the same value goes in the cookie and the form.
const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// catalog, activity and web in front of them.
struct Stack {
    catalog: Running,
    web: Running,
    _activity: Running,
}

async fn stack() -> Stack {
    let catalog = services::catalog(HttpConfig::for_tests()).await;
    let activity = services::activity(HttpConfig::for_tests(), &catalog.prefix).await;
    let web = services::web(HttpConfig::for_tests(), &catalog.base, &activity.base).await;
    Stack {
        catalog,
        web,
        _activity: activity,
    }
}

async fn stored(catalog: &Running) -> BTreeMap<String, String> {
    catalog
        .db()
        .await
        .query("SELECT name, description FROM info", &[])
        .await
        .expect("read info")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// A form post with the matching CSRF cookie.
fn post_form(target: &str, fields: &[(&str, &[u8])]) -> Vec<u8> {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    let cookie = format!("csrf={TOKEN}");
    request(
        "POST",
        target.as_bytes(),
        &[
            (b"Content-Type", b"application/x-www-form-urlencoded"),
            (b"Cookie", cookie.as_bytes()),
        ],
        body.join("&").as_bytes(),
    )
}

fn text() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => any::<String>().prop_map(String::into_bytes),
        1 => (4090usize..4100).prop_map(|n| "x\r\n".repeat(n / 3).into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..40),
        1 => Just(b"<script>alert(1)</script>".to_vec()),
    ]
}

fn name() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => prop::sample::select(vec!["a", "b", "x.y-z_0", " padded "]).prop_map(|s| s.as_bytes().to_vec()),
        3 => strategies::path_segment(),
    ]
}

/// What the catalog must hold after web's add form was sent, by the catalog's rules: a
/// trimmed valid name not yet taken, a description of at most 4096 characters (after CRLF
/// becomes LF) without NUL.
fn expected_add(
    name: &[u8],
    description: &[u8],
    model: &BTreeMap<String, String>,
) -> Option<(String, String)> {
    // A form with invalid UTF-8 is refused whole (`invalid_utf8_in_a_form_is_refused`).
    let name = std::str::from_utf8(name).ok()?.trim().to_owned();
    let description = std::str::from_utf8(description).ok()?.replace("\r\n", "\n");
    let valid = is_valid_name(name.as_bytes())
        && !matches!(name.as_str(), "" | "." | "..")
        && !model.contains_key(&name)
        && !description.contains('\0')
        && description.chars().count() <= 4096;
    valid.then_some((name, description))
}

#[test]
fn generated_add_forms_store_exactly_the_valid_entries() {
    let rt = runtime();
    let stack = rt.block_on(stack());
    let model = Mutex::new(BTreeMap::new());
    let name = name();
    proptest!(strategies::config(96), |(name in name, description in text())| {
        let answer = rt.block_on(exchange(
            stack.web.port,
            &post_form("/entries", &[("csrf_token", TOKEN.as_bytes()), ("name", &name), ("description", &description)]),
            LIMIT,
        ));
        let case = format!("name {:?}, description {:?}", String::from_utf8_lossy(&name), String::from_utf8_lossy(&description[..description.len().min(40)]));
        let status = answer.status().unwrap_or(0);
        prop_assert!((200..500).contains(&status), "{}: {}", case, answer.head());
        let mut model = model.lock().expect("model");
        match expected_add(&name, &description, &model) {
            Some((name, description)) => {
                prop_assert_eq!(status, 303, "{}: {}", case, answer.head());
                model.insert(name, description);
            }
            None => prop_assert!(matches!(status, 400 | 404 | 409 | 422), "{}: {}", case, answer.head()),
        }
        let stored = rt.block_on(stored(&stack.catalog));
        prop_assert_eq!(&stored, &*model, "{}", case);
    });
}

#[test]
fn generated_entry_paths_touch_only_the_entry_they_name() {
    let rt = runtime();
    let stack = rt.block_on(stack());
    // Entries a traversal could reach by accident.
    rt.block_on(async {
        for name in ["a", "info", "healthz", "keep"] {
            let answer = exchange(
                stack.web.port,
                &post_form(
                    "/entries",
                    &[
                        ("csrf_token", TOKEN.as_bytes()),
                        ("name", name.as_bytes()),
                        ("description", b"kept"),
                    ],
                ),
                LIMIT,
            )
            .await;
            assert_eq!(answer.status(), Some(303), "{}", answer.text());
        }
    });
    let segment = strategies::path_segment().prop_filter(
        // `.` and `..` are covered by `dot_and_empty_names_get_a_client_error`.
        "not a dot segment",
        |s| !matches!(s.as_slice(), b"." | b".."),
    );
    let action = prop::sample::select(vec!["edit", "save", "delete"]);
    proptest!(strategies::config(96), |(segment in segment, action in action)| {
        let before = rt.block_on(stored(&stack.catalog));
        let encoded = encode(&segment);
        let request = match action {
            "edit" => request("GET", format!("/entries/{encoded}/edit").as_bytes(), &[], b""),
            "save" => post_form(&format!("/entries/{encoded}"), &[("csrf_token", TOKEN.as_bytes()), ("description", b"changed")]),
            _ => post_form(&format!("/entries/{encoded}/delete"), &[("csrf_token", TOKEN.as_bytes())]),
        };
        let answer = rt.block_on(exchange(stack.web.port, &request, LIMIT));
        let case = format!("{action} {:?}", String::from_utf8_lossy(&segment));
        let status = answer.status().unwrap_or(0);
        prop_assert!((200..500).contains(&status), "{}: {}", case, answer.head());
        let after = rt.block_on(stored(&stack.catalog));
        // Only the entry named by the segment may change.
        let named = String::from_utf8(segment.clone()).ok().filter(|n| is_valid_name(n.as_bytes()));
        let mut others_before = before.clone();
        let mut others_after = after.clone();
        if let Some(name) = &named {
            others_before.remove(name);
            others_after.remove(name);
        }
        prop_assert_eq!(others_before, others_after, "{}", case);
        if named.is_none() {
            prop_assert!(status >= 400, "{}: {}", case, answer.head());
        }
    });
    let after = rt.block_on(stored(&stack.catalog));
    for name in ["info", "healthz", "keep"] {
        assert!(
            after.contains_key(name),
            "{name} was deleted through a path"
        );
    }
}

/// `/entries/%2E%2E/delete`: the name `..` would be dropped from the catalog URL as a dot
/// segment, so web would ask catalog for `/info` (the list) instead of the entry. Such names,
/// and empty ones, are the client's error.
#[test]
fn dot_and_empty_names_get_a_client_error() {
    let rt = runtime();
    let stack = rt.block_on(stack());
    rt.block_on(async {
        for dots in ["%2E", "%2E%2E", ".%2e"] {
            for request in [
                request("GET", format!("/entries/{dots}/edit").as_bytes(), &[], b""),
                post_form(
                    &format!("/entries/{dots}"),
                    &[("csrf_token", TOKEN.as_bytes()), ("description", b"x")],
                ),
                post_form(
                    &format!("/entries/{dots}/delete"),
                    &[("csrf_token", TOKEN.as_bytes())],
                ),
            ] {
                let answer = exchange(stack.web.port, &request, LIMIT).await;
                let status = answer.status().unwrap_or(0);
                assert!(
                    (400..500).contains(&status),
                    "{}: {}",
                    String::from_utf8_lossy(&request),
                    answer.head()
                );
            }
        }
        for name in [".", "..", "", "   "] {
            let answer = exchange(
                stack.web.port,
                &post_form(
                    "/entries",
                    &[
                        ("csrf_token", TOKEN.as_bytes()),
                        ("name", name.as_bytes()),
                        ("description", b"x"),
                    ],
                ),
                LIMIT,
            )
            .await;
            let status = answer.status().unwrap_or(0);
            assert!(
                (400..500).contains(&status),
                "add {name:?}: {}",
                answer.head()
            );
        }
    });
}

#[test]
fn a_name_unique_to_this_test_is_added_and_shown() {
    // The happy path through the same raw client, so a broken helper cannot make the
    // properties above pass by refusing everything.
    let rt = runtime();
    let stack = rt.block_on(stack());
    let name = unique_name("n");
    rt.block_on(async {
        let answer = exchange(
            stack.web.port,
            &post_form(
                "/entries",
                &[
                    ("csrf_token", TOKEN.as_bytes()),
                    ("name", name.as_bytes()),
                    ("description", b"<b>bold</b>"),
                ],
            ),
            LIMIT,
        )
        .await;
        assert_eq!(answer.status(), Some(303), "{}", answer.text());
        let page = exchange(stack.web.port, &request("GET", b"/", &[], b""), LIMIT).await;
        let html = String::from_utf8_lossy(&page.body()).into_owned();
        assert!(html.contains(&name), "{html}");
        assert!(
            html.contains("&lt;b&gt;bold&lt;/b&gt;") || html.contains("&#60;b&#62;bold"),
            "{html}"
        );
        assert!(!html.contains("<b>bold</b>"), "unescaped HTML in the page");
    });
}

/// axum's `Form` decodes percent-encoded bytes lossily: a description with invalid UTF-8
/// must be refused, not stored with U+FFFD in place of the bytes.
#[test]
fn invalid_utf8_in_a_form_is_refused() {
    let rt = runtime();
    let stack = rt.block_on(stack());
    rt.block_on(async {
        let answer = exchange(
            stack.web.port,
            &post_form(
                "/entries",
                &[
                    ("csrf_token", TOKEN.as_bytes()),
                    ("name", b"bytes"),
                    ("description", b"ok \xff\xfe"),
                ],
            ),
            LIMIT,
        )
        .await;
        assert_eq!(answer.status(), Some(400), "{}", answer.head());
        assert!(stored(&stack.catalog).await.is_empty());
    });
}
