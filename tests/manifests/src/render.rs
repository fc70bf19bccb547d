//! What a manifests folder holds, as units that are applied as one: each kustomization
//! (rendered with `kubectl kustomize`) and each other folder of plain `*.yaml` files (as
//! `kubectl apply -f folder/` reads it). A kustomization that another one uses as a base
//! is not deployable on its own (its overlay adds what it lacks, such as Secrets).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::manifest::{self, Object};

/// A unit that cannot be rendered or read.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot run {program} (is it installed?): {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`kubectl kustomize {dir}` failed: {stderr}")]
    Kustomize { dir: String, stderr: String },
    #[error("{script} failed: {stderr}")]
    Script { script: String, stderr: String },
    #[error(transparent)]
    Parse(#[from] manifest::ParseError),
}

/// Whether a unit is a kustomization or a folder of plain files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitKind {
    Kustomization,
    Files,
}

/// Objects applied together.
#[derive(Debug)]
pub struct Unit {
    /// The folder, relative to the folder searched (`app/dev`, `pod1401`).
    pub name: String,
    pub kind: UnitKind,
    /// False for a kustomization used as another one's base.
    pub deployable: bool,
    /// The YAML as `kubectl` would send it.
    pub yaml: String,
    pub objects: Vec<Object>,
}

/// Every unit under `dir`, sorted by name. A kustomization folder holding an executable
/// `make-secrets.sh` has it run first, as its documentation says to do: the inputs of its
/// secret generators are never committed. Run this on a copy (see [`clean_copy`]).
pub fn units(dir: &Path) -> Result<Vec<Unit>, RenderError> {
    let folders = folders(dir)?;
    let kustomizations: BTreeSet<PathBuf> = folders
        .iter()
        .filter(|f| f.join("kustomization.yaml").is_file())
        .cloned()
        .collect();
    let bases = bases(&kustomizations)?;
    let mut units = Vec::new();
    for folder in &folders {
        let name = folder
            .strip_prefix(dir)
            .unwrap_or(folder)
            .display()
            .to_string();
        if kustomizations.contains(folder) {
            // A Component cannot be built alone: it is checked in the overlays that use it.
            if is_component(folder)? {
                continue;
            }
            let script = folder.join("make-secrets.sh");
            if script.is_file() {
                run_script(&script)?;
            }
            let yaml = kustomize(folder)?;
            let objects = manifest::parse_documents(&name, &yaml)?;
            // A base is only part of something, unless it is complete on its own (it
            // brings its own Namespace): app/dev is applied as it is, and app/offline only
            // renames its images.
            let deployable =
                !bases.contains(folder) || objects.iter().any(|o| o.kind() == "Namespace");
            units.push(Unit {
                deployable,
                name,
                kind: UnitKind::Kustomization,
                yaml,
                objects,
            });
        } else if !kustomizations.iter().any(|k| folder.starts_with(k)) {
            let files = yaml_files(folder)?;
            if files.is_empty() {
                continue;
            }
            let mut yaml = String::new();
            for file in files {
                let text = read(&file)?;
                yaml.push_str("---\n");
                yaml.push_str(&text);
                if !text.ends_with('\n') {
                    yaml.push('\n');
                }
            }
            let objects = manifest::parse_documents(&name, &yaml)?;
            units.push(Unit {
                deployable: true,
                name,
                kind: UnitKind::Files,
                yaml,
                objects,
            });
        }
    }
    Ok(units)
}

