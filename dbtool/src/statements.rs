//! Splits a SQL script into statements the way psql reads a file.
//!
//! dbtool sends every statement of a script as its own query (pipelined, so a transactional
//! script still costs one round trip per window, see [`crate::execute`]), which lets it
//! name the line of any error, stream `COPY … FROM stdin` data, and refuse transaction
//! control before anything runs. Cutting follows psql's lexer: a semicolon ends a
//! statement unless it is inside a string literal, a quoted identifier, a comment (nested
//! block comments included), a dollar-quoted body, parentheses, or a `BEGIN ATOMIC … END`
//! function body. Two things psql handles besides SQL are recognised too:
//! - `COPY … FROM stdin;` followed by its data lines up to `\.` (what `pg_dump` writes);
//! - a psql meta-command (a backslash at the start of a statement, up to the end of the
//!   line), such as the `\restrict` lines that `pg_dump` writes since 2025.

/// One statement and where it starts in the script, in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    pub offset: usize,
    /// The statement's text, without its terminating semicolon.
    pub sql: &'a str,
    pub kind: Kind<'a>,
}

/// What a statement is, for the code that runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind<'a> {
    /// Plain SQL, sent as a simple query.
    Sql,
    /// `COPY … FROM STDIN`, with the data lines that follow it in the script (without the
    /// closing `\.` line).
    CopyFromStdin { data: &'a str },
    /// `COPY … TO STDOUT`: its output is read and discarded.
    CopyToStdout,
    /// A psql meta-command line (`\restrict KEY`); `command` is its name (`restrict`).
    Meta { command: &'a str },
}

/// The statements of `sql`, without empty ones (only blanks and comments).
pub fn split(sql: &str) -> Vec<Statement<'_>> {
    iter(sql).collect()
}

/// The statements of `sql` one at a time, without holding them all (a data migration of
/// many megabytes has hundreds of thousands).
pub fn iter(sql: &str) -> Statements<'_> {
    Statements { sql, next: 0 }
}

/// Iterator over the statements of a script; see [`iter`].
#[derive(Debug, Clone)]
pub struct Statements<'a> {
    sql: &'a str,
    next: usize,
}

impl<'a> Iterator for Statements<'a> {
    type Item = Statement<'a>;

    fn next(&mut self) -> Option<Statement<'a>> {
        let (statement, next) = next_statement(self.sql, self.next)?;
        self.next = next;
        Some(statement)
    }
}

/// The first statement at or after byte `from`, and where the next one may start.
fn next_statement(sql: &str, from: usize) -> Option<(Statement<'_>, usize)> {
    let bytes = sql.as_bytes();
    let mut start = from;
    let mut i = from;
    let mut atomic_depth = 0usize;
    let mut paren_depth = 0usize;
    let mut previous_word: Option<&str> = None;
    let mut has_code = false;

    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = line_end(sql, i);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = skip_block_comment(bytes, i);
                continue;
            }
            b'\\' if !has_code => {
                // A psql meta-command: the backslash, its name and arguments, to the line end.
                let end = sql[i..].find('\n').map_or(bytes.len(), |n| i + n);
                let line = sql[i..end].trim_end_matches('\r');
                let command = line[1..].split(char::is_whitespace).next().unwrap_or("");
                let statement = Statement {
                    offset: i,
                    sql: line,
                    kind: Kind::Meta { command },
                };
                return Some((statement, (end + 1).min(bytes.len())));
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
            b'(' => paren_depth += 1,
            b')' => paren_depth = paren_depth.saturating_sub(1),
            b';' if atomic_depth == 0 && paren_depth == 0 => {
                i += 1;
                if has_code {
                    let statement = classify(start, &sql[start..i - 1]);
                    if statement.kind == Kind::Sql && copies_from_stdin(statement.sql) {
                        // The data starts on the next line and ends at a line holding `\.`.
                        let data_start = line_end(sql, i - 1).min(bytes.len());
                        let (data, after) = copy_data(sql, data_start);
                        let statement = Statement {
                            kind: Kind::CopyFromStdin { data },
                            ..statement
                        };
                        return Some((statement, after));
                    }
                    return Some((statement, i));
                }
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
    // A final COPY FROM stdin without a semicolon has no data lines: psql would wait.
    has_code.then(|| (classify(start, &sql[start..]), bytes.len()))
}

fn classify(offset: usize, sql: &str) -> Statement<'_> {
    let kind = if copies_to_stdout(sql) {
        Kind::CopyToStdout
    } else {
        Kind::Sql
    };
    Statement { offset, sql, kind }
}

