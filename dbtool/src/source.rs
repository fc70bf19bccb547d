//! Migration files on disk: `V{n}__{name}.sql` and its optional `V{n}__{name}.down.sql`.
//!
//! The folder is walked recursively, like refinery's loader, so both tools see the same
//! set. Unlike refinery, a `.sql` file that fits neither pattern is an error rather than
//! a silent skip: a typo in a file name must not drop a migration. A file reached twice
//! (a symbolic link to another file of the folder, as a Kubernetes ConfigMap mount makes
//! with its `..data` folder) is read once.
//!
//! Discovery reads each file once to compute its checksums and find what would stop it
//! from running, then lets its text go: a run holds one script in memory at a time.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use crate::checksum;
use crate::error::Error;
use crate::statements::{self, Kind};

/// First line that makes a file run outside a transaction (`CREATE INDEX CONCURRENTLY`).
pub const NO_TRANSACTION_MARKER: &str = "-- dbtool:no-transaction";

/// A script found on disk, without its text (read it again with [`Script::read`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub path: PathBuf,
    /// The file starts with [`NO_TRANSACTION_MARKER`].
    pub no_transaction: bool,
    /// Why the file cannot run as written (its own transaction control in a transactional
    /// file, a psql meta-command), with the line; checked before anything runs.
    pub refusal: Option<String>,
}

impl Script {
    /// Inspects a script's text (without a byte order mark).
    pub fn inspect(path: PathBuf, sql: &str) -> Script {
        let no_transaction = sql
            .lines()
            .next()
            .is_some_and(|first| first.trim_end() == NO_TRANSACTION_MARKER);
        let refusal = refusal(sql, no_transaction);
        Script {
            path,
            no_transaction,
            refusal,
        }
    }

    /// The script's text as PostgreSQL should see it (see [`read_sql`]).
    pub fn read(&self) -> Result<String, Error> {
        read_sql(&self.path)
    }
}

/// Meta-commands psql's own dumps carry that mean nothing to a server: `\restrict` and
/// `\unrestrict` guard psql against meta-commands hidden in a dump, and dbtool runs none.
pub const IGNORED_META_COMMANDS: [&str; 2] = ["restrict", "unrestrict"];

fn refusal(sql: &str, no_transaction: bool) -> Option<String> {
    for statement in statements::iter(sql) {
        let line = statements::first_line(sql, &statement);
        if let Kind::Meta { command } = statement.kind {
            if !IGNORED_META_COMMANDS.contains(&command) {
                return Some(format!(
                    "line {line} is the psql meta-command `{}`, which is not SQL; dbtool runs SQL only",
                    statement.sql.trim()
                ));
            }
            continue;
        }
        if no_transaction {
            continue;
        }
        if let Some(words) = statements::transaction_control(&statement) {
            return Some(format!(
                "line {line} has its own transaction control ({words}); dbtool runs each \
                 migration in one transaction with its history row. Remove it, or make the \
                 file's first line `{NO_TRANSACTION_MARKER}` to run it statement by statement"
            ));
        }
    }
    None
}

/// One version: its up script and, when present, its down script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMigration {
    pub version: i32,
    pub name: String,
    pub up: Script,
    pub down: Option<Script>,
    /// refinery's checksum of the up script (name, version and SQL), as recorded when
    /// dbtool applies it.
    pub checksum: u64,
    /// Checksums of the same script with other line endings or byte order mark: a record
    /// holding any of them still matches the file.
    pub equivalent_checksums: Vec<u64>,
}

impl LocalMigration {
    /// `V{version}__{name}`, as refinery displays it.
    pub fn label(&self) -> String {
        format!("V{}__{}", self.version, self.name)
    }

    /// Whether a recorded name and checksum still describe this file.
    pub fn matches(&self, name: &str, checksum: u64) -> bool {
        self.name == name
            && (self.checksum == checksum || self.equivalent_checksums.contains(&checksum))
    }

    /// The path a down script for this migration has, whether or not it exists.
    pub fn down_path(&self) -> PathBuf {
        let stem = self
            .up
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".sql"))
            .unwrap_or_default();
        self.up.path.with_file_name(format!("{stem}.down.sql"))
    }
}

/// What a file name says about the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    Up {
        version: i32,
        name: String,
    },
    Down {
        version: i32,
        name: String,
    },
    /// Not SQL: ignored (README, .gitkeep, editor files).
    Other,
}

