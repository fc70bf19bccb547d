//! One change of one entry, and its stream entry fields in both directions.

use std::collections::HashMap;

use redis::Value;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::error::{DecodeError, EncodeError};
use crate::kind::Kind;
use crate::{field, SCHEMA_VERSION};

/// One change of one entry. Serializes as the feed shows it: `event_id`, `kind`, `name`,
/// `description` (null for `deleted`) and `occurred_at` (RFC 3339).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// A UUID in lowercase: the consumers' idempotency key.
    pub event_id: String,
    pub kind: Kind,
    pub name: String,
    pub description: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// The W3C `traceparent` the change was made in, as the stream carries it: text a
    /// reader must validate before it believes it. Not part of the feed.
    #[serde(skip)]
    pub traceparent: Option<String>,
}

impl Event {
    /// The fields of this event's stream entry, `description` only when there is one.
    pub fn to_fields(&self) -> Result<Vec<(&'static str, String)>, EncodeError> {
        let occurred_at = self
            .occurred_at
            .checked_to_offset(UtcOffset::UTC)
            .and_then(|utc| utc.format(&Rfc3339).ok())
            .ok_or(EncodeError::TimeOutOfRange(self.occurred_at))?;
        let mut fields = vec![
            (field::SCHEMA_VERSION, SCHEMA_VERSION.to_string()),
            (field::EVENT_ID, self.event_id.clone()),
            (field::KIND, self.kind.as_str().to_owned()),
            (field::NAME, self.name.clone()),
            (field::OCCURRED_AT, occurred_at),
        ];
        if let Some(description) = &self.description {
            fields.push((field::DESCRIPTION, description.clone()));
        }
        if let Some(traceparent) = &self.traceparent {
            fields.push((field::TRACEPARENT, traceparent.clone()));
        }
        Ok(fields)
    }

    /// Reads the fields of one stream entry; fields it does not know are ignored.
    pub fn from_fields(fields: &HashMap<String, Value>) -> Result<Self, DecodeError> {
        let version = match optional(fields, field::SCHEMA_VERSION)? {
            None => 1,
            Some(text) => text
                .parse::<u32>()
                .map_err(|_| DecodeError::BadVersion(text))?,
        };
        if version > SCHEMA_VERSION {
            return Err(DecodeError::UnsupportedVersion(version));
        }
        let event_id = required(fields, field::EVENT_ID)?;
        if !is_uuid(&event_id) {
            return Err(DecodeError::BadId(event_id));
        }
        let kind = required(fields, field::KIND)?;
        let kind = kind
            .parse::<Kind>()
            .map_err(|_| DecodeError::BadKind(kind))?;
        let occurred_at = required(fields, field::OCCURRED_AT)?;
        // Kept in UTC: a time that leaves the representable range there is as invalid as one
        // that does not parse (converting it later would panic).
        let occurred_at = OffsetDateTime::parse(&occurred_at, &Rfc3339)
            .ok()
            .and_then(|t| t.checked_to_offset(UtcOffset::UTC))
            .ok_or(DecodeError::BadTime(occurred_at))?;
        Ok(Self {
            event_id: event_id.to_ascii_lowercase(),
            kind,
            name: required(fields, field::NAME)?,
            description: optional(fields, field::DESCRIPTION)?,
            occurred_at,
            // Advisory: one that is not text is dropped rather than the event with it.
            traceparent: optional(fields, field::TRACEPARENT).ok().flatten(),
        })
    }
}

fn optional(
    fields: &HashMap<String, Value>,
    field: &'static str,
) -> Result<Option<String>, DecodeError> {
    let Some(value) = fields.get(field) else {
        return Ok(None);
    };
    let text: String =
        redis::from_redis_value_ref(value).map_err(|_| DecodeError::NotText(field))?;
    if text.contains('\0') {
        return Err(DecodeError::Nul(field));
    }
    Ok(Some(text))
}

