//! The repository's shell scripts and line-ending rules, found the way git sees them, for
//! the portability checks in `tests/`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (two levels above this crate).
pub fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

/// Every file git tracks, relative to the root (`git ls-files`).
pub fn tracked_files() -> Vec<PathBuf> {
    let output = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(repository())
        .output()
        .expect("cannot run git ls-files (is git installed?)");
    assert!(output.status.success(), "git ls-files failed");
    output
        .stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
        // Deleted in the working tree but not yet committed.
        .filter(|p| repository().join(p).is_file())
        .collect()
}

/// The interpreter a shebang line names: `sh` for `#!/bin/sh`, `bash` for
/// `#!/usr/bin/env bash`, `None` for anything else or no shebang.
pub fn shebang_shell(first_line: &str) -> Option<&str> {
    let rest = first_line.strip_prefix("#!")?.trim();
    let mut words = rest.split_whitespace();
    let program = words.next()?;
    let program = if program.ends_with("/env") {
        words.find(|w| !w.starts_with('-'))?
    } else {
        program
    };
    let name = program.rsplit('/').next()?;
    matches!(name, "sh" | "bash" | "dash").then_some(name)
}

/// A shell script of the repository: its path and the shell it runs with (`None` for a
/// file that is only sourced and has no shebang).
#[derive(Debug, Clone)]
pub struct Script {
    pub path: PathBuf,
    pub shell: Option<String>,
}

/// Every tracked `*.sh` file and every tracked file whose shebang names sh or bash.
pub fn scripts() -> Vec<Script> {
    let root = repository();
    tracked_files()
        .into_iter()
        .filter_map(|path| {
            let bytes = std::fs::read(root.join(&path)).ok()?;
            let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
            let shell = shebang_shell(&String::from_utf8_lossy(first_line)).map(str::to_owned);
            let is_script = shell.is_some() || path.extension().is_some_and(|e| e == "sh");
            is_script.then_some(Script { path, shell })
        })
        .collect()
}

/// Lines using what macOS's bash 3.2 (the last GPLv2 bash, still `/bin/bash` there) lacks,
/// as (line number, what). Comments are skipped; heuristics, not a parser.
pub fn bash4_features(text: &str) -> Vec<(usize, &'static str)> {
    const FEATURES: [(&str, &str); 11] = [
        ("declare -A", "associative arrays (bash 4)"),
        ("local -A", "associative arrays (bash 4)"),
        ("typeset -A", "associative arrays (bash 4)"),
        ("mapfile", "mapfile (bash 4)"),
        ("readarray", "readarray (bash 4)"),
        ("coproc", "coproc (bash 4)"),
        ("&>>", "&>> (bash 4)"),
        ("|&", "|& (bash 4)"),
        ("wait -n", "wait -n (bash 4.3)"),
        ("declare -n", "name references (bash 4.3)"),
        ("local -n", "name references (bash 4.3)"),
    ];
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with('#') {
            continue;
        }
        for (needle, what) in FEATURES {
            if code.contains(needle) {
                found.push((number + 1, what));
            }
        }
        for case_change in [",,}", "^^}", "@Q}", "@E}", "@P}", "@U}", "@L}", "@a}"] {
            if code.contains(case_change) {
                found.push((number + 1, "parameter transformation (bash 4 or later)"));
            }
        }
        if code.contains("[-1]}") {
            found.push((number + 1, "negative array index (bash 4.3)"));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs_name_their_shell() {
        let cases = [
            ("#!/bin/sh", Some("sh")),
            ("#!/usr/bin/env bash", Some("bash")),
            ("#!/usr/bin/env -S bash -e", Some("bash")),
            ("#! /bin/bash -eu", Some("bash")),
            ("#!/usr/bin/env python3", None),
            ("# comment", None),
            ("", None),
        ];
        for (line, want) in cases {
            assert_eq!(shebang_shell(line), want, "case {line:?}");
        }
    }

    #[test]
    fn bash4_features_are_found_outside_comments() {
        let text = "declare -A map\n# mapfile in a comment\nx=${y,,}\necho ok &>> log\n\
                    a=${arr[-1]}\nread -r line\n";
        let found: Vec<usize> = bash4_features(text).iter().map(|(n, _)| *n).collect();
        assert_eq!(found, vec![1, 3, 4, 5]);
        assert!(bash4_features("set -eu\nprintf '%s\\n' \"$x\"\n").is_empty());
    }
}