/// Classifies one file name; `Err` holds why a `.sql` name is unacceptable.
pub fn classify(file_name: &str) -> Result<FileKind, String> {
    let Some(stem) = file_name.strip_suffix(".sql") else {
        let lower = file_name.to_ascii_lowercase();
        if lower.ends_with(".sql") {
            return Err(
                "the extension must be .sql in lower case (refinery reads only .sql)".into(),
            );
        }
        return Ok(FileKind::Other);
    };
    let (stem, down) = match stem.strip_suffix(".down") {
        Some(stem) => (stem, true),
        None => (stem, false),
    };
    const EXPECTED: &str = "expected V{version}__{name}.sql or V{version}__{name}.down.sql, \
                            with a whole-number version and a name of letters, digits and _";
    let Some(rest) = stem.strip_prefix('V') else {
        return Err(if stem.starts_with('U') {
            format!("unversioned (U) migrations are not supported; {EXPECTED}")
        } else {
            EXPECTED.to_owned()
        });
    };
    let Some((digits, name)) = rest.split_once("__") else {
        return Err(EXPECTED.to_owned());
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EXPECTED.to_owned());
    }
    // refinery's pattern is `\w+`: letters, digits and underscores.
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Err(EXPECTED.to_owned());
    }
    let version: i32 = digits.parse().map_err(|_| {
        format!(
            "version {digits} is too large (the largest is {})",
            i32::MAX
        )
    })?;
    let name = name.to_owned();
    Ok(if down {
        FileKind::Down { version, name }
    } else {
        FileKind::Up { version, name }
    })
}

/// Reads every migration in `dir`, sorted by version, after checking the whole folder.
pub fn discover(dir: &Path) -> Result<Vec<LocalMigration>, Error> {
    if !dir.is_dir() {
        return Err(Error::NoMigrationsFolder(dir.to_path_buf()));
    }
    let mut files = Vec::new();
    collect_files(dir, &mut files)?;
    files.sort();
    let mut seen = HashSet::new();
    files.retain(|path| seen.insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone())));

    let mut ups: BTreeMap<i32, (String, PathBuf)> = BTreeMap::new();
    let mut downs: Vec<(i32, String, PathBuf)> = Vec::new();
    for path in files {
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("sql"))
            {
                return Err(Error::BadFileName {
                    path,
                    reason: "file name is not valid UTF-8".into(),
                });
            }
            continue;
        };
        match classify(file_name) {
            Ok(FileKind::Other) => {}
            Ok(FileKind::Up { version, name }) => {
                if let Some((_, existing)) = ups.get(&version) {
                    return Err(Error::DuplicateVersion {
                        version,
                        first: existing.clone(),
                        second: path,
                    });
                }
                ups.insert(version, (name, path));
            }
            Ok(FileKind::Down { version, name }) => downs.push((version, name, path)),
            Err(reason) => return Err(Error::BadFileName { path, reason }),
        }
    }

    let mut down_paths: BTreeMap<i32, PathBuf> = BTreeMap::new();
    for (version, name, path) in downs {
        match ups.get(&version) {
            Some((up_name, _)) if *up_name == name => {}
            Some((up_name, _)) => {
                return Err(Error::BadFileName {
                    path,
                    reason: format!(
                        "down script's name does not match its migration V{version}__{up_name}"
                    ),
                })
            }
            None => {
                return Err(Error::BadFileName {
                    path,
                    reason: format!("down script without a migration V{version}__{name}.sql"),
                })
            }
        }
        if let Some(existing) = down_paths.get(&version) {
            return Err(Error::DuplicateVersion {
                version,
                first: existing.clone(),
                second: path,
            });
        }
        down_paths.insert(version, path);
    }

    ups.into_iter()
        .map(|(version, (name, path))| {
            let raw = read_raw(&path)?;
            let checksum = checksum::refinery(version, &name, &raw);
            let equivalent_checksums = checksum::equivalents(version, &name, &raw);
            let up = Script::inspect(path, strip_bom(&raw));
            drop(raw);
            let down = match down_paths.remove(&version) {
                Some(path) => {
                    let sql = read_sql(&path)?;
                    Some(Script::inspect(path, &sql))
                }
                None => None,
            };
            Ok(LocalMigration {
                version,
                down,
                name,
                up,
                checksum,
                equivalent_checksums,
            })
        })
        .collect()
}

