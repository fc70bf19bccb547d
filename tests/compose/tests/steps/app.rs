//! compose/app: the whole cluster, checked through the web page a person opens.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use compose_tests::images::{base_image, project_image, require};
use compose_tests::project::{inspect, run};
use compose_tests::{free_port, http, Project};

const START: Duration = Duration::from_secs(120);

#[test]
fn app_serves_the_web_page_with_catalog_and_activity_data_and_spreads_echo_requests() {
    let binaries = ["hello", "echo", "catalog", "activity", "web", "dbtool"];
    let mut images: Vec<String> = binaries.iter().map(|b| project_image(b)).collect();
    images.push(base_image("POSTGRES_IMAGE"));
    images.push(base_image("REDIS_IMAGE"));
    require(&images.iter().map(String::as_str).collect::<Vec<_>>());

    let port = free_port();
    let project = Project::new("app").with_env("WEB_PORT", port.to_string());
    project.make_env();
    project.compose(&["up", "-d"]);
    // Every service healthy and both migration containers exited 0.
    project.wait_healthy(&[], START);
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

    let base = format!("http://127.0.0.1:{port}");
    let page = http::get_text(&format!("{base}/"), START);
    assert!(
        page.contains("hello world"),
        "the hello chain answers through hello1403:\n{page}"
    );

    // Add an entry through the page's form, as a browser does: the CSRF cookie and the
    // form's hidden field carry the same token.
    let client = http::client();
    let response = client.get(format!("{base}/")).send().unwrap();
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("csrf="))
        .and_then(|v| v.split(';').next())
        .expect("the page sets the csrf cookie")
        .to_owned();
    let name = format!("compose-test-{}", std::process::id());
    let response = client
        .post(format!("{base}/entries"))
        .header("cookie", format!("csrf={cookie}"))
        .form(&[
            ("csrf_token", cookie.as_str()),
            ("name", name.as_str()),
            ("description", "added by the compose test"),
        ])
        .send()
        .unwrap();
    assert!(
        response.status().is_redirection(),
        "adding an entry redirects back, got {}: {}",
        response.status(),
        response.text().unwrap_or_default()
    );

    // The entry comes from catalog; its creation reaches the feed through Redis and
    // activity.
    let page = http::get_until(
        &format!("{base}/"),
        START,
        "the entry in the page",
        |body| body.contains("added by the compose test"),
    );
    assert!(page.contains(&name));
    http::get_until(
        &format!("{base}/"),
        START,
        "the creation in the activity feed",
        |body| body.contains("created: 1"),
    );

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
}
