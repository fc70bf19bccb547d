//! The steps before the databases: one container, compose, a bind mount, two services.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use compose_tests::images::{base_image, project_image, require};
use compose_tests::project::{inspect, run, Compose, ContainerGuard};
use compose_tests::{free_port, http, repo_root, Project};

const START: Duration = Duration::from_secs(30);
/// A build and a start, or a restart, under `docker compose watch`.
const WATCH: Duration = Duration::from_secs(90);

#[test]
fn hello1401_run_sh_starts_a_container_that_answers_on_the_published_port() {
    require(&[&project_image("hello")]);
    let port = free_port();
    let name = format!("dcrt-hello1401-{}", std::process::id());
    let _guard = ContainerGuard(name.clone());
    run(Command::new(repo_root().join("compose/hello1401/run.sh"))
        .env("CONTAINER_NAME", &name)
        .env("HOST_PORT", port.to_string()));

    let body = http::get_text(&format!("http://127.0.0.1:{port}/"), START);
    assert_eq!(body.trim(), "hello world");
    // The image runs as the non-root user of the runtime base.
    assert_eq!(inspect(&name, "{{.Config.User}}"), "65532:65532");
}

#[test]
fn cluster1401_serves_hello_and_the_image_healthcheck_reports_healthy() {
    require(&[&project_image("hello")]);
    let port = free_port();
    let project = Project::new("cluster1401")
        .with_compose(Compose::V2)
        .with_env("HELLO1401_PORT", port.to_string());
    // No healthcheck in this compose file: `up --wait` waits for the image's own HEALTHCHECK.
    project.up_wait(&[], START);

    let body = http::get_text(&format!("http://127.0.0.1:{port}/"), START);
    assert_eq!(body.trim(), "hello world");
    // No healthcheck in this compose file: the image's own HEALTHCHECK decides.
    project.wait_healthy(&[], START);
    let id = &project.containers(&[], Some("hello1401"))[0];
    assert_eq!(inspect(id, "{{.State.Health.Status}}"), "healthy");
}

#[test]
fn cluster1402_shows_the_mounted_greeting_and_a_restart_shows_the_changed_one() {
    require(&[&project_image("hello")]);
    let content = tempfile::tempdir().unwrap();
    std::fs::write(content.path().join("greeting.txt"), "first greeting\n").unwrap();
    let port = free_port();
    let project = Project::new("cluster1402")
        .with_compose(Compose::V2)
        .with_env("HELLO1402_PORT", port.to_string())
        .with_env("CONTENT_SOURCE", content.path().to_str().unwrap());
    project.compose(&["up", "-d"]);
    let url = format!("http://127.0.0.1:{port}/");
    assert_eq!(http::get_text(&url, START).trim(), "first greeting");

    // The greeting is read at start: a changed file shows after a restart, not before.
    std::fs::write(content.path().join("greeting.txt"), "second greeting\n").unwrap();
    assert_eq!(http::get_text(&url, START).trim(), "first greeting");
    project.compose(&["restart", "hello1402"]);
    assert_eq!(http::get_text(&url, START).trim(), "second greeting");
}

#[test]
fn cluster1403_returns_the_body_of_hello1402_which_the_host_cannot_reach() {
    require(&[&project_image("hello")]);
    let port = free_port();
    let project = Project::new("cluster1403")
        .with_compose(Compose::V2)
        .with_env("HELLO1403_PORT", port.to_string());
    project.compose(&["up", "-d"]);

    // hello1402 says its own greeting (content/greeting.txt); hello1403, left alone, would
    // say "hello world": this body came from hello1402 over the project network.
    let expected = std::fs::read_to_string(project.dir().join("content/greeting.txt")).unwrap();
    let body = http::get_text(&format!("http://127.0.0.1:{port}/"), START);
    assert_eq!(body.trim(), expected.trim());
    assert_ne!(body.trim(), "hello world");

    let hello1402 = &project.containers(&[], Some("hello1402"))[0];
    let bindings = inspect(hello1402, "{{json .HostConfig.PortBindings}}");
    assert!(
        bindings == "{}" || bindings == "null",
        "hello1402 must publish no port, has {bindings}"
    );
    let hello1403 = &project.containers(&[], Some("hello1403"))[0];
    assert!(
        inspect(hello1403, "{{json .HostConfig.PortBindings}}").contains(&port.to_string()),
        "hello1403 publishes its port"
    );
}

/// Removes an image a test built when the test ends.
struct ImageGuard(String);

impl Drop for ImageGuard {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rmi", "-f", &self.0]).output();
    }
}

/// A background `docker compose watch`, killed when the test ends (before the project's
/// guard tears the containers down).
struct Watch(Child);

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Copies `path` out of `image` into `to` without running it.
fn copy_from_image(image: &str, path: &str, to: &Path) {
    let created = run(Command::new("docker").args(["create", image]));
    let id = String::from_utf8_lossy(&created.stdout).trim().to_owned();
    let _guard = ContainerGuard(id.clone());
    run(Command::new("docker")
        .args(["cp", "-L", &format!("{id}:{path}")])
        .arg(to));
}