/// The output of `kubectl kustomize dir`.
pub fn kustomize(dir: &Path) -> Result<String, RenderError> {
    let output = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .map_err(|source| RenderError::Spawn {
            program: "kubectl".into(),
            source,
        })?;
    if !output.status.success() {
        return Err(RenderError::Kustomize {
            dir: dir.display().to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Copies `sub` of the git work tree at `root` into a new temporary folder as a fresh
/// clone would have it: tracked files and new ones, nothing git ignores (so no local
/// password files). Returns the folder (deleted when dropped) and the copy of `sub`.
pub fn clean_copy(root: &Path, sub: &str) -> Result<(tempfile::TempDir, PathBuf), RenderError> {
    let output = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
        ])
        .arg(sub)
        .current_dir(root)
        .output()
        .map_err(|source| RenderError::Spawn {
            program: "git".into(),
            source,
        })?;
    if !output.status.success() {
        return Err(RenderError::Script {
            script: "git ls-files".into(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    let temp = tempfile::tempdir().map_err(|source| RenderError::Read {
        path: "a temporary folder".into(),
        source,
    })?;
    for file in output.stdout.split(|b| *b == 0).filter(|f| !f.is_empty()) {
        let relative = String::from_utf8_lossy(file).into_owned();
        let from = root.join(&relative);
        if !from.is_file() {
            continue; // deleted in the work tree but not yet in the index
        }
        let to = temp.path().join(&relative);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).map_err(|source| RenderError::Read {
                path: parent.display().to_string(),
                source,
            })?;
        }
        fs::copy(&from, &to).map_err(|source| RenderError::Read {
            path: from.display().to_string(),
            source,
        })?;
    }
    let copy = temp.path().join(sub);
    Ok((temp, copy))
}

fn run_script(script: &Path) -> Result<(), RenderError> {
    let output = Command::new("sh")
        .arg(script)
        .output()
        .map_err(|source| RenderError::Spawn {
            program: "sh".into(),
            source,
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(RenderError::Script {
            script: script.display().to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }
}

/// Whether the kustomization in `dir` is a kustomize Component (`kind: Component`).
fn is_component(dir: &Path) -> Result<bool, RenderError> {
    let file = dir.join("kustomization.yaml");
    let value: serde_json::Value =
        serde_norway::from_str(&read(&file)?).map_err(|e| manifest::ParseError::Yaml {
            source_name: file.display().to_string(),
            index: 0,
            message: e.to_string(),
        })?;
    Ok(value.get("kind").and_then(|k| k.as_str()) == Some("Component"))
}

/// The folders of kustomizations that other kustomizations list as resources.
fn bases(kustomizations: &BTreeSet<PathBuf>) -> Result<BTreeSet<PathBuf>, RenderError> {
    let mut bases = BTreeSet::new();
    for dir in kustomizations {
        let file = dir.join("kustomization.yaml");
        let objects: serde_json::Value =
            serde_norway::from_str(&read(&file)?).map_err(|e| manifest::ParseError::Yaml {
                source_name: file.display().to_string(),
                index: 0,
                message: e.to_string(),
            })?;
        for entry in manifest::array(&objects, "/resources") {
            let Some(entry) = entry.as_str() else {
                continue;
            };
            if let Ok(path) = dir.join(entry).canonicalize() {
                if path.is_dir() {
                    bases.insert(path);
                }
            }
        }
    }
    Ok(bases)
}

/// `dir` and every folder below it, canonical and sorted.
fn folders(dir: &Path) -> Result<Vec<PathBuf>, RenderError> {
    let dir = dir.canonicalize().map_err(|source| RenderError::Read {
        path: dir.display().to_string(),
        source,
    })?;
    let mut found = vec![dir.clone()];
    let mut pending = vec![dir];
    while let Some(dir) = pending.pop() {
        for entry in read_dir(&dir)? {
            if entry.is_dir() {
                found.push(entry.clone());
                pending.push(entry);
            }
        }
    }
    found.sort();
    Ok(found)
}

fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, RenderError> {
    let mut files: Vec<PathBuf> = read_dir(dir)?
        .into_iter()
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    Ok(files)
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, RenderError> {
    let err = |source| RenderError::Read {
        path: dir.display().to_string(),
        source,
    };
    fs::read_dir(dir)
        .map_err(err)?
        .map(|entry| entry.map(|e| e.path()).map_err(err))
        .collect()
}

fn read(path: &Path) -> Result<String, RenderError> {
    fs::read_to_string(path).map_err(|source| RenderError::Read {
        path: path.display().to_string(),
        source,
    })
}
