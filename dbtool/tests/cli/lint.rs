//! `dbtool lint`: findings, their format and exit code, silencing, JSON, and no database.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{assert_exit, stderr, stdout};

/// A migrations folder holding `files`.
fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, sql) in files {
        std::fs::write(dir.path().join(name), sql).expect("write migration");
    }
    dir
}

/// `dbtool lint ARGS` on `dir`, with no database anywhere in its environment.
fn lint(dir: &Path, args: &[&str]) -> Output {
    Command::new(assert_cmd::cargo::cargo_bin("dbtool"))
        .env_clear()
        .env("DBTOOL_MIGRATIONS", dir)
        .arg("lint")
        .args(args)
        .output()
        .expect("run dbtool")
}

#[test]
fn lint_needs_no_database_and_passes_the_projects_own_migrations() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let mut folders = 0;
    for entry in std::fs::read_dir(&root).expect("migrations folder") {
        let dir = entry.expect("entry").path();
        let out = lint(&dir, &[]);
        assert_exit(&out, 0);
        assert_eq!(stdout(&out), "", "{}", dir.display());
        assert!(stderr(&out).contains("no problems"), "{}", stderr(&out));
        folders += 1;
    }
    assert!(folders > 0);
}

#[test]
fn lint_reports_each_finding_as_path_line_column_rule_and_message() {
    let dir = folder(&[
        ("V1__create_info.sql", "CREATE TABLE info (name text);\nCREATE INDEX info_name ON info (name);\n"),
        (
            "V2__tighten.sql",
            "-- Entries need a description.\nALTER TABLE info\n    ADD COLUMN description text NOT NULL,\n    ALTER COLUMN name SET NOT NULL;\nCREATE INDEX info_description ON info (description);\n",
        ),
    ]);
    let out = lint(dir.path(), &[]);
    assert_exit(&out, 15);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let file = dir.path().join("V2__tighten.sql");
    let file = file.display();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with(&format!(
            "{file}:3:5: not-null-without-default: ADD COLUMN info.description NOT NULL without a DEFAULT fails"
        )),
        "{text}"
    );
    assert!(
        lines[1].starts_with(&format!(
            "{file}:4:5: set-not-null: SET NOT NULL on info.name"
        )),
        "{text}"
    );
    assert!(
        lines[2].starts_with(&format!(
            "{file}:5:1: index-without-concurrently: CREATE INDEX on info blocks every write"
        )),
        "{text}"
    );
    // Each message says what to do instead.
    assert!(lines[2].contains("CREATE INDEX CONCURRENTLY"), "{text}");
    assert!(
        stderr(&out).contains("lint found 3 problem(s)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn lint_json_lists_the_same_findings() {
    let dir = folder(&[(
        "V1__lock.sql",
        "LOCK TABLE info;\nALTER TABLE info RENAME TO infos;",
    )]);
    let out = lint(dir.path(), &["--json"]);
    assert_exit(&out, 15);
    let findings: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let findings = findings.as_array().expect("array");
    assert_eq!(findings.len(), 2, "{findings:?}");
    assert_eq!(findings[0]["rule"], "lock-table");
    assert_eq!(findings[0]["severity"], "error");
    assert_eq!(findings[0]["line"], 1);
    assert_eq!(findings[0]["column"], 1);
    assert_eq!(findings[1]["rule"], "rename-table");
    assert_eq!(findings[1]["severity"], "warning");
    assert!(findings[1]["path"]
        .as_str()
        .is_some_and(|p| p.ends_with("V1__lock.sql")));
}

#[test]
fn lint_ignore_comments_silence_a_whole_file_or_one_statement() {
    let dir = folder(&[
        (
            "V1__small_table.sql",
            "-- dbtool:lint-ignore index-without-concurrently -- the table has 20 rows\n\
             CREATE INDEX a ON info (a);\n\
             CREATE INDEX b ON info (b);\n",
        ),
        (
            "V2__one.sql",
            "-- dbtool:lint-ignore-next set-not-null -- validated check in V1\n\
             ALTER TABLE info ALTER COLUMN a SET NOT NULL;\n\
             ALTER TABLE info ALTER COLUMN b SET NOT NULL;\n",
        ),
    ]);
    let out = lint(dir.path(), &[]);
    assert_exit(&out, 15);
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("V2__one.sql:3:18: set-not-null:"), "{text}");
}

#[test]
fn lint_warnings_alone_exit_zero() {
    let dir = folder(&[(
        "V1__rename.sql",
        "ALTER TABLE info RENAME COLUMN note TO notes;",
    )]);
    let out = lint(dir.path(), &[]);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains(": rename-column: warning: RENAME of column info.note to notes"),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("1 warning(s)"), "{}", stderr(&out));
}

#[test]
fn lint_checks_down_scripts_and_the_no_transaction_marker() {
    let dir = folder(&[
        ("V1__create.sql", "CREATE TABLE info (name text);"),
        (
            "V2__index.sql",
            "-- dbtool:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS info_name ON info (name);",
        ),
        ("V2__index.down.sql", "DROP INDEX info_name;"),
        (
            "V3__forgot_marker.sql",
            "CREATE INDEX CONCURRENTLY info_lower ON info (lower(name));",
        ),
    ]);
    let out = lint(dir.path(), &[]);
    assert_exit(&out, 15);
    let text = stdout(&out);
    assert!(
        text.contains("V2__index.down.sql:1:1: drop-index-without-concurrently:"),
        "{text}"
    );
    assert!(
        text.contains("V3__forgot_marker.sql:1:1: needs-no-transaction:"),
        "{text}"
    );
    assert!(!text.contains("V2__index.sql:"), "{text}");
}

#[test]
fn lint_from_reports_only_later_migrations_but_reads_the_earlier_ones() {
    let dir = folder(&[
        (
            "V1__old.sql",
            "CREATE TABLE info (a int); LOCK TABLE other;",
        ),
        (
            "V2__check.sql",
            "ALTER TABLE info ADD CONSTRAINT a_nn CHECK (a IS NOT NULL) NOT VALID;",
        ),
        (
            "V3__validate.sql",
            "ALTER TABLE info VALIDATE CONSTRAINT a_nn;",
        ),
        (
            "V4__not_null.sql",
            "ALTER TABLE info ALTER COLUMN a SET NOT NULL;",
        ),
    ]);
    assert_exit(&lint(dir.path(), &[]), 15);
    // V1's LOCK TABLE is not reported; V4's SET NOT NULL is safe thanks to V2 and V3.
    let out = lint(dir.path(), &["--from", "4"]);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("lint: 1 file(s), no problems"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn lint_rules_lists_every_rule_with_its_reason_and_the_safe_way() {
    let dir = folder(&[]);
    let out = lint(dir.path(), &["--rules"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    for rule in dbtool::lint::RULES {
        assert!(text.contains(&format!("{} (", rule.id)), "{}", rule.id);
        assert!(text.contains(rule.instead), "{}", rule.id);
    }
}

#[test]
fn lint_of_a_missing_folder_is_a_configuration_error() {
    let out = lint(Path::new("/nonexistent/migrations"), &[]);
    assert_exit(&out, 3);
}
