//! The repository's own manifests under `k8s/`: every kustomization renders, every object
//! validates against the Kubernetes schemas, and every project rule holds.

use std::collections::BTreeMap;

use k8s_manifests::policy::{self, Context};
use k8s_manifests::{project, render, repo_root, schema};

/// The units of a clean copy of `k8s/` (what a fresh clone holds, with the documented
/// `make-secrets.sh` run), and the copy, which is deleted when dropped.
fn units() -> (tempfile::TempDir, Vec<render::Unit>) {
    let (temp, copy) = render::clean_copy(&repo_root(), "k8s").expect("copy k8s/");
    let units = render::units(&copy).unwrap_or_else(|e| panic!("{e}"));
    (temp, units)
}

fn context() -> Context {
    let root = repo_root();
    Context {
        ports: project::service_ports().unwrap_or_else(|e| panic!("{e}")),
        env: project::service_env(),
        newest_migrations: project::newest_migrations(&root).unwrap_or_else(|e| panic!("{e}")),
    }
}

#[test]
fn every_step_of_the_tutorial_is_there() {
    let (_temp, units) = units();
    let names: Vec<&str> = units.iter().map(|u| u.name.as_str()).collect();
    for expected in [
        "pod1401",
        "deployment1401",
        "cluster-1",
        "logging/node-agent",
        "logging/sidecar",
        "app/base",
        "app/dev",
        "app/offline",
        "app/observability",
    ] {
        assert!(names.contains(&expected), "no unit {expected} in {names:?}");
    }
    let unit = |name: &str| units.iter().find(|u| u.name == name).unwrap();
    assert!(unit("app/dev").deployable && unit("app/offline").deployable);
    assert!(unit("app/observability").deployable);
    // The component is checked through the overlay that uses it, not alone.
    assert!(
        !names.contains(&"app/components/observability"),
        "{names:?}"
    );
    assert!(!unit("app/base").deployable);
}