fn required(fields: &HashMap<String, Value>, field: &'static str) -> Result<String, DecodeError> {
    optional(fields, field)?.ok_or(DecodeError::Missing(field))
}

/// `8-4-4-4-12` hexadecimal digits, as PostgreSQL's `gen_random_uuid()` writes them.
fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A field name and its raw value.
    type Field<'a> = (&'a str, &'a [u8]);

    fn raw(pairs: &[Field]) -> HashMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::BulkString(v.to_vec())))
            .collect()
    }

    /// What a reader receives for the fields a writer sent.
    fn received(fields: &[(&str, String)]) -> HashMap<String, Value> {
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::BulkString(v.clone().into_bytes())))
            .collect()
    }

    const ID: &[u8] = b"0b3f8c1e-9d2a-4c5b-8e7f-1a2b3c4d5e6f";
    const AT: &[u8] = b"2026-11-25T10:48:05.414594Z";

    /// An entry exactly as publishers wrote them before `schema_version` existed.
    /// With `extra` fields after them.
    fn version_one(
        kind: &'static [u8],
        name: &'static [u8],
        extra: &[Field<'static>],
    ) -> Vec<Field<'static>> {
        let mut pairs = vec![
            ("event_id", ID),
            ("kind", kind),
            ("name", name),
            ("occurred_at", AT),
        ];
        pairs.extend_from_slice(extra);
        pairs
    }

    #[test]
    fn an_entry_without_schema_version_reads_as_version_one() {
        let pairs = version_one(b"created", b"redis", &[("description", b"<b>store</b>")]);
        let event = Event::from_fields(&raw(&pairs)).unwrap();
        assert_eq!(event.kind, Kind::Created);
        assert_eq!(event.description.as_deref(), Some("<b>store</b>"));
        let deleted = Event::from_fields(&raw(&version_one(b"deleted", b"redis", &[]))).unwrap();
        assert_eq!(deleted.kind, Kind::Deleted);
        assert_eq!(deleted.description, None);
    }

    #[test]
    fn fields_a_reader_does_not_know_are_ignored() {
        let pairs = version_one(b"updated", b"redis", &[("span", b"00-abc-def-01")]);
        let event = Event::from_fields(&raw(&pairs)).unwrap();
        assert_eq!(event.kind, Kind::Updated);
    }

    #[test]
    fn a_traceparent_is_carried_as_text_and_one_that_is_not_text_is_dropped() {
        let pairs = version_one(b"updated", b"redis", &[("traceparent", b"00-abc-def-01")]);
        let event = Event::from_fields(&raw(&pairs)).unwrap();
        assert_eq!(event.traceparent.as_deref(), Some("00-abc-def-01"));
        for spoiled in [&b"\xff\xfe"[..], b"00-a\0b"] {
            let pairs = version_one(b"created", b"redis", &[("traceparent", spoiled)]);
            let event = Event::from_fields(&raw(&pairs)).expect("the event is kept");
            assert_eq!(event.traceparent, None);
        }
    }

    #[test]
    fn the_written_fields_are_the_version_one_fields_plus_the_version() {
        let event = Event::from_fields(&raw(&version_one(b"deleted", b"a", &[]))).unwrap();
        let mut names: Vec<&str> = event.to_fields().unwrap().iter().map(|f| f.0).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            ["event_id", "kind", "name", "occurred_at", "schema_version"]
        );
    }

    #[test]
    fn each_malformed_entry_is_refused_with_its_reason() {
        let without = |field: &'static str| {
            let mut pairs = version_one(b"created", b"x", &[]);
            pairs.retain(|(k, _)| *k != field);
            pairs
        };
        let with = |field: &'static str, value: &'static [u8]| {
            let mut pairs = without(field);
            pairs.push((field, value));
            pairs
        };
        let cases: Vec<(Vec<Field>, DecodeError)> = vec![
            (without("event_id"), DecodeError::Missing("event_id")),
            (without("kind"), DecodeError::Missing("kind")),
            (without("name"), DecodeError::Missing("name")),
            (without("occurred_at"), DecodeError::Missing("occurred_at")),
            (with("name", b"\xff\xfe"), DecodeError::NotText("name")),
            (
                with("description", b"\xff"),
                DecodeError::NotText("description"),
            ),
            (with("name", b"a\0b"), DecodeError::Nul("name")),
            (
                with("schema_version", b"one"),
                DecodeError::BadVersion("one".into()),
            ),
            (
                with("schema_version", b"2"),
                DecodeError::UnsupportedVersion(2),
            ),
            (with("event_id", b"1"), DecodeError::BadId("1".into())),
            (
                with("event_id", b"0b3f8c1e-9d2a-4c5b-8e7f-1a2b3c4d5e6g"),
                DecodeError::BadId("0b3f8c1e-9d2a-4c5b-8e7f-1a2b3c4d5e6g".into()),
            ),
            (
                with("kind", b"dropped"),
                DecodeError::BadKind("dropped".into()),
            ),
            (
                with("occurred_at", b"yesterday"),
                DecodeError::BadTime("yesterday".into()),
            ),
        ];
        for (pairs, want) in cases {
            assert_eq!(
                Event::from_fields(&raw(&pairs)),
                Err(want.clone()),
                "case {want}"
            );
        }
    }

    #[test]
    fn a_time_past_year_9999_cannot_be_written() {
        let mut event = Event::from_fields(&raw(&version_one(b"created", b"x", &[]))).unwrap();
        // In UTC this is an hour into the year 10000.
        event.occurred_at = time::Date::from_calendar_date(9999, time::Month::December, 31)
            .unwrap()
            .with_hms(23, 0, 0)
            .unwrap()
            .assume_offset(UtcOffset::from_hms(-2, 0, 0).unwrap());
        assert!(matches!(
            event.to_fields(),
            Err(EncodeError::TimeOutOfRange(_))
        ));
    }

    fn any_event() -> impl Strategy<Value = Event> {
        let id = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
        let kind = prop::sample::select(Kind::ALL.to_vec());
        // Any text without NUL, and times from year 0 to 9999 at any offset and nanosecond.
        let text = "[^\0]{0,40}";
        let seconds = -62_167_219_200i64..253_402_300_799;
        let nanos = 0u32..1_000_000_000;
        let offset = -86_399i32..86_400;
        (
            id,
            kind,
            text,
            prop::option::of(text),
            (seconds, nanos, offset),
            prop::option::of(text),
        )
            .prop_filter_map(
                "the time must stay within years 0 to 9999",
                |(event_id, kind, name, description, (seconds, nanos, offset), traceparent)| {
                    let at = OffsetDateTime::from_unix_timestamp(seconds).ok()?
                        + time::Duration::nanoseconds(nanos.into());
                    let at = at.checked_to_offset(UtcOffset::from_whole_seconds(offset).ok()?)?;
                    Some(Event {
                        event_id,
                        kind,
                        name,
                        description,
                        occurred_at: at,
                        traceparent,
                    })
                },
            )
    }

    proptest! {
        #[test]
        fn every_event_reads_back_as_written(event in any_event()) {
            let fields = event.to_fields().unwrap();
            let read = Event::from_fields(&received(&fields)).unwrap();
            // The same instant, read back in UTC.
            prop_assert_eq!(read.occurred_at, event.occurred_at);
            prop_assert_eq!(read.occurred_at.offset(), UtcOffset::UTC);
            prop_assert_eq!(read, event);
        }

        #[test]
        fn upper_case_ids_read_back_in_lower_case(event in any_event()) {
            let mut shouted = event.clone();
            shouted.event_id = event.event_id.to_ascii_uppercase();
            let read = Event::from_fields(&received(&shouted.to_fields().unwrap())).unwrap();
            prop_assert_eq!(read.event_id, event.event_id);
        }
    }
}
