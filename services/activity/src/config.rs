//! The activity service's settings, all from environment variables, each with a default.

use service_common::{ConfigError, Env, HttpConfig, LogFormat};

/// Everything the activity service reads at start-up.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT` (default 8082), `REQUEST_TIMEOUT_MS`, `BODY_LIMIT_BYTES`.
    pub http: HttpConfig,
    /// `LOG_FORMAT`: `text` (default) or `json`.
    pub log_format: LogFormat,
    /// `DATABASE_URL`, default `postgres://activity@localhost:5432/activity`.
    pub database_url: String,
    /// `DATABASE_POOL_SIZE`, default 8.
    pub database_pool_size: usize,
    /// `REDIS_URL`, default `redis://localhost:6379`.
    pub redis_url: String,
    /// `REDIS_KEY_PREFIX`, default empty: put before the stream name, as the catalog does.
    pub redis_key_prefix: String,
    /// `CONSUMER_GROUP`, default `activity`: replicas in one group share the events.
    pub consumer_group: String,
    /// `CONSUMER_NAME`, default `HOSTNAME` (the pod or container name), else `activity`:
    /// must differ between replicas and stay the same across restarts of one.
    pub consumer_name: String,
}

impl Config {
    pub const DEFAULT_PORT: u16 = 8082;
    pub const DEFAULT_DATABASE_URL: &'static str = "postgres://activity@localhost:5432/activity";
    pub const DEFAULT_REDIS_URL: &'static str = "redis://localhost:6379";

    /// Reads every variable; an invalid value is an error naming it.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let database_pool_size: usize = env.parse_or("DATABASE_POOL_SIZE", 8)?;
        if database_pool_size == 0 {
            return Err(ConfigError::Invalid {
                var: "DATABASE_POOL_SIZE".into(),
                value: "0".into(),
                reason: "must be at least 1".into(),
            });
        }
        let host_name = env.string_or("HOSTNAME", "activity")?;
        Ok(Self {
            http: HttpConfig::from_env(env, Self::DEFAULT_PORT)?,
            log_format: LogFormat::from_env(env)?,
            database_url: env.string_or("DATABASE_URL", Self::DEFAULT_DATABASE_URL)?,
            database_pool_size,
            redis_url: env.string_or("REDIS_URL", Self::DEFAULT_REDIS_URL)?,
            redis_key_prefix: env.string_or("REDIS_KEY_PREFIX", "")?,
            consumer_group: env.string_or("CONSUMER_GROUP", "activity")?,
            consumer_name: env.string_or("CONSUMER_NAME", &host_name)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_variables_take_the_documented_defaults() {
        let config = Config::from_env(&Env::from_pairs::<&str, &str>([])).unwrap();
        assert_eq!(config.http.port, 8082);
        assert_eq!(config.database_url, Config::DEFAULT_DATABASE_URL);
        assert_eq!(config.redis_url, Config::DEFAULT_REDIS_URL);
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
