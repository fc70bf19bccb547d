//! Writes `files.rs`: for each database folder under `migrations/`, a constant listing every
//! file's name and its text through `include_str!`, so a changed file rebuilds the crate and
//! an added or removed one (the folder's listing changes) does too.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The folders compiled in, as `(constant, folder under migrations/)`.
const DATABASES: [(&str, &str); 2] = [("CATALOG", "catalog"), ("ACTIVITY", "activity")];

fn main() {
    let root = Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"))
        .join("../../migrations");
    let mut out = String::new();
    for (constant, folder) in DATABASES {
        let dir = root.join(folder);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .map(|entry| entry.expect("a readable folder entry").path())
            .filter(|path| path.is_file())
            .collect();
        files.sort();
        writeln!(out, "/// `migrations/{folder}`: each file's name and text.").unwrap();
        writeln!(out, "pub const {constant}: &[(&str, &str)] = &[").unwrap();
        for path in files {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_else(|| panic!("{} is not a UTF-8 name", path.display()));
            let absolute = path.canonicalize().expect("the file exists");
            writeln!(
                out,
                "    ({name:?}, include_str!({:?})),",
                absolute.display().to_string()
            )
            .unwrap();
        }
        writeln!(out, "];").unwrap();
    }
    let target = Path::new(&std::env::var("OUT_DIR").expect("cargo sets it")).join("files.rs");
    std::fs::write(&target, out).expect("OUT_DIR is writable");
}