/// The up migrations among files compiled into a program (`(file name, text)` pairs, as
/// `include_str!` gives them), sorted by version: what [`discover`] reads from a folder, for
/// a service that reports its own database's state without the folder beside it. Down
/// scripts and files that are not SQL are skipped; a misnamed file or a version given twice
/// is the same error as on disk.
pub fn embedded(files: &[(&str, &str)]) -> Result<Vec<LocalMigration>, Error> {
    let mut ups: BTreeMap<i32, LocalMigration> = BTreeMap::new();
    for (file_name, raw) in files {
        let path = PathBuf::from(file_name);
        let (version, name) = match classify(file_name) {
            Ok(FileKind::Up { version, name }) => (version, name),
            Ok(FileKind::Down { .. } | FileKind::Other) => continue,
            Err(reason) => return Err(Error::BadFileName { path, reason }),
        };
        if let Some(existing) = ups.get(&version) {
            return Err(Error::DuplicateVersion {
                version,
                first: existing.up.path.clone(),
                second: path,
            });
        }
        let migration = LocalMigration {
            version,
            checksum: checksum::refinery(version, &name, raw),
            equivalent_checksums: checksum::equivalents(version, &name, raw),
            up: Script::inspect(path, strip_bom(raw)),
            down: None,
            name,
        };
        ups.insert(version, migration);
    }
    Ok(ups.into_values().collect())
}

/// refinery's checksum of a migration (see [`crate::checksum`]).
pub fn refinery_checksum(version: i32, name: &str, sql: &str) -> u64 {
    checksum::refinery(version, name, sql)
}

fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