/// The images `scripts/build-base-images.sh --print-env` names, by variable.
fn base_images() -> BTreeMap<String, String> {
    let output = std::process::Command::new(repo_root().join("scripts/build-base-images.sh"))
        .arg("--print-env")
        .output()
        .expect("scripts/build-base-images.sh runs");
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn the_offline_overlay_is_the_dev_overlay_with_the_local_base_images() {
    let (_temp, units) = units();
    let unit = |name: &str| units.iter().find(|u| u.name == name).unwrap();
    let (dev, offline) = (unit("app/dev"), unit("app/offline"));
    let base = base_images();
    assert_eq!(
        project::LOCAL_BASE_IMAGES,
        [
            &base["POSTGRES_IMAGE"],
            &base["REDIS_IMAGE"],
            &base["PROMETHEUS_IMAGE"],
            &base["POSTGRES_EXPORTER_IMAGE"],
            &base["REDIS_EXPORTER_IMAGE"],
        ],
        "the local base images are the ones scripts/build-base-images.sh builds"
    );
    let local = |image: &str| match image.split(':').next() {
        Some("postgres") => base["POSTGRES_IMAGE"].clone(),
        Some("redis") => base["REDIS_IMAGE"].clone(),
        _ => image.to_owned(),
    };
    // The same objects, field for field, but for the data stores' image names.
    assert_eq!(dev.objects.len(), offline.objects.len());
    for (a, b) in dev.objects.iter().zip(&offline.objects) {
        let mut expected = a.value.clone();
        for path in ["initContainers", "containers"] {
            let pointer = format!("/spec/template/spec/{path}");
            if let Some(list) = expected
                .pointer_mut(&pointer)
                .and_then(|v| v.as_array_mut())
            {
                for container in list {
                    let image = container["image"].as_str().unwrap_or("").to_owned();
                    container["image"] = local(&image).into();
                }
            }
        }
        assert_eq!(expected, b.value, "{} differs beyond its images", a.id());
    }
}

#[test]
fn every_manifest_validates_against_the_kubernetes_schemas() {
    let (_temp, units) = units();
    let failures: Vec<String> = units
        .iter()
        .filter_map(|unit| schema::validate(&unit.name, &unit.yaml).err())
        .map(|e| e.to_string())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_manifest_follows_the_project_rules() {
    let (_temp, units) = units();
    let context = context();
    let mut failures = Vec::new();
    for unit in &units {
        for finding in policy::check(&unit.objects, &context, unit.deployable) {
            failures.push(format!("k8s/{}: {finding}", unit.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_tutorial_node_ports_are_31401_and_31402() {
    let (_temp, units) = units();
    let node_ports: BTreeMap<&str, Vec<u64>> = units
        .iter()
        .map(|unit| {
            let ports = unit
                .objects
                .iter()
                .filter(|o| o.kind() == "Service")
                .flat_map(|s| k8s_manifests::manifest::array(&s.value, "/spec/ports"))
                .filter_map(|p| p.get("nodePort").and_then(|n| n.as_u64()))
                .collect();
            (unit.name.as_str(), ports)
        })
        .collect();
    assert_eq!(node_ports["deployment1401"], [31401]);
    assert_eq!(node_ports["cluster-1"], [31402]);
}

#[test]
fn the_roles_script_in_k8s_is_the_services_roles_script() {
    let root = repo_root();
    let original =
        std::fs::read_to_string(root.join("services/roles.sql")).expect("services/roles.sql");
    let copy = std::fs::read_to_string(root.join("k8s/app/base/roles.sql"))
        .expect("k8s/app/base/roles.sql");
    assert!(
        original == copy,
        "k8s/app/base/roles.sql differs from services/roles.sql: copy it again \
         (kustomize reads no file outside its folder)"
    );
}

#[test]
fn the_observability_component_alerts_as_compose_does() {
    let root = repo_root();
    let read = |path: &str| {
        std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    assert_eq!(
        read("k8s/app/components/observability/alerts.yml"),
        read("compose/app/observability/alerts.yml"),
        "one set of alert rules: copy compose/app/observability/alerts.yml over the component's"
    );
    // Every service the rules and the cluster page know is scraped, under the same label.
    let config = read("k8s/app/components/observability/prometheus.yml");
    for service in [
        "web",
        "catalog",
        "activity",
        "hello1402",
        "hello1403",
        "echo",
    ] {
        assert!(config.contains(&format!("{service}-metrics")), "{service}");
    }
}

#[test]
fn the_observability_overlay_is_the_offline_overlay_and_the_monitoring() {
    let (_temp, units) = units();
    let unit = |name: &str| units.iter().find(|u| u.name == name).unwrap();
    let (offline, observed) = (unit("app/offline"), unit("app/observability"));
    let ids = |u: &render::Unit| -> std::collections::BTreeSet<String> {
        u.objects.iter().map(|o| o.id()).collect()
    };
    let added: Vec<String> = ids(observed).difference(&ids(offline)).cloned().collect();
    assert!(ids(observed).is_superset(&ids(offline)), "{added:?}");
    for expected in [
        "Deployment/prometheus",
        "Deployment/catalog-db-exporter",
        "Deployment/activity-db-exporter",
        "Deployment/redis-exporter",
        "Service/catalog-metrics",
    ] {
        assert!(
            added.iter().any(|id| id == expected),
            "{expected} in {added:?}"
        );
    }
    let base = base_images();
    let images: Vec<&str> = observed
        .objects
        .iter()
        .flat_map(|o| o.containers())
        .map(|c| c.image())
        .collect();
    for variable in [
        "PROMETHEUS_IMAGE",
        "POSTGRES_EXPORTER_IMAGE",
        "REDIS_EXPORTER_IMAGE",
    ] {
        assert!(
            images.contains(&base[variable].as_str()),
            "{variable}: {images:?}"
        );
    }
}
