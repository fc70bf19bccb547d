//! The image the migration Jobs and the services' `dbtool wait` init containers run,
//! docker-cluster-rust/dbtool:dev, carries the repository's migrations under /migrations,
//! file for file, for every platform the images are built for: the manifests point
//! DBTOOL_MIGRATIONS at /migrations/<database>. The image is opened as built (docker create,
//! docker cp), not trusted from the Dockerfile.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use compose_tests::images::require;
use compose_tests::platforms::{image_env, supported_platforms};
use kubernetes_tests::repo_root;

/// Removes the created container when dropped.
struct Created(String);

impl Drop for Created {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.0]).output();
    }
}

/// Every file under `dir`, by its path relative to `dir`: contents and mode.
fn files(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
    let mut found = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap_or_else(|e| panic!("{folder:?}: {e}")) {
            let path = entry.expect("a folder entry").path();
            let meta = std::fs::metadata(&path).expect("metadata");
            if meta.is_dir() {
                assert!(
                    meta.permissions().mode() & 0o005 == 0o005,
                    "{path:?}: a folder the image's user (uid 65532) cannot list"
                );
                stack.push(path);
            } else {
                let relative = path.strip_prefix(dir).expect("below dir").to_path_buf();
                let bytes = std::fs::read(&path).expect("readable");
                found.insert(relative, (bytes, meta.permissions().mode()));
            }
        }
    }
    found
}

#[test]
fn the_dbtool_image_carries_every_migration_for_every_platform() {
    let expected = files(&repo_root().join("migrations"));
    assert!(
        expected.keys().any(|p| p.starts_with("catalog"))
            && expected.keys().any(|p| p.starts_with("activity")),
        "migrations/ has catalog/ and activity/"
    );
    for platform in supported_platforms() {
        let image = image_env(&platform)
            .into_iter()
            .find(|(name, _)| name == "DBTOOL_IMAGE")
            .map(|(_, image)| image)
            .expect("scripts/build-images.sh --print-env names DBTOOL_IMAGE");
        require(&[&image]);
        let output = Command::new("docker")
            .args(["create", "--platform", &platform, &image])
            .output()
            .expect("docker runs");
        assert!(
            output.status.success(),
            "docker create {image}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let container = Created(String::from_utf8_lossy(&output.stdout).trim().to_owned());
        let out = tempfile::tempdir().expect("a temporary folder");
        let output = Command::new("docker")
            .args(["cp", &format!("{}:/migrations", container.0)])
            .arg(out.path())
            .output()
            .expect("docker runs");
        assert!(
            output.status.success(),
            "{image} ({platform}) has no /migrations: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let found = files(&out.path().join("migrations"));
        let names = |m: &BTreeMap<PathBuf, (Vec<u8>, u32)>| m.keys().cloned().collect::<Vec<_>>();
        assert_eq!(
            names(&found),
            names(&expected),
            "{image} ({platform}): /migrations and migrations/ hold different files"
        );
        for (path, (bytes, mode)) in &found {
            assert!(
                *bytes == expected[path].0,
                "{image} ({platform}): /migrations/{} differs from migrations/{}",
                path.display(),
                path.display()
            );
            assert!(
                mode & 0o004 != 0,
                "{image} ({platform}): /migrations/{} is not readable by the image's user",
                path.display()
            );
        }
        eprintln!(
            "{image} ({platform}): /migrations holds the {} files of migrations/",
            found.len()
        );
    }
}
