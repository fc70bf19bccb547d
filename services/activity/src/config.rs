//! The activity service's settings, all from environment variables, each with a default.

use service_common::data_service::DataConfig;
use service_common::{ConfigError, Env, HttpConfig, LogFormat};

/// Everything the activity service reads at start-up.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT` (default 8082), `REQUEST_TIMEOUT_MS`, `BODY_LIMIT_BYTES`, and the rest of
    /// [`HttpConfig`].
    pub http: HttpConfig,
    /// `LOG_FORMAT`: `text` (default) or `json`.
    pub log_format: LogFormat,
    /// `DATABASE_URL` (default `postgres://activity@localhost:5432/activity`),
    /// `DATABASE_POOL_SIZE` (default 8), `REDIS_URL`, `REDIS_KEY_PREFIX` (put before the
    /// stream name, as the catalog does).
    pub data: DataConfig,
    /// `CONSUMER_GROUP`, default `activity`: replicas in one group share the events.
    pub consumer_group: String,
    /// `CONSUMER_NAME`, default `HOSTNAME` (the pod or container name), else `activity`:
    /// must differ between replicas and stay the same across restarts of one.
    pub consumer_name: String,
}

impl Config {
    pub const DEFAULT_PORT: u16 = service_spec::ACTIVITY.port();
    pub const DEFAULT_DATABASE_URL: &'static str = "postgres://activity@localhost:5432/activity";
    pub const DEFAULT_POOL_SIZE: usize = 8;

    /// Reads every variable; an invalid value is an error naming it.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let host_name = env.string_or("HOSTNAME", "activity")?;
        Ok(Self {
            http: HttpConfig::from_env(env, Self::DEFAULT_PORT)?,
            log_format: LogFormat::from_env(env)?,
            data: DataConfig::from_env(env, Self::DEFAULT_DATABASE_URL, Self::DEFAULT_POOL_SIZE)?,
            consumer_group: env.string_or("CONSUMER_GROUP", "activity")?,
            consumer_name: env.string_or("CONSUMER_NAME", &host_name)?,
        })
    }

    /// Loopback on free ports, the given database and Redis, the stream under `prefix`, and
    /// the consumer name `consumer`: what every test that starts an activity service uses.
    pub fn for_tests(database_url: &str, redis_url: &str, prefix: &str, consumer: &str) -> Self {
        Self {
            http: HttpConfig::for_tests(),
            log_format: LogFormat::Text,
            data: DataConfig::for_tests(database_url, redis_url, prefix, Self::DEFAULT_POOL_SIZE),
            consumer_group: "activity".into(),
            consumer_name: consumer.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_exactly_the_variables_service_spec_declares() {
        let env = Env::from_pairs::<&str, &str>([]);
        Config::from_env(&env).unwrap();
        service_spec::ACTIVITY
            .check_reads(env.names_asked())
            .unwrap();
    }

    #[test]
    fn unset_variables_take_the_documented_defaults() {
        let config = Config::from_env(&Env::from_pairs::<&str, &str>([])).unwrap();
        assert_eq!(config.http.port, 8082);
        assert_eq!(config.data.database_url, Config::DEFAULT_DATABASE_URL);
        assert_eq!(config.data.redis_url, DataConfig::DEFAULT_REDIS_URL);
        assert_eq!(config.consumer_group, "activity");
        assert_eq!(config.consumer_name, "activity");
    }

    #[test]
    fn the_consumer_is_named_after_the_host_unless_told_otherwise() {
        let env = Env::from_pairs([("HOSTNAME", "activity-7f9c")]);
        assert_eq!(
            Config::from_env(&env).unwrap().consumer_name,
            "activity-7f9c"
        );
        let env = Env::from_pairs([("HOSTNAME", "activity-7f9c"), ("CONSUMER_NAME", "one")]);
        assert_eq!(Config::from_env(&env).unwrap().consumer_name, "one");
    }
}
