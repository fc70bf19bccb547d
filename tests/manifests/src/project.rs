//! What the project builds and listens on, read from the repository where it is written
//! down: the images it builds, the public images it uses, each service's default port (from
//! the service's own source), and the newest migration of each database.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Every project image is `docker-cluster-rust/<binary>:dev`.
pub const IMAGE_PREFIX: &str = "docker-cluster-rust/";
pub const IMAGE_TAG: &str = "dev";

/// The binaries the project builds an image for.
pub const BINARIES: &[&str] = &[
    "hello1400",
    "hello",
    "echo",
    "catalog",
    "activity",
    "web",
    "dbtool",
];

/// The public images the manifests may use (each must name a tag, and not `latest`).
pub const PUBLIC_IMAGES: &[&str] = &["postgres", "redis", "fluent/fluent-bit", "busybox"];

/// The local stand-ins for public images that `scripts/build-base-images.sh` builds from
/// Debian packages on a machine without a registry, which `k8s/app/offline` names (a test
/// checks them against the script's `--print-env`).
pub const LOCAL_BASE_IMAGES: &[&str] = &[
    "docker-cluster-rust/postgres:15-bookworm",
    "docker-cluster-rust/redis:7-bookworm",
];

/// The design's port table (../shared/DESIGN.md, "Services"), used for a service whose
/// crate does not exist yet; once it does, its `DEFAULT_PORT` constant is the truth and the
/// two must agree. echo has no default: its port is a command-line argument.
pub const DESIGN_PORTS: &[(&str, Option<u16>)] = &[
    ("hello1400", Some(1400)),
    ("hello", Some(1401)),
    ("echo", None),
    ("catalog", Some(8081)),
    ("activity", Some(8082)),
    ("web", Some(8080)),
];

/// The variables the services read (../shared/DESIGN.md), for a service whose crate does
/// not exist yet; once it does, the variable names written in its source (and in the
/// shared service library's) are the truth.
pub const DESIGN_ENV: &[&str] = &[
    "PORT",
    "DATABASE_URL",
    "REDIS_URL",
    "CATALOG_URL",
    "ACTIVITY_URL",
    "HELLO_URL",
    "ECHO_URL",
    "LOG_FORMAT",
    "UPSTREAM_URL",
    "UPSTREAM_TIMEOUT_MS",
    "CONTENT_DIR",
];

/// A fact that cannot be read from the repository.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "services/{service}/src declares no `DEFAULT_PORT: u16 = N`; the manifests' ports \
         are checked against it"
    )]
    NoDefaultPort { service: String },
    #[error(
        "services/{service}: DEFAULT_PORT is {source_port} but the design table says {design}"
    )]
    PortDisagrees {
        service: String,
        source_port: u16,
        design: u16,
    },
}

/// Each service binary's default port (`None` for echo, which takes `--port`).
pub fn service_ports(root: &Path) -> Result<BTreeMap<String, Option<u16>>, ProjectError> {
    let mut ports = BTreeMap::new();
    for &(service, design) in DESIGN_PORTS {
        let src = root.join("services").join(service).join("src");
        let port = match (design, src.is_dir()) {
            (Some(design), true) => {
                let found = default_port_in(&src)?.ok_or_else(|| ProjectError::NoDefaultPort {
                    service: service.to_owned(),
                })?;
                if found != design {
                    return Err(ProjectError::PortDisagrees {
                        service: service.to_owned(),
                        source_port: found,
                        design,
                    });
                }
                Some(found)
            }
            (design, _) => design,
        };
        ports.insert(service.to_owned(), port);
    }
    Ok(ports)
}

/// The environment variables each service binary may read: every string literal that looks
/// like a variable name (`"CATALOG_URL"`) in its crate's source and in the shared library's.
pub fn service_env(root: &Path) -> Result<BTreeMap<String, BTreeSet<String>>, ProjectError> {
    let services = root.join("services");
    let common = names_in(&services.join("common").join("src"))?;
    let mut env = BTreeMap::new();
    for &(service, _) in DESIGN_PORTS {
        let src = services.join(service).join("src");
        let names = if src.is_dir() {
            let mut names = names_in(&src)?;
            names.extend(common.iter().cloned());
            names
        } else {
            DESIGN_ENV.iter().map(|n| (*n).to_owned()).collect()
        };
        env.insert(service.to_owned(), names);
    }
    Ok(env)
}

