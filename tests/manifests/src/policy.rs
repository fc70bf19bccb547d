//! The project's rules for manifests, beyond what the schemas check: images the project
//! builds or public ones pinned to a tag, probes, security contexts, resources, ports that
//! agree with the services' defaults, references that resolve, databases reachable only
//! from their own service and migration Job, and migration Jobs named for their newest
//! migration. Each rule reports findings instead of stopping at the first.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

use crate::manifest::{array, selector_matches, text, Container, Object, Role};
use crate::project::{BINARIES, IMAGE_PREFIX, IMAGE_TAG, LOCAL_BASE_IMAGES, PUBLIC_IMAGES};

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    Image,
    Probe,
    SecurityContext,
    Resources,
    Port,
    Reference,
    NetworkPolicy,
    Migration,
}

/// One broken rule in one object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub rule: Rule,
    pub object: String,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}: {}", self.rule, self.object, self.message)
    }
}

/// Containers allowed to run as root, each with the reason.
pub const ROOT_ALLOWED: &[(&str, &str, &str)] = &[(
    "DaemonSet/fluent-bit",
    "fluent-bit",
    "reads the node's container log files, which the kubelet writes as root with mode 0640",
)];

/// What the rules compare the manifests with.
#[derive(Debug, Clone)]
pub struct Context {
    /// Each service binary's default port; `None` when it takes `--port`.
    pub ports: BTreeMap<String, Option<u16>>,
    /// The newest migration version of each database folder.
    pub newest_migrations: BTreeMap<String, String>,
    /// The environment variables each service binary reads.
    pub env: BTreeMap<String, BTreeSet<String>>,
}

/// Every finding for one unit. `deployable` adds the rules that need the whole unit
/// (references, network policies, migrations); a base lacks what its overlay adds.
pub fn check(objects: &[Object], context: &Context, deployable: bool) -> Vec<Finding> {
    let mut findings = Findings::default();
    for object in objects {
        for container in object.containers() {
            check_image(&mut findings, object, &container);
            check_security(&mut findings, object, &container);
            check_resources(&mut findings, object, &container);
            check_probes(&mut findings, object, &container);
            check_ports(&mut findings, object, &container, context);
            check_env(&mut findings, object, &container, context);
        }
        if object.kind() == "Service" {
            check_service(&mut findings, object, objects);
        }
    }
    if deployable {
        check_references(&mut findings, objects);
        check_databases(&mut findings, objects);
        check_migrations(&mut findings, objects, context);
    }
    let mut findings = findings.0;
    findings.sort();
    findings.dedup();
    findings
}

#[derive(Default)]
struct Findings(Vec<Finding>);

impl Findings {
    fn add(&mut self, rule: Rule, object: &Object, container: Option<&Container>, message: String) {
        let object = match container {
            Some(c) => format!("{} container {}", object.id(), c.name()),
            None => object.id(),
        };
        self.0.push(Finding {
            rule,
            object,
            message,
        });
    }
}

/// The project binary an image is built from, if it is a project image.
fn project_binary(image: &str) -> Option<&str> {
    let rest = image.strip_prefix(IMAGE_PREFIX)?;
    Some(rest.split(':').next().unwrap_or(rest))
}

