//! The shell scripts under `k8s/` and the commands the manifests run: shellcheck-clean, and
//! doing what they say, as far as that can be shown without a cluster: the database role
//! script and the migration Job's and init container's dbtool commands against a real
//! PostgreSQL, the secrets script on a clean copy, and `k-start.sh`'s order of steps
//! against a recording `kubectl`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

use k8s_manifests::manifest::{array, text, Container, Object};
use k8s_manifests::{render, repo_root};

fn scripts() -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![repo_root().join("k8s")];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).expect("read k8s/") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "sh") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
}

fn unique() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .subsec_nanos();
    format!("{}_{nanos}", std::process::id())
}

#[test]
fn every_script_is_shellcheck_clean_posix_sh() {
    let scripts = scripts();
    assert!(scripts.len() >= 4, "found only {scripts:?}");
    for script in scripts {
        let first_line = fs::read_to_string(&script)
            .expect("read script")
            .lines()
            .next()
            .unwrap_or("")
            .to_owned();
        assert_eq!(
            first_line,
            "#!/bin/sh",
            "{}: scripts here are POSIX sh",
            script.display()
        );
        let output = run(Command::new("shellcheck").arg("--shell=sh").arg(&script));
        assert!(
            output.status.success(),
            "shellcheck {}:\n{}",
            script.display(),
            String::from_utf8_lossy(&output.stdout)
        );
        // bash in POSIX mode, as macOS's /bin/sh (bash 3.2) runs them, must parse them too.
        let output = run(Command::new("bash").args(["--posix", "-n"]).arg(&script));
        assert!(
            output.status.success(),
            "{}: {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn make_secrets_writes_random_passwords_once_and_keeps_them() {
    let (_temp, dev) = render::clean_copy(&repo_root(), "k8s/app/dev").expect("copy");
    let script = dev.join("make-secrets.sh");
    assert!(
        !dev.join("catalog-db.env").exists(),
        "a clean copy holds no password file"
    );
    let output = run(Command::new("sh").arg(&script));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut passwords = Vec::new();
    for db in ["catalog", "activity"] {
        let text = fs::read_to_string(dev.join(format!("{db}-db.env"))).expect("env file");
        for key in ["POSTGRES_PASSWORD", "SERVICE_PASSWORD"] {
            let line = text
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")))
                .unwrap_or_else(|| panic!("{db}-db.env has no {key}: {text}"));
            assert!(
                line.len() == 32 && line.chars().all(|c| c.is_ascii_hexdigit()),
                "{db} {key}={line:?} is not 32 hex digits"
            );
            passwords.push(line.to_owned());
        }
    }
    let mut distinct = passwords.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        passwords.len(),
        "passwords repeat: {passwords:?}"
    );

    let before = fs::read_to_string(dev.join("catalog-db.env")).expect("env file");
    let output = run(Command::new("sh").arg(&script));
    assert!(output.status.success());
    assert_eq!(
        fs::read_to_string(dev.join("catalog-db.env")).expect("env file"),
        before
    );
}

/// `(host, port)` of `TEST_DATABASE_URL` (`postgres://user@host:port/db`).
fn test_server() -> (String, String) {
    let url = std::env::var("TEST_DATABASE_URL").expect(
        "TEST_DATABASE_URL is not set: run through scripts/test.sh, which starts PostgreSQL",
    );
    let authority = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split('/').next())
        .expect("a postgres:// URL");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = host_port.rsplit_once(':').unwrap_or((host_port, "5432"));
    (host.to_owned(), port.to_owned())
}

