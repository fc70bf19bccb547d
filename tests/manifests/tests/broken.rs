//! Each check fails on a manifest broken on purpose. `fixtures/good` passes every check;
//! each folder under `fixtures/broken` patches it to break one rule, and the table says
//! which check must catch it and with what words.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use k8s_manifests::manifest::parse_documents;
use k8s_manifests::policy::{self, Context, Rule};
use k8s_manifests::{project, render, schema};

/// Which check must fail, and a phrase its message must hold.
#[derive(Debug, Clone, Copy)]
enum Expect {
    Schema(&'static str),
    Policy(Rule, &'static str),
}
use Expect::{Policy, Schema};

const CASES: &[(&str, Expect)] = &[
    ("schema-unknown-field", Schema("'bogus' was unexpected")),
    (
        "schema-wrong-type",
        Schema("'three' is not of type 'integer'"),
    ),
    (
        "image-not-built",
        Policy(
            Rule::Image,
            "builds no image named docker-cluster-rust/helo",
        ),
    ),
    (
        "image-wrong-tag",
        Policy(Rule::Image, "project images are tagged :dev"),
    ),
    (
        "image-pulled-always",
        Policy(Rule::Image, "imagePullPolicy: IfNotPresent"),
    ),
    (
        "public-image-untagged",
        Policy(Rule::Image, "must be pinned to a tag"),
    ),
    (
        "public-image-latest",
        Policy(Rule::Image, "`latest` is not a pinned tag"),
    ),
    (
        "public-image-unknown",
        Policy(
            Rule::Image,
            "neither a project image nor one of the public images",
        ),
    ),
    (
        "no-readiness-probe",
        Policy(Rule::Probe, "has no readinessProbe"),
    ),
    (
        "no-liveness-probe",
        Policy(Rule::Probe, "has no livenessProbe"),
    ),
    (
        "probe-wrong-path",
        Policy(Rule::Probe, "readinessProbe must GET /readyz"),
    ),
    (
        "no-security-context",
        Policy(Rule::SecurityContext, "has no securityContext"),
    ),
    (
        "may-run-as-root",
        Policy(Rule::SecurityContext, "may run as root"),
    ),
    (
        "writable-root-file-system",
        Policy(Rule::SecurityContext, "readOnlyRootFilesystem: true"),
    ),
    (
        "privilege-escalation",
        Policy(Rule::SecurityContext, "allowPrivilegeEscalation: false"),
    ),
    (
        "capabilities-kept",
        Policy(Rule::SecurityContext, "does not drop ALL capabilities"),
    ),
    (
        "init-container-without-security-context",
        Policy(
            Rule::SecurityContext,
            "container wait-for-migrations: has no securityContext",
        ),
    ),
    (
        "no-resources",
        Policy(Rule::Resources, "sets no resources.requests.cpu"),
    ),
    (
        "port-env-disagrees",
        Policy(
            Rule::Port,
            "containerPort 1401, but the service listens on 8080",
        ),
    ),
    (
        "port-default-disagrees",
        Policy(
            Rule::Port,
            "containerPort 8080, but the service listens on 8081",
        ),
    ),
    (
        "echo-port-argument-missing",
        Policy(Rule::Port, "the port given by --port, and none is given"),
    ),
    (
        "probe-port-disagrees",
        Policy(Rule::Port, "livenessProbe uses port 1400"),
    ),
    (
        "service-target-port-unknown",
        Policy(Rule::Port, "targetPort 9999 is not a port"),
    ),
    (
        "node-port-out-of-range",
        Policy(Rule::Port, "nodePort 1401 is outside"),
    ),
    (
        "url-port-disagrees",
        Policy(Rule::Port, "uses port 1403 of Service echo"),
    ),
    (
        "url-unknown-host",
        Policy(Rule::Reference, "points at ehco, which is no Service"),
    ),
    (
        "secret-missing",
        Policy(Rule::Reference, "reads Secret catalog-secrets"),
    ),
    (
        "env-unknown-variable",
        Policy(
            Rule::Reference,
            "sets CATALOG_ULR, which the hello service does not read",
        ),
    ),
    (
        "database-open-to-another-service",
        Policy(Rule::NetworkPolicy, "lets Deployment/hello connect"),
    ),
    (
        "database-open-to-every-pod",
        Policy(Rule::NetworkPolicy, "lets every Pod connect"),
    ),
    (
        "database-open-to-other-namespaces",
        Policy(Rule::NetworkPolicy, "outside this namespace"),
    ),
    (
        "database-blocks-its-migration-job",
        Policy(Rule::NetworkPolicy, "blocks Job/catalog-migrate-v3"),
    ),
    (
        "database-without-network-policy",
        Policy(Rule::NetworkPolicy, "no NetworkPolicy limits"),
    ),
    (
        "database-shared-by-two-services",
        Policy(
            Rule::NetworkPolicy,
            "is used by Deployment/catalog, Deployment/hello",
        ),
    ),
    (
        "migration-job-name-stale",
        Policy(Rule::Migration, "is V3: name the Job …-v3"),
    ),
    (
        "migration-job-without-ttl",
        Policy(Rule::Migration, "sets no spec.ttlSecondsAfterFinished"),
    ),
    (
        "migration-job-without-backoff-limit",
        Policy(Rule::Migration, "sets no spec.backoffLimit"),
    ),
    (
        "service-does-not-wait-for-migrations",
        Policy(Rule::Migration, "may serve before the catalog migrations"),
    ),
    (
        "no-migration-job",
        Policy(Rule::Migration, "no migration Job runs `dbtool up`"),
    ),
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The real services' ports, and a fixed migration history (catalog at V3) so the cases
/// do not change when the project adds a migration.
fn context() -> Context {
    Context {
        ports: project::service_ports().unwrap_or_else(|e| panic!("{e}")),
        env: project::service_env(),
        newest_migrations: BTreeMap::from([("catalog".to_owned(), "3".to_owned())]),
    }
}

/// The schema error (if any) and the policy findings of a fixture folder.
fn check(dir: &Path) -> (Option<String>, Vec<policy::Finding>) {
    let yaml = render::kustomize(dir).unwrap_or_else(|e| panic!("{e}"));
    let objects =
        parse_documents(&dir.display().to_string(), &yaml).unwrap_or_else(|e| panic!("{e}"));
    let schema = schema::validate(&dir.display().to_string(), &yaml)
        .err()
        .map(|e| e.to_string());
    (schema, policy::check(&objects, &context(), true))
}

#[test]
fn the_good_fixture_passes_every_check() {
    let (schema, findings) = check(&fixtures().join("good"));
    assert_eq!(schema, None);
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn each_broken_fixture_fails_the_check_it_breaks() {
    let mut failures = Vec::new();
    for (case, expect) in CASES {
        let (schema, findings) = check(&fixtures().join("broken").join(case));
        let caught = match expect {
            Schema(phrase) => schema.as_deref().is_some_and(|s| s.contains(phrase)),
            Policy(rule, phrase) => findings
                .iter()
                .any(|f| f.rule == *rule && f.to_string().contains(phrase)),
        };
        let report: Vec<String> = schema
            .into_iter()
            .chain(findings.iter().map(|f| f.to_string()))
            .collect();
        if caught {
            println!("{case}: caught\n    {}", report.join("\n    "));
        } else {
            failures.push(format!(
                "{case}: expected {expect:?}, got:\n    {}",
                report.join("\n    ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_broken_fixture_is_in_the_table() {
    let mut folders: Vec<String> = std::fs::read_dir(fixtures().join("broken"))
        .expect("fixtures/broken")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    let mut listed: Vec<String> = CASES.iter().map(|(c, _)| (*c).to_owned()).collect();
    listed.sort();
    assert_eq!(folders, listed);
}
