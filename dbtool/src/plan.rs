//! Pure checks of the applied history against the files, and what to do next.
//!
//! Everything here runs before anything changes: a run either passes every check or
//! changes nothing.

use std::collections::BTreeMap;

use crate::error::{Drift, Error};
use crate::history::AppliedMigration;
use crate::source::{LocalMigration, Script};

/// Applied migrations whose file changed or vanished (refinery's divergent and missing).
pub fn drift(applied: &[AppliedMigration], local: &[LocalMigration]) -> Vec<Drift> {
    let by_version: BTreeMap<i32, &LocalMigration> = local.iter().map(|m| (m.version, m)).collect();
    applied
        .iter()
        .filter_map(|row| match by_version.get(&row.version) {
            None => Some(Drift::Missing {
                version: row.version,
                name: row.name.clone(),
            }),
            Some(file) if !file.matches(&row.name, row.checksum) => Some(Drift::Changed {
                version: row.version,
                name: row.name.clone(),
            }),
            Some(_) => None,
        })
        .collect()
}

/// Fails with [`Error::Drift`] when any applied migration drifted.
pub fn check_drift(applied: &[AppliedMigration], local: &[LocalMigration]) -> Result<(), Error> {
    let drift = drift(applied, local);
    if drift.is_empty() {
        Ok(())
    } else {
        Err(Error::Drift(drift))
    }
}

/// Local migrations not yet applied, in order, up to `target` when given.
///
/// A pending file whose version is below the newest applied one is refused unless
/// `out_of_order` allows it: applying it now would run it after changes it predates, and
/// refinery would refuse it as well. (A branch merged late is the usual reason to allow it.)
pub fn pending<'a>(
    applied: &[AppliedMigration],
    local: &'a [LocalMigration],
    target: Option<i32>,
    out_of_order: bool,
) -> Result<Vec<&'a LocalMigration>, Error> {
    let newest = applied.iter().map(|a| a.version).max();
    let mut out = Vec::new();
    for migration in local {
        if applied.iter().any(|a| a.version == migration.version) {
            continue;
        }
        if let Some(newest) = newest.filter(|&n| migration.version < n && !out_of_order) {
            return Err(Error::OutOfOrder {
                migration: migration.label(),
                newest_applied: newest,
            });
        }
        if target.is_none_or(|t| migration.version <= t) {
            out.push(migration);
        }
    }
    Ok(out)
}

/// Fails with [`Error::CannotRun`] for the first script that cannot run as written.
pub fn check_runnable<'a>(scripts: impl IntoIterator<Item = &'a Script>) -> Result<(), Error> {
    for script in scripts {
        if let Some(reason) = &script.refusal {
            return Err(Error::CannotRun {
                path: script.path.clone(),
                reason: reason.clone(),
            });
        }
    }
    Ok(())
}

/// How far `rollback` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackTarget {
    /// The newest N applied migrations.
    Count(usize),
    /// Every applied migration above this version.
    ToVersion(i32),
}

