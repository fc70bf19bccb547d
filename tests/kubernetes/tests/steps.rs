//! The tutorial's Kubernetes steps on a real single-node cluster, each run as
//! docs/kubernetes.md runs it, from the repository's own files: `k8s/pod1401/k-start.sh`
//! answered through its port-forward with the request in `kubectl logs` as JSON (the logging
//! step), `k8s/deployment1401/` (three replicas, node port 31401, a deleted Pod replaced
//! while the Service keeps answering), `k8s/cluster-1/` (node port 31402 reaching all three
//! echo replicas); every manifest under k8s/ sent to the API server as a server-side dry
//! run; and waits that fail report the Pods' events and last log lines.

use std::fs::File;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::sleep;
use std::time::{Duration, Instant};

use compose_tests::http;
use compose_tests::images::project_image;
use kubernetes_tests::app::Manifests;
use kubernetes_tests::{wait, Cluster};

const SECONDS: fn(u64) -> Duration = Duration::from_secs;
/// How long a step's Pods may take to become ready on a busy 2-core machine.
const READY: Duration = Duration::from_secs(180);

#[test]
fn the_tutorial_steps_run_on_a_real_cluster() {
    let manifests = Manifests::copy();
    let cluster = Cluster::start("t-steps");
    eprintln!(
        "Kubernetes {} started in {:?} (binaries cached)",
        cluster.version, cluster.start_time
    );
    cluster.load_images(&[
        project_image("hello"),
        project_image("echo"),
        project_image("dbtool"),
    ]);

    pod1401_through_k_start_and_port_forward(&cluster);
    deployment1401_keeps_answering_while_a_pod_is_replaced(&cluster);
    cluster1_spreads_requests_over_three_echo_replicas(&cluster);
    every_manifest_passes_a_server_side_dry_run(&cluster, &manifests);
    failed_waits_report_events_and_logs(&cluster);
    cluster.stop_and_check_host();
}

/// Kills the forwarding `k-start.sh` (which became `kubectl port-forward`) when dropped.
struct Forward(Child);

impl Drop for Forward {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn pod1401_through_k_start_and_port_forward(cluster: &Cluster) {
    eprintln!("== step 1: k8s/pod1401/k-start.sh, then curl http://localhost:1401/");
    let output = tempfile::NamedTempFile::new().expect("a temporary file");
    let forward = Forward(
        cluster
            .command("k8s/pod1401/k-start.sh")
            .env("K_START_TIMEOUT", "180s")
            .stdin(Stdio::null())
            .stdout(File::create(output.path()).expect("output file"))
            .stderr(File::create(output.path()).expect("output file"))
            .spawn()
            .expect("k-start.sh runs"),
    );
    let forward = std::sync::Mutex::new(forward);
    let request_id = format!("k8s-test-{}", std::process::id());
    let deadline = Instant::now() + READY;
    let body = cluster.in_net(|| {
        let client = http::client();
        loop {
            let answer = client
                .get("http://localhost:1401/")
                .header("x-request-id", &request_id)
                .send()
                .and_then(|r| r.error_for_status())
                .and_then(|r| r.text());
            if let Ok(body) = answer {
                return body;
            }
            let exited = forward.lock().expect("forward").0.try_wait().expect("k-start.sh status");
            if exited.is_some() || Instant::now() > deadline {
                panic!(
                    "k-start.sh {}: nothing answered on localhost:1401 ({answer:?}); its output:\n{}\n{}",
                    match exited {
                        Some(status) => format!("exited ({status})"),
                        None => "still runs after the deadline".into(),
                    },
                    std::fs::read_to_string(output.path()).unwrap_or_default(),
                    kubernetes_tests::diagnose::report(cluster, "default", None)
                );
            }
            sleep(Duration::from_millis(500));
        }
    });
    assert_eq!(
        body.trim(),
        "hello world",
        "hello1401 through the port-forward"
    );
    let log = std::fs::read_to_string(output.path()).unwrap_or_default();
    assert!(
        log.contains("Forwarding from 127.0.0.1:1401"),
        "k-start.sh ends in kubectl port-forward on 1401: {log}"
    );

    // The logging step: the Pod's stdout, one JSON object per line, read by kubectl logs.
    let logs = cluster.kubectl_ok(&["logs", "hello1401"]);
    let line = logs
        .lines()
        .find(|l| l.contains(&request_id))
        .unwrap_or_else(|| panic!("kubectl logs hello1401 lacks request {request_id}:\n{logs}"));
    let record: serde_json::Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
    assert!(record.is_object(), "{line}");
    for line in logs.lines().filter(|l| !l.trim().is_empty()) {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("kubectl logs hello1401: not JSON ({e}): {line}"));
    }
    eprintln!("kubectl logs hello1401 shows the request as JSON: {line}");
    drop(forward);
    cluster.kubectl_ok(&["delete", "pod", "hello1401"]);
}

