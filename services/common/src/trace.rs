//! W3C Trace Context (`traceparent`): one trace id follows an "add entry" from web through
//! catalog, its outbox row and the stream event into activity, so every log line of it can
//! be found by one id.
//!
//! A service continues the trace a caller sends and starts a new one otherwise. A header that
//! is not a valid `traceparent` is replaced by a new trace: its text is never logged, stored
//! or sent on, so a caller cannot put anything of its own into another service's logs.

use std::fmt;

use axum::http::{HeaderMap, HeaderName};

/// The header of the W3C Trace Context recommendation.
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// The position in a trace of one unit of work: the trace it belongs to and its own span id,
/// which the calls it makes name as their parent.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceContext {
    trace_id: u128,
    span_id: u64,
    sampled: bool,
}

impl TraceContext {
    /// A new trace, recorded (this cluster logs every request).
    pub fn new_root() -> Self {
        Self {
            trace_id: nonzero(|| uuid::Uuid::new_v4().as_u128()),
            span_id: new_span_id(),
            sampled: true,
        }
    }

    /// The work this service does for a caller whose context is `parent`: the same trace, a
    /// span of its own.
    pub fn child(&self) -> Self {
        Self {
            span_id: new_span_id(),
            ..*self
        }
    }

    /// Continues the trace of an incoming `traceparent`, or starts one when there is none,
    /// more than one, or it is malformed.
    pub fn continue_or_start(headers: &HeaderMap) -> Self {
        let mut values = headers.get_all(TRACEPARENT).iter();
        match (values.next(), values.next()) {
            (Some(value), None) => value
                .to_str()
                .ok()
                .and_then(Self::parse)
                .map_or_else(Self::new_root, |parent| parent.child()),
            _ => Self::new_root(),
        }
    }

    /// Reads a `traceparent` value as the recommendation (level 1) has parsers read it:
    /// version 00 is exactly `00-<32 hex>-<16 hex>-<2 hex>` in lower case, with neither id
    /// all zeros; a later version may append `-…` fields, which are ignored; version `ff`
    /// is invalid.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() < 55 {
            return None;
        }
        let version = hex(&bytes[0..2])? as u8;
        let fits = match version {
            0xff => false,
            0 => bytes.len() == 55,
            _ => bytes.len() == 55 || bytes[55] == b'-',
        };
        if !fits || bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
            return None;
        }
        let trace_id = hex(&bytes[3..35])?;
        let span_id = hex(&bytes[36..52])? as u64;
        let flags = hex(&bytes[53..55])? as u8;
        if trace_id == 0 || span_id == 0 {
            return None;
        }
        Some(Self {
            trace_id,
            span_id,
            sampled: flags & 1 == 1,
        })
    }

    /// The trace id: 32 lower-case hexadecimal digits when shown, as logs and the stored
    /// event show it.
    pub fn trace_id(&self) -> TraceId {
        TraceId(self.trace_id)
    }

    /// The `traceparent` value that names this span as the parent of a call it makes.
    /// Always version 00, with only the sampled flag carried.
    pub fn header_value(&self) -> String {
        format!(
            "00-{:032x}-{:016x}-{:02x}",
            self.trace_id,
            self.span_id,
            u8::from(self.sampled)
        )
    }
}

/// A trace id, shown as 32 lower-case hexadecimal digits (without allocating, so a request
/// span can record it at no cost).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TraceId(u128);

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.header_value())
    }
}

/// The value of lower-case hexadecimal digits (at most 32), or `None` for any other byte.
/// Upper case is refused as the recommendation requires: a header that differs from what
/// every conforming sender writes is more likely forged than valid.
fn hex(digits: &[u8]) -> Option<u128> {
    digits.iter().try_fold(0u128, |value, &digit| {
        let nibble = match digit {
            b'0'..=b'9' => digit - b'0',
            b'a'..=b'f' => digit - b'a' + 10,
            _ => return None,
        };
        Some(value << 4 | u128::from(nibble))
    })
}

/// Random bits from the same thread-local generator the request ids use. The low half of
/// a v4 UUID has only its two variant bits fixed.
fn new_span_id() -> u64 {
    nonzero(|| uuid::Uuid::new_v4().as_u128() as u64)
}

/// All zeros means "no id" in the recommendation: draw again in that (improbable) case.
fn nonzero<T: Default + PartialEq>(draw: impl Fn() -> T) -> T {
    loop {
        let value = draw();
        if value != T::default() {
            return value;
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use proptest::prelude::*;

    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn the_recommendations_example_is_continued_with_a_span_of_our_own() {
        let parent = TraceContext::parse(VALID).expect("valid");
        assert_eq!(
            parent.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(parent.header_value(), VALID);
        let mut headers = HeaderMap::new();
        headers.insert(TRACEPARENT, HeaderValue::from_static(VALID));
        let ours = TraceContext::continue_or_start(&headers);
        assert_eq!(ours.trace_id(), parent.trace_id());
        assert_ne!(ours.header_value(), VALID, "a new span id");
    }

    #[test]
    fn malformed_values_are_refused() {
        let cases = [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\n<script>",
        ];
        for case in cases {
            assert_eq!(TraceContext::parse(case), None, "{case:?}");
        }
    }

    #[test]
    fn a_later_version_may_carry_more_fields() {
        let later = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-what-comes-next";
        let parent = TraceContext::parse(later).expect("valid");
        assert_eq!(
            parent.header_value(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        );
    }

    #[test]
    fn a_missing_repeated_or_malformed_header_starts_a_new_trace() {
        let fresh = |headers: &HeaderMap| {
            TraceContext::continue_or_start(headers)
                .trace_id()
                .to_string()
        };
        let valid_id = TraceContext::parse(VALID).unwrap().trace_id().to_string();
        let mut repeated = HeaderMap::new();
        repeated.append(TRACEPARENT, HeaderValue::from_static(VALID));
        repeated.append(TRACEPARENT, HeaderValue::from_static(VALID));
        let mut malformed = HeaderMap::new();
        malformed.insert(TRACEPARENT, HeaderValue::from_static("00-nonsense"));
        for headers in [HeaderMap::new(), repeated, malformed] {
            let id = fresh(&headers);
            assert_ne!(id, valid_id);
            assert_eq!(id.len(), 32);
        }
        assert_ne!(fresh(&HeaderMap::new()), fresh(&HeaderMap::new()));
    }

    proptest! {
        #[test]
        fn what_we_send_is_what_we_read(trace_id in 1u128.., span_id in 1u64.., sampled: bool) {
            let context = TraceContext { trace_id, span_id, sampled };
            let header = context.header_value();
            prop_assert_eq!(header.len(), 55);
            prop_assert_eq!(TraceContext::parse(&header), Some(context));
        }

        /// Whatever a caller sends, what is logged and sent on is made of our own hex digits.
        #[test]
        fn any_text_yields_a_well_formed_context(text in "\\PC{0,80}") {
            if let Some(context) = TraceContext::parse(&text) {
                prop_assert_eq!(context.header_value().len(), 55);
                let id = context.trace_id().to_string();
                prop_assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()));
            }
        }

        /// Changing any one character of a valid header to one a sender would never write
        /// makes it invalid.
        #[test]
        fn one_foreign_character_spoils_a_header(at in 0usize..55, foreign in "[G-Zg-z_ .:]") {
            let mut text = VALID.to_owned();
            text.replace_range(at..=at, &foreign);
            prop_assert_eq!(TraceContext::parse(&text), None);
        }
    }
}
