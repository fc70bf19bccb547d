//! The catalog's settings, all from environment variables, each with a default.

use std::time::Duration;

use service_common::{ConfigError, Env, HttpConfig, LogFormat};

/// Everything the catalog reads at start-up.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT` (default 8081), `REQUEST_TIMEOUT_MS`, `BODY_LIMIT_BYTES`.
    pub http: HttpConfig,
    /// `LOG_FORMAT`: `text` (default) or `json`.
    pub log_format: LogFormat,
    /// `DATABASE_URL`, default `postgres://catalog@localhost:5432/catalog`.
    pub database_url: String,
    /// `DATABASE_POOL_SIZE`, default 16.
    pub database_pool_size: usize,
    /// `REDIS_URL`, default `redis://localhost:6379`.
    pub redis_url: String,
    /// `REDIS_KEY_PREFIX`, default empty: put before every Redis key and the stream name, so
    /// several clusters (or parallel tests) can share one Redis.
    pub redis_key_prefix: String,
    /// `CACHE_TTL_SECONDS`, default 300: how long a cached entry lives. Writes delete the
    /// entry at once; the time limit bounds how stale a rare read-write race can leave it.
    pub cache_ttl: Duration,
}

impl Config {
    pub const DEFAULT_PORT: u16 = 8081;
    pub const DEFAULT_DATABASE_URL: &'static str = "postgres://catalog@localhost:5432/catalog";
    pub const DEFAULT_REDIS_URL: &'static str = "redis://localhost:6379";

    /// Reads every variable; an invalid value is an error naming it.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let cache_ttl_seconds: u64 = env.parse_or("CACHE_TTL_SECONDS", 300)?;
        if cache_ttl_seconds == 0 {
            return Err(ConfigError::Invalid {
                var: "CACHE_TTL_SECONDS".into(),
                value: "0".into(),
                reason: "must be at least 1 second".into(),
            });
        }
        let database_pool_size: usize = env.parse_or("DATABASE_POOL_SIZE", 16)?;
        if database_pool_size == 0 {
            return Err(ConfigError::Invalid {
                var: "DATABASE_POOL_SIZE".into(),
                value: "0".into(),
                reason: "must be at least 1".into(),
            });
        }
        Ok(Self {
            http: HttpConfig::from_env(env, Self::DEFAULT_PORT)?,
            log_format: LogFormat::from_env(env)?,
            database_url: env.string_or("DATABASE_URL", Self::DEFAULT_DATABASE_URL)?,
            database_pool_size,
            redis_url: env.string_or("REDIS_URL", Self::DEFAULT_REDIS_URL)?,
            redis_key_prefix: env.string_or("REDIS_KEY_PREFIX", "")?,
            cache_ttl: Duration::from_secs(cache_ttl_seconds),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_variables_take_the_documented_defaults() {
        let config = Config::from_env(&Env::from_pairs::<&str, &str>([])).unwrap();
        assert_eq!(config.http.port, 8081);
        assert_eq!(config.database_url, Config::DEFAULT_DATABASE_URL);
        assert_eq!(config.redis_url, Config::DEFAULT_REDIS_URL);
        assert_eq!(config.redis_key_prefix, "");
        assert_eq!(config.cache_ttl, Duration::from_secs(300));
        assert_eq!(config.database_pool_size, 16);
    }

    #[test]
    fn zero_limits_are_refused_naming_the_variable() {
        for var in ["CACHE_TTL_SECONDS", "DATABASE_POOL_SIZE"] {
            let err = Config::from_env(&Env::from_pairs([(var, "0")])).unwrap_err();
            assert!(err.to_string().starts_with(var), "case {var}: {err}");
        }
    }
}
