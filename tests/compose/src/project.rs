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

/// The compose command: Compose v2 (`docker compose`) when the docker client has it, else
/// `docker-compose` 1.29. `COMPOSE` (for example `docker-compose`) chooses explicitly.
fn compose_program() -> &'static [String] {
    static PROGRAM: OnceLock<Vec<String>> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        if let Ok(chosen) = std::env::var("COMPOSE") {
            return chosen.split_whitespace().map(str::to_owned).collect();
        }
        let v2 = Command::new("docker")
            .args(["compose", "version"])
            .output()
            .is_ok_and(|output| output.status.success());
        if v2 {
            vec!["docker".into(), "compose".into()]
        } else {
            vec!["docker-compose".into()]
        }
    })
}

/// A compose project under test. Dropping it removes its containers, networks and volumes.
pub struct Project {
    name: String,
    dir: PathBuf,
    env: Vec<(String, String)>,
    /// The `-f` files `down` needs to see every service (empty: the folder's default file).
    files: Vec<String>,
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
        }
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
        let program = compose_program();
        let mut command = self.command(&program[0]);
        command.args(&program[1..]).args(args);
        command
    }

    /// The ids of the project's containers (all of them, running or not) of `service`, or
    /// of every service when `None`; `files` as for `-f` (empty: the default file).
    pub fn containers(&self, files: &[&str], service: Option<&str>) -> Vec<String> {
        let mut args: Vec<&str> = files.iter().flat_map(|f| ["-f", f]).collect();
        args.extend(["ps", "-a", "-q"]);
        args.extend(service);
        self.compose(&args)
            .lines()
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect()
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
