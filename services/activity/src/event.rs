//! A catalog change event as it arrives from the stream, checked field by field. The fields
//! are the ones the catalog's outbox publisher writes: `event_id` (UUID), `kind` (`created`,
//! `updated` or `deleted`), `name`, `occurred_at` (RFC 3339) and, except for `deleted`,
//! `description`.

use std::collections::HashMap;

use redis::Value;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// One change of one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub event_id: String,
    pub kind: String,
    pub name: String,
    pub description: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
}

/// Why a stream entry is not an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("field {0} is missing")]
    Missing(&'static str),
    #[error("field {0} is not UTF-8 text")]
    NotText(&'static str),
    #[error("event_id {0:?} is not a UUID")]
    BadId(String),
    #[error("kind {0:?} is not created, updated or deleted")]
    BadKind(String),
    #[error("occurred_at {0:?} is not an RFC 3339 time")]
    BadTime(String),
    // PostgreSQL text cannot hold NUL.
    #[error("field {0} contains NUL")]
    Nul(&'static str),
}

impl Event {
    /// Parses the fields of one stream entry.
    pub fn from_fields(fields: &HashMap<String, Value>) -> Result<Self, EventError> {
        let event_id = required(fields, "event_id")?;
        if !is_uuid(&event_id) {
            return Err(EventError::BadId(event_id));
        }
        let kind = required(fields, "kind")?;
        if !matches!(kind.as_str(), "created" | "updated" | "deleted") {
            return Err(EventError::BadKind(kind));
        }
        let occurred_at = required(fields, "occurred_at")?;
        // Stored in UTC: a time that leaves the representable range there is as invalid as
        // one that does not parse (converting it later would panic).
        let occurred_at = OffsetDateTime::parse(&occurred_at, &Rfc3339)
            .ok()
            .and_then(|t| t.checked_to_offset(time::UtcOffset::UTC))
            .ok_or(EventError::BadTime(occurred_at))?;
        Ok(Self {
            event_id: event_id.to_ascii_lowercase(),
            kind,
            name: required(fields, "name")?,
            description: optional(fields, "description")?,
            occurred_at,
        })
    }
}

fn optional(
    fields: &HashMap<String, Value>,
    field: &'static str,
) -> Result<Option<String>, EventError> {
    let Some(value) = fields.get(field) else {
        return Ok(None);
    };
    let text: String =
        redis::from_redis_value_ref(value).map_err(|_| EventError::NotText(field))?;
    if text.contains('\0') {
        return Err(EventError::Nul(field));
    }
    Ok(Some(text))
}

fn required(fields: &HashMap<String, Value>, field: &'static str) -> Result<String, EventError> {
    optional(fields, field)?.ok_or(EventError::Missing(field))
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
    use super::*;

    fn fields(pairs: &[Field]) -> HashMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::BulkString(v.to_vec())))
            .collect()
    }

    /// A field name and its raw value.
    type Field<'a> = (&'a str, &'a [u8]);

    const ID: &[u8] = b"0b3f8c1e-9d2a-4c5b-8e7f-1a2b3c4d5e6f";
    const AT: &[u8] = b"2026-11-25T10:48:05.414594Z";

    #[test]
    fn a_well_formed_entry_parses() {
        let event = Event::from_fields(&fields(&[
            ("event_id", ID),
            ("kind", b"created"),
            ("name", b"redis"),
            ("description", b"<b>store</b>"),
            ("occurred_at", AT),
        ]))
        .unwrap();
        assert_eq!(event.kind, "created");
        assert_eq!(event.description.as_deref(), Some("<b>store</b>"));
        let deleted = Event::from_fields(&fields(&[
            ("event_id", ID),
            ("kind", b"deleted"),
            ("name", b"redis"),
            ("occurred_at", AT),
        ]))
        .unwrap();
        assert_eq!(deleted.description, None);
    }

    #[test]
    fn malformed_entries_are_refused_with_the_reason() {
        let cases: [(&[Field], EventError); 7] = [
            (
                &[("kind", b"created"), ("name", b"x"), ("occurred_at", AT)],
                EventError::Missing("event_id"),
            ),
            (
                &[
                    ("event_id", b"1"),
                    ("kind", b"created"),
                    ("name", b"x"),
                    ("occurred_at", AT),
                ],
                EventError::BadId("1".into()),
            ),
            (
                &[
                    ("event_id", b"0b3f8c1e-9d2a-4c5b-8e7f-1a2b3c4d5e6g"),
                    ("kind", b"created"),
                    ("name", b"x"),
                    ("occurred_at", AT),
                ],
                EventError::BadId("0b3f8c1e-9d2a-4c5b-8e7f-1a2b3c4d5e6g".into()),
            ),
            (
                &[
                    ("event_id", ID),
                    ("kind", b"dropped"),
                    ("name", b"x"),
                    ("occurred_at", AT),
                ],
                EventError::BadKind("dropped".into()),
            ),
            (
                &[
                    ("event_id", ID),
                    ("kind", b"created"),
                    ("name", b"x"),
                    ("occurred_at", b"yesterday"),
                ],
                EventError::BadTime("yesterday".into()),
            ),
            (
                &[
                    ("event_id", ID),
                    ("kind", b"created"),
                    ("name", b"\xff\xfe"),
                    ("occurred_at", AT),
                ],
                EventError::NotText("name"),
            ),
            (
                &[
                    ("event_id", ID),
                    ("kind", b"created"),
                    ("name", b"a\0b"),
                    ("occurred_at", AT),
                ],
                EventError::Nul("name"),
            ),
        ];
        for (pairs, want) in cases {
            assert_eq!(
                Event::from_fields(&fields(pairs)),
                Err(want.clone()),
                "case {want}"
            );
        }
    }
}
