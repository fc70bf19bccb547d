//! `k8s/app` on a real single-node cluster as docs/kubernetes.md deploys it on a machine
//! without a registry: `k8s/app/dev/make-secrets.sh`, then `kubectl apply -k k8s/app/offline`
//! (the dev overlay with the data stores' local images). Then: the migration Jobs Complete and
//! every workload Ready; the web app on node port 30080 shows its page and an entry added
//! through its form reaches activity's feed; neither service's database role gets into the
//! other's database; a new migration runs in a new Job once, while the services' `dbtool
//! wait` init containers hold their new Pods back until it is done; and faults under write
//! load, counted as the fault suite counts (tests/faults): every acknowledged write in
//! catalog's database, exactly once in activity's feed.

use std::thread::sleep;
use std::time::{Duration, Instant};

use compose_tests::http;
use fault_tests::{Load, Outcome};
use kubernetes_tests::app::{self, Manifests, NAMESPACE, WEB_NODE_PORT};
use kubernetes_tests::{diagnose, wait, Cluster};
use serde_json::Value;

const SECONDS: fn(u64) -> Duration = Duration::from_secs;
/// How long the app may take to become ready on a busy 2-core machine.
const READY: Duration = Duration::from_secs(300);

#[test]
fn the_whole_app_runs_on_a_real_cluster_and_survives_faults() {
    let manifests = Manifests::copy();
    let cluster = Cluster::start("t-app");
    eprintln!(
        "Kubernetes {} started in {:?} (binaries cached)",
        cluster.version, cluster.start_time
    );
    cluster.load_images(&manifests.images("app/offline"));

    eprintln!("== kubectl apply -k k8s/app/offline");
    let took = app::deploy(&cluster, &manifests.path("app/offline"), READY);
    eprintln!("kubectl apply -k k8s/app/offline to every workload Ready: {took:?}");
    for job in ["catalog-migrate-v3", "activity-migrate-v2"] {
        wait::job_complete(&cluster, NAMESPACE, job, SECONDS(10)).unwrap_or_else(|e| panic!("{e}"));
    }

    the_web_app_shows_its_page_and_a_new_entry_reaches_the_feed(&cluster);
    each_service_role_is_kept_out_of_the_other_database(&cluster);
    a_new_migration_runs_once_and_holds_new_pods_back_until_done(&cluster, &manifests);
    faults_under_write_load_lose_nothing(&cluster);
    cluster.stop_and_check_host();
}

