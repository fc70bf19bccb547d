//! Harness for the tests that apply `k8s/` to a real single-node Kubernetes.
//!
//! [`Cluster::start`] runs `scripts/kube/cluster.sh start` in a state folder of its own (the
//! Kubernetes binaries come from the cache `scripts/kube/build.sh` fills; `scripts/test.sh`
//! fills it before the tests) and stops it when dropped, pass or fail: every process by its
//! pid, the network namespace, the cgroups. A cluster that cannot start fails the test with
//! the script's own message; nothing is skipped. One test cluster runs at a time on a
//! machine (a file lock), so the 2-core machines are not asked to run two.
//!
//! Everything the tests send to the cluster runs inside its network namespace, as a user's
//! shell would after `scripts/kube/cluster.sh exec`: `kubectl`, `k8s/pod1401/k-start.sh`
//! (its port-forward binds 127.0.0.1:1401 of the cluster's network, never the host's), and
//! HTTP clients on threads moved into that namespace ([`Cluster::in_net`]).
//!
//! Waiting never ends in a bare timeout: [`wait`] fails as soon as a Pod cannot pull its
//! image, a container crash-loops or a Job fails, and every failure carries the Pods' events
//! and last log lines ([`diagnose`]).
//!
//! Needs root (network namespaces, the node's own dockerd) and the project's images on the
//! host's Docker engine (`scripts/build-base-images.sh`, `scripts/build-images.sh`).

pub mod app;
pub mod cluster;
pub mod diagnose;
pub mod wait;

use std::path::PathBuf;

pub use cluster::Cluster;

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}
