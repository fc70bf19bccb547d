//! One running cluster, started by `scripts/kube/cluster.sh` and stopped when dropped.

use std::fs::File;
use std::io::Write;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use rustix::fs::{flock, FlockOperation};
use rustix::thread::{move_into_link_name_space, LinkNameSpaceType};

use crate::repo_root;

/// A running single-node cluster.
pub struct Cluster {
    /// The name given to `cluster.sh --name`.
    pub name: String,
    /// Kubernetes' version, such as `1.20.2`.
    pub version: String,
    /// The network namespace everything runs in (`/run/netns/<netns>`).
    pub netns: String,
    /// The node's address inside that namespace: node ports answer on it.
    pub node_ip: String,
    /// How long `cluster.sh start` took (binaries cached): the figure for the docs.
    pub start_time: std::time::Duration,
    state: PathBuf,
    kubeconfig: PathBuf,
    host_before: HostState,
    stopped: bool,
    // Dropped after `state`'s cluster is stopped (Drop runs before the fields drop).
    _temp: tempfile::TempDir,
    _lock: File,
}

/// What of the host a cluster could change and must leave as it found it: the paths a
/// kubelet, CNI plugins or a Docker engine write by default, the kernel settings the
/// kubelet and kube-proxy want, and (after a stop) anything of the cluster's own:
/// processes, mounts, its network namespace, its cgroups.
#[derive(Debug, PartialEq, Eq)]
struct HostState {
    paths: Vec<(String, bool)>,
    sysctls: Vec<(String, String)>,
    leftovers: Vec<String>,
}

const HOST_PATHS: &[&str] = &[
    "/var/lib/kubelet",
    "/var/lib/dockershim",
    "/var/lib/cni",
    "/var/log/pods",
    "/var/log/containers",
    "/etc/cni",
    "/opt/cni",
    "/etc/kubernetes",
    "/run/containerd",
    "/run/netns",
];

const HOST_SYSCTLS: &[&str] = &[
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
    "net/ipv4/ip_forward",
    "net/ipv4/conf/all/route_localnet",
    "net/bridge/bridge-nf-call-iptables",
    "net/netfilter/nf_conntrack_max",
];

impl HostState {
    fn take(name: &str, state: &Path) -> Self {
        let mut paths: Vec<(String, bool)> = HOST_PATHS
            .iter()
            .map(|p| ((*p).to_owned(), Path::new(p).exists()))
            .collect();
        let sysctls = HOST_SYSCTLS
            .iter()
            .map(|s| {
                let value = std::fs::read_to_string(Path::new("/proc/sys").join(s))
                    .unwrap_or_else(|_| "(absent)".into());
                ((*s).to_owned(), value.trim().to_owned())
            })
            .collect();
        let mut leftovers = Vec::new();
        let state_text = state.display().to_string();
        let netns = Path::new("/run/netns").join(format!("dcr-{name}"));
        if netns.exists() {
            leftovers.push(format!("network namespace {}", netns.display()));
        }
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        for line in mountinfo.lines() {
            if line.contains(&state_text) || line.contains(&format!("dcr-{name}")) {
                leftovers.push(format!("mount {line}"));
            }
        }
        // `ip netns add` mounts /run/netns; it must be as it was.
        let run_netns = mountinfo
            .lines()
            .any(|line| line.split(' ').nth(4) == Some("/run/netns"));
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(&state_text) && entry.file_name() != "self" {
                leftovers.push(format!(
                    "process {}: {cmdline}",
                    entry.file_name().to_string_lossy()
                ));
            }
        }
        for hierarchy in std::fs::read_dir("/sys/fs/cgroup")
            .into_iter()
            .flatten()
            .flatten()
        {
            let dir = hierarchy.path().join(format!("dcr-{name}"));
            if dir.exists() {
                leftovers.push(format!("cgroup {}", dir.display()));
            }
        }
        paths.push(("/run/netns (a mount point)".into(), run_netns));
        Self {
            paths,
            sysctls,
            leftovers,
        }
    }
}

fn script() -> PathBuf {
    repo_root().join("scripts/kube/cluster.sh")
}

