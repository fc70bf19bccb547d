//! The `info` entry and the rules its fields follow. Values are checked once, when they enter
//! (`Name::parse`, `Description::parse`), so the rest of the code only sees valid ones.

use serde::Serialize;
use time::OffsetDateTime;

/// Longest name, in characters.
pub const NAME_MAX: usize = 64;
/// Longest description, in characters (Unicode scalar values, not bytes).
pub const DESCRIPTION_MAX: usize = 4096;

/// What the body that writes an entry (`PUT /info/{name}`) must look like, for error messages.
pub const BODY_SHAPE: &str = "the body must be {\"description\": \"...\"}";

/// An entry's name: 1 to 64 characters of `A-Z a-z 0-9 _ . -`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    /// The rule, for error messages.
    pub const RULE: &'static str = "a name is 1 to 64 characters of A-Z, a-z, 0-9, '_', '.', '-'";

    pub fn parse(raw: &str) -> Option<Self> {
        let valid = (1..=NAME_MAX).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        valid.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a description was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescriptionError {
    #[error("description is longer than {DESCRIPTION_MAX} characters")]
    TooLong,
    // PostgreSQL text cannot hold NUL; refusing it here gives a clear 422 instead of a 500.
    #[error("description must not contain NUL characters")]
    Nul,
}

/// An entry's description: up to 4096 characters, any text but NUL. Stored and returned as
/// given; HTML in it is data, escaped by whoever renders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub fn parse(raw: String) -> Result<Self, DescriptionError> {
        if raw.contains('\0') {
            return Err(DescriptionError::Nul);
        }
        if raw.chars().count() > DESCRIPTION_MAX {
            return Err(DescriptionError::TooLong);
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An entry as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub name: String,
    pub description: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// One page of `GET /info`: `next` is the `after` value for the following page, or `null` on
/// the last page.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    pub items: Vec<Entry>,
    pub next: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rule() {
        let long = "a".repeat(NAME_MAX);
        let too_long = "a".repeat(NAME_MAX + 1);
        let cases: [(&str, bool); 12] = [
            ("redis", true),
            ("A-z_0.9", true),
            (long.as_str(), true),
            ("...", true),
            ("", false),
            (too_long.as_str(), false),
            ("two words", false),
            ("slash/name", false),
            ("quote'", false),
            ("semi;colon", false),
            ("é", false),
            ("<b>", false),
        ];
        for (raw, valid) in cases {
            assert_eq!(Name::parse(raw).is_some(), valid, "case {raw:?}");
        }
    }

    #[test]
    fn descriptions_are_limited_in_characters_not_bytes_and_refuse_nul() {
        let at_limit = "é".repeat(DESCRIPTION_MAX);
        assert!(
            at_limit.len() > DESCRIPTION_MAX,
            "the case must be over the limit in bytes"
        );
        assert!(Description::parse(at_limit).is_ok());
        assert_eq!(
            Description::parse("x".repeat(DESCRIPTION_MAX + 1)),
            Err(DescriptionError::TooLong)
        );
        assert_eq!(
            Description::parse("a\0b".into()),
            Err(DescriptionError::Nul)
        );
        assert!(Description::parse(String::new()).is_ok());
        assert!(Description::parse("'; DROP TABLE info; --<script>".into()).is_ok());
    }
}