/// The data lines of a `COPY … FROM stdin` starting at `start`, and where the script goes
/// on after the terminating `\.` line (the end of the script when there is none).
fn copy_data(sql: &str, start: usize) -> (&str, usize) {
    let mut line_start = start;
    while line_start < sql.len() {
        let end = sql[line_start..]
            .find('\n')
            .map_or(sql.len(), |n| line_start + n);
        if sql[line_start..end].trim_end_matches('\r') == "\\." {
            return (&sql[start..line_start], (end + 1).min(sql.len()));
        }
        line_start = end + 1;
    }
    (&sql[start..], sql.len())
}

/// The index just past the end of the line holding byte `i` (or the script's end).
fn line_end(sql: &str, i: usize) -> usize {
    sql[i..].find('\n').map_or(sql.len(), |n| i + n + 1)
}

/// The bare words of a statement in order (keywords and unquoted names), lower-cased
/// comparisons left to the caller; literals, quoted names and comments are skipped.
pub fn words(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'-' if bytes.get(i + 1) == Some(&b'-') => i = line_end(sql, i),
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_block_comment(bytes, i),
            b'\'' => {
                let escapes =
                    i > 0 && matches!(bytes[i - 1], b'E' | b'e') && !word_char(bytes, i, 2);
                i = skip_quoted(bytes, i, b'\'', escapes);
            }
            b'"' => i = skip_quoted(bytes, i, b'"', false),
            b'$' => i = skip_dollar_quoted(sql, i).unwrap_or(i + 1),
            _ if b.is_ascii_alphabetic() || b == b'_' => {
                let end = i + bytes[i..]
                    .iter()
                    .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_' || c == b'$'))
                    .unwrap_or(bytes.len() - i);
                out.push(&sql[i..end]);
                i = end;
            }
            _ => i += 1,
        }
    }
    out
}

fn first_word_is(words: &[&str], word: &str) -> bool {
    words.first().is_some_and(|w| w.eq_ignore_ascii_case(word))
}

fn has_pair(words: &[&str], first: &str, second: &str) -> bool {
    words
        .windows(2)
        .any(|w| w[0].eq_ignore_ascii_case(first) && w[1].eq_ignore_ascii_case(second))
}

fn copies_from_stdin(sql: &str) -> bool {
    let words = words(sql);
    first_word_is(&words, "copy") && has_pair(&words, "from", "stdin")
}

fn copies_to_stdout(sql: &str) -> bool {
    let words = words(sql);
    first_word_is(&words, "copy") && has_pair(&words, "to", "stdout")
}

/// When `statement` ends, starts or undoes a transaction, the words that do it
/// (`COMMIT`, `BEGIN`, `ROLLBACK`, …). Savepoints are not transaction control here: they
/// work inside dbtool's transaction.
pub fn transaction_control(statement: &Statement<'_>) -> Option<String> {
    if statement.kind != Kind::Sql {
        return None;
    }
    let words = words(statement.sql);
    let first = words.first()?.to_ascii_uppercase();
    let second = words.get(1).map(|w| w.to_ascii_uppercase());
    let controls = match first.as_str() {
        "BEGIN" | "COMMIT" | "END" | "ABORT" => true,
        "START" => second.as_deref() == Some("TRANSACTION"),
        "ROLLBACK" => second.as_deref() != Some("TO"),
        "PREPARE" => second.as_deref() == Some("TRANSACTION"),
        _ => false,
    };
    controls.then(|| match second {
        Some(second) if matches!(first.as_str(), "START" | "PREPARE" | "COMMIT" | "ROLLBACK") => {
            format!("{first} {second}")
        }
        _ => first,
    })
}

/// True when the byte `back` positions before `i` is part of a word, so that `E` in
/// `TABLE'...'` is not read as an escape-string prefix.
fn word_char(bytes: &[u8], i: usize, back: usize) -> bool {
    i >= back && (bytes[i - back].is_ascii_alphanumeric() || bytes[i - back] == b'_')
}