fn psql(host: &str, port: &str, sql: &str) -> String {
    let output = run(Command::new("psql")
        .args([
            "--no-psqlrc",
            "-X",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            "-U",
            "postgres",
            "-d",
            "postgres",
        ])
        .args(["-h", host, "-p", port, "-c", sql]));
    assert!(
        output.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[test]
fn the_database_init_script_gives_the_service_role_its_database_alone() {
    let (host, port) = test_server();
    let id = unique();
    let (db, role, other) = (
        format!("k8s_db_{id}"),
        format!("k8s_svc_{id}"),
        format!("k8s_other_{id}"),
    );
    // What the postgres image does before it runs the init scripts.
    psql(&host, &port, &format!("CREATE DATABASE {db}"));
    psql(&host, &port, &format!("CREATE ROLE {other} LOGIN"));

    let base = repo_root().join("k8s/app/base");
    let mut path = std::env::var("PG_BIN")
        .map(|b| format!("{b}:"))
        .unwrap_or_default();
    path.push_str(&std::env::var("PATH").unwrap_or_default());
    let output = run(Command::new("sh")
        .arg(base.join("create-service-role.sh"))
        .env("PATH", path)
        .env("PGHOST", &host)
        .env("PGPORT", &port)
        .env("POSTGRES_USER", "postgres")
        .env("POSTGRES_DB", &db)
        .env("SERVICE_ROLE", &role)
        .env("SERVICE_PASSWORD", "a1b2c3")
        .env("ROLES_SQL", base.join("roles.sql")));
    let outcome = (
        output.status.success(),
        psql(
            &host,
            &port,
            &format!("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{db}'"),
        ),
        psql(
            &host,
            &port,
            &format!(
                "SELECT has_database_privilege('{role}', '{db}', 'CONNECT'), \
                    has_database_privilege('{other}', '{db}', 'CONNECT'), \
                    rolcanlogin, rolsuper, rolcreatedb, rolcreaterole \
             FROM pg_roles WHERE rolname = '{role}'"
            ),
        ),
    );
    psql(&host, &port, &format!("DROP DATABASE {db}"));
    psql(&host, &port, &format!("DROP ROLE {role}"));
    psql(&host, &port, &format!("DROP ROLE {other}"));

    assert!(
        outcome.0,
        "create-service-role.sh failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(outcome.1, role, "the service role owns its database");
    // CONNECT for the role, not for another role; login, and nothing more.
    assert_eq!(outcome.2, "t|f|t|f|f|f");
}

/// A `kubectl` that records its arguments and fails `wait` when told to.
fn recording_kubectl(dir: &Path, wait_fails: bool) -> PathBuf {
    let log = dir.join("calls");
    let script = format!(
        "#!/bin/sh\necho \"$*\" >> '{}'\ncase \"$1\" in wait) exit {} ;; esac\nexit 0\n",
        log.display(),
        u8::from(wait_fails)
    );
    let kubectl = dir.join("kubectl");
    fs::write(&kubectl, script).expect("write kubectl");
    run(Command::new("chmod").arg("+x").arg(&kubectl));
    log
}

#[test]
fn k_start_applies_waits_until_ready_then_forwards_1401() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = recording_kubectl(dir.path(), false);
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let script = repo_root().join("k8s/pod1401/k-start.sh");
    let output = run(Command::new("sh").arg(&script).env("PATH", path));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let calls = fs::read_to_string(log).expect("calls");
    let calls: Vec<&str> = calls.lines().collect();
    let pod_yaml = repo_root().join("k8s/pod1401/pod.yaml");
    assert_eq!(
        calls,
        [
            format!("apply -f {}", pod_yaml.display()).as_str(),
            "wait --for=condition=Ready pod/hello1401 --timeout=120s",
            "port-forward pod/hello1401 1401:1401",
        ]
    );
}

#[test]
fn k_start_stops_with_a_hint_when_the_pod_never_gets_ready() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = recording_kubectl(dir.path(), true);
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let script = repo_root().join("k8s/pod1401/k-start.sh");
    let output = run(Command::new("sh")
        .arg(&script)
        .env("PATH", path)
        .env("K_START_TIMEOUT", "5s"));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("docker-cluster-rust/hello:dev"), "{stderr}");
    let calls = fs::read_to_string(log).expect("calls");
    assert!(
        calls.contains("--timeout=5s") && !calls.contains("port-forward"),
        "{calls}"
    );
}

/// The dbtool binary of this workspace, built if this test run did not build it.
fn dbtool() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let target = exe.parent().and_then(Path::parent).expect("target folder");
    let binary = target.join("dbtool");
    if !binary.is_file() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let output = run(Command::new(cargo)
            .args(["build", "-p", "dbtool", "--bin", "dbtool"])
            .current_dir(repo_root()));
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    binary
}

