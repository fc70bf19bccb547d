//! Validation against the official Kubernetes OpenAPI schemas, offline, with the PyPI
//! package `kubernetes-validate` (installed by `scripts/test.sh`), in strict mode: unknown
//! fields are errors, and so is a kind it has no schema for.

use std::io::Write;
use std::process::{Command, Stdio};

/// The Kubernetes version every manifest is validated against (docs/kubernetes.md).
pub const KUBERNETES_VERSION: &str = "1.32.0";

/// Why a set of manifests does not validate.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "cannot run `python3 -m kubernetes_validate` ({0}); install it with \
         `python3 -m pip install kubernetes-validate` (scripts/test.sh does)"
    )]
    Unavailable(String),
    #[error("{source_name} does not validate against Kubernetes {KUBERNETES_VERSION}:\n{}", problems.join("\n"))]
    Invalid {
        source_name: String,
        problems: Vec<String>,
    },
}

/// Validates every document of `yaml` (one or many, `---` separated).
pub fn validate(source_name: &str, yaml: &str) -> Result<(), SchemaError> {
    let mut child = Command::new("python3")
        .args([
            "-m",
            "kubernetes_validate",
            "--strict",
            "-k",
            KUBERNETES_VERSION,
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| SchemaError::Unavailable(e.to_string()))?;
    child
        .stdin
        .take()
        .ok_or_else(|| SchemaError::Unavailable("no stdin".into()))?
        .write_all(yaml.as_bytes())
        .map_err(|e| SchemaError::Unavailable(e.to_string()))?;
    let output = child
        .wait_with_output()
        .map_err(|e| SchemaError::Unavailable(e.to_string()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("No module named kubernetes_validate") {
        return Err(SchemaError::Unavailable(stderr.trim().to_owned()));
    }
    // ERROR: a schema violation; WARN: no schema for the kind (a typo in apiVersion or
    // kind, or a resource this Kubernetes version does not have).
    let mut problems: Vec<String> = stdout
        .lines()
        .chain(stderr.lines())
        .filter(|line| line.starts_with("ERROR") || line.starts_with("WARN"))
        .map(str::to_owned)
        .collect();
    if !output.status.success() && problems.is_empty() {
        problems.push(format!(
            "kubernetes-validate exited with {}: {stderr}",
            output.status
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(SchemaError::Invalid {
            source_name: source_name.to_owned(),
            problems,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_service_passes() {
        let yaml =
            "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  ports: [{port: 80}]\n";
        validate("service", yaml).unwrap();
    }

    #[test]
    fn an_unknown_field_fails_in_strict_mode() {
        let yaml =
            "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  prots: [{port: 80}]\n";
        let err = validate("service", yaml).unwrap_err().to_string();
        assert!(err.contains("prots"), "{err}");
    }

    #[test]
    fn an_unknown_kind_fails() {
        let yaml = "apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: a}\n";
        let err = validate("typo", yaml).unwrap_err().to_string();
        assert!(err.contains("Deploymnet"), "{err}");
    }
}
