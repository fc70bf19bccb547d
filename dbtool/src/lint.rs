//! `dbtool lint`: flags DDL that locks or rewrites a live table, without a database.
//!
//! Every up and down script is read in version order, cut into statements with the same
//! splitter the no-transaction runner uses, and each statement's keywords are checked
//! against [`RULES`]. A table created in the same file is new, so no rule applies to it.
//! What one migration establishes (which table an index is on, a validated
//! `CHECK (col IS NOT NULL)`) carries to the later ones.
//!
//! Silencing, for a reviewed exception:
//! - `-- dbtool:lint-ignore rule-id[, rule-id]` anywhere in a file: the whole file;
//! - `-- dbtool:lint-ignore-next rule-id[, rule-id]` on the comment line(s) just before a
//!   statement: that statement.
//!
//! Either may end with `-- why`.

mod rules;
mod tokens;

use std::path::{Path, PathBuf};

use rules::{FileState, Knowledge};
pub use rules::{Rule, Severity, RULES};

use crate::error::Error;
use crate::source;
use crate::statements;

/// Silences rules for the whole file.
pub const IGNORE_FILE: &str = "dbtool:lint-ignore";
/// Silences rules for the statement that follows.
pub const IGNORE_NEXT: &str = "dbtool:lint-ignore-next";

/// One rule broken at one place in one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub path: PathBuf,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub rule: &'static str,
    pub severity: Severity,
    /// What the statement does, why that hurts a live table, and the safe way.
    pub message: String,
}

impl std::fmt::Display for Finding {
    /// `path:line:column: rule-id: message`, with `warning: ` before a warning's message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: ",
            self.path.display(),
            self.line,
            self.column,
            self.rule
        )?;
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        f.write_str(&self.message)
    }
}

/// What `lint` found.
#[derive(Debug, Clone, Default)]
pub struct LintReport {
    /// Files read (up and down scripts).
    pub files: usize,
    pub findings: Vec<Finding>,
}

impl LintReport {
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.findings.len() - self.errors()
    }
}

/// Lints every migration in `dir` (up and down scripts), or only versions from `from` on;
/// the earlier ones are still read for what they establish.
pub fn lint(dir: &Path, from: Option<i32>) -> Result<LintReport, Error> {
    let migrations = source::discover(dir)?;
    let mut report = LintReport::default();
    let mut known = Knowledge::default();
    for migration in &migrations {
        let up = source::read_sql(&migration.up.path)?;
        let mut found = lint_script(
            &migration.up.path,
            &up,
            migration.up.no_transaction,
            &mut known,
        );
        let mut files = 1;
        if let Some(down) = &migration.down {
            // A down script runs after its up script; what it establishes does not carry.
            let sql = source::read_sql(&down.path)?;
            found.extend(lint_script(
                &down.path,
                &sql,
                down.no_transaction,
                &mut known.clone(),
            ));
            files += 1;
        }
        if from.is_none_or(|from| migration.version >= from) {
            report.files += files;
            report.findings.extend(found);
        }
    }
    Ok(report)
}

