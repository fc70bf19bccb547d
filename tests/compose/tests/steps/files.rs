//! Every compose file is valid for both Compose implementations, checked offline.

use std::path::PathBuf;
use std::process::Command;

use compose_tests::project::run;
use compose_tests::repo_root;

/// Every YAML file under compose/.
fn compose_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for step in std::fs::read_dir(repo_root().join("compose")).unwrap() {
        let step = step.unwrap().path();
        if !step.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&step).unwrap() {
            let file = file.unwrap().path();
            if file.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                files.push(file);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 10, "compose files found: {files:?}");
    files
}

#[test]
fn every_compose_file_matches_the_compose_specification_schema() {
    // The schema Compose v2 implements, as check-jsonschema vendors it (scripts/test.sh
    // installs check-jsonschema).
    let mut command = Command::new("check-jsonschema");
    command.args(["--builtin-schema", "vendor.compose-spec"]);
    command.args(compose_files());
    let output = command.output().unwrap_or_else(|e| {
        panic!("cannot run check-jsonschema ({e}): pip install check-jsonschema")
    });
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn every_compose_file_is_accepted_by_docker_compose_1_29() {
    let no_env = tempfile::NamedTempFile::new().unwrap();
    for file in compose_files() {
        // compose.watch.yaml is Compose v2 only (`develop`), as its header says.
        if file.ends_with("cluster1402/compose.watch.yaml") {
            continue;
        }
        let dir = file.parent().unwrap();
        // Passwords are required variables; any value will do for a syntax check. The step's
        // own .env.example provides the rest, as .env would.
        let mut command = Command::new("docker-compose");
        command
            .current_dir(dir)
            // Not the developer's .env: the files alone are under test.
            .arg("--env-file")
            .arg(no_env.path())
            .arg("-f")
            .arg(&file)
            .args(["config", "-q"]);
        if let Ok(example) = std::fs::read_to_string(dir.join(".env.example")) {
            for (name, value) in example
                .lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| l.split_once('='))
            {
                command.env(name, value);
            }
        }
        run(&mut command);
    }
}
