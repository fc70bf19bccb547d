//! The online build: the default `build` stage of docker/Dockerfile (the Rust image,
//! cargo-chef, cache mounts), which Docker Desktop users and connected Linux machines run,
//! and `compose/app/up.sh` without `--offline`. No registry is reachable here, so the Rust
//! image is the local stand-in `scripts/build-rust-image.sh` makes, and the images the
//! compose file names are the local ones.
//!
//! The tests share one BuildKit cache: they run one at a time (the `online-build` group in
//! .config/nextest.toml), and whichever runs first compiles the dependencies.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use compose_tests::images::{base_image, docker_build, project_image, require, rust_image};
use compose_tests::project::{inspect, run, Compose, ContainerGuard};
use compose_tests::{free_port, http, repo_root, Project};

const START: Duration = Duration::from_secs(120);

/// An image a test built, removed when the test ends.
struct BuiltImage(String);

impl Drop for BuiltImage {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rmi", "-f", &self.0]).output();
    }
}

/// One of docker/Dockerfile's images: its binary, kind and port, as scripts/build-images.sh
/// builds it.
struct Binary {
    name: &'static str,
    port: Option<u16>,
}

const HELLO: Binary = Binary {
    name: "hello",
    port: Some(1401),
};
const DBTOOL: Binary = Binary {
    name: "dbtool",
    port: None,
};

fn build_args(binary: &Binary) -> Vec<String> {
    let mut args = vec![
        "--build-arg".to_owned(),
        format!("RUST_IMAGE={}", rust_image()),
        "--build-arg".to_owned(),
        format!("RUNTIME_IMAGE={}", base_image("RUNTIME_IMAGE")),
        "--build-arg".to_owned(),
        format!("BINARY={}", binary.name),
        "--build-arg".to_owned(),
        format!("DESCRIPTION={}", description(binary.name)),
    ];
    match binary.port {
        Some(port) => args.extend(["--build-arg".to_owned(), format!("PORT={port}")]),
        None => args.extend(["--build-arg".to_owned(), "KIND=tool".to_owned()]),
    }
    args
}

/// The image description the prebuilt image carries: both paths label the same.
fn description(binary: &str) -> String {
    inspect(
        &project_image(binary),
        r#"{{ index .Config.Labels "org.opencontainers.image.description" }}"#,
    )
}

/// Builds `binary` through the default stage from the context `dir` with `--progress=plain`,
/// tagged `tag`; returns BuildKit's log and the seconds it took.
fn build_online(dir: &Path, binary: &Binary, tag: &str) -> (String, f64) {
    let started = Instant::now();
    let mut args = vec!["--progress=plain", "-f", "docker/Dockerfile", "-t", tag];
    let extra = build_args(binary);
    args.extend(extra.iter().map(String::as_str));
    args.push(".");
    let output = docker_build(dir, &args);
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "the online build of {} failed:\n{log}",
        binary.name
    );
    (log, started.elapsed().as_secs_f64())
}

/// The files git tracks or would track, copied into a new temporary folder.
fn git_tree_copy() -> tempfile::TempDir {
    let tree = tempfile::tempdir().unwrap();
    let root = repo_root();
    let files = run(Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(&root));
    for file in files.stdout.split(|b| *b == 0).filter(|f| !f.is_empty()) {
        let file = Path::new(std::str::from_utf8(file).expect("UTF-8 paths"));
        let (from, to) = (root.join(file), tree.path().join(file));
        if from.is_file() {
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&from, &to).unwrap();
        }
    }
    tree
}

fn require_inputs() {
    let rust = rust_image();
    let present = Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Id}}", &rust])
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(
        present,
        "missing {rust}: run scripts/build-rust-image.sh (scripts/test.sh runs it)"
    );
    require(&[
        &base_image("RUNTIME_IMAGE"),
        &project_image(HELLO.name),
        &project_image(DBTOOL.name),
    ]);
}

fn size(image: &str) -> u64 {
    inspect(image, "{{.Size}}")
        .parse()
        .expect("a size in bytes")
}