/// The rule list for `dbtool lint --rules`: id, severity, reason and the safe way.
pub fn rules_text() -> String {
    let mut text = String::new();
    for rule in RULES {
        let severity = match rule.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        text.push_str(&format!(
            "{} ({severity})\n    {}\n    instead: {}\n",
            rule.id,
            capitalize(rule.reason),
            rule.instead
        ));
    }
    text
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// Lints one script, in the light of what earlier migrations established.
fn lint_script(
    path: &Path,
    sql: &str,
    no_transaction: bool,
    known: &mut Knowledge,
) -> Vec<Finding> {
    let lines = Lines::new(sql);
    let markers = ignore_markers(sql);
    let mut findings = Vec::new();
    let mut finding = |offset: usize, rule: &'static rules::Rule, what: &str| {
        let (line, column) = lines.line_column(offset);
        findings.push(Finding {
            path: path.to_path_buf(),
            line,
            column,
            rule: rule.id,
            severity: rule.severity,
            message: format!("{what} {}; {}", rule.reason, rule.instead),
        });
    };

    let file_ignores: Vec<&str> = markers
        .iter()
        .filter(|m| !m.next)
        .flat_map(|m| m.ids.iter().map(|(id, _)| id.as_str()))
        .collect();
    let unknown = rules::rule("unknown-lint-rule").unwrap_or(&RULES[0]);
    for marker in &markers {
        for (id, offset) in &marker.ids {
            if rules::rule(id).is_none() && !file_ignores.contains(&unknown.id) {
                finding(
                    *offset,
                    unknown,
                    &format!("the ignore comment's rule id `{id}`"),
                );
            }
        }
    }

    let statements = statements::split(sql);
    let tokenized: Vec<_> = statements
        .iter()
        .map(|s| tokens::tokenize(s.sql, s.offset))
        .collect();
    let mut file = FileState::new(no_transaction);
    for tokens in &tokenized {
        rules::prepare(tokens, &mut file);
    }
    for tokens in &tokenized {
        let hits = rules::check(tokens, &mut file, known);
        if hits.is_empty() {
            continue;
        }
        let statement_ignores = statement_ignores(&lines, &markers, tokens[0].offset);
        for hit in hits {
            let silenced =
                file_ignores.contains(&hit.rule) || statement_ignores.contains(&hit.rule);
            if let (false, Some(rule)) = (silenced, rules::rule(hit.rule)) {
                finding(hit.offset, rule, &hit.what);
            }
        }
    }
    findings
}

/// One `-- dbtool:lint-ignore…` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Marker {
    /// `lint-ignore-next` (the next statement) rather than `lint-ignore` (the file).
    next: bool,
    /// 0-based line of the comment.
    line: usize,
    /// Rule ids, each with its byte offset.
    ids: Vec<(String, usize)>,
}

/// Every ignore comment in `sql`: a line whose text starts with `--` and the marker.
fn ignore_markers(sql: &str) -> Vec<Marker> {
    let mut markers = Vec::new();
    let mut line_start = 0;
    for (line_number, line) in sql.split('\n').enumerate() {
        let this_start = line_start;
        line_start += line.len() + 1;
        let Some(comment) = line.trim_start().strip_prefix("--") else {
            continue;
        };
        let comment = comment.trim_start();
        let (next, rest) = if let Some(rest) = comment.strip_prefix(IGNORE_NEXT) {
            (true, rest)
        } else if let Some(rest) = comment.strip_prefix(IGNORE_FILE) {
            (false, rest)
        } else {
            continue;
        };
        if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
            continue;
        }
        // `rule-a, rule-b -- why`: the ids end where the reason starts.
        let list = rest.split("--").next().unwrap_or_default();
        let list_offset = this_start + (line.len() - rest.len());
        let mut ids = Vec::new();
        let mut search_from = 0;
        for id in list.split(|c: char| c == ',' || c.is_whitespace()) {
            if id.is_empty() {
                continue;
            }
            let at = list[search_from..].find(id).map_or(0, |n| search_from + n);
            search_from = at + id.len();
            ids.push((id.to_owned(), list_offset + at));
        }
        markers.push(Marker {
            next,
            line: line_number,
            ids,
        });
    }
    markers
}

/// Rules silenced for the statement starting at `offset`: the `lint-ignore-next` comments
/// in the run of comment lines right above its first line.
fn statement_ignores<'m>(lines: &Lines, markers: &'m [Marker], offset: usize) -> Vec<&'m str> {
    let (first_line, _) = lines.line_column(offset);
    let first_line = first_line - 1;
    let mut ignores = Vec::new();
    let mut line = first_line;
    while line > 0 && lines.text(line - 1).trim_start().starts_with("--") {
        line -= 1;
        for marker in markers.iter().filter(|m| m.next && m.line == line) {
            ignores.extend(marker.ids.iter().map(|(id, _)| id.as_str()));
        }
    }
    ignores
}

