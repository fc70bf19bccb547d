//! Harness for the end-to-end tests of the `compose/` steps: each test brings a step up on
//! the machine's Docker engine under a project name of its own, checks it from outside the
//! way a person would (HTTP, psql), and a guard tears the project down with its volumes
//! even when a check fails.
//!
//! The images must exist: `scripts/build-base-images.sh` and `scripts/build-images.sh`
//! (both run by `scripts/test.sh`). The databases and Redis use the local base images, so
//! no registry is needed.

pub mod app;
pub mod http;
pub mod images;
pub mod platforms;
pub mod project;
pub mod webapp;

use std::net::TcpListener;
use std::path::PathBuf;

pub use project::Project;

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

/// A TCP port free on every address right now, for a port a step publishes on the host.
pub fn free_port() -> u16 {
    TcpListener::bind("0.0.0.0:0")
        .and_then(|listener| listener.local_addr())
        .expect("the system gives a free port")
        .port()
}