fn the_web_app_shows_its_page_and_a_new_entry_reaches_the_feed(cluster: &Cluster) {
    eprintln!("== the web app on node port {WEB_NODE_PORT}");
    let base = cluster.node_url(WEB_NODE_PORT);
    let activity = format!("http://{}:8082", app::cluster_ip(cluster, "activity"));
    cluster.in_net(|| {
        let page = http::get_text(&format!("{base}/"), SECONDS(60));
        assert!(
            page.contains(r#"<form method="post" action="/entries" id="add-entry">"#),
            "the web app's page has its add form:\n{page}"
        );
        compose_tests::webapp::add_entry_and_see_it_in_the_feed(
            &base,
            "kubernetes-entry",
            "added through the web form on Kubernetes",
            SECONDS(60),
        );
        let feed = http::get_until(
            &format!("{activity}/activity"),
            SECONDS(60),
            "the entry in activity's feed",
            |body| body.contains("kubernetes-entry"),
        );
        eprintln!("activity's feed holds the entry added through the form: {feed}");

        // The cluster page through the NetworkPolicies: web reaches every service's
        // /readyz and each data service's /status, and those read their own database.
        let page = http::get_until(
            &format!("{base}/cluster"),
            SECONDS(60),
            "every service ready and both databases current on the cluster page",
            |page| {
                ["web", "catalog", "activity", "hello", "echo"]
                    .iter()
                    .all(|s| page.contains(&format!(r#"data-service="{s}" data-state="ready""#)))
                    && ["catalog", "activity"].iter().all(|d| {
                        page.contains(&format!(r#"data-database="{d}" data-current="true""#))
                    })
            },
        );
        assert!(
            page.contains("data-replica="),
            "an echo replica answered:\n{page}"
        );
    });
}

/// psql from inside a database Pod as `role` with `password` over TCP to `host`.
fn connect_as(
    cluster: &Cluster,
    from_pod: &str,
    host: &str,
    role: &str,
    password: &str,
    database: &str,
) -> Result<String, String> {
    let output = cluster.kubectl(&[
        "exec",
        "-n",
        NAMESPACE,
        from_pod,
        "-c",
        "postgres",
        "--",
        "env",
        &format!("PGPASSWORD={password}"),
        "PGCONNECT_TIMEOUT=5",
        "psql",
        "-h",
        host,
        "-U",
        role,
        "-d",
        database,
        "-At",
        "-c",
        "SELECT current_user",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        Err(stderr)
    }
}

fn each_service_role_is_kept_out_of_the_other_database(cluster: &Cluster) {
    eprintln!("== each service's database role and the other database");
    let catalog = app::secret(cluster, "catalog-db", "SERVICE_PASSWORD");
    let activity = app::secret(cluster, "activity-db", "SERVICE_PASSWORD");
    // Each role reaches its own database (the control: the passwords and names are right).
    for (pod, host, role, password) in [
        ("catalog-db-0", "catalog-db", "catalog", &catalog),
        ("activity-db-0", "activity-db", "activity", &activity),
    ] {
        let user = connect_as(cluster, pod, host, role, password, role)
            .unwrap_or_else(|e| panic!("{role} cannot reach its own database: {e}"));
        assert_eq!(user, role);
    }
    // And neither reaches the other's, with its own password or the other's.
    for (pod, host, role, database) in [
        ("catalog-db-0", "activity-db", "catalog", "activity"),
        ("activity-db-0", "catalog-db", "activity", "catalog"),
    ] {
        for password in [&catalog, &activity] {
            let refused = connect_as(cluster, pod, host, role, password, database)
                .map(|user| panic!("{role} got into {database} as {user}"))
                .unwrap_err();
            assert!(
                refused.contains("password authentication failed")
                    || refused.contains("does not exist")
                    || refused.contains("permission denied")
                    || refused.contains("timeout expired"),
                "{role} into {database}: an unexpected error: {refused}"
            );
            eprintln!("{role} into {database}: refused ({refused})");
        }
    }
}

/// The init container of a Pod, if it is running (not yet done).
fn init_running(pod: &Value) -> bool {
    pod["status"]["initContainerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| s["state"].get("running").is_some())
}

fn a_new_migration_runs_once_and_holds_new_pods_back_until_done(
    cluster: &Cluster,
    manifests: &Manifests,
) {
    eprintln!("== a new migration: a new dbtool image, a new Job");
    // The image as scripts/build-images.sh would build it after `dbtool new`: the same
    // image with one more file in /migrations/catalog, built on the node.
    let context = tempfile::tempdir().expect("a temporary folder");
    let files = [
        (
            "V4__kubernetes_marker.sql",
            "CREATE TABLE kubernetes_marker (id integer PRIMARY KEY);\n",
        ),
        (
            "V4__kubernetes_marker.down.sql",
            "DROP TABLE kubernetes_marker;\n",
        ),
        (
            "Dockerfile",
            "FROM docker-cluster-rust/dbtool:dev\n\
             COPY V4__kubernetes_marker.sql V4__kubernetes_marker.down.sql /migrations/catalog/\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(context.path().join(name), text).expect("writable");
    }
    let output = cluster.node_docker(&[
        "build",
        "-q",
        "-t",
        "docker-cluster-rust/dbtool:dev",
        &context.path().display().to_string(),
    ]);
    assert!(
        output.status.success(),
        "building the new dbtool image on the node: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    // New catalog Pods start with the new image before the new Job exists: their init
    // container must hold them back, while the old Pods keep serving.
    cluster.kubectl_ok(&["rollout", "restart", "deployment/catalog", "-n", NAMESPACE]);
    let selector = "app.kubernetes.io/name=catalog";
    let held_since = Instant::now();
    let mut held_pod = None;
    wait::until(
        cluster,
        "a new catalog Pod waiting in its init container",
        SECONDS(120),
        NAMESPACE,
        Some(selector),
        || {
            let pods = diagnose::pods(cluster, NAMESPACE, Some(selector));
            held_pod = pods
                .iter()
                .find(|p| init_running(p))
                .and_then(|p| p["metadata"]["name"].as_str().map(str::to_owned));
            Ok(held_pod.is_some())
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let held_pod = held_pod.expect("found");
    sleep(SECONDS(10));
    let pod: Value = serde_json::from_str(
        &cluster.kubectl_ok(&["get", "pod", &held_pod, "-n", NAMESPACE, "-o", "json"]),
    )
    .expect("a Pod as JSON");
    assert!(
        init_running(&pod) && !diagnose::pod_is_fine(&pod),
        "{held_pod} was not held back by `dbtool wait` although V4 is pending:\n{}",
        diagnose::report(cluster, NAMESPACE, Some(selector))
    );
    let ready_old = diagnose::pods(cluster, NAMESPACE, Some(selector))
        .iter()
        .filter(|p| diagnose::pod_is_fine(p))
        .count();
    assert!(
        ready_old >= 1,
        "no catalog Pod serves while the new one waits"
    );
    eprintln!(
        "{held_pod}: held in its init container for {:?} while V4 is pending; {ready_old} old Pods serve",
        held_since.elapsed()
    );

    // The documented step: rename the Job to the new version, apply again.
    let job_file = manifests.path("app/base/catalog-migrate.yaml");
    let text = std::fs::read_to_string(&job_file).expect("the Job's manifest");
    assert!(text.contains("name: catalog-migrate-v3"), "{text}");
    std::fs::write(
        &job_file,
        text.replace("name: catalog-migrate-v3", "name: catalog-migrate-v4"),
    )
    .expect("writable");
    app::apply_kustomization(cluster, &manifests.path("app/offline"));
    wait::job_complete(cluster, NAMESPACE, "catalog-migrate-v4", READY)
        .unwrap_or_else(|e| panic!("{e}"));
    wait::workloads_ready(cluster, NAMESPACE, READY).unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "catalog-migrate-v4 applied V4; the held Pods became ready {:?} after the restart",
        held_since.elapsed()
    );

    // Applied once: one history row, one Job Pod; applying again starts nothing new.
    app::apply_kustomization(cluster, &manifests.path("app/offline"));
    sleep(SECONDS(3));
    let history = app::psql(
        cluster,
        "catalog-db-0",
        "catalog",
        "SELECT count(*) FROM refinery_schema_history WHERE version = 4",
    );
    assert_eq!(history.trim(), "1", "V4's history rows");
    let marker = app::psql(
        cluster,
        "catalog-db-0",
        "catalog",
        "SELECT to_regclass('kubernetes_marker') IS NOT NULL",
    );
    assert_eq!(marker.trim(), "t", "V4's table exists");
    let job_pods = app::pod_names(cluster, "job-name=catalog-migrate-v4");
    assert_eq!(
        job_pods.len(),
        1,
        "catalog-migrate-v4 ran once: {job_pods:?}"
    );
    let jobs = cluster.kubectl_ok(&[
        "get",
        "jobs",
        "-n",
        NAMESPACE,
        "-o",
        "jsonpath={.items[*].metadata.name}",
    ]);
    eprintln!("Jobs after applying twice: {jobs}");
    assert!(
        jobs.split_whitespace()
            .filter(|j| j.starts_with("catalog-migrate"))
            .count()
            == 2,
        "the v3 Job and the one v4 Job: {jobs}"
    );
}

/// Runs the fault suite's load (two writers to catalog, one through web's form, about 20
/// writes a second each) for `before`, the fault, then `after`; stops and counts.
fn under_load(cluster: &Cluster, case: &str, before: Duration, fault: impl FnOnce()) -> Outcome {
    let web = cluster.node_url(WEB_NODE_PORT);
    let catalog = format!("http://{}:8081", app::cluster_ip(cluster, "catalog"));
    let prefix = format!("{case}-");
    let load = cluster.in_net(|| Load::start(&web, &catalog, &prefix, 2, 20));
    sleep(before);
    fault();
    sleep(SECONDS(5));
    let outcome = load.stop();
    let (acknowledged, in_catalog, in_feed) = app::count(cluster, &prefix, &outcome.acknowledged);
    eprintln!(
        "{case}: {} writes sent, {acknowledged} acknowledged, {in_catalog} in catalog, \
         {in_feed} in activity's feed once each, {} unanswered, failures {:?}",
        outcome.sent, outcome.hung, outcome.failures
    );
    assert_eq!(
        outcome.hung, 0,
        "{case}: requests went unanswered: {:?}",
        outcome.failures
    );
    assert!(acknowledged > 0, "{case}: no write was acknowledged at all");
    outcome
}

/// The id of a Pod's container in the node's engine.
fn container_id(cluster: &Cluster, pod: &str, container: &str) -> String {
    let id = cluster.kubectl_ok(&[
        "get",
        "pod",
        pod,
        "-n",
        NAMESPACE,
        "-o",
        &format!("jsonpath={{.status.containerStatuses[?(@.name==\"{container}\")].containerID}}"),
    ]);
    id.trim()
        .strip_prefix("docker://")
        .unwrap_or_else(|| panic!("{pod}/{container}: no docker container id: {id}"))
        .to_owned()
}

fn pod_uid(cluster: &Cluster, pod: &str) -> String {
    cluster.kubectl_ok(&[
        "get",
        "pod",
        pod,
        "-n",
        NAMESPACE,
        "-o",
        "jsonpath={.metadata.uid}",
    ])
}

fn faults_under_write_load_lose_nothing(cluster: &Cluster) {
    let catalog = "app.kubernetes.io/name=catalog";

    eprintln!("== fault: a catalog Pod's container killed (SIGKILL) under write load");
    under_load(cluster, "podkill", SECONDS(3), || {
        let pods = wait::pods_ready(cluster, NAMESPACE, catalog, 2, READY)
            .unwrap_or_else(|e| panic!("{e}"));
        let id = container_id(cluster, &pods[0], "catalog");
        let output = cluster.node_docker(&["kill", "-s", "KILL", &id]);
        assert!(output.status.success(), "docker kill {id}");
        // The kubelet starts the container again; the Pod turns ready again.
        wait::until(
            cluster,
            &format!("{} to restart its catalog container", pods[0]),
            READY,
            NAMESPACE,
            Some(catalog),
            || Ok(container_id(cluster, &pods[0], "catalog") != id),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        wait::pods_ready(cluster, NAMESPACE, catalog, 2, READY).unwrap_or_else(|e| panic!("{e}"));
    });

    eprintln!("== fault: kubectl rollout restart deployment/catalog under write load");
    under_load(cluster, "rollout", SECONDS(3), || {
        let before = app::pod_names(cluster, catalog);
        cluster.kubectl_ok(&["rollout", "restart", "deployment/catalog", "-n", NAMESPACE]);
        wait::until(
            cluster,
            "the catalog rollout to finish",
            READY,
            NAMESPACE,
            Some(catalog),
            || {
                let now = wait::pods_ready(cluster, NAMESPACE, catalog, 2, SECONDS(1));
                Ok(now.is_ok_and(|now| now.iter().all(|p| !before.contains(p))))
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    });

    eprintln!("== fault: the catalog database Pod deleted under write load");
    under_load(cluster, "dbdelete", SECONDS(3), || {
        let uid = pod_uid(cluster, "catalog-db-0");
        cluster.kubectl_ok(&["delete", "pod", "catalog-db-0", "-n", NAMESPACE]);
        let selector = "app.kubernetes.io/name=catalog-db";
        wait::until(
            cluster,
            "the StatefulSet to bring catalog-db-0 back",
            READY,
            NAMESPACE,
            Some(selector),
            || {
                let back = wait::pods_ready(cluster, NAMESPACE, selector, 1, SECONDS(1)).is_ok();
                Ok(back && pod_uid(cluster, "catalog-db-0") != uid)
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        // Its data came back with it: the entry written through the form before.
        let kept = app::psql(
            cluster,
            "catalog-db-0",
            "catalog",
            "SELECT count(*) FROM info WHERE name = 'kubernetes-entry'",
        );
        assert_eq!(kept.trim(), "1", "catalog-db-0 came back without its data");
        wait::pods_ready(cluster, NAMESPACE, catalog, 2, READY).unwrap_or_else(|e| panic!("{e}"));
    });
}
