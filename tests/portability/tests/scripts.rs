//! Every shell script of the repository, wherever it lives: shellcheck-clean, parsed by
//! `bash --posix`, free of what macOS's bash 3.2 lacks; and every script and SQL file kept
//! with LF endings by `.gitattributes` (a CR breaks a shebang in a Linux container, and
//! changes a migration's checksum).

use std::process::Command;

use portability::{bash4_features, repository, scripts, tracked_files};

#[test]
fn the_repository_has_scripts_to_check() {
    let scripts = scripts();
    // The harness and the compose steps have scripts; finding none means the search broke.
    assert!(
        scripts.iter().any(|s| s.path.ends_with("scripts/test.sh")),
        "scripts/test.sh not found among {scripts:?}"
    );
}

#[test]
fn every_script_is_shellcheck_clean() {
    let root = repository();
    let mut failures = Vec::new();
    for script in scripts() {
        let mut command = Command::new("shellcheck");
        // Warnings and errors fail; style and info notes are the authors' call.
        command.args([
            "--severity=warning",
            "--external-sources",
            "--source-path=SCRIPTDIR",
        ]);
        if script.shell.is_none() {
            // A file that is only sourced (scripts/local-servers.sh) is sourced by bash.
            command.arg("--shell=bash");
        }
        let output = command
            .arg(&script.path)
            .current_dir(&root)
            .output()
            .expect("cannot run shellcheck (apt-get install shellcheck)");
        if !output.status.success() {
            failures.push(format!(
                "{}:\n{}",
                script.path.display(),
                String::from_utf8_lossy(&output.stdout)
            ));
        }
    }
    assert!(failures.is_empty(), "shellcheck:\n{}", failures.join("\n"));
}

#[test]
fn every_script_parses_in_posix_mode() {
    let root = repository();
    let mut failures = Vec::new();
    for script in scripts() {
        let output = Command::new("bash")
            .args(["--posix", "-n"])
            .arg(&script.path)
            .current_dir(&root)
            .output()
            .expect("cannot run bash");
        if !output.status.success() {
            failures.push(format!(
                "{}: {}",
                script.path.display(),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "bash --posix -n:\n{}",
        failures.join("\n")
    );
}

/// Scripts that only ever run on Linux, with why; docs/platforms.md says so too.
const LINUX_ONLY: [(&str, &str); 6] = [
    ("docker/", "runs inside the project's Linux images"),
    (
        "scripts/build-base-images.sh",
        "builds Debian root file systems with mmdebstrap",
    ),
    (
        "scripts/enable-emulation.sh",
        "registers qemu-user-static with the Linux kernel's binfmt_misc",
    ),
    (
        "scripts/test.sh",
        "the CI harness: installs Debian packages with apt",
    ),
    (
        "scripts/local-servers.sh",
        "the CI harness's PostgreSQL and Redis, from Debian packages",
    ),
    (".ci/", "the CI entry point, on the Linux CI machine"),
];

#[test]
fn no_script_a_mac_user_runs_needs_more_than_macos_bash_3_2() {
    let root = repository();
    let mut failures = Vec::new();
    let linux_only = |path: &std::path::Path| {
        let path = path.to_string_lossy();
        LINUX_ONLY
            .iter()
            .any(|(prefix, _why)| path.starts_with(prefix))
    };
    for script in scripts().into_iter().filter(|s| !linux_only(&s.path)) {
        let text = std::fs::read_to_string(root.join(&script.path)).unwrap_or_default();
        for (line, what) in bash4_features(&text) {
            failures.push(format!("{}:{line}: {what}", script.path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "needs a newer bash than macOS has:\n{}",
        failures.join("\n")
    );
}

#[test]
fn scripts_and_sql_are_kept_with_lf_endings() {
    let root = repository();
    let files: Vec<_> = tracked_files()
        .into_iter()
        .filter(|p| {
            p.extension().is_some_and(|e| e == "sql" || e == "sh")
                || scripts().iter().any(|s| &s.path == p)
        })
        .collect();
    assert!(files
        .iter()
        .any(|p| p.extension().is_some_and(|e| e == "sql")));
    let output = Command::new("git")
        .args(["check-attr", "eol", "--"])
        .args(&files)
        .current_dir(&root)
        .output()
        .expect("cannot run git check-attr");
    let listing = String::from_utf8_lossy(&output.stdout);
    let not_lf: Vec<&str> = listing
        .lines()
        .filter(|l| !l.ends_with(": eol: lf"))
        .collect();
    assert!(
        not_lf.is_empty(),
        ".gitattributes does not force LF on:\n{}",
        not_lf.join("\n")
    );
    let with_cr: Vec<String> = files
        .iter()
        .filter(|p| std::fs::read(root.join(p)).is_ok_and(|b| b.contains(&b'\r')))
        .map(|p| p.display().to_string())
        .collect();
    assert!(with_cr.is_empty(), "CR characters in: {with_cr:?}");
}

/// The one file allowed to name CPU architectures: it maps each Docker platform to the names
/// other tools give it (Rust targets, cross compilers, emulators).
const PLATFORM_TABLE: &str = "scripts/platforms.sh";
const ARCHITECTURES: [&str; 6] = ["x86_64", "amd64", "aarch64", "arm64", "i686", "armv7"];
/// Scripts that build dbtool, the program people run on their own machines, for named
/// operating systems and CPUs on purpose (the release archives, the Windows program, the
/// macOS lint): their
/// targets are what they are about. No image is built from them.
const TARGET_SCRIPTS: [&str; 3] = [
    "scripts/lint-macos.sh",
    "scripts/release-dbtool.sh",
    "scripts/windows-dbtool.sh",
];

#[test]
fn no_dockerfile_script_or_manifest_names_a_cpu_architecture() {
    // The same files must build and run linux/amd64 and linux/arm64 (Apple Silicon) alike.
    let root = repository();
    let files: Vec<_> = tracked_files()
        .into_iter()
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name.contains("Dockerfile")
                || ["compose", "docker", "scripts", "k8s"]
                    .iter()
                    .any(|folder| p.starts_with(folder)))
                && !p.ends_with(PLATFORM_TABLE)
                && !TARGET_SCRIPTS.iter().any(|script| p.ends_with(script))
        })
        .collect();
    assert!(files.iter().any(|p| p.ends_with("docker/Dockerfile")));
    assert!(files.iter().any(|p| p.ends_with("scripts/build-images.sh")));
    let mut failures = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(root.join(&path)).unwrap_or_default();
        for (number, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with('#') {
                continue;
            }
            for arch in ARCHITECTURES {
                if code.contains(arch) {
                    failures.push(format!("{}:{}: {arch}: {line}", path.display(), number + 1));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "architecture-specific lines (only {PLATFORM_TABLE} may name one):\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_platform_table_names_both_platforms_the_images_are_built_for() {
    let text = std::fs::read_to_string(repository().join(PLATFORM_TABLE)).unwrap();
    let supported = text
        .lines()
        .find_map(|line| line.strip_prefix("supported_platforms="))
        .unwrap_or_else(|| panic!("{PLATFORM_TABLE} sets no supported_platforms"));
    assert_eq!(supported.trim_matches('"'), "linux/amd64 linux/arm64");
}