/// The applied migrations to undo, newest first, each with its file (which has a down
/// script): checked for all of them before any is undone.
pub fn rollback<'a>(
    applied: &[AppliedMigration],
    local: &'a [LocalMigration],
    target: RollbackTarget,
) -> Result<Vec<&'a LocalMigration>, Error> {
    let mut newest_first: Vec<&AppliedMigration> = applied.iter().collect();
    newest_first.sort_by_key(|a| std::cmp::Reverse(a.version));
    let chosen: Vec<&AppliedMigration> = match target {
        RollbackTarget::Count(n) => newest_first.into_iter().take(n).collect(),
        RollbackTarget::ToVersion(v) => newest_first
            .into_iter()
            .take_while(|a| a.version > v)
            .collect(),
    };
    chosen
        .into_iter()
        .map(|row| {
            let file = local
                .iter()
                .find(|m| m.version == row.version)
                .ok_or_else(|| {
                    Error::Drift(vec![Drift::Missing {
                        version: row.version,
                        name: row.name.clone(),
                    }])
                })?;
            if file.down.is_none() {
                return Err(Error::NoDownScript {
                    migration: file.label(),
                    expected: file.down_path(),
                });
            }
            Ok(file)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::refinery_checksum;

    fn local(version: i32, name: &str, sql: &str, down: bool) -> LocalMigration {
        LocalMigration {
            version,
            name: name.into(),
            up: Script::inspect(format!("V{version}__{name}.sql").into(), sql),
            down: down.then(|| {
                Script::inspect(format!("V{version}__{name}.down.sql").into(), "SELECT 0")
            }),
            checksum: refinery_checksum(version, name, sql),
            equivalent_checksums: crate::checksum::equivalents(version, name, sql),
        }
    }

    fn applied(m: &LocalMigration) -> AppliedMigration {
        AppliedMigration {
            version: m.version,
            name: m.name.clone(),
            applied_on: "2026-01-01T00:00:00Z".into(),
            checksum: m.checksum,
        }
    }

    fn three() -> Vec<LocalMigration> {
        vec![
            local(1, "a", "SELECT 1", true),
            local(2, "b", "SELECT 2", false),
            local(3, "c", "SELECT 3", true),
        ]
    }

    #[test]
    fn drift_finds_changed_renamed_and_missing_files() {
        let files = three();
        let mut rows: Vec<_> = files.iter().map(applied).collect();
        assert!(drift(&rows, &files).is_empty());

        rows[0].checksum ^= 1;
        rows[1].name = "renamed".into();
        rows.push(AppliedMigration {
            version: 9,
            name: "gone".into(),
            applied_on: String::new(),
            checksum: 0,
        });
        assert_eq!(
            drift(&rows, &files),
            vec![
                Drift::Changed {
                    version: 1,
                    name: "a".into()
                },
                Drift::Changed {
                    version: 2,
                    name: "renamed".into()
                },
                Drift::Missing {
                    version: 9,
                    name: "gone".into()
                },
            ]
        );
    }

    #[test]
    fn pending_respects_order_and_target() {
        let files = three();
        let versions = |p: Vec<&LocalMigration>| p.iter().map(|m| m.version).collect::<Vec<_>>();
        let cases: &[(&str, usize, Option<i32>, &[i32])] = &[
            ("empty database", 0, None, &[1, 2, 3]),
            ("one applied", 1, None, &[2, 3]),
            ("all applied", 3, None, &[]),
            ("target", 0, Some(2), &[1, 2]),
            ("target below applied", 2, Some(1), &[]),
        ];
        for (case, n_applied, target, expected) in cases {
            let rows: Vec<_> = files.iter().take(*n_applied).map(applied).collect();
            let got = pending(&rows, &files, *target, false).expect(case);
            assert_eq!(versions(got), *expected, "case {case}");
        }
    }

    #[test]
    fn pending_refuses_a_new_file_below_the_newest_applied() {
        let files = three();
        let rows = vec![applied(&files[0]), applied(&files[2])];
        let err = pending(&rows, &files, None, false).expect_err("out of order");
        assert!(
            matches!(err, Error::OutOfOrder { ref migration, newest_applied: 3 } if migration == "V2__b"),
            "{err}"
        );
        let allowed = pending(&rows, &files, None, true).expect("out of order allowed");
        assert_eq!(allowed.iter().map(|m| m.version).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn rollback_selects_newest_first_and_checks_every_down_script_first() {
        let files = three();
        let rows: Vec<_> = files.iter().map(applied).collect();
        let versions = |r: Vec<&LocalMigration>| r.iter().map(|m| m.version).collect::<Vec<_>>();

        let one = rollback(&rows, &files, RollbackTarget::Count(1)).expect("one");
        assert_eq!(versions(one), [3]);
        let none = rollback(&rows, &files, RollbackTarget::ToVersion(3)).expect("none");
        assert!(none.is_empty());
        let too_many =
            rollback(&rows, &files, RollbackTarget::Count(5)).expect_err("V2 has no down");
        assert!(
            matches!(too_many, Error::NoDownScript { ref migration, .. } if migration == "V2__b"),
            "{too_many}"
        );
        let to_v1 =
            rollback(&rows, &files, RollbackTarget::ToVersion(1)).expect_err("V2 has no down");
        assert_eq!(to_v1.exit_code(), 10);
        let nothing_applied = rollback(&[], &files, RollbackTarget::Count(1)).expect("empty");
        assert!(nothing_applied.is_empty());
    }
}