fn check_image(findings: &mut Findings, object: &Object, container: &Container) {
    let image = container.image();
    let mut add = |message: String| findings.add(Rule::Image, object, Some(container), message);
    if image.is_empty() {
        add("names no image".into());
        return;
    }
    if image.contains('@') {
        add(format!(
            "{image}: use a tag, as the rest of the project does, not a digest"
        ));
        return;
    }
    // A registry host with a port (`host:5000/x`) would confuse this split; none is used.
    let (repository, tag) = match image.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, Some(t)),
        _ => (image, None),
    };
    if LOCAL_BASE_IMAGES.contains(&image) {
        if text(container.value, "/imagePullPolicy") != "IfNotPresent" {
            add(format!(
                "{image}: a locally built image needs imagePullPolicy: IfNotPresent (no registry has it)"
            ));
        }
        return;
    }
    if let Some(binary) = project_binary(image) {
        if !BINARIES.contains(&binary) {
            add(format!(
                "{image}: the project builds no image named {IMAGE_PREFIX}{binary} (it builds {})",
                BINARIES.join(", ")
            ));
        } else if tag != Some(IMAGE_TAG) {
            add(format!("{image}: project images are tagged :{IMAGE_TAG}"));
        }
        if text(container.value, "/imagePullPolicy") != "IfNotPresent" {
            add(format!(
                "{image}: a locally built image needs imagePullPolicy: IfNotPresent (no registry has it)"
            ));
        }
        return;
    }
    let library = repository.strip_prefix("docker.io/").unwrap_or(repository);
    let library = library.strip_prefix("library/").unwrap_or(library);
    if !PUBLIC_IMAGES.contains(&library) {
        add(format!(
            "{image}: neither a project image nor one of the public images in use ({})",
            PUBLIC_IMAGES.join(", ")
        ));
    }
    match tag {
        None => add(format!("{image}: a public image must be pinned to a tag")),
        Some("latest") => add(format!("{image}: `latest` is not a pinned tag")),
        Some(_) => {}
    }
}

fn check_security(findings: &mut Findings, object: &Object, container: &Container) {
    let pod = object
        .pod_spec()
        .and_then(|s| s.get("securityContext"))
        .cloned()
        .unwrap_or(Value::Null);
    let own = container
        .value
        .get("securityContext")
        .cloned()
        .unwrap_or(Value::Null);
    let effective = |field: &str| own.get(field).or_else(|| pod.get(field)).cloned();
    let mut add = |message: &str| {
        findings.add(
            Rule::SecurityContext,
            object,
            Some(container),
            message.to_owned(),
        )
    };
    if own.is_null() {
        add("has no securityContext");
        return;
    }
    let id = object.id();
    let root_allowed = ROOT_ALLOWED
        .iter()
        .any(|(o, c, _)| *o == id && *c == container.name());
    if !root_allowed {
        if effective("runAsNonRoot") != Some(Value::Bool(true)) {
            add("may run as root: set runAsNonRoot: true (on the Pod or the container)");
        }
        if effective("runAsUser").and_then(|u| u.as_u64()) == Some(0) {
            add("runs as uid 0");
        }
    }
    if own.get("allowPrivilegeEscalation") != Some(&Value::Bool(false)) {
        add("lacks allowPrivilegeEscalation: false");
    }
    if own.get("readOnlyRootFilesystem") != Some(&Value::Bool(true)) {
        add("lacks readOnlyRootFilesystem: true");
    }
    if own.get("privileged") == Some(&Value::Bool(true)) {
        add("is privileged");
    }
    let drops_all = array(&own, "/capabilities/drop")
        .iter()
        .any(|c| c.as_str() == Some("ALL"));
    if !drops_all {
        add("does not drop ALL capabilities");
    }
    if !array(&own, "/capabilities/add").is_empty() {
        add("adds capabilities");
    }
}

fn check_resources(findings: &mut Findings, object: &Object, container: &Container) {
    for pointer in [
        "/resources/requests/cpu",
        "/resources/requests/memory",
        "/resources/limits/memory",
    ] {
        if container.value.pointer(pointer).is_none() {
            let field = pointer.trim_start_matches("/resources/").replace('/', ".");
            findings.add(
                Rule::Resources,
                object,
                Some(container),
                format!("sets no resources.{field}"),
            );
        }
    }
}

/// A project service: a project image other than the migration tool.
fn service_binary<'a>(container: &Container<'a>) -> Option<&'a str> {
    project_binary(container.image()).filter(|b| *b != "dbtool" && BINARIES.contains(b))
}

fn check_probes(findings: &mut Findings, object: &Object, container: &Container) {
    let needs_probes = object.is_long_running() && container.role != Role::Init;
    if !needs_probes {
        return;
    }
    for (probe, path) in [("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")] {
        let Some(value) = container.value.get(probe) else {
            findings.add(
                Rule::Probe,
                object,
                Some(container),
                format!("has no {probe}"),
            );
            continue;
        };
        if service_binary(container).is_some() {
            let actual = text(value, "/httpGet/path");
            if actual != path {
                findings.add(
                    Rule::Probe,
                    object,
                    Some(container),
                    format!("{probe} must GET {path} (the service's health route), not {actual:?}"),
                );
            }
        }
    }
}

