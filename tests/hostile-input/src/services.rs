//! Each service started as its binary starts it (`build`, then serve), on a free loopback
//! port, with a fresh migrated database and a fresh Redis key prefix where it needs them.

use std::path::PathBuf;
use std::time::Duration;

use service_common::HttpConfig;
use service_test_support::{fresh_database, test_redis_url, unique_name};

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
    running: service_common::Running,
}

impl Running {
    fn new(running: service_common::Running) -> Self {
        Self {
            port: running.port(),
            base: running.url(),
            database_url: None,
            prefix: String::new(),
            running,
        }
    }

    /// Asks the server to stop as SIGTERM would, and waits up to `limit` for it to finish its
    /// in-flight requests and return. `false` when it was still running at the limit.
    pub async fn stop(self, limit: Duration) -> bool {
        match tokio::time::timeout(limit, self.running.stop()).await {
            Ok(result) => {
                if let Err(err) = result {
                    panic!("the server stopped with an error: {err:#}");
                }
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

/// A catalog with a fresh migrated database, on the harness's Redis under a fresh prefix.
pub async fn catalog(http: HttpConfig) -> Running {
    let database_url = fresh_database("hostile_catalog", Some(&migrations("catalog"))).await;
    let prefix = format!("{}:", unique_name("hostile"));
    let config = catalog::Config {
        http,
        ..catalog::Config::for_tests(&database_url, &test_redis_url(), &prefix)
    };
    let mut running = Running::new(
        catalog::build(config)
            .await
            .expect("catalog builds")
            .spawn(),
    );
    running.database_url = Some(database_url);
    running.prefix = prefix;
    running
}

/// An activity service with a fresh migrated database, consuming `prefix`'s stream on the
/// harness's Redis.
pub async fn activity(http: HttpConfig, prefix: &str) -> Running {
    let database_url = fresh_database("hostile_activity", Some(&migrations("activity"))).await;
    let consumer = unique_name("consumer");
    let config = activity::Config {
        http,
        ..activity::Config::for_tests(&database_url, &test_redis_url(), prefix, &consumer)
    };
    let mut running = Running::new(
        activity::build(config)
            .await
            .expect("activity builds")
            .spawn(),
    );
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
    Running::new(app.spawn())
}

/// hello1400 with `workers` threads on a free port; it has no stop, and lives as long as
/// the test process.
pub fn hello1400(workers: usize) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || hello1400::serve(listener, workers));
    port
}
