//! Splits a SQL script into statements, for the scripts that run outside a transaction.
//!
//! Transactional scripts are sent whole: PostgreSQL parses them itself. A no-transaction
//! script cannot be, because several statements in one query message run as one implicit
//! transaction and `CREATE INDEX CONCURRENTLY` refuses that. So those are cut at the
//! semicolons that end statements, skipping the ones inside string literals, quoted
//! identifiers, comments (nested block comments included), dollar-quoted bodies and
//! `BEGIN ATOMIC ... END` function bodies.

/// One statement and where it starts in the script, in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    pub offset: usize,
    pub sql: &'a str,
}

/// The statements of `sql`, without empty ones (only blanks and comments).
pub fn split(sql: &str) -> Vec<Statement<'_>> {
    let bytes = sql.as_bytes();
    let mut statements = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let mut atomic_depth = 0usize;
    let mut previous_word: Option<&str> = None;
    let mut has_code = false;

    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = skip_block_comment(bytes, i);
                continue;
            }
            b'\'' => {
                let escapes =
                    i > 0 && matches!(bytes[i - 1], b'E' | b'e') && !word_char(bytes, i, 2);
                i = skip_quoted(bytes, i, b'\'', escapes);
                has_code = true;
                previous_word = None;
                continue;
            }
            b'"' => {
                i = skip_quoted(bytes, i, b'"', false);
                has_code = true;
                previous_word = None;
                continue;
            }
            b'$' => {
                if let Some(end) = skip_dollar_quoted(sql, i) {
                    i = end;
                    has_code = true;
                    previous_word = None;
                    continue;
                }
            }
            b';' if atomic_depth == 0 => {
                if has_code {
                    statements.push(Statement {
                        offset: start,
                        sql: &sql[start..i],
                    });
                }
                i += 1;
                start = i;
                has_code = false;
                previous_word = None;
                continue;
            }
            _ => {}
        }
        if b.is_ascii_alphabetic() || b == b'_' {
            let end = i + bytes[i..]
                .iter()
                .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_' || c == b'$'))
                .unwrap_or(bytes.len() - i);
            let word = &sql[i..end];
            let opens_atomic = word.eq_ignore_ascii_case("atomic")
                && previous_word.is_some_and(|w| w.eq_ignore_ascii_case("begin"));
            let opens_case = atomic_depth > 0 && word.eq_ignore_ascii_case("case");
            if opens_atomic || opens_case {
                atomic_depth += 1;
            } else if atomic_depth > 0 && word.eq_ignore_ascii_case("end") {
                atomic_depth -= 1;
            }
            previous_word = Some(word);
            has_code = true;
            i = end;
            continue;
        }
        if !b.is_ascii_whitespace() {
            has_code = true;
            previous_word = None;
        }
        i += 1;
    }
    if has_code {
        statements.push(Statement {
            offset: start,
            sql: &sql[start..],
        });
    }
    statements
}

/// True when the byte `back` positions before `i` is part of a word, so that `E` in
/// `TABLE'...'` is not read as an escape-string prefix.
fn word_char(bytes: &[u8], i: usize, back: usize) -> bool {
    i >= back && (bytes[i - back].is_ascii_alphanumeric() || bytes[i - back] == b'_')
}