/// Line starts of a script, for line and column numbers.
struct Lines<'a> {
    sql: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(sql: &'a str) -> Lines<'a> {
        let starts = std::iter::once(0)
            .chain(sql.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Lines { sql, starts }
    }

    /// 1-based line and column (in characters) of a byte offset.
    fn line_column(&self, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= offset).max(1) - 1;
        let start = self.starts[line];
        let column = self
            .sql
            .get(start..offset)
            .map_or(1, |text| text.chars().count() + 1);
        (line + 1, column)
    }

    /// The text of a 0-based line, without its line break.
    fn text(&self, line: usize) -> &'a str {
        let start = self.starts[line];
        let end = self
            .starts
            .get(line + 1)
            .map_or(self.sql.len(), |&next| next - 1);
        self.sql[start..end].trim_end_matches('\r')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rule ids a script breaks, in order, linted with what `earlier` established.
    fn ids_after(earlier: &[&str], sql: &str, no_transaction: bool) -> Vec<&'static str> {
        let mut known = Knowledge::default();
        for earlier in earlier {
            lint_script(Path::new("earlier.sql"), earlier, false, &mut known);
        }
        lint_script(Path::new("V2__x.sql"), sql, no_transaction, &mut known)
            .into_iter()
            .map(|f| f.rule)
            .collect()
    }

    fn ids(sql: &str) -> Vec<&'static str> {
        ids_after(&[], sql, false)
    }

    /// Every rule with a statement that breaks it and a close one that does not:
    /// (rule, triggering SQL, safe SQL, whether the file is no-transaction).
    const CASES: &[(&str, &str, &str, bool)] = &[
        (
            "index-without-concurrently",
            "CREATE INDEX info_name ON info (name);",
            "CREATE TABLE info (name text); CREATE INDEX info_name ON info (name);",
            false,
        ),
        (
            "index-without-concurrently",
            "create unique index if not exists i on public.\"Info\" using btree (lower(name));",
            "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON public.\"Info\" (name);",
            true,
        ),
        (
            "drop-index-without-concurrently",
            "DROP INDEX IF EXISTS info_name;",
            "DROP INDEX CONCURRENTLY IF EXISTS info_name;",
            true,
        ),
        (
            "reindex-without-concurrently",
            "REINDEX INDEX info_name;",
            "REINDEX INDEX CONCURRENTLY info_name;",
            true,
        ),
        (
            "needs-no-transaction",
            "CREATE INDEX CONCURRENTLY i ON info (name);",
            "-- no rule for plain statements\nSELECT 1;",
            false,
        ),
        (
            "needs-no-transaction",
            "VACUUM ANALYZE info;",
            "ANALYZE info;",
            false,
        ),
        (
            "foreign-key-without-not-valid",
            "ALTER TABLE entries ADD CONSTRAINT entries_info FOREIGN KEY (name) REFERENCES info (name);",
            "ALTER TABLE entries ADD CONSTRAINT entries_info FOREIGN KEY (name) REFERENCES info (name) NOT VALID;",
            false,
        ),
        (
            "foreign-key-without-not-valid",
            "ALTER TABLE entries ADD COLUMN info_name text REFERENCES info (name);",
            "CREATE TABLE entries (info_name text REFERENCES info (name));",
            false,
        ),
        (
            "check-without-not-valid",
            "ALTER TABLE info ADD CONSTRAINT short CHECK (length(name) < 64);",
            "ALTER TABLE info ADD CONSTRAINT short CHECK (length(name) < 64) NOT VALID;",
            false,
        ),
        (
            "unique-constraint-without-index",
            "ALTER TABLE info ADD CONSTRAINT info_name_key UNIQUE (name);",
            "ALTER TABLE info ADD CONSTRAINT info_name_key UNIQUE USING INDEX info_name_idx;",
            false,
        ),
        (
            "unique-constraint-without-index",
            "ALTER TABLE info ADD PRIMARY KEY (name);",
            "ALTER TABLE info ADD PRIMARY KEY USING INDEX info_pkey_idx;",
            false,
        ),
        (
            "column-type-change",
            "ALTER TABLE info ALTER COLUMN size TYPE bigint;",
            "ALTER TABLE info ALTER COLUMN size SET DEFAULT 0;",
            false,
        ),
        (
            "column-type-change",
            "ALTER TABLE info ALTER size SET DATA TYPE bigint USING size::bigint;",
            "CREATE TABLE info (size int); ALTER TABLE info ALTER size TYPE bigint;",
            false,
        ),
        (
            "set-not-null",
            "ALTER TABLE info ALTER COLUMN note SET NOT NULL;",
            "ALTER TABLE info ALTER COLUMN note DROP NOT NULL;",
            false,
        ),
        (
            "volatile-default",
            "ALTER TABLE info ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid();",
            "ALTER TABLE info ADD COLUMN created timestamptz NOT NULL DEFAULT now();",
            false,
        ),
        (
            "volatile-default",
            "ALTER TABLE info ADD COLUMN r float8 DEFAULT random() * 10;",
            "ALTER TABLE info ADD COLUMN r float8 DEFAULT 0.5;",
            false,
        ),
        (
            "volatile-default",
            "ALTER TABLE info ADD COLUMN id bigserial;",
            "ALTER TABLE info ADD COLUMN id bigint;",
            false,
        ),
        (
            "volatile-default",
            "ALTER TABLE info ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;",
            "CREATE TABLE info (seq bigint GENERATED ALWAYS AS IDENTITY);",
            false,
        ),
        (
            "volatile-default",
            "ALTER TABLE info ADD COLUMN n int GENERATED ALWAYS AS (length(name)) STORED;",
            "ALTER TABLE info ADD COLUMN n int DEFAULT length('abc');",
            false,
        ),
        (
            "volatile-default",
            "ALTER TABLE info ADD COLUMN at timestamptz DEFAULT clock_timestamp();",
            "ALTER TABLE info ADD COLUMN at timestamptz DEFAULT statement_timestamp();",
            false,
        ),
        (
            "not-null-without-default",
            "ALTER TABLE info ADD COLUMN note text NOT NULL;",
            "ALTER TABLE info ADD COLUMN note text NOT NULL DEFAULT '';",
            false,
        ),
        ("vacuum-full", "VACUUM FULL info;", "VACUUM (FULL false) info;", true),
        ("vacuum-full", "VACUUM (FULL, ANALYZE) info;", "VACUUM (ANALYZE) info;", true),
        (
            "cluster",
            "CLUSTER info USING info_pkey;",
            "ALTER TABLE info CLUSTER ON info_pkey;",
            false,
        ),
        (
            "lock-table",
            "LOCK TABLE info IN SHARE MODE;",
            "CREATE TABLE info (a int); LOCK TABLE info;",
            false,
        ),
        (
            "refresh-without-concurrently",
            "REFRESH MATERIALIZED VIEW totals;",
            "REFRESH MATERIALIZED VIEW CONCURRENTLY totals;",
            false,
        ),
        (
            "detach-partition-without-concurrently",
            "ALTER TABLE events DETACH PARTITION events_2020;",
            "ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY;",
            true,
        ),
        (
            "validate-in-same-transaction",
            "ALTER TABLE info ADD CONSTRAINT c CHECK (size > 0) NOT VALID;\nALTER TABLE info VALIDATE CONSTRAINT c;",
            "ALTER TABLE info VALIDATE CONSTRAINT c;",
            false,
        ),
        (
            "rename-column",
            "ALTER TABLE info RENAME COLUMN note TO notes;",
            "ALTER TABLE info RENAME CONSTRAINT a TO b;",
            false,
        ),
        (
            "rename-table",
            "ALTER TABLE info RENAME TO infos;",
            "CREATE TABLE info (a int); ALTER TABLE info RENAME TO infos;",
            false,
        ),
        (
            "unknown-lint-rule",
            "-- dbtool:lint-ignore no-such-rule\nSELECT 1;",
            "-- dbtool:lint-ignore lock-table\nSELECT 1;",
            false,
        ),
    ];

    #[test]
    fn every_rule_triggers_and_has_a_safe_counterpart() {
        for (rule, bad, good, no_transaction) in CASES {
            assert!(
                ids_after(&[], bad, *no_transaction).contains(rule),
                "rule {rule} should flag {bad:?}; got {:?}",
                ids_after(&[], bad, *no_transaction)
            );
            assert_eq!(
                ids_after(&[], good, *no_transaction),
                Vec::<&str>::new(),
                "rule {rule}: {good:?} is safe"
            );
        }
        for rule in RULES {
            assert!(
                CASES.iter().any(|(id, ..)| *id == rule.id),
                "rule {} has no table test",
                rule.id
            );
        }
    }

    #[test]
    fn new_tables_are_exempt_and_live_ones_are_not() {
        let sql = "CREATE TABLE IF NOT EXISTS app.entries (id bigint);\n\
                   CREATE INDEX entries_id ON app.entries (id);\n\
                   ALTER TABLE entries ADD COLUMN owner bigint NOT NULL REFERENCES users (id);\n\
                   CREATE INDEX users_name ON users (name);";
        assert_eq!(ids(sql), ["index-without-concurrently"]);
        // A table of another schema with the same name is not the new one.
        assert_eq!(
            ids("CREATE TABLE a.t (x int); CREATE INDEX ON b.t (x);"),
            ["index-without-concurrently"]
        );
    }

    #[test]
    fn a_statement_may_break_several_rules_in_one_alter_table() {
        let sql =
            "ALTER TABLE info ADD COLUMN n int NOT NULL, ALTER COLUMN note TYPE varchar(10), \
                   ALTER COLUMN name SET NOT NULL;";
        assert_eq!(
            ids(sql),
            [
                "not-null-without-default",
                "column-type-change",
                "set-not-null"
            ]
        );
    }

    #[test]
    fn set_not_null_after_a_validated_not_null_check_is_safe() {
        let add = "ALTER TABLE info ADD CONSTRAINT note_nn CHECK (note IS NOT NULL) NOT VALID;";
        let validate = "ALTER TABLE info VALIDATE CONSTRAINT note_nn;";
        let set = "ALTER TABLE info ALTER COLUMN note SET NOT NULL;";
        assert_eq!(ids_after(&[add, validate], set, false), Vec::<&str>::new());
        // Validated in the same file as SET NOT NULL: also fine.
        assert_eq!(
            ids_after(&[add], &format!("{validate}\n{set}"), false),
            Vec::<&str>::new()
        );
        // Not validated yet: the scan still happens.
        assert_eq!(ids_after(&[add], set, false), ["set-not-null"]);
        // A check on another column proves nothing about this one.
        let other = "ALTER TABLE info ADD CONSTRAINT n CHECK ((name IS NOT NULL));";
        assert_eq!(
            ids_after(&[other], set, false),
            ["set-not-null"],
            "check on another column"
        );
    }

    #[test]
    fn dropping_an_index_of_a_table_dropped_in_the_same_file_is_fine() {
        let up = "CREATE TABLE entries (name text); CREATE INDEX entries_name ON entries (name);";
        let down = "DROP INDEX entries_name;\nDROP TABLE entries;";
        assert_eq!(ids_after(&[up], down, false), Vec::<&str>::new());
        let later = "CREATE INDEX CONCURRENTLY entries_name ON entries (name);";
        assert_eq!(
            ids_after(&[later], "DROP INDEX entries_name;", false),
            ["drop-index-without-concurrently"]
        );
    }

    #[test]
    fn keywords_in_strings_comments_and_bodies_do_not_count() {
        let sql = "-- CREATE INDEX i ON info (name);\n\
                   /* ALTER TABLE info ALTER COLUMN a TYPE int; */\n\
                   INSERT INTO info VALUES ('LOCK TABLE info');\n\
                   CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$\n\
                   BEGIN EXECUTE 'CREATE INDEX i ON info (name)'; END $$;\n\
                   DO $$ BEGIN PERFORM 1; END $$;";
        assert_eq!(ids(sql), Vec::<&str>::new());
    }

    #[test]
    fn findings_point_at_line_and_column() {
        let sql = "CREATE TABLE t (a int);\n\n  CREATE INDEX i ON info (a);\nALTER TABLE info\n  ADD COLUMN x int NOT NULL;";
        let found = lint_script(
            Path::new("V1__x.sql"),
            sql,
            false,
            &mut Knowledge::default(),
        );
        let at: Vec<_> = found.iter().map(|f| (f.line, f.column, f.rule)).collect();
        assert_eq!(
            at,
            [
                (3, 3, "index-without-concurrently"),
                (5, 3, "not-null-without-default")
            ]
        );
        assert_eq!(
            found[0].to_string(),
            format!(
                "V1__x.sql:3:3: index-without-concurrently: CREATE INDEX on info {}; {}",
                rules::rule("index-without-concurrently")
                    .expect("rule")
                    .reason,
                rules::rule("index-without-concurrently")
                    .expect("rule")
                    .instead
            )
        );
    }

    #[test]
    fn ignore_comments_silence_a_file_or_one_statement() {
        let file =
            "-- dbtool:lint-ignore index-without-concurrently, set-not-null -- small table\n\
                    CREATE INDEX a ON info (a);\n\
                    CREATE INDEX b ON info (b);\n\
                    ALTER TABLE info ALTER c SET NOT NULL;\n\
                    LOCK TABLE info;";
        assert_eq!(ids(file), ["lock-table"]);

        let statement = "-- the table has ten rows\n\
                         -- dbtool:lint-ignore-next index-without-concurrently\n\
                         CREATE INDEX a ON info (a);\n\
                         CREATE INDEX b ON info (b);";
        assert_eq!(ids(statement), ["index-without-concurrently"]);
        let found = lint_script(
            Path::new("x.sql"),
            statement,
            false,
            &mut Knowledge::default(),
        );
        assert_eq!(found[0].line, 4, "the second index is the one flagged");

        // A blank line between the comment and the statement detaches it.
        let detached =
            "-- dbtool:lint-ignore-next index-without-concurrently\n\nCREATE INDEX a ON info (a);";
        assert_eq!(ids(detached), ["index-without-concurrently"]);
        // Only the named rule is silenced.
        let other = "-- dbtool:lint-ignore-next lock-table\nCREATE INDEX a ON info (a);";
        assert_eq!(ids(other), ["index-without-concurrently"]);
        // The marker must be the whole word.
        let longer =
            "-- dbtool:lint-ignored index-without-concurrently\nCREATE INDEX a ON info (a);";
        assert_eq!(ids(longer), ["index-without-concurrently"]);
    }

    #[test]
    fn unknown_rule_ids_in_ignore_comments_are_reported_where_they_are() {
        let sql = "SELECT 1;\n-- dbtool:lint-ignore-next lock-table, no-such-rule\nLOCK TABLE t;";
        let found = lint_script(Path::new("x.sql"), sql, false, &mut Knowledge::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].rule, found[0].line, found[0].column),
            ("unknown-lint-rule", 2, 40)
        );
        assert!(
            found[0].message.contains("`no-such-rule`"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn warnings_say_so() {
        let found = lint_script(
            Path::new("x.sql"),
            "ALTER TABLE a RENAME TO b;",
            false,
            &mut Knowledge::default(),
        );
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(
            found[0]
                .to_string()
                .starts_with("x.sql:1:15: rename-table: warning: RENAME of table a to b breaks"),
            "{}",
            found[0]
        );
    }

    const FRAGMENTS: &[&str] = &[
        "CREATE ",
        "UNIQUE ",
        "INDEX ",
        "ON ",
        "t",
        "s.",
        "(",
        ")",
        ",",
        ";",
        "ALTER ",
        "TABLE ",
        "ADD ",
        "COLUMN ",
        "CONSTRAINT ",
        "CHECK ",
        "NOT ",
        "NULL ",
        "VALID ",
        "IS ",
        "'",
        "\"",
        "$$",
        "$1",
        "--",
        "\n",
        "/*",
        "*/",
        "DROP ",
        "é",
        ".",
        "IF ",
        "EXISTS ",
        "DEFAULT ",
        "random",
        "VACUUM ",
        "FULL ",
        "LOCK ",
        "RENAME ",
        "TO ",
        "SET ",
        "TYPE ",
        "GENERATED ",
        "IDENTITY ",
        "STORED ",
        "REFERENCES ",
        "PRIMARY ",
        "KEY ",
        "USING ",
        "VALIDATE ",
        "DETACH ",
        "PARTITION ",
        "REINDEX ",
        "CONCURRENTLY ",
        "REFRESH ",
        "MATERIALIZED ",
        "VIEW ",
        "E'",
        "\\",
        "*",
        "-- dbtool:lint-ignore-next ",
        "-- dbtool:lint-ignore ",
        "x, ",
        "serial ",
    ];

    proptest::proptest! {
        #[test]
        fn lint_never_panics_on_fragments_of_sql(
            parts in proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..40),
            no_transaction: bool,
        ) {
            let sql = parts.concat();
            let found = lint_script(Path::new("x.sql"), &sql, no_transaction, &mut Knowledge::default());
            for finding in found {
                proptest::prop_assert!(finding.line >= 1 && finding.column >= 1);
            }
        }
    }

    #[test]
    fn every_rule_is_listed_with_its_reason() {
        let text = rules_text();
        for rule in RULES {
            assert!(text.contains(rule.id), "{}", rule.id);
            assert!(text.contains(rule.instead), "{}", rule.id);
        }
    }
}