fn deployment1401_keeps_answering_while_a_pod_is_replaced(cluster: &Cluster) {
    eprintln!("== step 2: kubectl apply -f k8s/deployment1401/, node port 31401");
    cluster.kubectl_ok(&["delete", "pod", "hello1401", "--ignore-not-found"]);
    cluster.kubectl_ok(&["apply", "-f", "k8s/deployment1401/"]);
    let selector = "app.kubernetes.io/name=hello1401";
    let pods =
        wait::pods_ready(cluster, "default", selector, 3, READY).unwrap_or_else(|e| panic!("{e}"));
    cluster.kubectl_ok(&["rollout", "status", "deployment/hello1401", "--timeout=60s"]);
    wait::endpoints_ready(cluster, "default", "hello1401", 3, READY)
        .unwrap_or_else(|e| panic!("{e}"));
    let url = format!("{}/", cluster.node_url(31401));
    let body = cluster.in_net(|| http::get_text(&url, SECONDS(30)));
    assert_eq!(body.trim(), "hello world", "node port 31401");

    // Requests every 100 ms through the node port while one Pod is deleted and replaced.
    let stop = Arc::new(AtomicBool::new(false));
    let deleted_at = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let traffic = {
        let (stop, url, deleted_at) = (stop.clone(), url.clone(), deleted_at.clone());
        cluster.in_net(move || {
            std::thread::spawn(move || {
                let client = http::client();
                let (mut answered, mut failed) = (0u32, Vec::new());
                while !stop.load(Ordering::Relaxed) {
                    match client.get(&url).send().and_then(|r| r.error_for_status()) {
                        Ok(_) => answered += 1,
                        Err(e) => {
                            let since = deleted_at
                                .lock()
                                .expect("deleted_at")
                                .map(|at: Instant| at.elapsed());
                            failed.push((e.is_connect(), since, error_chain(&e)));
                        }
                    }
                    sleep(Duration::from_millis(100));
                }
                (answered, failed)
            })
        })
    };
    sleep(SECONDS(1));
    let victim = &pods[0];
    *deleted_at.lock().expect("deleted_at") = Some(Instant::now());
    cluster.kubectl_ok(&["delete", "pod", victim, "--wait=false"]);
    let deadline = Instant::now() + READY;
    let replaced = loop {
        let now = wait::pods_ready(cluster, "default", selector, 3, READY)
            .unwrap_or_else(|e| panic!("{e}"));
        if !now.contains(victim) {
            break now;
        }
        assert!(Instant::now() < deadline, "{victim} was never replaced");
        sleep(Duration::from_millis(500));
    };
    sleep(SECONDS(2));
    stop.store(true, Ordering::Relaxed);
    let (answered, failed) = traffic.join().expect("the traffic thread");
    eprintln!(
        "deleted {victim}; replaced by {:?}; the node port answered {answered} requests, {} failed: {:?}",
        replaced.iter().find(|p| !pods.contains(p)),
        failed.len(),
        failed
    );
    assert!(answered > 10, "the node port barely answered: {answered}");
    // The deleted Pod serves on for SHUTDOWN_DELAY_MS after SIGTERM while it leaves the
    // Service's endpoints (docs/kubernetes.md, step 2): not one request may fail, be refused
    // or hang. Without the delay a connection sent in the moment before kube-proxy caught up
    // found the Pod's listener closed or its network gone.
    assert!(
        failed.is_empty(),
        "the Service stopped answering while {victim} was replaced: {failed:?}"
    );
}

/// An error and its sources, one after the other.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

fn cluster1_spreads_requests_over_three_echo_replicas(cluster: &Cluster) {
    eprintln!("== step 3: kubectl apply -f k8s/cluster-1/, node port 31402");
    cluster.kubectl_ok(&["apply", "-f", "k8s/cluster-1/"]);
    let mut pods = wait::pods_ready(cluster, "default", "app.kubernetes.io/name=echo", 3, READY)
        .unwrap_or_else(|e| panic!("{e}"));
    pods.sort();
    wait::endpoints_ready(cluster, "default", "echo", 3, READY).unwrap_or_else(|e| panic!("{e}"));
    let url = format!("{}/", cluster.node_url(31402));
    // kube-proxy applies the endpoints a moment after the API has them: ask for up to a
    // minute until every replica has answered.
    let seen = cluster.in_net(|| {
        let client = http::client();
        let mut seen = std::collections::BTreeSet::new();
        let deadline = Instant::now() + SECONDS(60);
        while Instant::now() < deadline {
            let body = client
                .get(&url)
                .send()
                .and_then(|r| r.error_for_status())
                .and_then(|r| r.text())
                .unwrap_or_else(|e| panic!("node port 31402: {e:#}"));
            seen.insert(body.trim().to_owned());
            if seen.len() == pods.len() {
                break;
            }
            sleep(Duration::from_millis(20));
        }
        seen
    });
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        pods,
        "the echo replicas answering on node port 31402"
    );
    // The logging step for echo too: every line of its replicas' logs is JSON.
    let logs = cluster.kubectl_ok(&["logs", "deployment/echo", "--tail=20"]);
    for line in logs.lines().filter(|l| !l.trim().is_empty()) {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("kubectl logs deployment/echo: not JSON ({e}): {line}"));
    }
    eprintln!("node port 31402 reached all three echo replicas: {pods:?}");
}

