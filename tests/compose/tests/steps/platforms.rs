//! Both platforms from the same files: `scripts/test.sh` builds every image for the engine's
//! platform and for the other one (linux/arm64 on an amd64 machine, as an Apple Silicon Mac
//! runs them), with the same Dockerfiles. Each image must say it is for its platform and hold
//! programs of that architecture, and the whole of compose/app must work on the other
//! platform's images, run under emulation.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use compose_tests::app::App;
use compose_tests::images::require;
use compose_tests::platforms::{engine_platform, image_env, other_platform, supported_platforms};
use compose_tests::project::{inspect, run, Compose, ContainerGuard};
use compose_tests::{http, webapp};

/// Emulated PostgreSQL initialises its databases several times slower than a native one.
const START: Duration = Duration::from_secs(400);

/// The ELF `e_machine` of `platform`'s programs.
fn elf_machine(platform: &str) -> u16 {
    match platform {
        "linux/amd64" => 62,  // EM_X86_64
        "linux/arm64" => 183, // EM_AARCH64
        other => panic!("no ELF machine known for {other}"),
    }
}

/// What `uname -m` prints on `platform`.
fn uname_machine(platform: &str) -> &'static str {
    match platform {
        "linux/amd64" => "x86_64",
        "linux/arm64" => "aarch64",
        other => panic!("no uname machine known for {other}"),
    }
}

/// Copies `path` (following links) out of `image` without running it and returns its ELF
/// machine field.
fn elf_machine_in(image: &str, path: &str, scratch: &Path) -> u16 {
    let created = run(Command::new("docker").args(["create", image]));
    let id = String::from_utf8_lossy(&created.stdout).trim().to_owned();
    let _guard = ContainerGuard(id.clone());
    let copy = scratch.join(format!("{}-{}", id, path.replace('/', "_")));
    run(Command::new("docker")
        .args(["cp", "-L", &format!("{id}:{path}")])
        .arg(&copy));
    let bytes = std::fs::read(&copy).unwrap_or_else(|e| panic!("{}: {e}", copy.display()));
    assert!(
        bytes.starts_with(b"\x7fELF") && bytes.len() > 20,
        "{path} in {image} is not an ELF program"
    );
    u16::from_le_bytes([bytes[18], bytes[19]])
}

#[test]
fn every_image_is_built_for_both_platforms_with_programs_of_their_architecture() {
    let platforms = supported_platforms();
    assert!(
        platforms.contains(&"linux/amd64".to_owned())
            && platforms.contains(&"linux/arm64".to_owned()),
        "{platforms:?}"
    );
    let scratch = tempfile::tempdir().unwrap();
    for platform in &platforms {
        let env = image_env(platform);
        let images: Vec<&str> = env.iter().map(|(_, image)| image.as_str()).collect();
        require(&images);
        for (variable, image) in &env {
            assert_eq!(
                &inspect(image, "{{.Os}}/{{.Architecture}}"),
                platform,
                "{variable}={image}"
            );
            // The programs each image runs; the runtime base holds none of its own.
            let programs: &[&str] = match variable.as_str() {
                "RUNTIME_IMAGE" => &[],
                "POSTGRES_IMAGE" => &["/usr/lib/postgresql/15/bin/postgres", "/bin/bash"],
                "REDIS_IMAGE" => &["/usr/bin/redis-server"],
                // The observability profile's images (the engine's platform only).
                "PROMETHEUS_IMAGE" => &["/usr/bin/prometheus"],
                "POSTGRES_EXPORTER_IMAGE" => &["/usr/bin/prometheus-postgres-exporter"],
                "REDIS_EXPORTER_IMAGE" => &["/usr/bin/prometheus-redis-exporter"],
                // Tools: no health probe.
                "DBTOOL_IMAGE" | "CLUSTER_LOAD_IMAGE" => &["/app"],
                _ => &["/app", "/usr/local/bin/healthcheck"],
            };
            for program in programs {
                assert_eq!(
                    elf_machine_in(image, program, scratch.path()),
                    elf_machine(platform),
                    "{program} in {image} is not a {platform} program"
                );
            }
        }
    }
}

#[test]
fn app_works_on_the_other_platforms_images_under_emulation() {
    let platform = other_platform();
    assert_ne!(platform, engine_platform());
    // The other platform's images through the compose variables, as a user selects them.
    let app = App::up_with(&platform, Compose::V2, START);
    let project = &app.project;
    let env = image_env(&platform);

    // The containers really run the other platform's programs.
    for service in ["catalog-db", "redis"] {
        let id = &project.containers(&[], Some(service))[0];
        let output = run(Command::new("docker").args(["exec", id, "uname", "-m"]));
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).trim(),
            uname_machine(&platform),
            "{service}"
        );
    }
    for service in ["catalog", "activity", "web", "echo", "hello1402"] {
        let id = &project.containers(&[], Some(service))[0];
        let image = inspect(id, "{{.Config.Image}}");
        assert!(
            env.iter().any(|(_, wanted)| *wanted == image),
            "{service} runs {image}, not one of {platform}'s images"
        );
    }

    // The web app answers, with data through catalog, Redis and activity.
    let base = app.web();
    let page = http::get_text(&format!("{base}/"), START);
    assert!(page.contains("hello world"), "{page}");
    webapp::add_entry_and_see_it_in_the_feed(
        &base,
        &format!("emulated-{}", std::process::id()),
        &format!("added on {platform}"),
        START,
    );
}
