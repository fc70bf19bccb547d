//! compose/app: the whole cluster, checked through the web page a person opens.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use compose_tests::app::App;
use compose_tests::images::base_image;
use compose_tests::platforms::engine_platform;
use compose_tests::project::{inspect, run, Compose};
use compose_tests::{http, webapp};

const START: Duration = Duration::from_secs(120);

#[test]
fn app_serves_the_web_page_with_catalog_and_activity_data_and_spreads_echo_requests() {
    whole_app(Compose::V2);
}

/// The whole cluster with docker-compose 1.29 too: start order through `depends_on`
/// conditions (`service_healthy`, `service_completed_successfully`) and the echo replicas
/// are where the two implementations differ.
#[test]
fn app_with_docker_compose_1_29() {
    whole_app(Compose::V1);
}

fn whole_app(compose: Compose) {
    // Every service healthy and both migration containers exited 0 (v2: `up --wait`).
    let app = App::up_with(&engine_platform(), compose, START);
    let project = &app.project;
    for migrate in ["catalog-migrate", "activity-migrate"] {
        let id = &project.containers(&[], Some(migrate))[0];
        assert_eq!(
            inspect(id, "{{.State.Status}} {{.State.ExitCode}}"),
            "exited 0",
            "{migrate}"
        );
    }
    // Only web is published; the databases are reachable on the project network alone.
    for service in ["catalog-db", "activity-db", "redis", "catalog", "activity"] {
        let id = &project.containers(&[], Some(service))[0];
        let bindings = inspect(id, "{{json .HostConfig.PortBindings}}");
        assert!(
            bindings == "{}" || bindings == "null",
            "{service} publishes {bindings}"
        );
    }

    let base = app.web();
    let page = http::get_text(&format!("{base}/"), START);
    assert!(
        page.contains("hello world"),
        "the hello chain answers through hello1403:\n{page}"
    );

    let name = format!("compose-test-{}", std::process::id());
    webapp::add_entry_and_see_it_in_the_feed(&base, &name, "added by the compose test", START);

    // The echo replicas: new connections to the name `echo`, made inside the project
    // network, are spread over the three containers by its DNS.
    let echo_hosts: BTreeSet<String> = project
        .containers(&[], Some("echo"))
        .iter()
        .map(|id| inspect(id, "{{.Config.Hostname}}"))
        .collect();
    assert_eq!(echo_hosts.len(), 3, "three echo replicas");
    let script = "for i in $(seq 30); do exec 3<>/dev/tcp/echo/1402 || exit 1; \
                  printf 'GET / HTTP/1.0\\r\\nHost: echo\\r\\n\\r\\n' >&3; tail -n 1 <&3; echo; \
                  exec 3<&-; done";
    let output = run(Command::new("docker").args([
        "run",
        "--rm",
        "--network",
        &project.default_network(),
        "--entrypoint",
        "bash",
        &base_image("POSTGRES_IMAGE"),
        "-c",
        script,
    ]));
    let answered: BTreeSet<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect();
    assert!(answered.len() > 1, "30 requests reached only {answered:?}");
    assert!(
        answered.is_subset(&echo_hosts),
        "{answered:?} are not the echo replicas {echo_hosts:?}"
    );
    // The web page names the replica that answered it.
    let page = http::get_text(&format!("{base}/"), START);
    assert!(
        echo_hosts.iter().any(|host| page.contains(host.as_str())),
        "the cluster panel names an echo replica"
    );

    // The cluster page: every service ready, both databases at their latest migration as
    // their services report them, and web's calls to echo shared by the replicas.
    let mut cluster = String::new();
    for _ in 0..4 {
        cluster = http::get_text(&format!("{base}/cluster"), START);
    }
    for service in ["web", "catalog", "activity", "hello", "echo"] {
        assert!(
            cluster.contains(&format!(r#"data-service="{service}" data-state="ready""#)),
            "{service} is not ready on the cluster page:\n{cluster}"
        );
    }
    for database in ["catalog", "activity"] {
        assert!(
            cluster.contains(&format!(
                r#"data-database="{database}" data-current="true""#
            )),
            "{database} is not current on the cluster page:\n{cluster}"
        );
    }
    let shown: Vec<&String> = echo_hosts
        .iter()
        .filter(|host| cluster.contains(&format!(r#"data-replica="{host}""#)))
        .collect();
    assert!(
        shown.len() > 1,
        "24 calls to echo reached only {shown:?} of {echo_hosts:?}:\n{cluster}"
    );
}