/// `online` has the configuration, size and behaviour of the prebuilt image of `binary`.
fn assert_equivalent(online: &str, binary: &Binary) {
    let prebuilt = project_image(binary.name);
    for format in [
        "{{.Config.User}}",
        "{{json .Config.Entrypoint}}",
        "{{json .Config.Env}}",
        "{{json .Config.ExposedPorts}}",
        "{{json .Config.Healthcheck}}",
        "{{.Os}}/{{.Architecture}}",
    ] {
        assert_eq!(
            inspect(online, format),
            inspect(&prebuilt, format),
            "{online} and {prebuilt} differ in {format}"
        );
    }
    assert_eq!(
        inspect(online, "{{.Config.User}}"),
        "65532:65532",
        "non-root"
    );
    let (online_size, prebuilt_size) = (size(online), size(&prebuilt));
    let ratio = online_size as f64 / prebuilt_size as f64;
    println!(
        "{}: online build {} KiB, prebuilt {} KiB ({ratio:.3}x)",
        binary.name,
        online_size / 1024,
        prebuilt_size / 1024
    );
    assert!(
        (0.9..=1.1).contains(&ratio),
        "{online} is {online_size} bytes, {prebuilt} {prebuilt_size}: not within 10%"
    );
    match binary.port {
        Some(port) => {
            let (online_answer, prebuilt_answer) =
                (serve_and_get(online, port), serve_and_get(&prebuilt, port));
            assert_eq!(
                online_answer, prebuilt_answer,
                "{} answers alike",
                binary.name
            );
        }
        None => {
            for args in [
                &["--version"][..],
                &["--migrations", "/migrations/catalog", "lint"],
            ] {
                assert_eq!(
                    tool_output(online, args),
                    tool_output(&prebuilt, args),
                    "dbtool {args:?} alike"
                );
            }
        }
    }
}

