//! The steps before the databases: one container, compose, a bind mount, two services.

use std::time::Duration;

use compose_tests::images::{project_image, require};
use compose_tests::project::{inspect, run, ContainerGuard};
use compose_tests::{free_port, http, repo_root, Project};

const START: Duration = Duration::from_secs(30);

#[test]
fn hello1401_run_sh_starts_a_container_that_answers_on_the_published_port() {
    require(&[&project_image("hello")]);
    let port = free_port();
    let name = format!("dcrt-hello1401-{}", std::process::id());
    let _guard = ContainerGuard(name.clone());
    run(
        std::process::Command::new(repo_root().join("compose/hello1401/run.sh"))
            .env("CONTAINER_NAME", &name)
            .env("HOST_PORT", port.to_string()),
    );

    let body = http::get_text(&format!("http://127.0.0.1:{port}/"), START);
    assert_eq!(body.trim(), "hello world");
    // The image runs as the non-root user of the runtime base.
    assert_eq!(inspect(&name, "{{.Config.User}}"), "65532:65532");
}

#[test]
fn cluster1401_serves_hello_and_the_image_healthcheck_reports_healthy() {
    require(&[&project_image("hello")]);
    let port = free_port();
    let project = Project::new("cluster1401").with_env("HELLO1401_PORT", port.to_string());
    project.compose(&["up", "-d"]);

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
    let project = Project::new("cluster1403").with_env("HELLO1403_PORT", port.to_string());
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