/// The port a project service container listens on, from its manifest and the service's
/// default: `--port` for echo, else `PORT`, else the default.
fn listening_port(container: &Container, context: &Context) -> Result<Option<u64>, String> {
    let Some(binary) = service_binary(container) else {
        return Ok(None);
    };
    let Some(default) = context.ports.get(binary) else {
        return Ok(None);
    };
    let given = match default {
        None => container.flag("--port").ok_or_else(|| {
            format!("{binary} listens on the port given by --port, and none is given")
        })?,
        Some(default) => match container.env("PORT") {
            Some(port) => port,
            None => return Ok(Some(u64::from(*default))),
        },
    };
    given
        .parse()
        .map(Some)
        .map_err(|_| format!("{given:?} is not a port number"))
}

fn check_ports(findings: &mut Findings, object: &Object, container: &Container, context: &Context) {
    let mut add = |message: String| findings.add(Rule::Port, object, Some(container), message);
    let port = match listening_port(container, context) {
        Ok(Some(port)) => port,
        Ok(None) => return,
        Err(message) => return add(message),
    };
    let declared = container.ports();
    if declared.is_empty() {
        add(format!(
            "declares no containerPort (the service listens on {port})"
        ));
    }
    let metrics_port = metrics_port(container);
    for (name, number) in &declared {
        if *name == "metrics" && Some(*number) == metrics_port {
            continue;
        }
        if *number != port {
            add(format!(
                "declares containerPort {number}, but the service listens on {port}"
            ));
        }
    }
    for probe in ["readinessProbe", "livenessProbe", "startupProbe"] {
        let Some(probe_port) = container.value.pointer(&format!("/{probe}/httpGet/port")) else {
            continue;
        };
        match container.resolve_port(probe_port) {
            Some(number) if number == port => {}
            Some(number) => add(format!(
                "{probe} uses port {number}, but the service listens on {port}"
            )),
            None => add(format!(
                "{probe} names port {probe_port}, which the container does not declare"
            )),
        }
    }
}

/// The port a project service serves `/metrics` on: `METRICS_PORT`, else 9090.
fn metrics_port(container: &Container) -> Option<u64> {
    match container.env("METRICS_PORT") {
        Some(value) => value.parse().ok(),
        None => Some(DEFAULT_METRICS_PORT),
    }
}

/// service-common's default `METRICS_PORT`.
const DEFAULT_METRICS_PORT: u64 = 9090;

/// A service is configured only by the variables it reads: any other name is a typo or a
/// leftover. A variable that only feeds another's `$(NAME)` (a password put into a URL) is
/// for Kubernetes, not the service, and allowed.
fn check_env(findings: &mut Findings, object: &Object, container: &Container, context: &Context) {
    let Some(binary) = service_binary(container) else {
        return;
    };
    let Some(known) = context.env.get(binary) else {
        return;
    };
    let values: Vec<&str> = array(container.value, "/env")
        .iter()
        .map(|e| text(e, "/value"))
        .collect();
    for env in array(container.value, "/env") {
        let name = text(env, "/name");
        let reference = format!("$({name})");
        if !known.contains(name) && !values.iter().any(|v| v.contains(&reference)) {
            findings.add(
                Rule::Reference,
                object,
                Some(container),
                format!("sets {name}, which the {binary} service does not read"),
            );
        }
    }
}

/// Pods-running objects among `objects` whose Pods `selector` selects.
fn selected<'a>(selector: &Value, objects: &'a [Object]) -> Vec<&'a Object> {
    objects
        .iter()
        .filter(|o| {
            o.pod_labels()
                .is_some_and(|labels| selector_matches(selector, labels))
        })
        .collect()
}

