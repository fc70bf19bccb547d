//! Which images the steps run: the project's own, and the local base images that
//! `scripts/build-base-images.sh` builds for machines without a registry.

use std::process::Command;
use std::sync::OnceLock;

use crate::repo_root;

/// `NAME=value` pairs selecting the local base images (`POSTGRES_IMAGE`, `REDIS_IMAGE`, ...),
/// as the base-image script prints them: the script stays the one place naming them.
pub fn base_image_env() -> &'static [(String, String)] {
    static ENV: OnceLock<Vec<(String, String)>> = OnceLock::new();
    ENV.get_or_init(|| print_env("scripts/build-base-images.sh"))
}

/// The `NAME=value` lines an image script prints with `--print-env`.
fn print_env(script: &str) -> Vec<(String, String)> {
    let script = repo_root().join(script);
    let output = Command::new(&script)
        .arg("--print-env")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        output.status.success(),
        "{} --print-env failed: {}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

/// The project's own images for the engine's platform (`docker-cluster-rust/<binary>:dev`),
/// as `scripts/build-images.sh --print-env` names them: the script's list is the one list.
pub fn project_images() -> Vec<String> {
    print_env("scripts/build-images.sh")
        .into_iter()
        .map(|(_, image)| image)
        .collect()
}

/// The value of one of [`base_image_env`]'s variables.
pub fn base_image(variable: &str) -> String {
    base_image_env()
        .iter()
        .find(|(name, _)| name == variable)
        .map(|(_, value)| value.clone())
        .unwrap_or_else(|| panic!("scripts/build-base-images.sh --print-env names no {variable}"))
}

/// Fails the test with the command that fixes it when an image is missing.
pub fn require(images: &[&str]) {
    let missing: Vec<&str> = images
        .iter()
        .copied()
        .filter(|image| {
            !Command::new("docker")
                .args(["image", "inspect", "--format", "{{.Id}}", image])
                .output()
                .is_ok_and(|output| output.status.success())
        })
        .collect();
    assert!(
        missing.is_empty(),
        "missing images {missing:?}: run scripts/build-base-images.sh and scripts/build-images.sh \
         (scripts/test.sh runs both)"
    );
}

/// The project's image of `binary`.
pub fn project_image(binary: &str) -> String {
    format!("docker-cluster-rust/{binary}:dev")
}

/// The local toolchain image `scripts/build-rust-image.sh` makes for the default `build`
/// stage of docker/Dockerfile (`RUST_IMAGE`), as the script names it.
pub fn rust_image() -> String {
    print_env("scripts/build-rust-image.sh")
        .into_iter()
        .find_map(|(name, value)| (name == "RUST_IMAGE").then_some(value))
        .expect("scripts/build-rust-image.sh --print-env names RUST_IMAGE")
}

/// `docker build ARGS...` with BuildKit, as the image scripts run it
/// (`scripts/docker-build.sh`), from `dir`. Returns the output whatever the outcome.
pub fn docker_build(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let script = repo_root().join("scripts/docker-build.sh");
    Command::new("bash")
        .arg("-c")
        .arg(r#". "$0" && docker_build "$@""#)
        .arg(&script)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run docker build: {e}"))
}