/// The command a container of a rendered manifest runs, pointed at the test server: its
/// Secret-fed variables get `password`, the database host and name in `DATABASE_URL` are
/// replaced by the test server and `database`, the user by `role`, and the migrations
/// folder baked into the image by the repository's.
fn as_local_command(
    container: &Container,
    args: &[String],
    db: &str,
    (host, port): (&str, &str),
    database: &str,
    role: &str,
    password: &str,
) -> Command {
    let mut command = Command::new(dbtool());
    command.args(args);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for env in array(container.value, "/env") {
        let name = text(env, "/name");
        let value = if env.get("valueFrom").is_some() {
            password.to_owned()
        } else {
            text(env, "/value").replace("$(SERVICE_PASSWORD)", password)
        };
        let value = match name {
            "DATABASE_URL" => {
                let in_cluster = format!("postgres://{db}:{password}@{db}-db:5432/{db}");
                assert_eq!(
                    value, in_cluster,
                    "the {db} DATABASE_URL has an unexpected shape"
                );
                format!("postgres://{role}:{password}@{host}:{port}/{database}")
            }
            "DBTOOL_MIGRATIONS" => {
                assert_eq!(value, format!("/migrations/{db}"));
                repo_root()
                    .join("migrations")
                    .join(db)
                    .display()
                    .to_string()
            }
            _ => value,
        };
        command.env(name, value);
    }
    command
}

fn find<'a>(objects: &'a [Object], kind: &str, name_prefix: &str) -> &'a Object {
    objects
        .iter()
        .find(|o| o.kind() == kind && o.name().starts_with(name_prefix))
        .unwrap_or_else(|| panic!("no {kind} named {name_prefix}…"))
}

#[test]
fn the_manifests_dbtool_commands_migrate_and_then_let_the_service_start() {
    let (host, port) = test_server();
    let (_temp, copy) = render::clean_copy(&repo_root(), "k8s").expect("copy k8s/");
    let units = render::units(&copy).unwrap_or_else(|e| panic!("{e}"));
    let dev = units.iter().find(|u| u.name == "app/dev").expect("app/dev");
    let base = repo_root().join("k8s/app/base");

    for db in ["catalog", "activity"] {
        let id = unique();
        let (database, role, password) = (
            format!("k8s_{db}_{id}"),
            format!("k8s_{db}_role_{id}"),
            "pw1",
        );
        psql(&host, &port, &format!("CREATE DATABASE {database}"));
        let output = run(Command::new("sh")
            .arg(base.join("create-service-role.sh"))
            .env("PGHOST", &host)
            .env("PGPORT", &port)
            .env("POSTGRES_USER", "postgres")
            .env("POSTGRES_DB", &database)
            .env("SERVICE_ROLE", &role)
            .env("SERVICE_PASSWORD", password)
            .env("ROLES_SQL", base.join("roles.sql")));
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );

        let job = find(&dev.objects, "Job", &format!("{db}-migrate-v"));
        let deployment = find(&dev.objects, "Deployment", db);
        let up = job.containers()[0];
        let wait = deployment
            .containers()
            .into_iter()
            .find(|c| c.name() == "wait-for-migrations")
            .expect("the wait-for-migrations init container");
        let local = |c: &Container, args: &[String]| {
            as_local_command(c, args, db, (&host, &port), &database, &role, password)
        };
        let as_written = |c: &Container| -> Vec<String> {
            c.command_line().into_iter().map(str::to_owned).collect()
        };

        // Before the Job: the init container's command times out (here after 1 s, not
        // the manifest's 300) and fails, so the service container does not start.
        let mut impatient = as_written(&wait);
        let at = impatient
            .iter()
            .position(|w| w == "--timeout")
            .expect("wait-for-migrations passes --timeout");
        impatient[at + 1] = "1".into();
        let early = run(&mut local(&wait, &impatient));
        let migrated = run(&mut local(&up, &as_written(&up)));
        let late = run(&mut local(&wait, &as_written(&wait)));

        psql(&host, &port, &format!("DROP DATABASE {database}"));
        psql(&host, &port, &format!("DROP ROLE {role}"));

        assert!(
            !early.status.success(),
            "{db}: dbtool wait passed before any migration"
        );
        assert!(
            migrated.status.success(),
            "{db}: the Job's `dbtool up` failed: {}",
            String::from_utf8_lossy(&migrated.stderr)
        );
        assert!(
            late.status.success(),
            "{db}: dbtool wait still fails after the Job: {}",
            String::from_utf8_lossy(&late.stderr)
        );
    }
}