fn check_service(findings: &mut Findings, service: &Object, objects: &[Object]) {
    let mut add = |message: String| findings.add(Rule::Port, service, None, message);
    for port in array(&service.value, "/spec/ports") {
        if let Some(node_port) = port.get("nodePort").and_then(Value::as_u64) {
            if !(30000..=32767).contains(&node_port) {
                add(format!(
                    "nodePort {node_port} is outside the default node port range 30000-32767"
                ));
            }
        }
    }
    let Some(selector) = service.value.pointer("/spec/selector") else {
        return;
    };
    let pods = selected(selector, objects);
    if pods.is_empty() {
        // Only an error where the Pods should be in the same unit: a base Service may
        // select Pods of its own base, which are always there.
        add("selects no Pods of this unit".into());
        return;
    }
    for port in array(&service.value, "/spec/ports") {
        let target = port.get("targetPort").or_else(|| port.get("port"));
        let Some(target) = target else { continue };
        let resolves = pods.iter().any(|pod| {
            pod.containers()
                .iter()
                .filter(|c| c.role != Role::Init)
                .any(|c| {
                    c.resolve_port(target)
                        .is_some_and(|n| c.ports().iter().any(|(_, p)| *p == n))
                })
        });
        if !resolves {
            add(format!(
                "targetPort {target} is not a port of the Pods it selects ({})",
                pods.iter().map(|p| p.id()).collect::<Vec<_>>().join(", ")
            ));
        }
    }
}

/// `(host, port)` of a URL such as `postgres://user:$(PW)@catalog-db:5432/catalog`.
fn url_host_port(url: &str) -> Option<(&str, Option<u64>)> {
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme, "http" | "postgres" | "postgresql" | "redis") {
        return None;
    }
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    match host_port.rsplit_once(':') {
        Some((host, port)) => Some((host, port.parse().ok())),
        None => Some((host_port, None)),
    }
}

fn services_by_name(objects: &[Object]) -> BTreeMap<&str, &Object> {
    objects
        .iter()
        .filter(|o| o.kind() == "Service")
        .map(|o| (o.name(), o))
        .collect()
}