/// The steps the cluster's version refuses, with the error the API server gives: the
/// docs list them.
const REFUSED_BY_1_20: &[(&str, &str)] = &[(
    "logging/sidecar",
    // A native sidecar: restartPolicy on an init container needs Kubernetes 1.29.
    "restartPolicy",
)];

fn every_manifest_passes_a_server_side_dry_run(cluster: &Cluster, manifests: &Manifests) {
    eprintln!("== every manifest under k8s/: kubectl apply --dry-run=server");
    // Namespaced objects are checked in their namespace, which a dry run does not create.
    for namespace in ["docker-cluster-rust", "logging"] {
        cluster.kubectl_ok(&["create", "namespace", namespace]);
    }
    let mut failures = Vec::new();
    let mut accepted = 0;
    for unit in &manifests.units {
        let output = cluster.kubectl_input(&["apply", "--dry-run=server", "-f", "-"], &unit.yaml);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let refused = REFUSED_BY_1_20
            .iter()
            .find(|(name, _)| *name == unit.name)
            .map(|(_, why)| *why);
        match (output.status.success(), refused) {
            (true, None) => accepted += unit.objects.len(),
            (false, Some(why)) if stderr.contains(why) => {
                eprintln!(
                    "{}: refused by Kubernetes {}, as docs/kubernetes.md says: {}",
                    unit.name,
                    cluster.version,
                    stderr.trim()
                );
            }
            (true, Some(why)) => failures.push(format!(
                "{}: accepted, but docs/kubernetes.md says Kubernetes {} refuses it ({why})",
                unit.name, cluster.version
            )),
            (false, _) => failures.push(format!("{}: {}", unit.name, stderr.trim())),
        }
    }
    assert!(
        failures.is_empty(),
        "server-side dry run:\n{}",
        failures.join("\n")
    );
    eprintln!(
        "server-side dry run: {accepted} objects of {} units accepted",
        manifests.units.len()
    );
    for namespace in ["docker-cluster-rust", "logging"] {
        cluster.kubectl_ok(&["delete", "namespace", namespace, "--wait=false"]);
    }
}

/// Bad input: a missing image, a failing Job and a Pod that never becomes Ready each end
/// the wait with the Pod's events and last log lines, not a bare timeout.
fn failed_waits_report_events_and_logs(cluster: &Cluster) {
    eprintln!("== bad input: what a failing wait reports");
    let namespace = "bad-input";
    cluster.kubectl_ok(&["create", "namespace", namespace]);
    let manifest = format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{name: missing-image, namespace: {namespace}, labels: {{case: missing-image}}}}
spec:
  containers:
    - name: app
      image: docker-cluster-rust/no-such-image:dev
      imagePullPolicy: IfNotPresent
---
apiVersion: v1
kind: Pod
metadata: {{name: never-ready, namespace: {namespace}, labels: {{case: never-ready}}}}
spec:
  containers:
    - name: hello
      image: {hello}
      imagePullPolicy: IfNotPresent
      env: [{{name: PORT, value: "1401"}}, {{name: LOG_FORMAT, value: json}}]
      readinessProbe:
        httpGet: {{path: /readyz, port: 9999}}
        periodSeconds: 2
---
apiVersion: batch/v1
kind: Job
metadata: {{name: failing, namespace: {namespace}}}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: dbtool
          image: {dbtool}
          imagePullPolicy: IfNotPresent
          args: ["up"]
          env:
            - {{name: DATABASE_URL, value: "postgres://nobody:secret@no-such-database:5432/none"}}
            - {{name: DBTOOL_MIGRATIONS, value: /migrations/catalog}}
            - {{name: DBTOOL_WAIT, value: "2"}}
"#,
        hello = project_image("hello"),
        dbtool = project_image("dbtool"),
    );
    let output = cluster.kubectl_input(&["apply", "-f", "-"], &manifest);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let missing = wait::pods_ready(cluster, namespace, "case=missing-image", 1, READY)
        .expect_err("a Pod whose image is missing never becomes ready");
    eprintln!("missing image:\n{missing}");
    assert!(
        missing.contains("cannot happen")
            && missing.contains("no-such-image")
            && missing.contains("events:"),
        "the report names the cause and shows the events:\n{missing}"
    );

    let failing = wait::job_complete(cluster, namespace, "failing", READY)
        .expect_err("a Job whose database does not exist fails");
    eprintln!("failing Job:\n{failing}");
    assert!(
        failing.contains("Job failing failed")
            && failing.contains("last log lines of dbtool")
            && failing.contains("database unreachable"),
        "the report names the failed Job and shows its Pod's log:\n{failing}"
    );

    let never = wait::pods_ready(cluster, namespace, "case=never-ready", 1, SECONDS(20))
        .expect_err(
            "a Pod whose readiness probe asks a port nothing listens on never becomes ready",
        );
    eprintln!("never ready:\n{never}");
    assert!(
        never.contains("gave up after")
            && never.contains("Readiness probe failed")
            && never.contains("listening"),
        "the report shows the probe's events and the container's log:\n{never}"
    );
    cluster.kubectl_ok(&["delete", "namespace", namespace, "--wait=false"]);
}
