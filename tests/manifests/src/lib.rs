//! Offline checks of the Kubernetes manifests under `k8s/`: every kustomization rendered
//! with `kubectl kustomize`, every object validated against the official schemas of one
//! Kubernetes version, and the project's own rules (images, probes, security contexts,
//! resources, ports, database isolation, migration Jobs). No cluster is needed.

pub mod manifest;
pub mod policy;
pub mod project;
pub mod render;
pub mod schema;

use std::path::PathBuf;

/// The repository's root folder (this crate lives in `tests/manifests/`).
pub fn repo_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.join("../..").canonicalize().unwrap_or(here)
}
