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
        ports: project::service_ports(&root).unwrap_or_else(|e| panic!("{e}")),
        env: project::service_env(&root).unwrap_or_else(|e| panic!("{e}")),
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
    ] {
        assert!(names.contains(&expected), "no unit {expected} in {names:?}");
    }
    let dev = units.iter().find(|u| u.name == "app/dev").unwrap();
    let base = units.iter().find(|u| u.name == "app/base").unwrap();
    assert!(dev.deployable && !base.deployable);
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
