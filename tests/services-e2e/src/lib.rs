//! The cluster behind the web app, started in-process for end-to-end tests: catalog and
//! activity on fresh databases of the harness's PostgreSQL, sharing a fresh key prefix on
//! its Redis, and web pointed at both (and, for the cluster page, at a hello and an echo).

use std::path::PathBuf;

pub mod separate;

use service_common::Running;
use service_test_support::{fresh_database, test_redis_url, unique_name, TestService};

pub use crate::separate::{Log, Separate};

/// The services, running until this value is dropped.
pub struct Cluster {
    pub web: String,
    pub catalog: String,
    pub activity: String,
    /// catalog can be stopped and started again on its port, as a container can.
    catalog_config: catalog::Config,
    catalog_running: Option<Running>,
    _running: Vec<Running>,
}

/// A catalog on a fresh migrated database, its stream under `prefix`.
pub async fn catalog(redis_url: &str, prefix: &str) -> TestService {
    let database_url = fresh_database("catalog_test", Some(&migrations("catalog"))).await;
    catalog_on(&database_url, redis_url, prefix).await
}

/// A catalog on the given database (migrated already, or not, as the test wants).
pub async fn catalog_on(database_url: &str, redis_url: &str, prefix: &str) -> TestService {
    let config = catalog::Config::for_tests(database_url, redis_url, prefix);
    TestService::new(
        catalog::build(config)
            .await
            .expect("catalog builds")
            .spawn(),
    )
}

/// An activity service on a fresh migrated database, consuming `prefix`'s stream.
pub async fn activity(redis_url: &str, prefix: &str) -> TestService {
    let database_url = fresh_database("activity_test", Some(&migrations("activity"))).await;
    let consumer = unique_name("consumer");
    let config = activity::Config::for_tests(&database_url, redis_url, prefix, &consumer);
    TestService::new(
        activity::build(config)
            .await
            .expect("activity builds")
            .spawn(),
    )
}

/// `migrations/<database>` of the repository.
pub fn migrations(database: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(database)
}

/// The highest version among `migrations/<database>`'s files.
pub fn latest_version(database: &str) -> i32 {
    std::fs::read_dir(migrations(database))
        .expect("the migrations folder")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            let (version, _) = name.strip_prefix('V')?.split_once("__")?;
            version.parse().ok()
        })
        .max()
        .expect("at least one migration")
}

/// What the three services of one test are configured with: fresh databases, one fresh
/// Redis key prefix, a consumer of its own.
struct Setup {
    catalog: catalog::Config,
    activity: activity::Config,
    redis_url: String,
    prefix: String,
}

impl Setup {
    async fn new() -> Self {
        let redis_url = test_redis_url();
        let prefix = format!("{}:", unique_name("e2e"));
        let catalog_db = fresh_database("catalog_e2e", Some(&migrations("catalog"))).await;
        let activity_db = fresh_database("activity_e2e", Some(&migrations("activity"))).await;
        let consumer = unique_name("consumer");
        Self {
            catalog: catalog::Config::for_tests(&catalog_db, &redis_url, &prefix),
            activity: activity::Config::for_tests(&activity_db, &redis_url, &prefix, &consumer),
            redis_url,
            prefix,
        }
    }

    /// web pointed at both. Nothing listens on port 1 of loopback: hello and echo show as
    /// unavailable, as they take no part in what these tests follow.
    fn web(&self, catalog_url: &str, activity_url: &str) -> web::Config {
        web::Config {
            catalog_url: catalog_url.to_owned(),
            activity_url: activity_url.to_owned(),
            visits_key: format!("{}web:visits", self.prefix),
            ..web::Config::for_tests("http://127.0.0.1:1", &self.redis_url)
        }
    }
}

impl Cluster {
    /// Starts catalog, activity and web.
    pub async fn start() -> Self {
        Self::start_with(false).await
    }

    /// Starts catalog, activity, web, a hello answering its greeting and an echo named
    /// `echo-e2e`: every service the cluster page shows.
    pub async fn start_whole() -> Self {
        Self::start_with(true).await
    }

    async fn start_with(chain: bool) -> Self {
        let setup = Setup::new().await;
        let catalog = start_catalog(setup.catalog.clone()).await;
        let activity = activity::build(setup.activity.clone())
            .await
            .expect("activity starts")
            .spawn();
        let mut web_config = setup.web(&catalog.url(), &activity.url());
        let mut running = vec![activity];
        if chain {
            let hello = hello::build(&hello::Config::for_tests())
                .await
                .expect("hello starts")
                .spawn();
            let echo = echo::build(&echo::Config {
                http: service_common::HttpConfig::for_tests(),
                log_format: service_common::LogFormat::Text,
                hostname: "echo-e2e".into(),
            })
            .await
            .expect("echo starts")
            .spawn();
            web_config.hello_url = hello.url();
            web_config.echo_url = echo.url();
            running.extend([hello, echo]);
        }
        let web = web::build(&web_config).await.expect("web starts").spawn();
        let mut catalog_config = setup.catalog;
        catalog_config.http.port = catalog.port();
        Self {
            web: web.url(),
            catalog: catalog.url(),
            activity: running[0].url(),
            catalog_config,
            catalog_running: Some(catalog),
            _running: {
                running.push(web);
                running
            },
        }
    }

    /// Stops catalog as SIGTERM would, and waits until it has.
    pub async fn stop_catalog(&mut self) {
        if let Some(catalog) = self.catalog_running.take() {
            catalog.stop().await.expect("catalog stops cleanly");
        }
    }

    /// Starts catalog again on the port it had.
    pub async fn start_catalog(&mut self) {
        assert!(self.catalog_running.is_none(), "catalog is running already");
        self.catalog_running = Some(start_catalog(self.catalog_config.clone()).await);
    }
}

async fn start_catalog(config: catalog::Config) -> Running {
    catalog::build(config)
        .await
        .expect("catalog starts")
        .spawn()
}

/// The three services of a [`Cluster`], each on a thread and runtime of its own with its own
/// JSON log, as each runs in its own container: a test reads what each one logged.
pub struct SeparateCluster {
    pub web: Separate,
    pub catalog: Separate,
    pub activity: Separate,
}

impl SeparateCluster {
    pub async fn start() -> Self {
        let setup = Setup::new().await;
        let config = setup.catalog.clone();
        let catalog = Separate::start(move || async move {
            catalog::build(config)
                .await
                .expect("catalog starts")
                .spawn()
        })
        .await;
        let config = setup.activity.clone();
        let activity = Separate::start(move || async move {
            activity::build(config)
                .await
                .expect("activity starts")
                .spawn()
        })
        .await;
        let config = setup.web(&catalog.url, &activity.url);
        let web = Separate::start(move || async move {
            web::build(&config).await.expect("web starts").spawn()
        })
        .await;
        Self {
            web,
            catalog,
            activity,
        }
    }
}
