//! Each service started as its binary starts it (`build`, then serve), on a free loopback
//! port, with a fresh migrated database and a fresh Redis key prefix where it needs them.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use service_common::{Env, HttpConfig};
use service_test_support::{fresh_database, test_redis_url, unique_name};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// `migrations/<database>` of the repository.
pub fn migrations(database: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(database)
}

/// A service serving on `127.0.0.1:port` until [`Running::stop`] or drop.
pub struct Running {
    pub port: u16,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The superuser URL of its database, for services that have one.
    pub database_url: Option<String>,
    /// Its Redis key prefix, for services that use Redis.
    pub prefix: String,
    stop: Option<oneshot::Sender<()>>,
    served: Option<JoinHandle<Result<(), String>>>,
}

impl Running {
    fn start<F>(port: u16, run: impl FnOnce(oneshot::Receiver<()>) -> F) -> Self
    where
        F: Future<Output = Result<(), String>> + Send + 'static,
    {
        let (stop, stopped) = oneshot::channel();
        let served = tokio::spawn(run(stopped));
        Self {
            port,
            base: format!("http://127.0.0.1:{port}"),
            database_url: None,
            prefix: String::new(),
            stop: Some(stop),
            served: Some(served),
        }
    }

    /// Asks the server to stop as SIGTERM would, and waits up to `limit` for it to finish its
    /// in-flight requests and return. `false` when it was still running at the limit.
    pub async fn stop(mut self, limit: Duration) -> bool {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let served = self.served.take().expect("stopped once");
        match tokio::time::timeout(limit, served).await {
            Ok(result) => {
                result
                    .expect("the server task panicked")
                    .expect("the server stopped with an error");
                true
            }
            Err(_) => false,
        }
    }

    /// A client connection to the service's database (superuser).
    pub async fn db(&self) -> tokio_postgres::Client {
        let url = self
            .database_url
            .as_deref()
            .expect("a service with a database");
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect to the test database");
        tokio::spawn(connection);
        client
    }
}

async fn stop_future(stopped: oneshot::Receiver<()>) {
    let _ = stopped.await;
}

/// A catalog with a fresh migrated database, on the harness's Redis under a fresh prefix.
pub async fn catalog(http: HttpConfig) -> Running {
    let database_url = fresh_database("hostile_catalog", Some(&migrations("catalog"))).await;
    let prefix = format!("{}:", unique_name("hostile"));
    let mut config = catalog::Config::from_env(&Env::from_pairs([
        ("DATABASE_URL", database_url.as_str()),
        ("REDIS_URL", test_redis_url().as_str()),
        ("REDIS_KEY_PREFIX", prefix.as_str()),
    ]))
    .expect("catalog configuration");
    config.http = http;
    let app = catalog::Application::build(config)
        .await
        .expect("catalog builds");
    let mut running = Running::start(app.port(), |stopped| async move {
        app.run_until(stop_future(stopped))
            .await
            .map_err(|e| format!("{e:#}"))
    });
    running.database_url = Some(database_url);
    running.prefix = prefix;
    running
}

/// An activity service with a fresh migrated database, consuming `prefix`'s stream on the
/// harness's Redis.
pub async fn activity(http: HttpConfig, prefix: &str) -> Running {
    let database_url = fresh_database("hostile_activity", Some(&migrations("activity"))).await;
    let mut config = activity::Config::from_env(&Env::from_pairs([
        ("DATABASE_URL", database_url.as_str()),
        ("REDIS_URL", test_redis_url().as_str()),
        ("REDIS_KEY_PREFIX", prefix),
        ("CONSUMER_NAME", unique_name("consumer").as_str()),
    ]))
    .expect("activity configuration");
    config.http = http;
    let app = activity::Application::build(config)
        .await
        .expect("activity builds");
    let mut running = Running::start(app.port(), |stopped| async move {
        app.run_until(stop_future(stopped))
            .await
            .map_err(|e| format!("{e:#}"))
    });
    running.database_url = Some(database_url);
    running.prefix = prefix.to_owned();
    running
}

/// web in front of the given catalog and activity; hello and echo point where nothing
/// listens (their panels say so), the visit counter uses the harness's Redis.
pub async fn web(http: HttpConfig, catalog: &str, activity: &str) -> Running {
    let nowhere = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        format!(
            "http://127.0.0.1:{}",
            listener.local_addr().expect("address").port()
        )
    };
    let mut config = web::Config::for_tests(&nowhere, &test_redis_url());
    config.http = http;
    config.catalog_url = catalog.to_owned();
    config.activity_url = activity.to_owned();
    config.visits_key = unique_name("hostile_visits");
    served(web::build(&config).await.expect("web builds"))
}

/// hello with its built-in greeting.
pub async fn hello(http: HttpConfig) -> Running {
    let config = hello::Config {
        http,
        ..hello::Config::for_tests()
    };
    served(hello::build(&config).await.expect("hello builds"))
}

/// echo answering the host name `replica-1`.
pub async fn echo(http: HttpConfig) -> Running {
    let config = echo::Config {
        http,
        log_format: service_common::LogFormat::Text,
        hostname: "replica-1".into(),
    };
    served(echo::build(&config).await.expect("echo builds"))
}

fn served(app: service_common::Application) -> Running {
    Running::start(app.port(), |stopped| async move {
        app.run_until(stop_future(stopped))
            .await
            .map_err(|e| e.to_string())
    })
}

/// hello1400 with `workers` threads on a free port; it has no stop, and lives as long as
/// the test process.
pub fn hello1400(workers: usize) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || hello1400::serve(listener, workers));
    port
}