/// The index after a block comment opening at `i` (nested comments included).
pub(crate) fn skip_block_comment(bytes: &[u8], mut i: usize) -> usize {
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
pub(crate) fn skip_quoted(bytes: &[u8], mut i: usize, quote: u8, backslash_escapes: bool) -> usize {
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
pub(crate) fn skip_dollar_quoted(sql: &str, i: usize) -> Option<usize> {
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

/// 1-based line of the first character of `statement` that is not blank or a comment:
/// where an error without a position is reported.
pub fn first_line(sql: &str, statement: &Statement<'_>) -> usize {
    let text = statement.sql;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'-' if bytes.get(i + 1) == Some(&b'-') => i = line_end(text, i),
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_block_comment(bytes, i),
            b if b.is_ascii_whitespace() => i += 1,
            _ => break,
        }
    }
    let at = (statement.offset + i).min(sql.len());
    sql[..at].matches('\n').count() + 1
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
            (
                "rule actions in parentheses",
                "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2)); X",
                &["CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2))", "X"],
            ),
            ("empty statements dropped", "-- only a comment\n;; SELECT 1;\n/* c */;", &["SELECT 1"]),
        ];
        for (case, sql, expected) in cases {
            assert_eq!(&texts(sql), expected, "case {case}");
        }
    }

    #[test]
    fn copy_from_stdin_takes_its_data_lines() {
        let sql = "CREATE TABLE t (a int, b text);\nCOPY public.t (a, b) FROM stdin;\n1\tx;y\n2\t'q\n\\.\nSELECT 1;\n";
        let parts = split(sql);
        assert_eq!(parts.len(), 3, "{parts:?}");
        assert_eq!(parts[1].sql.trim(), "COPY public.t (a, b) FROM stdin");
        assert_eq!(
            parts[1].kind,
            Kind::CopyFromStdin {
                data: "1\tx;y\n2\t'q\n"
            }
        );
        assert_eq!(parts[2].sql.trim(), "SELECT 1");
    }

    #[test]
    fn copy_from_stdin_with_crlf_and_without_terminator() {
        let crlf = "COPY t FROM STDIN;\r\n1\r\n\\.\r\nSELECT 2;";
        let parts = split(crlf);
        assert_eq!(parts[0].kind, Kind::CopyFromStdin { data: "1\r\n" });
        assert_eq!(parts[1].sql.trim(), "SELECT 2");
        let open = "COPY t FROM stdin;\n1\n2\n";
        assert_eq!(split(open)[0].kind, Kind::CopyFromStdin { data: "1\n2\n" });
    }

    #[test]
    fn copy_directions_are_recognised() {
        let parts = split("COPY (SELECT 1) TO STDOUT; COPY t TO '/tmp/x'; COPY t FROM '/tmp/x';");
        let kinds: Vec<_> = parts.iter().map(|p| p.kind.clone()).collect();
        assert_eq!(kinds, [Kind::CopyToStdout, Kind::Sql, Kind::Sql]);
    }

    #[test]
    fn meta_commands_are_their_own_statements() {
        let sql = "\\restrict abc123\r\nSET x = 1;\n  \\connect db\nSELECT 'a\\b';\n\\unrestrict abc123\n";
        let parts = split(sql);
        let summary: Vec<_> = parts.iter().map(|p| (p.sql, p.kind.clone())).collect();
        assert_eq!(
            summary,
            [
                (
                    "\\restrict abc123",
                    Kind::Meta {
                        command: "restrict"
                    }
                ),
                ("SET x = 1", Kind::Sql),
                ("\\connect db", Kind::Meta { command: "connect" }),
                ("SELECT 'a\\b'", Kind::Sql),
                (
                    "\\unrestrict abc123",
                    Kind::Meta {
                        command: "unrestrict"
                    }
                ),
            ]
        );
    }

    #[test]
    fn transaction_control_is_found_and_savepoints_are_not() {
        let cases: &[(&str, Option<&str>)] = &[
            ("BEGIN", Some("BEGIN")),
            (
                "begin transaction isolation level serializable",
                Some("BEGIN"),
            ),
            ("START TRANSACTION", Some("START TRANSACTION")),
            ("COMMIT", Some("COMMIT")),
            ("commit and chain", Some("COMMIT AND")),
            ("END", Some("END")),
            ("ROLLBACK", Some("ROLLBACK")),
            ("ABORT", Some("ABORT")),
            ("PREPARE TRANSACTION 'x'", Some("PREPARE TRANSACTION")),
            ("COMMIT PREPARED 'x'", Some("COMMIT PREPARED")),
            ("ROLLBACK TO SAVEPOINT s", None),
            ("SAVEPOINT s", None),
            ("RELEASE SAVEPOINT s", None),
            ("PREPARE p AS SELECT 1", None),
            ("DO $$ BEGIN COMMIT; END $$", None),
            ("-- BEGIN\nSELECT 1", None),
            ("START_X", None),
        ];
        for (sql, expected) in cases {
            let statement = Statement {
                offset: 0,
                sql,
                kind: Kind::Sql,
            };
            assert_eq!(
                transaction_control(&statement).as_deref(),
                *expected,
                "case {sql}"
            );
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
        assert_eq!(first_line(sql, &parts[1]), 2);
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
            "\\",
            "COPY t FROM stdin;",
            "(((",
            ")))",
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