/// String literals of upper-case letters, digits and underscores in `.rs` files under
/// `dir` (none when `dir` does not exist).
fn names_in(dir: &Path) -> Result<BTreeSet<String>, ProjectError> {
    let mut names = BTreeSet::new();
    if !dir.is_dir() {
        return Ok(names);
    }
    for path in rust_files(dir)? {
        let text = fs::read_to_string(&path).map_err(|source| ProjectError::Read {
            path: path.display().to_string(),
            source,
        })?;
        for (i, literal) in text.split('"').enumerate() {
            let is_name = i % 2 == 1
                && literal.len() >= 3
                && literal.starts_with(|c: char| c.is_ascii_uppercase())
                && literal
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if is_name {
                names.insert(literal.to_owned());
            }
        }
    }
    Ok(names)
}

/// The number in the first `DEFAULT_PORT: u16 = N` of any `.rs` file under `dir`.
pub fn default_port_in(dir: &Path) -> Result<Option<u16>, ProjectError> {
    const NEEDLE: &str = "DEFAULT_PORT: u16 = ";
    for path in rust_files(dir)? {
        let text = fs::read_to_string(&path).map_err(|source| ProjectError::Read {
            path: path.display().to_string(),
            source,
        })?;
        if let Some(at) = text.find(NEEDLE) {
            let digits: String = text[at + NEEDLE.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(port) = digits.parse() {
                return Ok(Some(port));
            }
        }
    }
    Ok(None)
}

fn rust_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, ProjectError> {
    let read = |path: &Path| {
        fs::read_dir(path).map_err(|source| ProjectError::Read {
            path: path.display().to_string(),
            source,
        })
    };
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in read(&dir)? {
            let path = entry
                .map_err(|source| ProjectError::Read {
                    path: dir.display().to_string(),
                    source,
                })?
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The newest migration version of each database folder under `migrations/`
/// (`V{n}__{name}.sql`; down scripts ignored), as written in the file name.
pub fn newest_migrations(root: &Path) -> Result<BTreeMap<String, String>, ProjectError> {
    let dir = root.join("migrations");
    let read_err = |path: &Path, source| ProjectError::Read {
        path: path.display().to_string(),
        source,
    };
    let mut newest = BTreeMap::new();
    for entry in fs::read_dir(&dir).map_err(|e| read_err(&dir, e))? {
        let db_dir = entry.map_err(|e| read_err(&dir, e))?.path();
        if !db_dir.is_dir() {
            continue;
        }
        let mut best: Option<(f64, String)> = None;
        for file in fs::read_dir(&db_dir).map_err(|e| read_err(&db_dir, e))? {
            let name = file
                .map_err(|e| read_err(&db_dir, e))?
                .file_name()
                .to_string_lossy()
                .into_owned();
            if let Some(version) = up_script_version(&name) {
                let number: f64 = version.parse().unwrap_or(0.0);
                if best.as_ref().is_none_or(|(b, _)| number > *b) {
                    best = Some((number, version.to_owned()));
                }
            }
        }
        if let Some((_, version)) = best {
            let db = db_dir.file_name().unwrap_or_default().to_string_lossy();
            newest.insert(db.into_owned(), version);
        }
    }
    Ok(newest)
}

/// `3` for `V3__add_index.sql`; `None` for a down script or any other file.
pub fn up_script_version(file_name: &str) -> Option<&str> {
    let stem = file_name.strip_suffix(".sql")?;
    if stem.ends_with(".down") {
        return None;
    }
    let (version, name) = stem.strip_prefix('V')?.split_once("__")?;
    let numeric = !version.is_empty()
        && version.chars().all(|c| c.is_ascii_digit() || c == '.')
        && !name.is_empty();
    numeric.then_some(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_script_versions_are_read_from_file_names() {
        let cases = [
            ("V1__create_info.sql", Some("1")),
            ("V12__add.sql", Some("12")),
            ("V1.5__x.sql", Some("1.5")),
            ("V1__create_info.down.sql", None),
            ("README.md", None),
            ("V__x.sql", None),
            ("Vx__y.sql", None),
        ];
        for (name, expected) in cases {
            assert_eq!(up_script_version(name), expected, "case {name}");
        }
    }

    #[test]
    fn variable_names_are_read_from_string_literals() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("config.rs"),
            "env.get(\"CATALOG_URL\"); let s = \"not a NAME\"; env.parse(\"PORT\");\n",
        )
        .unwrap();
        let names: Vec<String> = names_in(dir.path()).unwrap().into_iter().collect();
        assert_eq!(names, ["CATALOG_URL", "PORT"]);
    }

    #[test]
    fn default_port_is_read_from_source() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("a")).unwrap();
        fs::write(
            dir.path().join("a/config.rs"),
            "pub const DEFAULT_PORT: u16 = 8081;\n",
        )
        .unwrap();
        assert_eq!(default_port_in(dir.path()).unwrap(), Some(8081));
        fs::write(dir.path().join("a/config.rs"), "fn main() {}\n").unwrap();
        assert_eq!(default_port_in(dir.path()).unwrap(), None);
    }
}
