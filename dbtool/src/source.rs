//! Migration files on disk: `V{n}__{name}.sql` and its optional `V{n}__{name}.down.sql`.
//!
//! The folder is walked recursively, like refinery's loader, so both tools see the same
//! set. Unlike refinery, a `.sql` file that fits neither pattern is an error rather than
//! a silent skip: a typo in a file name must not drop a migration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// First line that makes a file run outside a transaction (`CREATE INDEX CONCURRENTLY`).
pub const NO_TRANSACTION_MARKER: &str = "-- dbtool:no-transaction";

/// A script read from disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub path: PathBuf,
    pub sql: String,
    /// The file starts with [`NO_TRANSACTION_MARKER`].
    pub no_transaction: bool,
}

impl Script {
    fn new(path: PathBuf, sql: String) -> Script {
        let no_transaction = sql
            .lines()
            .next()
            .is_some_and(|first| first.trim_end() == NO_TRANSACTION_MARKER);
        Script {
            path,
            sql,
            no_transaction,
        }
    }
}

/// One version: its up script and, when present, its down script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMigration {
    pub version: i32,
    pub name: String,
    pub up: Script,
    pub down: Option<Script>,
    /// refinery's checksum of the up script (name, version and SQL).
    pub checksum: u64,
}

impl LocalMigration {
    /// `V{version}__{name}`, as refinery displays it.
    pub fn label(&self) -> String {
        format!("V{}__{}", self.version, self.name)
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

    let mut ups: BTreeMap<i32, (String, Script)> = BTreeMap::new();
    let mut downs: Vec<(i32, String, PathBuf)> = Vec::new();
    for path in files {
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            if path.extension().is_some_and(|e| e == "sql") {
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
                        first: existing.path.clone(),
                        second: path,
                    });
                }
                let sql = read(&path)?;
                ups.insert(version, (name, Script::new(path, sql)));
            }
            Ok(FileKind::Down { version, name }) => downs.push((version, name, path)),
            Err(reason) => return Err(Error::BadFileName { path, reason }),
        }
    }

    let mut down_scripts: BTreeMap<i32, Script> = BTreeMap::new();
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
        if let Some(existing) = down_scripts.get(&version) {
            return Err(Error::DuplicateVersion {
                version,
                first: existing.path.clone(),
                second: path,
            });
        }
        let sql = read(&path)?;
        down_scripts.insert(version, Script::new(path, sql));
    }

    ups.into_iter()
        .map(|(version, (name, up))| {
            let checksum = refinery_checksum(version, &name, &up.sql);
            Ok(LocalMigration {
                version,
                down: down_scripts.remove(&version),
                name,
                up,
                checksum,
            })
        })
        .collect()
}

/// refinery's checksum, computed by refinery itself so the two can never disagree.
pub fn refinery_checksum(version: i32, name: &str, sql: &str) -> u64 {
    refinery::Migration::unapplied(&format!("V{version}__{name}"), sql)
        .map(|m| m.checksum())
        // The name was validated against refinery's pattern before we get here.
        .unwrap_or_default()
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Unreadable {
        path: path.to_path_buf(),
        source,
    })
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let unreadable = |source| Error::Unreadable {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(unreadable)?;
        if file_type.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let yes = Script::new(
            "a".into(),
            format!("{NO_TRANSACTION_MARKER}  \r\nCREATE INDEX"),
        );
        let no = Script::new("b".into(), format!("SELECT 1;\n{NO_TRANSACTION_MARKER}\n"));
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
            found[0].down.as_ref().map(|d| d.sql.as_str()),
            Some("SELECT -2;")
        );
        assert!(found[1].down.is_none());
        assert_eq!(
            found[0].checksum,
            refinery::Migration::unapplied("V2__two", "SELECT 2;")
                .expect("refinery name")
                .checksum()
        );
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
    fn discover_reports_a_missing_folder() {
        let err = discover(Path::new("/nonexistent/migrations")).expect_err("missing");
        assert_eq!(err.exit_code(), 3, "{err}");
    }
}
