//! compose/app, up and healthy, with what the fault cases need to reach: web on a free host
//! port, catalog at its container address, psql in both database containers, and `docker`
//! commands against one service's containers.

use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use compose_tests::app::App;
use compose_tests::platforms::engine_platform;
use compose_tests::project::{inspect, run};
use compose_tests::Project;

/// How long the cluster may take to come up (or come back) healthy.
pub const START: Duration = Duration::from_secs(120);

pub struct Cluster {
    pub project: Project,
    /// `http://127.0.0.1:PORT`.
    pub web: String,
    /// `http://CONTAINER_IP:8081`: catalog is not published; the host reaches the project
    /// network's addresses directly (a Linux host).
    pub catalog: String,
}

impl Cluster {
    /// Brings compose/app up and waits until every service is healthy.
    pub fn up() -> Self {
        let App { project, port } = App::up(&engine_platform(), START);
        let catalog_id = project.containers(&[], Some("catalog"))[0].clone();
        let ip = inspect(
            &catalog_id,
            "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
        );
        Self {
            project,
            web: format!("http://127.0.0.1:{port}"),
            catalog: format!("http://{ip}:8081"),
        }
    }

    /// The container ids of `service`.
    pub fn containers(&self, service: &str) -> Vec<String> {
        self.project.containers(&[], Some(service))
    }

    /// `docker ARGS… CONTAINER` for the first container of `service`.
    pub fn docker(&self, args: &[&str], service: &str) {
        let id = &self.containers(service)[0];
        run(Command::new("docker").args(args).arg(id));
    }

    /// psql as the superuser in `service`'s container; unaligned, tuples only.
    pub fn psql(&self, service: &str, database: &str, sql: &str) -> String {
        self.project.psql(&[], service, database, sql)
    }

    /// Waits until `service`'s container is running and healthy again.
    pub fn wait_healthy(&self, service: &str) {
        let id = &self.containers(service)[0];
        let deadline = Instant::now() + START;
        loop {
            let state = inspect(
                id,
                "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}",
            );
            if state == "running healthy" || state == "running " {
                return;
            }
            assert!(Instant::now() < deadline, "{service} not healthy: {state}");
            sleep(Duration::from_millis(250));
        }
    }

    /// Waits until `check` holds, polling every 250 ms, panicking after `within`.
    pub fn eventually(what: &str, within: Duration, mut check: impl FnMut() -> bool) {
        let deadline = Instant::now() + within;
        while !check() {
            assert!(
                Instant::now() < deadline,
                "gave up after {within:?} waiting for {what}"
            );
            sleep(Duration::from_millis(250));
        }
    }

    /// Checks the end state of a load: every acknowledged write is in catalog's database,
    /// and once activity has caught up, in its feed exactly once; nothing is in the feed that
    /// catalog does not hold. Returns (acknowledged, in catalog, in activity).
    pub fn count(&self, prefix: &str, acknowledged: &[String]) -> (usize, usize, usize) {
        let in_catalog: Vec<String> = self
            .psql(
                "catalog-db",
                "catalog",
                &format!("SELECT name FROM info WHERE name LIKE '{prefix}%' ORDER BY name"),
            )
            .lines()
            .map(str::to_owned)
            .collect();
        let missing: Vec<&String> = acknowledged
            .iter()
            .filter(|n| in_catalog.binary_search(n).is_err())
            .collect();
        assert!(
            missing.is_empty(),
            "acknowledged but not in catalog's database: {missing:?}"
        );
        // Each name is written once (created), so activity must hold one `created` event per
        // name catalog holds.
        let feed_sql = format!(
            "SELECT name, count(*) FROM events WHERE kind = 'created' AND name LIKE '{prefix}%' \
             GROUP BY name ORDER BY name"
        );
        let mut feed = String::new();
        Self::eventually(
            "activity to catch up with catalog",
            Duration::from_secs(90),
            || {
                feed = self.psql("activity-db", "activity", &feed_sql);
                feed.lines().count() >= in_catalog.len()
            },
        );
        let mut names = Vec::new();
        for line in feed.lines() {
            let (name, count) = line.split_once('|').expect("name|count");
            assert_eq!(count, "1", "{name} is in activity's feed {count} times");
            names.push(name.to_owned());
        }
        assert_eq!(
            names, in_catalog,
            "activity's feed and catalog's database differ"
        );
        (acknowledged.len(), in_catalog.len(), names.len())
    }
}