#[test]
fn cluster1402_watch_restarts_on_a_content_change_and_rebuilds_on_a_code_change() {
    require(&[&project_image("hello"), &project_image("hello1400")]);
    // A copy of the step and of what its build and watch rules name (services/, Cargo.lock,
    // docker/Dockerfile), so the test can change files without touching the repository.
    let tree = tempfile::tempdir().unwrap();
    let root = repo_root();
    let step = tree.path().join("compose/cluster1402");
    std::fs::create_dir_all(step.join("content")).unwrap();
    for file in ["docker-compose.yaml", "compose.watch.yaml"] {
        std::fs::copy(root.join("compose/cluster1402").join(file), step.join(file)).unwrap();
    }
    std::fs::write(step.join("content/greeting.txt"), "first greeting\n").unwrap();
    let code = tree.path().join("services/hello/src/main.rs");
    std::fs::create_dir_all(code.parent().unwrap()).unwrap();
    std::fs::copy(root.join("services/hello/src/main.rs"), &code).unwrap();
    std::fs::copy(root.join("Cargo.lock"), tree.path().join("Cargo.lock")).unwrap();
    std::fs::create_dir_all(tree.path().join("docker")).unwrap();
    std::fs::copy(
        root.join("docker/Dockerfile"),
        tree.path().join("docker/Dockerfile"),
    )
    .unwrap();

    // The step's build compiles inside Docker from the public Rust image, which a machine
    // without a registry cannot pull. Offline, the same Dockerfile's prebuilt stage takes
    // the compiled binaries from the build context instead (as scripts/build-images.sh
    // does): this override, the test's own, says so. "Compiling" is then putting a binary
    // at the context's root.
    std::fs::create_dir_all(tree.path().join("files")).unwrap();
    copy_from_image(&project_image("hello"), "/app", &tree.path().join("hello"));
    copy_from_image(
        &project_image("hello"),
        "/usr/local/bin/healthcheck",
        &tree.path().join("healthcheck"),
    );
    let image = format!("dcrt-watch-{}:dev", std::process::id());
    let _image = ImageGuard(image.clone());
    std::fs::write(
        step.join("offline-build.yaml"),
        format!(
            "services:\n  hello1402:\n    image: {image}\n    pull_policy: build\n    build:\n      \
             args:\n        BINARY_SOURCE: prebuilt\n        RUNTIME_IMAGE: {}\n",
            base_image("RUNTIME_IMAGE")
        ),
    )
    .unwrap();

    const FILES: [&str; 3] = [
        "docker-compose.yaml",
        "compose.watch.yaml",
        "offline-build.yaml",
    ];
    let port = free_port();
    let project = Project::new("cluster1402")
        .with_compose(Compose::V2)
        .in_dir(step.clone())
        .with_files(&FILES)
        .with_env("HELLO1402_PORT", port.to_string());
    let args: Vec<&str> = FILES.iter().flat_map(|f| ["-f", *f]).collect();
    let log = std::fs::File::create(tree.path().join("watch.log")).unwrap();
    let mut watch = project.compose_command(&[args.as_slice(), &["watch"]].concat());
    watch
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    let _watch = Watch(watch.spawn().expect("docker compose watch starts"));

    // `watch` builds the image and starts the service itself.
    let url = format!("http://127.0.0.1:{port}/");
    let watch_log = || std::fs::read_to_string(tree.path().join("watch.log")).unwrap_or_default();
    let deadline = Instant::now() + WATCH;
    while project.containers(&FILES, Some("hello1402")).is_empty() {
        assert!(
            Instant::now() < deadline,
            "watch started no container:\n{}",
            watch_log()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(http::get_text(&url, WATCH).trim(), "first greeting");
    let first = project.containers(&FILES, Some("hello1402"));
    // Compose starts watching once the service is up; give it a moment to arm its rules.
    std::thread::sleep(Duration::from_secs(2));

    // A content change: the same container restarts and says the new greeting.
    std::fs::write(step.join("content/greeting.txt"), "second greeting\n").unwrap();
    http::get_until(&url, WATCH, "the new greeting", |body| {
        body.trim() == "second greeting"
    });
    assert_eq!(
        project.containers(&FILES, Some("hello1402")),
        first,
        "a content change restarts the container, it does not replace it"
    );

    // A code change: the image is rebuilt and the container replaced. The new "build" is
    // hello1400, which answers "hello world" and never reads the greeting.
    copy_from_image(
        &project_image("hello1400"),
        "/app",
        &tree.path().join("hello"),
    );
    let before = inspect(&image, "{{.Id}}");
    // The first build, untagged once the rebuild takes its name.
    let _first_image = ImageGuard(before.clone());
    let mut source = std::fs::read_to_string(&code).unwrap();
    source.push_str("\n// a code change\n");
    std::fs::write(&code, source).unwrap();
    http::get_until(&url, WATCH, "the rebuilt program's answer", |body| {
        body.trim() == "hello world"
    });
    let after = project.containers(&FILES, Some("hello1402"));
    assert_eq!(after.len(), 1, "{after:?}\n{}", watch_log());
    assert_ne!(after, first, "a code change replaces the container");
    assert_ne!(
        inspect(&image, "{{.Id}}"),
        before,
        "a code change rebuilds the image"
    );
}