/// Waits until no other test cluster runs on this machine, then holds the lock.
fn machine_lock() -> File {
    let path = std::env::temp_dir().join("docker-cluster-rust-kube-tests.lock");
    let file = File::options()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    flock(&file, FlockOperation::LockExclusive)
        .unwrap_or_else(|e| panic!("cannot lock {}: {e}", path.display()));
    file
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl Cluster {
    /// Starts a cluster named `name` (at most 10 characters of a-z, 0-9, -). A cluster of
    /// that name left behind by an earlier, killed run is stopped first. Panics with the
    /// script's message when the cluster cannot start.
    pub fn start(name: &str) -> Self {
        let uid = Command::new("id").arg("-u").output().expect("id runs");
        assert!(
            text(&uid.stdout).trim() == "0",
            "the Kubernetes tests need root (a network namespace, the node's own Docker \
             engine, entering the namespace from test threads): run them as root, as CI does"
        );
        let lock = machine_lock();
        let temp = tempfile::Builder::new()
            .prefix("kube-")
            .tempdir()
            .expect("a temporary folder");
        let state = temp.path().join("state");
        if Path::new("/run/netns").join(format!("dcr-{name}")).exists() {
            eprintln!("a cluster named {name} was left by an earlier run: stopping it");
            let _ = Command::new(script())
                .args(["stop", "--name", name, "--state"])
                .arg(&state)
                .status();
        }
        let host_before = HostState::take(name, &state);
        let started = Instant::now();
        let output = Command::new(script())
            .args(["start", "--name", name, "--state"])
            .arg(&state)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script().display()));
        let start_time = started.elapsed();
        let stderr = text(&output.stderr);
        eprint!("{stderr}");
        assert!(
            output.status.success(),
            "the Kubernetes cluster did not start ({}), so none of its tests can run. \
             scripts/kube/cluster.sh said:\n{stderr}",
            output.status
        );
        let env_file = PathBuf::from(text(&output.stdout).trim());
        let env = std::fs::read_to_string(&env_file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", env_file.display()));
        let value = |key: &str| {
            env.lines()
                .find_map(|line| line.strip_prefix(&format!("{key}=")))
                .unwrap_or_else(|| panic!("{} has no {key}", env_file.display()))
                .to_owned()
        };
        Self {
            name: name.to_owned(),
            version: value("KUBE_VERSION"),
            netns: value("KUBE_NETNS"),
            node_ip: value("KUBE_NODE_IP"),
            kubeconfig: PathBuf::from(value("KUBECONFIG")),
            start_time,
            state,
            host_before,
            stopped: false,
            _temp: temp,
            _lock: lock,
        }
    }

    /// The folder holding the cluster's state and its components' logs (`log/`).
    pub fn state(&self) -> &Path {
        &self.state
    }

    /// A command that runs `program` inside the cluster's network, with `KUBECONFIG` set:
    /// what `scripts/kube/cluster.sh exec -- program` does.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new("nsenter");
        command
            .arg(format!("--net=/run/netns/{}", self.netns))
            .arg("--")
            .arg(program)
            .env("KUBECONFIG", &self.kubeconfig)
            .current_dir(repo_root());
        command
    }

    /// `kubectl ARGS`, its output whatever the exit status.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.command("kubectl")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("kubectl runs")
    }

    /// `kubectl ARGS` that must succeed; its stdout.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let output = self.kubectl(args);
        assert!(
            output.status.success(),
            "kubectl {} failed: {}{}",
            args.join(" "),
            text(&output.stdout),
            text(&output.stderr)
        );
        text(&output.stdout)
    }

    /// `kubectl ARGS` with `input` on its stdin (`apply -f -`).
    pub fn kubectl_input(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .command("kubectl")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("kubectl reads its input");
        child.wait_with_output().expect("kubectl finishes")
    }

    /// The docker CLI against the node's own engine.
    pub fn node_docker(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .arg("-H")
            .arg(format!("unix://{}/docker.sock", self.state.display()))
            .args(args)
            .output()
            .expect("docker runs")
    }

    /// Copies images from the host's Docker engine into the node's.
    pub fn load_images(&self, images: &[String]) {
        compose_tests::images::require(&images.iter().map(String::as_str).collect::<Vec<_>>());
        let output = Command::new(script())
            .args(["load", "--name", &self.name, "--state"])
            .arg(&self.state)
            .args(images)
            .output()
            .expect("cluster.sh load runs");
        eprint!("{}", text(&output.stderr));
        assert!(
            output.status.success(),
            "loading {images:?} into the node failed: {}",
            text(&output.stderr)
        );
    }

    /// Runs `work` on a thread inside the cluster's network namespace and returns its
    /// result. Threads it starts (an HTTP client's, a load's writers) stay in that
    /// namespace too; a panic in `work` is the caller's.
    pub fn in_net<T: Send>(&self, work: impl FnOnce() -> T + Send) -> T {
        let path = format!("/run/netns/{}", self.netns);
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let namespace =
                        File::open(&path).unwrap_or_else(|e| panic!("cannot open {path}: {e}"));
                    move_into_link_name_space(namespace.as_fd(), Some(LinkNameSpaceType::Network))
                        .unwrap_or_else(|e| panic!("cannot enter {path} (setns): {e}"));
                    work()
                })
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    /// `http://NODE_IP:PORT`: a node port, as seen inside the cluster's network.
    pub fn node_url(&self, port: u16) -> String {
        format!("http://{}:{port}", self.node_ip)
    }
}

impl Cluster {
    /// Runs `cluster.sh stop`; its complaint, if it failed.
    fn run_stop(&mut self) -> Option<String> {
        self.stopped = true;
        let output = Command::new(script())
            .args(["stop", "--name", &self.name, "--state"])
            .arg(&self.state)
            .output();
        match output {
            Ok(output) if output.status.success() => {
                eprint!("{}", text(&output.stderr));
                None
            }
            Ok(output) => Some(format!(
                "stopping the cluster {} failed: {}",
                self.name,
                text(&output.stderr)
            )),
            Err(e) => Some(format!("cannot run cluster.sh stop: {e}")),
        }
    }

    /// Stops the cluster and checks that the host is as it was before the start: the same
    /// kernel settings, no new kubelet, CNI or runtime folders, and nothing of the cluster
    /// left (processes, mounts, network namespace, cgroups).
    pub fn stop_and_check_host(mut self) {
        if let Some(complaint) = self.run_stop() {
            panic!("{complaint}");
        }
        let after = HostState::take(&self.name, &self.state);
        assert_eq!(
            after, self.host_before,
            "the host is not as the cluster found it (after, then before)"
        );
        eprintln!(
            "cluster {} stopped: no process, mount, namespace or cgroup left; the host's kernel \
             settings and folders as they were",
            self.name
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if !self.stopped {
            if let Some(complaint) = self.run_stop() {
                eprintln!("warning: {complaint}");
            }
        }
    }
}
