//! Least privilege: the project's images run as a non-root user, and no secret is in the
//! repository or in any image layer. (Each service's database role is kept out of the other
//! database by tests/services-e2e's database_roles tests; compose/app publishing no database port by
//! tests/compose.)

use std::process::Command;

use compose_tests::images::project_images;
use compose_tests::project::run;
use compose_tests::Project;

#[test]
fn every_project_image_runs_as_a_non_root_user() {
    let images = project_images();
    assert!(
        images.len() >= 7,
        "scripts/build-images.sh names {images:?}"
    );
    for image in images {
        let out = run(Command::new("docker").args([
            "image",
            "inspect",
            "--format",
            "{{.Config.User}}",
            &image,
        ]));
        let user = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let uid = user.split(':').next().unwrap_or_default();
        assert!(
            !uid.is_empty() && uid != "0" && uid != "root",
            "{image} runs as {user:?}"
        );
    }
}

#[test]
fn no_secret_is_in_the_repository_or_in_an_image_layer() {
    // The local .env holds generated passwords: none of them may be in a tracked file or in
    // any image's history or configuration.
    let project = Project::new("app");
    project.make_env();
    let variables = [
        "CATALOG_DB_SUPERUSER_PASSWORD",
        "ACTIVITY_DB_SUPERUSER_PASSWORD",
        "CATALOG_DB_PASSWORD",
        "ACTIVITY_DB_PASSWORD",
    ];
    let secrets: Vec<String> = variables.iter().map(|v| project.dotenv(v)).collect();
    assert!(
        secrets.iter().all(|s| s.len() >= 16),
        "generated passwords are short or missing"
    );

    let root = compose_tests::repo_root();
    let tracked = run(Command::new("git")
        .args(["ls-files", "compose/app/.env"])
        .current_dir(&root));
    assert!(
        tracked.stdout.is_empty(),
        "compose/app/.env is tracked by git"
    );
    let mut grep = Command::new("git");
    grep.args(["grep", "-l", "-F"]).current_dir(&root);
    for secret in &secrets {
        grep.args(["-e", secret]);
    }
    let found = grep.output().expect("cannot run git grep");
    assert!(
        found.stdout.is_empty(),
        "a generated password is in tracked files: {}",
        String::from_utf8_lossy(&found.stdout)
    );

    // The images were built before this .env existed, so searching them alone could never
    // find its passwords. What would leak them into a build made now (the compose files'
    // `build:` sections, docker/Dockerfile's `COPY . .`) is the build context: send the
    // repository's, with its .dockerignore, into a probe image and search every byte of it.
    let context = build_context_bytes(&root);
    for (variable, secret) in variables.iter().zip(&secrets) {
        assert!(
            !contains(&context, secret.as_bytes()),
            "the repository's build context carries {variable} (is compose/app/.env left out by \
             .dockerignore?)"
        );
    }

    let mut images = project_images();
    images.extend(
        ["POSTGRES_IMAGE", "REDIS_IMAGE", "RUNTIME_IMAGE"].map(compose_tests::images::base_image),
    );
    for image in images {
        let history = run(Command::new("docker").args([
            "history",
            "--no-trunc",
            "--format",
            "{{.CreatedBy}}",
            &image,
        ]));
        let config = run(Command::new("docker").args(["image", "inspect", &image]));
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&history.stdout),
            String::from_utf8_lossy(&config.stdout)
        );
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{image} holds a generated password"
            );
        }
        for line in text.lines() {
            let upper = line.to_ascii_uppercase();
            for key in ["PASSWORD=", "SECRET=", "TOKEN=", "API_KEY="] {
                if let Some(at) = upper.find(key) {
                    let value = &line[at + key.len()..];
                    let value =
                        value.trim_matches(|c: char| c == '"' || c == ',' || c.is_whitespace());
                    assert!(
                        value.is_empty(),
                        "{image} has a {key} value in its layers or config: {line}"
                    );
                }
            }
        }
    }
}

/// The Rust services and dbtool are static binaries that write nothing to disk: their
/// containers can run with a read-only root file system, as k8s/app's security contexts do.
#[test]
fn compose_app_runs_the_rust_services_with_a_read_only_root_file_system() {
    let file = compose_tests::repo_root().join("compose/app/docker-compose.yaml");
    let text = std::fs::read_to_string(&file).expect("compose/app/docker-compose.yaml");
    let services = [
        "catalog-migrate",
        "activity-migrate",
        "catalog",
        "activity",
        "hello1402",
        "hello1403",
        "echo",
        "web",
    ];
    let mut missing = Vec::new();
    for service in services {
        // The service's block: from `  name:` to the next line indented by two spaces.
        let header = format!("\n  {service}:\n");
        let start = text
            .find(&header)
            .unwrap_or_else(|| panic!("no service {service}"))
            + header.len();
        let block: String = text[start..]
            .lines()
            .take_while(|l| l.is_empty() || l.starts_with("   ") || l.starts_with("  #"))
            .collect::<Vec<_>>()
            .join("\n");
        if !block.lines().any(|l| l.trim() == "read_only: true") {
            missing.push(service);
        }
    }
    assert!(missing.is_empty(), "without read_only: true: {missing:?}");
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Every file of the repository's build context (the repository root with its .dockerignore,
/// as the compose files' builds send it), as a tar of a probe image's files.
fn build_context_bytes(root: &std::path::Path) -> Vec<u8> {
    use std::io::Write;
    let tag = format!("dcrt-context-probe:{}", std::process::id());
    let mut build = Command::new("docker")
        .args(["build", "-q", "-t", &tag, "-f", "-"])
        .arg(root)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("cannot run docker build");
    build
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"FROM scratch\nCOPY . /context\n")
        .expect("write the probe's Dockerfile");
    let built = build.wait_with_output().expect("docker build");
    assert!(
        built.status.success(),
        "building the context probe: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    let created = run(Command::new("docker").args(["create", &tag, "probe"]));
    let container = String::from_utf8_lossy(&created.stdout).trim().to_owned();
    let exported = Command::new("docker")
        .args(["export", &container])
        .output()
        .expect("docker export");
    let _ = Command::new("docker")
        .args(["rm", "-f", &container])
        .output();
    let _ = Command::new("docker").args(["rmi", "-f", &tag]).output();
    assert!(
        exported.status.success(),
        "docker export of the probe failed"
    );
    assert!(
        contains(&exported.stdout, b"context/Cargo.toml"),
        "the probe holds no build context"
    );
    exported.stdout
}
