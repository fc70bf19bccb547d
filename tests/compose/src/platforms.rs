//! The platforms the project's images are built for. `scripts/platforms.sh` is the one file
//! that names them, and the image scripts print the compose variables that select each
//! platform's images: the tests read both rather than repeat them.

use std::process::Command;

use crate::project::run;
use crate::repo_root;

/// The Docker engine's own platform, such as `linux/amd64`.
pub fn engine_platform() -> String {
    let output = run(Command::new("docker").args([
        "version",
        "--format",
        "{{.Server.Os}}/{{.Server.Arch}}",
    ]));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Every platform the images are built for.
pub fn supported_platforms() -> Vec<String> {
    let output = run(Command::new("bash")
        .args(["-c", ". scripts/platforms.sh && echo $supported_platforms"])
        .current_dir(repo_root()));
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// The supported platform that is not the engine's own: its images run under emulation.
pub fn other_platform() -> String {
    let engine = engine_platform();
    supported_platforms()
        .into_iter()
        .find(|platform| *platform != engine)
        .unwrap_or_else(|| panic!("no supported platform besides the engine's {engine}"))
}

/// The compose variables (`POSTGRES_IMAGE`, `HELLO_IMAGE`, ..., `RUNTIME_IMAGE`) that select
/// `platform`'s images, as `scripts/build-base-images.sh` and `scripts/build-images.sh` print
/// them.
pub fn image_env(platform: &str) -> Vec<(String, String)> {
    ["scripts/build-base-images.sh", "scripts/build-images.sh"]
        .iter()
        .flat_map(|script| {
            let output = run(Command::new(repo_root().join(script)).args([
                "--platform",
                platform,
                "--print-env",
            ]));
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .filter_map(|line| line.split_once('='))
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect::<Vec<_>>()
        })
        .collect()
}
