//! Hostile input for file discovery and SQL splitting: any name, any text, no panic, and
//! what comes out is consistent with what went in.

use dbtool::source::{classify, discover, FileKind};
use dbtool::statements::{line_column, split};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn classify_never_panics_and_accepted_names_round_trip(name in prop_oneof![
        "\\PC{0,40}",
        // Near misses and hits: the round trip below must run for a good share of cases.
        "[VvU]?[0-9]{0,12}_{0,3}[A-Za-z0-9_é.\\-]{0,12}(\\.down)?\\.(sql|SQL)",
    ]) {
        if let Ok(FileKind::Up { version, name: n }) = classify(&name) {
            prop_assert_eq!(classify(&format!("V{version}__{n}.sql")), Ok(FileKind::Up { version, name: n.clone() }));
            prop_assert!(name.ends_with(".sql") && !name.ends_with(".down.sql"));
        }
    }

    #[test]
    fn classify_accepts_every_well_formed_name(version in 0..=i32::MAX, name in "[A-Za-z0-9_]{1,30}", down in any::<bool>()) {
        let suffix = if down { ".down.sql" } else { ".sql" };
        let kind = classify(&format!("V{version}__{name}{suffix}"));
        let expected = if down {
            FileKind::Down { version, name: name.clone() }
        } else {
            FileKind::Up { version, name: name.clone() }
        };
        prop_assert_eq!(kind, Ok(expected));
    }

    #[test]
    fn split_never_panics_and_statements_lie_in_order_inside_the_script(sql in "(\\PC|[;'\"$\\\\/*\\-\\n]){0,200}") {
        let parts = split(&sql);
        let mut end = 0;
        for part in &parts {
            prop_assert!(part.offset >= end);
            prop_assert_eq!(&sql[part.offset..part.offset + part.sql.len()], part.sql);
            end = part.offset + part.sql.len();
            for position in [0, 1, part.sql.chars().count(), part.sql.chars().count() + 5] {
                let (line, column) = line_column(&sql, part.offset, position);
                prop_assert!(line >= 1 && column >= 1);
            }
        }
    }

    #[test]
    fn split_returns_plain_statements_unchanged(statements in prop::collection::vec("[A-Za-z0-9 ,=<>+]{1,30}", 1..8)) {
        let statements: Vec<String> = statements.into_iter().filter(|s| !s.trim().is_empty()).collect();
        let sql = statements.join(";\n");
        let parts: Vec<&str> = split(&sql).iter().map(|p| p.sql.trim()).collect();
        let expected: Vec<&str> = statements.iter().map(|s| s.trim()).collect();
        prop_assert_eq!(parts, expected);
    }

    #[test]
    fn quoted_semicolons_never_split(body in "[a-z;' ]{0,20}") {
        let dollar = format!("SELECT $q${body}$q$; SELECT 2");
        prop_assert_eq!(split(&dollar).len(), 2);
        let literal = format!("SELECT '{}'; SELECT 2", body.replace('\'', "''"));
        prop_assert_eq!(split(&literal).len(), 2);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn discover_never_drops_a_migration_from_any_folder(
        names in prop::collection::vec(prop_oneof![
            "V[0-9]{1,3}__[a-z_]{1,8}\\.sql",
            "V[0-9]{1,3}__[a-z_]{1,8}\\.down\\.sql",
            "[A-Za-z0-9_.\\-]{1,20}\\.(sql|SQL)",
            "[A-Za-z0-9_.\\-]{1,24}",
        ], 0..6),
        body in prop_oneof!["\\PC{0,40}", Just("BEGIN; SELECT 1; COMMIT;".to_owned())],
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        for name in &names {
            if name.starts_with('.') {
                continue;
            }
            std::fs::write(dir.path().join(name), &body).expect("write");
        }
        match discover(dir.path()) {
            Ok(found) => {
                for m in &found {
                    prop_assert!(names.iter().any(|n| m.up.path.ends_with(n)));
                    if body.starts_with("BEGIN") {
                        prop_assert!(m.up.refusal.is_some());
                    }
                }
                // Every up script in the folder is a migration: nothing is skipped silently.
                for name in names.iter().filter(|n| !n.starts_with('.')) {
                    if let Ok(FileKind::Up { version, .. }) = classify(name) {
                        prop_assert!(found.iter().any(|m| m.version == version), "{} dropped", name);
                    }
                }
                prop_assert!(found.windows(2).all(|w| w[0].version < w[1].version));
            }
            Err(err) => prop_assert!((6..=8).contains(&err.exit_code()), "{}", err),
        }
    }
}
