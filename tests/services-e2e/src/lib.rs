//! The cluster behind the web app, started in-process for end-to-end tests: catalog and
//! activity on fresh databases of the harness's PostgreSQL, sharing a fresh key prefix on
//! its Redis, and web pointed at both.

use std::path::PathBuf;

use service_common::{Env, HttpConfig};
use service_test_support::{fresh_database, test_redis_url, unique_name};
use tokio::sync::oneshot;

/// The three services, running until this value is dropped.
pub struct Cluster {
    pub web: String,
    pub catalog: String,
    pub activity: String,
    _stops: Vec<oneshot::Sender<()>>,
}

fn migrations(database: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(database)
}

fn base_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// Runs `run` (a service's `run_until`) until the returned sender is dropped.
fn stoppable<F, Fut>(run: F) -> oneshot::Sender<()>
where
    F: FnOnce(std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>) -> Fut,
    Fut: std::future::Future + Send + 'static,
    Fut::Output: Send,
{
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(run(Box::pin(async {
        let _ = stopped.await;
    })));
    stop
}

impl Cluster {
    /// Starts catalog, activity and web; hello and echo are left unreachable (the page says
    /// so), as they take no part in what these tests follow.
    pub async fn start() -> Self {
        let redis_url = test_redis_url();
        let prefix = format!("{}:", unique_name("e2e"));
        let catalog_db = fresh_database("catalog_e2e", Some(&migrations("catalog"))).await;
        let activity_db = fresh_database("activity_e2e", Some(&migrations("activity"))).await;

        let mut catalog_config = catalog::Config::from_env(&Env::from_pairs([
            ("DATABASE_URL", catalog_db.as_str()),
            ("REDIS_URL", redis_url.as_str()),
            ("REDIS_KEY_PREFIX", prefix.as_str()),
        ]))
        .expect("catalog configuration");
        catalog_config.http = HttpConfig::for_tests();
        let catalog = catalog::Application::build(catalog_config)
            .await
            .expect("catalog starts");
        let catalog_url = base_url(catalog.port());

        let consumer = unique_name("consumer");
        let mut activity_config = activity::Config::from_env(&Env::from_pairs([
            ("DATABASE_URL", activity_db.as_str()),
            ("REDIS_URL", redis_url.as_str()),
            ("REDIS_KEY_PREFIX", prefix.as_str()),
            ("CONSUMER_NAME", consumer.as_str()),
        ]))
        .expect("activity configuration");
        activity_config.http = HttpConfig::for_tests();
        let activity = activity::Application::build(activity_config)
            .await
            .expect("activity starts");
        let activity_url = base_url(activity.port());

        // Nothing listens on port 1 of loopback: hello and echo show as unavailable.
        let web_config = web::Config {
            catalog_url: catalog_url.clone(),
            activity_url: activity_url.clone(),
            visits_key: format!("{prefix}web:visits"),
            ..web::Config::for_tests("http://127.0.0.1:1", &redis_url)
        };
        let web = web::build(&web_config).await.expect("web starts");
        let web_url = base_url(web.port());

        let stops = vec![
            stoppable(|stop| catalog.run_until(stop)),
            stoppable(|stop| activity.run_until(stop)),
            stoppable(|stop| web.run_until(stop)),
        ];
        Self {
            web: web_url,
            catalog: catalog_url,
            activity: activity_url,
            _stops: stops,
        }
    }
}
