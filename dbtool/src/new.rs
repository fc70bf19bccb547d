//! `dbtool new NAME`: write the next version's up and down scripts.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::source::{self, classify, FileKind};

/// Creates `V{next}__{name}.sql` and `.down.sql` in `dir` (made if missing); returns both.
pub fn new_migration(dir: &Path, name: &str) -> Result<(PathBuf, PathBuf), Error> {
    if !matches!(
        classify(&format!("V1__{name}.sql")),
        Ok(FileKind::Up { .. })
    ) {
        return Err(Error::InvalidArgument(format!(
            "migration name {name:?} must be letters, digits and _ only"
        )));
    }
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(|source| Error::Unwritable {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let next = source::discover(dir)?
        .last()
        .map_or(1, |m| m.version.saturating_add(1));
    let up = dir.join(format!("V{next}__{name}.sql"));
    let down = dir.join(format!("V{next}__{name}.down.sql"));
    write_new(
        &up,
        &format!("-- V{next}__{name}: the change, applied in one transaction.\n"),
    )?;
    write_new(&down, &format!("-- Undoes V{next}__{name}.\n"))?;
    Ok((up, down))
}

fn write_new(path: &Path, text: &str) -> Result<(), Error> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|source| Error::Unwritable {
            path: path.to_path_buf(),
            source,
        })?;
    file.write_all(text.as_bytes())
        .map_err(|source| Error::Unwritable {
            path: path.to_path_buf(),
            source,
        })
}