fn skip_block_comment(bytes: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < bytes.len() {
        if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// Skips a quoted literal or identifier starting at `i`; a doubled quote is an escaped
/// quote, and in `E'...'` strings a backslash escapes the next byte.
fn skip_quoted(bytes: &[u8], mut i: usize, quote: u8, backslash_escapes: bool) -> usize {
    i += 1;
    while i < bytes.len() {
        let b = bytes[i];
        if backslash_escapes && b == b'\\' {
            i += 2;
        } else if b == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// When a dollar quote (`$$` or `$tag$`) opens at `i`, the index after its closing one.
/// `$1` (a parameter) and `a$b` (an identifier) do not open a quote.
fn skip_dollar_quoted(sql: &str, i: usize) -> Option<usize> {
    let bytes = sql.as_bytes();
    if word_char(bytes, i, 1) {
        return None;
    }
    let tag_len = bytes[i + 1..]
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))?;
    let tag_start = i + 1;
    if bytes[tag_start + tag_len] != b'$'
        || bytes.get(tag_start).is_some_and(|c| c.is_ascii_digit())
    {
        return None;
    }
    let delimiter = &sql[i..tag_start + tag_len + 1];
    let body = tag_start + tag_len + 1;
    Some(
        sql[body..]
            .find(delimiter)
            .map_or(sql.len(), |n| body + n + delimiter.len()),
    )
}

/// 1-based line and column of the 1-based *character* position PostgreSQL reports,
/// counted in `sql` from byte `offset`.
pub fn line_column(sql: &str, offset: usize, position: usize) -> (usize, usize) {
    let before: String = sql[offset..]
        .chars()
        .take(position.saturating_sub(1))
        .collect();
    let prefix = &sql[..offset];
    let full = format!("{prefix}{before}");
    let line = full.matches('\n').count() + 1;
    let column = full.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split(sql).into_iter().map(|s| s.sql.trim()).collect()
    }

    #[test]
    fn splits_on_semicolons_that_end_statements() {
        let cases: &[(&str, &str, &[&str])] = &[
            ("plain", "SELECT 1; SELECT 2;", &["SELECT 1", "SELECT 2"]),
            ("no final semicolon", "SELECT 1;\nSELECT 2", &["SELECT 1", "SELECT 2"]),
            ("string", "SELECT 'a;b'; SELECT 2", &["SELECT 'a;b'", "SELECT 2"]),
            ("doubled quote", "SELECT 'it''s;'; X", &["SELECT 'it''s;'", "X"]),
            ("escape string", r"SELECT E'\';'; X", &[r"SELECT E'\';'", "X"]),
            ("identifier", r#"SELECT 1 AS "a;b"; X"#, &[r#"SELECT 1 AS "a;b""#, "X"]),
            ("line comment", "SELECT 1 -- a;b\n; X", &["SELECT 1 -- a;b", "X"]),
            ("block comment", "SELECT /* a; /* nested; */ b; */ 1; X", &["SELECT /* a; /* nested; */ b; */ 1", "X"]),
            (
                "dollar body",
                "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql; X",
                &["CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql", "X"],
            ),
            (
                "tagged dollar body containing $$",
                "DO $body$ BEGIN PERFORM '$$;'; END $body$; X",
                &["DO $body$ BEGIN PERFORM '$$;'; END $body$", "X"],
            ),
            ("parameter is not a quote", "PREPARE p AS SELECT $1; X", &["PREPARE p AS SELECT $1", "X"]),
            (
                "begin atomic",
                "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END; X",
                &["CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END", "X"],
            ),
            ("empty statements dropped", "-- only a comment\n;; SELECT 1;\n/* c */;", &["SELECT 1"]),
        ];
        for (case, sql, expected) in cases {
            assert_eq!(&texts(sql), expected, "case {case}");
        }
    }

    #[test]
    fn offsets_point_into_the_script() {
        let sql = "SELECT 1;\nCREATE INDEX CONCURRENTLY i ON t (a);\n";
        let parts = split(sql);
        assert_eq!(parts.len(), 2);
        assert!(sql[parts[1].offset..]
            .trim_start()
            .starts_with("CREATE INDEX"));
    }

    #[test]
    fn unterminated_quotes_do_not_panic() {
        for sql in [
            "SELECT 'open",
            "SELECT $$open",
            "SELECT /* open",
            "SELECT \"open",
            "$",
            "E'",
            "$a",
        ] {
            let _ = split(sql);
        }
    }

    #[test]
    fn line_column_counts_characters_not_bytes() {
        let sql = "SELECT 'é';\nSELEC x;";
        // Position 1 of the second statement (offset 11 bytes + newline) is line 2, column 1.
        let second = split(sql)[1].clone();
        let start_in_statement = second.sql.find('S').expect("S") + 1;
        assert_eq!(line_column(sql, second.offset, start_in_statement), (2, 1));
        assert_eq!(line_column(sql, 0, 9), (1, 9));
    }
}