fn check_references(findings: &mut Findings, objects: &[Object]) {
    let names = |kind: &str| -> BTreeSet<&str> {
        objects
            .iter()
            .filter(|o| o.kind() == kind)
            .map(Object::name)
            .collect()
    };
    let secrets = names("Secret");
    let config_maps = names("ConfigMap");
    let services = services_by_name(objects);
    for object in objects {
        let Some(spec) = object.pod_spec() else {
            continue;
        };
        for volume in array(spec, "/volumes") {
            let config_map = text(volume, "/configMap/name");
            if !config_map.is_empty() && !config_maps.contains(config_map) {
                findings.add(
                    Rule::Reference,
                    object,
                    None,
                    format!("mounts ConfigMap {config_map}, which this unit does not define"),
                );
            }
            let secret = text(volume, "/secret/secretName");
            if !secret.is_empty() && !secrets.contains(secret) {
                findings.add(
                    Rule::Reference,
                    object,
                    None,
                    format!("mounts Secret {secret}, which this unit does not define"),
                );
            }
        }
        for container in object.containers() {
            for env in array(container.value, "/env") {
                let secret = text(env, "/valueFrom/secretKeyRef/name");
                if !secret.is_empty() && !secrets.contains(secret) {
                    findings.add(
                        Rule::Reference,
                        object,
                        Some(&container),
                        format!("reads Secret {secret}, which this unit does not define"),
                    );
                }
                let value = text(env, "/value");
                let Some((host, port)) = url_host_port(value) else {
                    continue;
                };
                let name = text(env, "/name");
                match services.get(host) {
                    None if !host.contains('.') => findings.add(
                        Rule::Reference,
                        object,
                        Some(&container),
                        format!("{name} points at {host}, which is no Service of this unit"),
                    ),
                    None => {}
                    Some(service) => {
                        let ports: Vec<u64> = array(&service.value, "/spec/ports")
                            .iter()
                            .filter_map(|p| p.get("port").and_then(Value::as_u64))
                            .collect();
                        if let Some(port) = port {
                            if !ports.contains(&port) {
                                findings.add(
                                    Rule::Port,
                                    object,
                                    Some(&container),
                                    format!("{name} uses port {port} of Service {host}, which serves {ports:?}"),
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Whether a container runs a PostgreSQL server.
fn is_postgres(container: &Container) -> bool {
    let image = container.image();
    let repository = image.split(':').next().unwrap_or(image);
    repository.rsplit('/').next() == Some("postgres")
}

/// The Service names through which `database`'s Pods are reached.
fn hosts_of<'a>(database: &Object, objects: &'a [Object]) -> BTreeSet<&'a str> {
    let Some(labels) = database.pod_labels() else {
        return BTreeSet::new();
    };
    objects
        .iter()
        .filter(|o| o.kind() == "Service")
        .filter(|s| {
            s.value
                .pointer("/spec/selector")
                .is_some_and(|sel| selector_matches(sel, labels))
        })
        .map(Object::name)
        .collect()
}

/// The objects whose containers connect to one of `hosts` through the URL in `variable`:
/// `DATABASE_URL` for a service and its migration Job, `DATA_SOURCE_NAME` for a metrics
/// exporter.
fn database_users<'a>(
    hosts: &BTreeSet<&str>,
    objects: &'a [Object],
    variable: &str,
) -> Vec<&'a Object> {
    objects
        .iter()
        .filter(|o| {
            o.containers().iter().any(|c| {
                c.env(variable)
                    .and_then(url_host_port)
                    .is_some_and(|(host, _)| hosts.contains(host))
            })
        })
        .collect()
}

fn check_databases(findings: &mut Findings, objects: &[Object]) {
    let databases = objects
        .iter()
        .filter(|o| o.containers().iter().any(is_postgres));
    for database in databases {
        let Some(labels) = database.pod_labels() else {
            continue;
        };
        let hosts = hosts_of(database, objects);
        let mut users = database_users(&hosts, objects, "DATABASE_URL");
        let exporters = database_users(&hosts, objects, "DATA_SOURCE_NAME");
        let mut add = |message: String| findings.add(Rule::NetworkPolicy, database, None, message);
        let deployments = users.iter().filter(|u| u.kind() == "Deployment").count();
        let jobs = users.iter().filter(|u| u.kind() == "Job").count();
        if deployments != 1 || jobs != 1 || users.len() != 2 {
            add(format!(
                "is used by {} (a database belongs to one service and its migration Job)",
                users.iter().map(|u| u.id()).collect::<Vec<_>>().join(", ")
            ));
        }
        if exporters.len() > 1 || exporters.iter().any(|e| e.kind() != "Deployment") {
            add(format!(
                "is watched by {} (a database has at most one metrics exporter, a Deployment)",
                exporters
                    .iter()
                    .map(|u| u.id())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        // The exporter connects too, so the database's policies must let it in.
        users.extend(exporters);
        let policies: Vec<&Object> = objects
            .iter()
            .filter(|o| o.kind() == "NetworkPolicy")
            .filter(|p| {
                p.value
                    .pointer("/spec/podSelector")
                    .is_some_and(|sel| selector_matches(sel, labels))
            })
            .filter(|p| {
                array(&p.value, "/spec/policyTypes")
                    .iter()
                    .any(|t| t.as_str() == Some("Ingress"))
                    || p.value.pointer("/spec/ingress").is_some()
            })
            .collect();
        if policies.is_empty() {
            add("no NetworkPolicy limits who connects to it".into());
            continue;
        }
        let mut allowed: BTreeSet<String> = BTreeSet::new();
        for policy in &policies {
            for rule in array(&policy.value, "/spec/ingress") {
                let peers = array(rule, "/from");
                if peers.is_empty() {
                    add(format!("{} lets every Pod connect", policy.id()));
                }
                for peer in peers {
                    if peer.get("namespaceSelector").is_some() || peer.get("ipBlock").is_some() {
                        add(format!(
                            "{} lets Pods outside this namespace connect",
                            policy.id()
                        ));
                    }
                    if let Some(selector) = peer.get("podSelector") {
                        allowed.extend(selected(selector, objects).iter().map(|o| o.id()));
                    }
                }
            }
        }
        let users: BTreeSet<String> = users.iter().map(|u| u.id()).collect();
        for extra in allowed.difference(&users) {
            add(format!(
                "its NetworkPolicy lets {extra} connect, which does not use it"
            ));
        }
        for missing in users.difference(&allowed) {
            add(format!("its NetworkPolicy blocks {missing}, which uses it"));
        }
    }
}

/// `(subcommand, DBTOOL_MIGRATIONS, DATABASE_URL)` of each dbtool container in `object`.
fn dbtool_runs<'a>(object: &'a Object) -> Vec<(Container<'a>, &'a str, &'a str, &'a str)> {
    object
        .containers()
        .into_iter()
        .filter(|c| project_binary(c.image()) == Some("dbtool"))
        .map(|c| {
            let subcommand = c
                .command_line()
                .into_iter()
                .find(|w| !w.starts_with('-'))
                .unwrap_or("");
            (
                c,
                subcommand,
                c.env("DBTOOL_MIGRATIONS").unwrap_or(""),
                c.env("DATABASE_URL").unwrap_or(""),
            )
        })
        .collect()
}

fn check_migrations(findings: &mut Findings, objects: &[Object], context: &Context) {
    // database folder -> (migrations path, DATABASE_URL) of its Job
    let mut jobs: BTreeMap<String, (String, String)> = BTreeMap::new();
    for job in objects.iter().filter(|o| o.kind() == "Job") {
        for (container, subcommand, migrations, url) in dbtool_runs(job) {
            if subcommand != "up" {
                continue;
            }
            let mut add =
                |message: String| findings.add(Rule::Migration, job, Some(&container), message);
            if migrations.is_empty() {
                add("sets no DBTOOL_MIGRATIONS".into());
                continue;
            }
            let folder = migrations
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("");
            jobs.insert(folder.to_owned(), (migrations.to_owned(), url.to_owned()));
            match context.newest_migrations.get(folder) {
                None => add(format!("migrations/{folder}/ holds no migration")),
                Some(version) => {
                    let suffix = format!("-v{version}");
                    if !job.name().ends_with(&suffix) {
                        add(format!(
                            "the newest migration in migrations/{folder}/ is V{version}: name the Job \
                             …{suffix} so a new migration creates a new Job (a Job's template cannot change)"
                        ));
                    }
                }
            }
            for field in ["backoffLimit", "ttlSecondsAfterFinished"] {
                if job.value.pointer(&format!("/spec/{field}")).is_none() {
                    add(format!("sets no spec.{field}"));
                }
            }
        }
    }
    for object in objects
        .iter()
        .filter(|o| o.kind() == "Deployment" || o.kind() == "StatefulSet")
    {
        for container in object
            .containers()
            .into_iter()
            .filter(|c| c.role == Role::Main)
        {
            let Some(url) = container.env("DATABASE_URL") else {
                continue;
            };
            let job = jobs.iter().find(|(_, (_, job_url))| {
                url_host_port(job_url).map(|h| h.0) == url_host_port(url).map(|h| h.0)
            });
            let Some((folder, (migrations, _))) = job else {
                findings.add(
                    Rule::Migration,
                    object,
                    Some(&container),
                    format!("uses {url} but no migration Job runs `dbtool up` against it"),
                );
                continue;
            };
            let waits = dbtool_runs(object)
                .into_iter()
                .any(|(c, subcommand, m, u)| {
                    c.role == Role::Init && subcommand == "wait" && m == migrations && u == url
                });
            if !waits {
                findings.add(
                    Rule::Migration,
                    object,
                    Some(&container),
                    format!(
                        "may serve before the {folder} migrations are applied: add an init container \
                         running `dbtool wait` with DBTOOL_MIGRATIONS={migrations} and the same DATABASE_URL"
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_host_and_port() {
        assert_eq!(
            url_host_port("postgres://catalog:$(PW)@catalog-db:5432/catalog"),
            Some(("catalog-db", Some(5432)))
        );
        assert_eq!(
            url_host_port("http://hello1402:1402"),
            Some(("hello1402", Some(1402)))
        );
        assert_eq!(url_host_port("redis://redis"), Some(("redis", None)));
        assert_eq!(url_host_port("json"), None);
    }
}
