//! `k8s/app` on the cluster as `docs/kubernetes.md` deploys it: a clean copy of `k8s/` (as
//! a fresh clone has it), `k8s/app/dev/make-secrets.sh`, then `kubectl apply -k` of the
//! overlay; and what the checks need: psql in the database Pods, the Services' addresses,
//! and the fault suite's count.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use k8s_manifests::render;

use crate::{repo_root, wait, Cluster};

/// The dev overlay's namespace.
pub const NAMESPACE: &str = "docker-cluster-rust";
/// The web app's node port in the dev overlay.
pub const WEB_NODE_PORT: u16 = 30080;

/// A clean copy of `k8s/` with the dev overlay's secrets written by its own script.
pub struct Manifests {
    _temp: tempfile::TempDir,
    /// The copy of `k8s/`.
    pub dir: PathBuf,
    /// Every unit under it, rendered.
    pub units: Vec<render::Unit>,
}

impl Manifests {
    pub fn copy() -> Self {
        let (temp, dir) = render::clean_copy(&repo_root(), "k8s").unwrap_or_else(|e| panic!("{e}"));
        // units() runs each overlay's make-secrets.sh first, as the docs say to.
        let units = render::units(&dir).unwrap_or_else(|e| panic!("{e}"));
        Self {
            _temp: temp,
            dir,
            units,
        }
    }

    /// The rendered unit `name` (`app/offline`, `pod1401`, …).
    pub fn unit(&self, name: &str) -> &render::Unit {
        self.units
            .iter()
            .find(|u| u.name == name)
            .unwrap_or_else(|| panic!("no unit {name} under k8s/"))
    }

    /// Every image the objects of unit `name` run, each once.
    pub fn images(&self, name: &str) -> Vec<String> {
        let mut images: Vec<String> = self
            .unit(name)
            .objects
            .iter()
            .flat_map(|o| {
                o.containers()
                    .iter()
                    .map(|c| c.image().to_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        images.sort();
        images.dedup();
        images
    }

    /// The folder of unit `name` in the copy.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// `kubectl apply -k DIR`, which must succeed.
pub fn apply_kustomization(cluster: &Cluster, dir: &Path) {
    cluster.kubectl_ok(&["apply", "-k", &dir.display().to_string()]);
}

/// Applies `dir` (an overlay of `k8s/app`) and waits until its Jobs are Complete and every
/// workload is Ready; returns how long that took.
pub fn deploy(cluster: &Cluster, dir: &Path, within: Duration) -> Duration {
    let started = Instant::now();
    apply_kustomization(cluster, dir);
    wait::workloads_ready(cluster, NAMESPACE, within).unwrap_or_else(|e| panic!("{e}"));
    started.elapsed()
}

/// psql as the superuser in a database Pod (over its Unix socket); unaligned, tuples only.
pub fn psql(cluster: &Cluster, pod: &str, database: &str, sql: &str) -> String {
    cluster.kubectl_ok(&[
        "exec",
        "-n",
        NAMESPACE,
        pod,
        "-c",
        "postgres",
        "--",
        "psql",
        "-v",
        "ON_ERROR_STOP=1",
        "-U",
        "postgres",
        "-d",
        database,
        "-At",
        "-c",
        sql,
    ])
}

/// A Service's cluster IP.
pub fn cluster_ip(cluster: &Cluster, service: &str) -> String {
    cluster
        .kubectl_ok(&[
            "get",
            "service",
            service,
            "-n",
            NAMESPACE,
            "-o",
            "jsonpath={.spec.clusterIP}",
        ])
        .trim()
        .to_owned()
}

/// The names of the Pods matching `selector`, Ready or not.
pub fn pod_names(cluster: &Cluster, selector: &str) -> Vec<String> {
    crate::diagnose::pods(cluster, NAMESPACE, Some(selector))
        .iter()
        .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_owned))
        .collect()
}

/// One Secret value of the dev overlay (`catalog-db`, `SERVICE_PASSWORD`), decoded.
pub fn secret(cluster: &Cluster, name_prefix: &str, key: &str) -> String {
    let names = cluster.kubectl_ok(&[
        "get",
        "secrets",
        "-n",
        NAMESPACE,
        "-o",
        "jsonpath={range .items[*]}{.metadata.name}{\"\\n\"}{end}",
    ]);
    let name = names
        .lines()
        .find(|n| n.starts_with(&format!("{name_prefix}-")))
        .unwrap_or_else(|| panic!("no Secret {name_prefix}-* in {NAMESPACE}: {names}"));
    let encoded = cluster.kubectl_ok(&[
        "get",
        "secret",
        name,
        "-n",
        NAMESPACE,
        "-o",
        &format!("jsonpath={{.data.{key}}}"),
    ]);
    let output = std::process::Command::new("base64")
        .arg("-d")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(encoded.trim().as_bytes())?;
            child.wait_with_output()
        })
        .expect("base64 runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The fault suite's count against the cluster: every acknowledged write is in catalog's
/// database, and once activity has caught up, in its feed exactly once; nothing is in the
/// feed that catalog does not hold. Returns (acknowledged, in catalog, in activity's feed).
pub fn count(cluster: &Cluster, prefix: &str, acknowledged: &[String]) -> (usize, usize, usize) {
    let in_catalog: Vec<String> = psql(
        cluster,
        "catalog-db-0",
        "catalog",
        &format!("SELECT name FROM info WHERE name LIKE '{prefix}%' ORDER BY name"),
    )
    .lines()
    .map(str::to_owned)
    .collect();
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|n| in_catalog.binary_search(n).is_err())
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not in catalog's database: {missing:?}"
    );
    let feed_sql = format!(
        "SELECT name, count(*) FROM events WHERE kind = 'created' AND name LIKE '{prefix}%' \
         GROUP BY name ORDER BY name"
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    let feed = loop {
        let feed = psql(cluster, "activity-db-0", "activity", &feed_sql);
        if feed.lines().count() >= in_catalog.len() {
            break feed;
        }
        assert!(
            Instant::now() < deadline,
            "activity's feed holds {} of catalog's {} entries after 90 s",
            feed.lines().count(),
            in_catalog.len()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let mut names = Vec::new();
    for line in feed.lines() {
        let (name, count) = line.split_once('|').expect("name|count");
        assert_eq!(count, "1", "{name} is in activity's feed {count} times");
        names.push(name.to_owned());
    }
    assert_eq!(
        names, in_catalog,
        "activity's feed and catalog's database differ"
    );
    (acknowledged.len(), in_catalog.len(), names.len())
}
