//! Each service's default port and the environment variables it reads, declared once.
//!
//! The services take their default ports from here, and each service's tests check that its
//! configuration reads exactly the variables declared for it (service-common's `Env` records
//! every name it is asked for). The manifest checks (`tests/manifests`) read the same
//! declarations: a Deployment may only set variables its service reads, and its ports must be
//! the service's.

/// A service binary's contract with whatever runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service {
    /// The binary (and image) name.
    pub name: &'static str,
    /// The port it listens on unless told otherwise; `None` when the port is an argument.
    pub default_port: Option<u16>,
    /// Groups of variable names (shared groups first, then the service's own).
    variables: &'static [&'static [&'static str]],
}

impl Service {
    /// The default port, for a service that has one (a build error in a `const` otherwise).
    pub const fn port(&self) -> u16 {
        match self.default_port {
            Some(port) => port,
            None => panic!("this service has no default port"),
        }
    }

    /// Every variable it reads, each once.
    pub fn variables(&self) -> impl Iterator<Item = &'static str> {
        let mut seen: Vec<&'static str> = Vec::new();
        for name in self.variables.iter().flat_map(|group| group.iter()) {
            if !seen.contains(name) {
                seen.push(name);
            }
        }
        seen.into_iter()
    }

    /// Compares the names a configuration asked for (service-common's `Env::names_asked`)
    /// with the declaration: an error lists each name read but not declared, and each
    /// declared but never asked for (besides [`READ_ELSEWHERE`]).
    pub fn check_reads<I, S>(&self, asked: I) -> Result<(), String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let asked: Vec<S> = asked.into_iter().collect();
        let asked: Vec<&str> = asked.iter().map(AsRef::as_ref).collect();
        let undeclared: Vec<&str> = asked
            .iter()
            .copied()
            .filter(|name| !self.reads(name))
            .collect();
        let unread: Vec<&str> = self
            .variables()
            .filter(|name| !asked.contains(name) && !READ_ELSEWHERE.contains(name))
            .collect();
        if undeclared.is_empty() && unread.is_empty() {
            return Ok(());
        }
        Err(format!(
            "{}: read but not declared in service-spec: {undeclared:?}; declared but not read: \
             {unread:?}",
            self.name
        ))
    }

    /// Whether it reads `variable`.
    pub fn reads(&self, variable: &str) -> bool {
        self.variables().any(|name| name == variable)
    }
}

/// What every service built on service-common reads: its HTTP settings and its logging.
pub const HTTP: &[&str] = &[
    "PORT",
    "REQUEST_TIMEOUT_MS",
    "BODY_LIMIT_BYTES",
    "METRICS_PORT",
    "HTTP_METRICS",
    "SHUTDOWN_DELAY_MS",
    "LOG_FORMAT",
    "RUST_LOG",
];

/// What a data service (service-common's `data_service`) reads besides: its database and
/// Redis.
pub const DATA: &[&str] = &[
    "DATABASE_URL",
    "DATABASE_POOL_SIZE",
    "REDIS_URL",
    "REDIS_KEY_PREFIX",
    "REDIS_CA_CERT",
];

/// Variables read outside service-common's `Env`, so its record of names cannot show them:
/// `RUST_LOG` by tracing's filter, `REDIS_CA_CERT` when the Redis connection is made.
pub const READ_ELSEWHERE: &[&str] = &["RUST_LOG", "REDIS_CA_CERT"];

/// The bare-metal step: the standard library only.
pub const HELLO1400: Service = Service {
    name: "hello1400",
    default_port: Some(1400),
    variables: &[&["PORT"]],
};

pub const HELLO: Service = Service {
    name: "hello",
    default_port: Some(1401),
    variables: &[
        HTTP,
        &["CONTENT_DIR", "UPSTREAM_URL", "UPSTREAM_TIMEOUT_MS"],
    ],
};

/// echo's port is its `--port` argument (or `PORT`), 1402 in every manifest.
pub const ECHO: Service = Service {
    name: "echo",
    default_port: None,
    variables: &[HTTP, &["HOSTNAME"]],
};

pub const CATALOG: Service = Service {
    name: "catalog",
    default_port: Some(8081),
    variables: &[HTTP, DATA, &["CACHE_TTL_SECONDS"]],
};

pub const ACTIVITY: Service = Service {
    name: "activity",
    default_port: Some(8082),
    variables: &[HTTP, DATA, &["CONSUMER_GROUP", "CONSUMER_NAME", "HOSTNAME"]],
};

pub const WEB: Service = Service {
    name: "web",
    default_port: Some(8080),
    variables: &[
        HTTP,
        &[
            "CATALOG_URL",
            "ACTIVITY_URL",
            "HELLO_URL",
            "ECHO_URL",
            "REDIS_URL",
            "REDIS_CA_CERT",
            "VISITS_KEY",
            "BACKEND_TIMEOUT_MS",
        ],
    ],
};

/// Every service, in the tutorial's order.
pub const SERVICES: &[Service] = &[HELLO1400, HELLO, ECHO, CATALOG, ACTIVITY, WEB];

/// The service named `name`.
pub fn service(name: &str) -> Option<&'static Service> {
    SERVICES.iter().find(|service| service.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ports_are_unique() {
        for (i, a) in SERVICES.iter().enumerate() {
            for b in &SERVICES[i + 1..] {
                assert_ne!(a.name, b.name);
                if a.default_port.is_some() {
                    assert_ne!(a.default_port, b.default_port, "{} and {}", a.name, b.name);
                }
            }
        }
    }

    #[test]
    fn variables_are_listed_once_each_and_look_like_variables() {
        let catalog: Vec<_> = CATALOG.variables().collect();
        assert_eq!(catalog.len(), HTTP.len() + DATA.len() + 1);
        assert!(CATALOG.reads("DATABASE_URL") && !CATALOG.reads("CATALOG_URL"));
        for service in SERVICES {
            for name in service.variables() {
                assert!(
                    name.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
                    "{}: {name}",
                    service.name
                );
            }
        }
        assert_eq!(service("web"), Some(&WEB));
    }

    #[test]
    fn a_configuration_reading_more_or_less_than_declared_is_refused() {
        let declared: Vec<&str> = HELLO.variables().collect();
        assert_eq!(HELLO.check_reads(&declared), Ok(()));
        let mut more = declared.clone();
        more.push("SECRET_FLAG");
        let err = HELLO.check_reads(&more).unwrap_err();
        assert!(
            err.contains(r#"read but not declared in service-spec: ["SECRET_FLAG"]"#),
            "{err}"
        );
        let less: Vec<&str> = declared
            .into_iter()
            .filter(|n| *n != "CONTENT_DIR")
            .collect();
        let err = HELLO.check_reads(&less).unwrap_err();
        assert!(
            err.contains(r#"declared but not read: ["CONTENT_DIR"]"#),
            "{err}"
        );
        assert_eq!(service("nginx"), None);
    }
}