fn read_raw(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Unreadable {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a migration file as PostgreSQL should see it: UTF-8, without a leading byte order
/// mark (editors on Windows write one; PostgreSQL would read it as a character).
pub fn read_sql(path: &Path) -> Result<String, Error> {
    let mut text = read_raw(path)?;
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

/// Kubernetes mounts a ConfigMap as `..<timestamp>/` with a `..data` link to it and a link
/// per file into `..data`: its `..` entries are its own bookkeeping, never migrations.
fn is_atomic_writer_entry(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|n| n.starts_with(".."))
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    collect_files_once(dir, out, &mut HashSet::new())
}

/// Walks `dir`, entering each real folder once, so a link to a parent cannot loop.
fn collect_files_once(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    visited: &mut HashSet<PathBuf>,
) -> Result<(), Error> {
    if !visited.insert(std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())) {
        return Ok(());
    }
    let unreadable = |source| Error::Unreadable {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        if is_atomic_writer_entry(&entry.file_name()) {
            continue;
        }
        let path = entry.path();
        let mut file_type = entry.file_type().map_err(unreadable)?;
        if file_type.is_symlink() {
            // Follow links; a dangling one is reported when (and if) it is read.
            match std::fs::metadata(&path) {
                Ok(metadata) => file_type = metadata.file_type(),
                Err(_) => {
                    out.push(path);
                    continue;
                }
            }
        }
        if file_type.is_dir() {
            collect_files_once(&path, out, visited)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The repository's own migrations, read from disk and as a program embeds them.
    #[test]
    fn embedded_files_are_read_as_the_folder_is() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
        for database in ["catalog", "activity", "cluster"] {
            let dir = root.join(database);
            let on_disk = discover(&dir).unwrap();
            let texts: Vec<(String, String)> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|entry| {
                    let path = entry.unwrap().path();
                    let name = path.file_name().unwrap().to_str().unwrap().to_owned();
                    (name, std::fs::read_to_string(&path).unwrap())
                })
                .collect();
            let files: Vec<(&str, &str)> = texts
                .iter()
                .map(|(name, sql)| (name.as_str(), sql.as_str()))
                .collect();
            let embedded = embedded(&files).unwrap();
            assert!(!embedded.is_empty());
            let brief = |m: &LocalMigration| {
                (
                    m.version,
                    m.name.clone(),
                    m.checksum,
                    m.equivalent_checksums.clone(),
                    m.up.no_transaction,
                    m.up.refusal.clone(),
                )
            };
            assert_eq!(
                embedded.iter().map(brief).collect::<Vec<_>>(),
                on_disk.iter().map(brief).collect::<Vec<_>>(),
                "{database}"
            );
        }
    }

    #[test]
    fn embedded_files_are_checked_like_a_folder() {
        let sql = "SELECT 1;";
        let err = embedded(&[("V1__a.sql", sql), ("V1__b.sql", sql)]).unwrap_err();
        assert!(
            matches!(err, Error::DuplicateVersion { version: 1, .. }),
            "{err}"
        );
        let err = embedded(&[("v1__lower.sql", sql)]).unwrap_err();
        assert!(matches!(err, Error::BadFileName { .. }), "{err}");
        let found = embedded(&[
            ("V2__b.sql", sql),
            ("README.md", "notes"),
            ("V1__a.down.sql", sql),
            ("V1__a.sql", sql),
        ])
        .unwrap();
        let versions: Vec<i32> = found.iter().map(|m| m.version).collect();
        assert_eq!(versions, [1, 2]);
        assert_eq!(found[0].checksum, refinery_checksum(1, "a", sql));
    }

    fn up(version: i32, name: &str) -> Result<FileKind, String> {
        Ok(FileKind::Up {
            version,
            name: name.into(),
        })
    }

    #[test]
    fn classify_accepts_and_refuses_names() {
        let cases: &[(&str, Result<FileKind, String>)] = &[
            ("V1__create_info.sql", up(1, "create_info")),
            ("V007__leading_zeros.sql", up(7, "leading_zeros")),
            ("V12__x.sql", up(12, "x")),
            ("V2__naïve.sql", up(2, "naïve")),
            (
                "V1__create_info.down.sql",
                Ok(FileKind::Down {
                    version: 1,
                    name: "create_info".into(),
                }),
            ),
            ("README.md", Ok(FileKind::Other)),
            ("V1__x.sql.swp", Ok(FileKind::Other)),
        ];
        for (file, expected) in cases {
            assert_eq!(&classify(file), expected, "case {file}");
        }
        for bad in [
            "V1_create.sql",
            "create.sql",
            "v1__lower.sql",
            "V__noversion.sql",
            "V1.5__dotted.sql",
            "V1__.sql",
            "V1__has-dash.sql",
            "V1__two.words.sql",
            "V1__x.up.sql",
            "U1__unversioned.sql",
            "V99999999999__huge.sql",
            "V1__x.down.down.sql",
            "V2__x.SQL",
            "V2__x.down.Sql",
        ] {
            assert!(classify(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn unversioned_names_say_why_they_are_refused() {
        let reason = classify("U1__x.sql").unwrap_err();
        assert!(reason.contains("unversioned"), "{reason}");
    }

    #[test]
    fn no_transaction_marker_must_be_the_first_line() {
        let yes = Script::inspect(
            "a".into(),
            &format!("{NO_TRANSACTION_MARKER}  \r\nCREATE INDEX"),
        );
        let no = Script::inspect("b".into(), &format!("SELECT 1;\n{NO_TRANSACTION_MARKER}\n"));
        assert!(yes.no_transaction);
        assert!(!no.no_transaction);
    }

    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, sql) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, sql).expect("write");
        }
        dir
    }

    #[test]
    fn discover_pairs_up_and_down_scripts_in_version_order() {
        let dir = folder(&[
            ("V10__ten.sql", "SELECT 10;"),
            ("V2__two.sql", "SELECT 2;"),
            ("V2__two.down.sql", "SELECT -2;"),
            ("sub/V3__three.sql", "SELECT 3;"),
            ("notes.txt", "not sql"),
        ]);
        let found = discover(dir.path()).expect("valid folder");
        let versions: Vec<_> = found.iter().map(|m| (m.version, m.name.as_str())).collect();
        assert_eq!(versions, [(2, "two"), (3, "three"), (10, "ten")]);
        assert_eq!(
            found[0].down.as_ref().map(|d| d.read().expect("down")),
            Some("SELECT -2;".to_owned())
        );
        assert!(found[1].down.is_none());
        assert_eq!(
            found[0].checksum,
            refinery::Migration::unapplied("V2__two", "SELECT 2;")
                .expect("refinery name")
                .checksum()
        );
        assert!(found[0].matches("two", refinery_checksum(2, "two", "SELECT 2;")));
    }

    #[test]
    fn discover_refuses_broken_folders() {
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], u8);
        let cases: &[Case] = &[
            (
                "duplicate version",
                &[("V1__a.sql", ""), ("V01__b.sql", "")],
                8,
            ),
            (
                "unknown sql file",
                &[("V1__a.sql", ""), ("seed.sql", "")],
                7,
            ),
            (
                "orphan down script",
                &[("V1__a.sql", ""), ("V2__b.down.sql", "")],
                7,
            ),
            (
                "down name mismatch",
                &[("V1__a.sql", ""), ("V1__b.down.sql", "")],
                7,
            ),
        ];
        for (case, files, code) in cases {
            let dir = folder(files);
            let err = discover(dir.path()).expect_err(case);
            assert_eq!(err.exit_code(), *code, "case {case}: {err}");
        }
    }

    #[test]
    fn discover_refuses_files_that_are_not_utf8() {
        let dir = folder(&[]);
        std::fs::write(dir.path().join("V1__bin.sql"), [0xff, 0xfe, 0x00]).expect("write");
        let err = discover(dir.path()).expect_err("binary file");
        assert_eq!(err.exit_code(), 6, "{err}");
    }

    #[test]
    #[cfg(unix)]
    fn discover_reads_a_configmap_mount_once() {
        // The layout kubelet's atomic writer makes for a ConfigMap volume.
        let dir = folder(&[
            ("..2026_12_01_10_00_00.123/V1__first.sql", "SELECT 1;"),
            ("..2026_12_01_10_00_00.123/V1__first.down.sql", "SELECT 0;"),
        ]);
        std::os::unix::fs::symlink("..2026_12_01_10_00_00.123", dir.path().join("..data"))
            .expect("link");
        for name in ["V1__first.sql", "V1__first.down.sql"] {
            std::os::unix::fs::symlink(format!("..data/{name}"), dir.path().join(name))
                .expect("link");
        }
        let found = discover(dir.path()).expect("a ConfigMap mount is one folder");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].up.path, dir.path().join("V1__first.sql"));
        assert!(found[0].down.is_some());
    }

    #[test]
    #[cfg(unix)]
    fn discover_reads_a_linked_file_once_and_survives_a_link_loop() {
        let dir = folder(&[("sql/V1__a.sql", "SELECT 1;")]);
        std::os::unix::fs::symlink("sql/V1__a.sql", dir.path().join("V1__a.sql")).expect("link");
        std::os::unix::fs::symlink(".", dir.path().join("sql/loop")).expect("link");
        let found = discover(dir.path()).expect("one migration");
        assert_eq!(found.len(), 1);
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_script() {
        let dir = folder(&[(
            "V1__bom.sql",
            "\u{feff}-- dbtool:no-transaction\r\nCREATE INDEX CONCURRENTLY i ON t (a);\r\n",
        )]);
        let found = discover(dir.path()).expect("valid");
        assert!(
            found[0].up.no_transaction,
            "marker after a BOM is recognised"
        );
        assert!(!found[0].up.read().expect("read").starts_with('\u{feff}'));
        // The recorded checksum stays refinery's, over the file as it is.
        let raw = std::fs::read_to_string(dir.path().join("V1__bom.sql")).expect("raw");
        assert_eq!(found[0].checksum, refinery_checksum(1, "bom", &raw));
    }

    #[test]
    fn scripts_that_cannot_run_as_written_are_refused_with_their_line() {
        let cases: &[(&str, Option<&str>)] = &[
            ("BEGIN;\nCREATE TABLE a (x int);\nCOMMIT;", Some("line 1")),
            ("CREATE TABLE a (x int);\n\n  rollback;", Some("line 3")),
            (
                "\\connect other\nSELECT 1;",
                Some("line 1 is the psql meta-command `\\connect other`"),
            ),
            ("\\restrict k\nSELECT 1;\n\\unrestrict k\n", None),
            ("-- dbtool:no-transaction\nBEGIN; SELECT 1; COMMIT;", None),
            ("SAVEPOINT a; SELECT 1; ROLLBACK TO SAVEPOINT a;", None),
            ("DO $$ BEGIN PERFORM 1; END $$;", None),
        ];
        for (sql, expected) in cases {
            let script = Script::inspect("V1__x.sql".into(), sql);
            match (expected, &script.refusal) {
                (None, None) => {}
                (Some(part), Some(reason)) => assert!(reason.contains(part), "{sql:?}: {reason}"),
                _ => panic!("{sql:?}: expected {expected:?}, got {:?}", script.refusal),
            }
        }
    }

    #[test]
    fn discover_reports_a_missing_folder() {
        let err = discover(Path::new("/nonexistent/migrations")).expect_err("missing");
        assert_eq!(err.exit_code(), 3, "{err}");
    }
}
