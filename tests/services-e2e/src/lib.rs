//! The cluster behind the web app, started in-process for end-to-end tests: catalog and
//! activity on fresh databases of the harness's PostgreSQL, sharing a fresh key prefix on
//! its Redis, and web pointed at both.

use std::path::PathBuf;

use service_common::Running;
use service_test_support::{fresh_database, test_redis_url, unique_name, TestService};

/// The three services, running until this value is dropped.
pub struct Cluster {
    pub web: String,
    pub catalog: String,
    pub activity: String,
    _running: [Running; 3],
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

impl Cluster {
    /// Starts catalog, activity and web; hello and echo are left unreachable (the page says
    /// so), as they take no part in what these tests follow.
    pub async fn start() -> Self {
        let redis_url = test_redis_url();
        let prefix = format!("{}:", unique_name("e2e"));
        let catalog_db = fresh_database("catalog_e2e", Some(&migrations("catalog"))).await;
        let activity_db = fresh_database("activity_e2e", Some(&migrations("activity"))).await;

        let catalog = catalog::Config::for_tests(&catalog_db, &redis_url, &prefix);
        let catalog = catalog::build(catalog)
            .await
            .expect("catalog starts")
            .spawn();
        let catalog_url = catalog.url();

        let consumer = unique_name("consumer");
        let activity = activity::Config::for_tests(&activity_db, &redis_url, &prefix, &consumer);
        let activity = activity::build(activity)
            .await
            .expect("activity starts")
            .spawn();
        let activity_url = activity.url();

        // Nothing listens on port 1 of loopback: hello and echo show as unavailable.
        let web_config = web::Config {
            catalog_url: catalog_url.clone(),
            activity_url: activity_url.clone(),
            visits_key: format!("{prefix}web:visits"),
            ..web::Config::for_tests("http://127.0.0.1:1", &redis_url)
        };
        let web = web::build(&web_config).await.expect("web starts").spawn();
        let web_url = web.url();
        Self {
            web: web_url,
            catalog: catalog_url,
            activity: activity_url,
            _running: [catalog, activity, web],
        }
    }
}
