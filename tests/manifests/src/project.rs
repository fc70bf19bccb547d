//! What the project builds and listens on, read from where it is written down: the images it
//! builds, the public images it uses, each service's default port and variables (declared in
//! `service-spec`, which the services themselves read), and the newest migration of each
//! database.

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
pub const PUBLIC_IMAGES: &[&str] = &[
    "postgres",
    "redis",
    "fluent/fluent-bit",
    "busybox",
    // The observability component's.
    "prom/prometheus",
    "quay.io/prometheuscommunity/postgres-exporter",
    "oliver006/redis_exporter",
];

/// The local stand-ins for public images that `scripts/build-base-images.sh` builds from
/// Debian packages on a machine without a registry, which `k8s/app/offline` names (a test
/// checks them against the script's `--print-env`).
pub const LOCAL_BASE_IMAGES: &[&str] = &[
    "docker-cluster-rust/postgres:15-bookworm",
    "docker-cluster-rust/redis:7-bookworm",
    // What k8s/app/observability names for the observability component.
    "docker-cluster-rust/prometheus:2-bookworm",
    "docker-cluster-rust/postgres-exporter:0-bookworm",
    "docker-cluster-rust/redis-exporter:1-bookworm",
];

/// The design's port table (../shared/DESIGN.md, "Services"): `service-spec` must agree with
/// it. echo has no default: its port is a command-line argument.
pub const DESIGN_PORTS: &[(&str, Option<u16>)] = &[
    ("hello1400", Some(1400)),
    ("hello", Some(1401)),
    ("echo", None),
    ("catalog", Some(8081)),
    ("activity", Some(8082)),
    ("web", Some(8080)),
];

/// A fact that cannot be read, or two that disagree.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("service-spec declares no service {service}, which the design lists")]
    Undeclared { service: String },
    #[error(
        "service-spec gives {service} the port {declared:?} but the design table says {design:?}"
    )]
    PortDisagrees {
        service: String,
        declared: Option<u16>,
        design: Option<u16>,
    },
}

/// Each service binary's default port (`None` for echo, which takes `--port`), as
/// `service-spec` declares it and the design's table agrees.
pub fn service_ports() -> Result<BTreeMap<String, Option<u16>>, ProjectError> {
    let mut ports = BTreeMap::new();
    for &(name, design) in DESIGN_PORTS {
        let service = service_spec::service(name).ok_or_else(|| ProjectError::Undeclared {
            service: name.to_owned(),
        })?;
        if service.default_port != design {
            return Err(ProjectError::PortDisagrees {
                service: name.to_owned(),
                declared: service.default_port,
                design,
            });
        }
        ports.insert(name.to_owned(), service.default_port);
    }
    Ok(ports)
}

/// The environment variables each service binary reads, as `service-spec` declares them
/// (each service's tests check its configuration reads exactly those).
pub fn service_env() -> BTreeMap<String, BTreeSet<String>> {
    service_spec::SERVICES
        .iter()
        .map(|service| {
            let names = service.variables().map(str::to_owned).collect();
            (service.name.to_owned(), names)
        })
        .collect()
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
    fn the_declared_ports_agree_with_the_design() {
        let ports = service_ports().unwrap();
        assert_eq!(ports["catalog"], Some(8081));
        assert_eq!(ports["echo"], None);
        assert!(service_env()["web"].contains("CATALOG_URL"));
    }

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
}
