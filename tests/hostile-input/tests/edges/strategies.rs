//! Generators of hostile pieces of a request, shared by the services' property tests.

use std::time::Duration;

use proptest::prelude::*;

/// How long one exchange with a service may take before a property test calls it hung.
pub const LIMIT: Duration = Duration::from_secs(15);

/// The runtime a property test drives its services and exchanges with: proptest's cases run
/// synchronously, each blocking on it.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Percent-encodes every byte that is not unreserved, so any byte string becomes one path
/// segment or query value the server decodes back to the same bytes.
pub fn encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (*b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Strings aimed at path parameters: traversal in its usual spellings, encoded separators,
/// NUL, overlong and invalid UTF-8, injection, and plain random text.
pub fn path_segment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => "[A-Za-z0-9_.-]{1,70}".prop_map(String::into_bytes),
        2 => prop::sample::select(vec![
            "..", ".", "...", "../..", "../../etc/passwd", "..\\..\\windows", "%2e%2e",
            "..%2f..%2f", "%252e%252e%252f", "a/../b", "/etc/passwd", "C:\\boot.ini",
            "a\u{0}b", "\u{0}", "%00", "a%00.sql", "\u{202e}gpj.exe", "' OR 1=1 --",
            "<script>alert(1)</script>", "${jndi:ldap://x}", "a b", " ", "~root", "?x=1", "#frag",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..80),
        1 => any::<String>().prop_map(String::into_bytes),
    ]
}

/// Header pairs a client may send: valid names with values of visible ASCII and obs-text
/// bytes (0x80-0xFF, which HTTP allows in values but which are not UTF-8).
pub fn headers() -> impl Strategy<Value = Vec<(Vec<u8>, Vec<u8>)>> {
    let name = prop_oneof![
        "[A-Za-z][A-Za-z0-9-]{0,30}",
        prop::sample::select(vec![
            "Cookie",
            "Accept",
            "Content-Language",
            "X-Request-Id",
            "Forwarded",
            "X-Forwarded-For",
            "Origin",
            "Referer",
            "Authorization",
            "If-None-Match",
            "Range",
        ])
        .prop_map(str::to_owned),
    ];
    let value = prop::collection::vec(
        prop_oneof![4 => 0x20u8..0x7f, 1 => 0x80u8..=0xff, 1 => Just(b'\t')],
        0..200,
    )
    .prop_map(|mut v| {
        // Leading and trailing white space is not part of a header value.
        while v.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            v.remove(0);
        }
        v
    });
    prop::collection::vec((name.prop_map(String::into_bytes), value), 0..4)
}

/// A query string: random keys and values, encoded or raw, repeated keys, no `=`.
pub fn query(keys: &'static [&'static str]) -> impl Strategy<Value = String> {
    let key = prop_oneof![
        3 => prop::sample::select(keys.to_vec()).prop_map(str::to_owned),
        1 => "[a-z]{1,8}",
    ];
    let value = prop_oneof![
        "-?[0-9]{1,25}",
        "[A-Za-z0-9_.-]{0,70}",
        path_segment().prop_map(|b| encode(&b)),
        // Raw characters RFC 3986 allows in a query; others make the request line
        // itself invalid, which `invalid_request_lines_get_400` covers.
        prop::collection::vec(
            prop::sample::select(b"-._~!$&'()*+,;=:@/?ABCxyz019".to_vec()),
            0..20
        )
        .prop_map(|b| String::from_utf8(b).expect("ASCII")),
    ];
    prop::collection::vec((key, value, any::<bool>()), 0..4).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v, with_value)| if with_value { format!("{k}={v}") } else { k })
            .collect::<Vec<_>>()
            .join("&")
    })
}

/// Any JSON value, nested a few levels.
pub fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The name rule of the catalog, written again here as the oracle: 1 to 64 characters of
/// `A-Z a-z 0-9 _ . -`.
pub fn is_valid_name(bytes: &[u8]) -> bool {
    (1..=64).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// How many cases each property runs: enough to meet every branch of the generators, few
/// enough that each property takes seconds against the real services.
pub fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // No shrinking: the servers keep state between cases, so a shrunk case would run
        // against what the failing one left behind. The first failing case is printed.
        max_shrink_iters: 0,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}