/// Runs the service image, waits for its own HEALTHCHECK to report healthy, and returns the
/// body of `GET /`.
fn serve_and_get(image: &str, port: u16) -> String {
    let host_port = free_port();
    let started = run(Command::new("docker").args([
        "run",
        "-d",
        "-p",
        &format!("127.0.0.1:{host_port}:{port}"),
        image,
    ]));
    let id = String::from_utf8_lossy(&started.stdout).trim().to_owned();
    let _guard = ContainerGuard(id.clone());
    let deadline = Instant::now() + START;
    loop {
        let health = inspect(&id, "{{.State.Health.Status}}");
        if health == "healthy" {
            break;
        }
        assert!(
            Instant::now() < deadline && health != "unhealthy",
            "{image} is {health}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    http::get_text(&format!("http://127.0.0.1:{host_port}/"), START)
}

/// `docker run --rm IMAGE ARGS...`: exit status and output.
fn tool_output(image: &str, args: &[&str]) -> (bool, String, String) {
    let output: Output = Command::new("docker")
        .args(["run", "--rm", image])
        .args(args)
        .output()
        .expect("docker runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn test_tag(binary: &str) -> String {
    format!("dcrt-online/{binary}:{}", std::process::id())
}

#[test]
fn docker_build_from_the_rust_image_makes_an_image_equivalent_to_the_prebuilt_one() {
    require_inputs();
    // A service; dbtool, the tool kind, is built by the compose test below.
    let tag = test_tag(HELLO.name);
    let _image = BuiltImage(tag.clone());
    let (_, seconds) = build_online(&repo_root(), &HELLO, &tag);
    println!("hello: docker build through the build stage in {seconds:.0} s");
    assert_equivalent(&tag, &HELLO);
}

#[test]
fn compose_v2_builds_the_images_from_the_compose_files_build_sections() {
    require_inputs();
    let mut project = Project::new("app")
        .with_compose(Compose::V2)
        .with_env("RUST_IMAGE", rust_image())
        .with_env("RUNTIME_IMAGE", base_image("RUNTIME_IMAGE"));
    // The compose file builds an image under the name it runs: each points at a test tag.
    let services = [("hello1402", "hello"), ("catalog-migrate", "dbtool")];
    let mut images = Vec::new();
    for (_, binary) in services {
        let variable = format!("{}_IMAGE", binary.to_uppercase());
        project = project.with_env(&variable, test_tag(binary));
        images.push(BuiltImage(test_tag(binary)));
    }
    project.make_env();
    let started = Instant::now();
    let names: Vec<&str> = services.iter().map(|(service, _)| *service).collect();
    project.compose(&[&["build"][..], &names].concat());
    println!(
        "docker compose build {} in {:.0} s",
        names.join(" "),
        started.elapsed().as_secs_f64()
    );
    assert_equivalent(&test_tag("hello"), &HELLO);
    assert_equivalent(&test_tag("dbtool"), &DBTOOL);
}

#[test]
fn a_one_line_code_change_rebuilds_reusing_the_dependency_layer_and_the_crate_cache() {
    require_inputs();
    // Two copies of the build context as git has it, one to change. Each build sends its own
    // folder: BuildKit's incremental transfer of one folder changed between two builds seconds
    // apart once kept the old file (COPY . . CACHED), which is not what this test is about.
    let (original, tree) = (git_tree_copy(), git_tree_copy());
    let tag = test_tag("hello-changed");
    let _image = BuiltImage(tag.clone());
    // Once as the repository has it: the dependency layer exists afterwards (cached already
    // when another test of this file ran first).
    build_online(original.path(), &HELLO, &tag);

    let greeting = tree.path().join("services/hello/src/greeting.rs");
    let code = std::fs::read_to_string(&greeting).unwrap();
    // A line no earlier run wrote: the same change made by a run before this one (the test
    // command run twice on one commit) would be all cached, and compile nothing.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let new_greeting = format!("hello from one changed line {nonce}");
    let changed = code.replace(
        r#"pub const BUILT_IN: &str = "hello world";"#,
        &format!(r#"pub const BUILT_IN: &str = "{new_greeting}";"#),
    );
    assert_ne!(
        code, changed,
        "the greeting's line is where the test expects it"
    );
    std::fs::write(&greeting, changed).unwrap();
    let (log, seconds) = build_online(tree.path(), &HELLO, &tag);
    println!("hello: rebuilt after a one-line change in {seconds:.0} s");

    // BuildKit's plain log: "#N [build 2/4] RUN ... cargo chef cook ..." then "#N CACHED".
    let cook = log
        .lines()
        .find(|line| line.contains("cargo chef cook"))
        .and_then(|line| line.split_whitespace().next())
        .unwrap_or_else(|| panic!("no cook step in the log:\n{log}"));
    assert!(
        log.lines().any(|line| line == format!("{cook} CACHED")),
        "the dependency layer (cargo chef cook) was rebuilt for a code change:\n{log}"
    );
    // The registry cache mount holds every crate: the build step downloads nothing.
    assert!(
        !log.contains("Downloaded ") && !log.contains("Downloading "),
        "the build step downloaded crates again:\n{log}"
    );
    assert!(
        log.contains("Compiling hello "),
        "the changed crate was compiled:\n{log}"
    );
    assert_eq!(serve_and_get(&tag, 1401), new_greeting);
}

#[test]
fn up_sh_without_offline_brings_the_app_up_from_the_images_the_variables_name() {
    require_inputs();
    // A Mac user's run: `docker compose` (v2) works, and `up.sh` without --offline uses the
    // image names the environment gives, which here are all local.
    let port = free_port();
    let mut project = Project::new("app")
        .with_compose(Compose::V2)
        .with_env("WEB_PORT", port.to_string());
    for variable in ["POSTGRES_IMAGE", "REDIS_IMAGE"] {
        project = project.with_env(variable, base_image(variable));
    }
    let mut up = project.command(repo_root().join("compose/app/up.sh"));
    for (name, value) in Compose::V2.environment() {
        up.env(name, value);
    }
    let output = run(&mut up);
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains(&format!("open http://localhost:{port}")),
        "up.sh says where the cluster is:\n{said}"
    );
    let page = http::get_text(&format!("http://127.0.0.1:{port}/"), START);
    assert!(
        page.contains("hello world"),
        "the web page is served:\n{page}"
    );
}
