//! The greeting text, read once at start so a change to the mounted content shows after a
//! restart (the compose step demonstrates exactly that).

use std::path::{Path, PathBuf};

use crate::config::GREETING_FILE;

/// The greeting when no content folder is configured.
pub const BUILT_IN: &str = "hello world";

/// The content folder's greeting file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum GreetingError {
    #[error("cannot read the greeting {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the greeting {path} is empty")]
    Empty { path: PathBuf },
}

/// `dir/greeting.txt` without its trailing line break, or [`BUILT_IN`] when `dir` is `None`.
pub fn load(dir: Option<&Path>) -> Result<String, GreetingError> {
    let Some(dir) = dir else {
        return Ok(BUILT_IN.to_owned());
    };
    let path = dir.join(GREETING_FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| GreetingError::Read {
        path: path.clone(),
        source,
    })?;
    // Editors end files with a line break; the greeting itself does not have one.
    let text = text.trim_end_matches(['\r', '\n']);
    if text.trim().is_empty() {
        return Err(GreetingError::Empty { path });
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_folder_means_the_built_in_greeting() {
        assert_eq!(load(None).unwrap(), "hello world");
    }

    #[test]
    fn the_file_is_read_without_its_final_line_break() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(GREETING_FILE), "hallo welt\r\n").unwrap();
        assert_eq!(load(Some(dir.path())).unwrap(), "hallo welt");
    }

    #[test]
    fn a_missing_or_empty_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(GREETING_FILE);
        let err = load(Some(dir.path())).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("cannot read the greeting {}", path.display())
        );
        std::fs::write(&path, "\n").unwrap();
        let err = load(Some(dir.path())).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("the greeting {} is empty", path.display())
        );
    }
}
