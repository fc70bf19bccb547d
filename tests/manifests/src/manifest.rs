//! Kubernetes objects as JSON values, parsed from multi-document YAML, and the ways into
//! their Pod templates, containers and label selectors.

use serde::Deserialize;
use serde_json::{Map, Value};

/// YAML that cannot be read as Kubernetes objects.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("{source_name}: document {index} is not valid YAML: {message}")]
    Yaml {
        source_name: String,
        index: usize,
        message: String,
    },
    #[error("{source_name}: document {index} has no kind or no metadata.name")]
    NotAnObject { source_name: String, index: usize },
}

/// One Kubernetes object.
#[derive(Debug, Clone)]
pub struct Object {
    pub value: Value,
}

/// Where a container sits in its Pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An init container that runs to completion before the others start.
    Init,
    /// An init container with `restartPolicy: Always`: runs beside the main containers.
    Sidecar,
    /// A regular container.
    Main,
}

/// One container of a Pod template.
#[derive(Debug, Clone, Copy)]
pub struct Container<'a> {
    pub role: Role,
    pub value: &'a Value,
}

/// Every document of `text` (empty documents skipped).
pub fn parse_documents(source_name: &str, text: &str) -> Result<Vec<Object>, ParseError> {
    let mut objects = Vec::new();
    for (index, document) in serde_norway::Deserializer::from_str(text).enumerate() {
        let value = Value::deserialize(document).map_err(|e| ParseError::Yaml {
            source_name: source_name.to_owned(),
            index,
            message: e.to_string(),
        })?;
        if value.is_null() {
            continue;
        }
        let object = Object { value };
        if object.kind().is_empty() || object.name().is_empty() {
            return Err(ParseError::NotAnObject {
                source_name: source_name.to_owned(),
                index,
            });
        }
        objects.push(object);
    }
    Ok(objects)
}

/// The text at `pointer`, or "" when absent or not text.
pub fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The array at `pointer`, or an empty one.
pub fn array<'a>(value: &'a Value, pointer: &str) -> &'a [Value] {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

impl Object {
    pub fn kind(&self) -> &str {
        text(&self.value, "/kind")
    }

    pub fn name(&self) -> &str {
        text(&self.value, "/metadata/name")
    }

    /// `Kind/name`, how findings name the object.
    pub fn id(&self) -> String {
        format!("{}/{}", self.kind(), self.name())
    }

    /// The Pod spec this object runs, if it runs Pods.
    pub fn pod_spec(&self) -> Option<&Value> {
        let pointer = match self.kind() {
            "Pod" => "/spec",
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
                "/spec/template/spec"
            }
            "CronJob" => "/spec/jobTemplate/spec/template/spec",
            _ => return None,
        };
        self.value.pointer(pointer)
    }

    /// The labels its Pods carry.
    pub fn pod_labels(&self) -> Option<&Map<String, Value>> {
        let pointer = match self.kind() {
            "Pod" => "/metadata/labels",
            "CronJob" => "/spec/jobTemplate/spec/template/metadata/labels",
            _ if self.pod_spec().is_some() => "/spec/template/metadata/labels",
            _ => return None,
        };
        self.value.pointer(pointer).and_then(Value::as_object)
    }

    /// Whether its Pods are meant to keep running (and so need probes), unlike Jobs.
    pub fn is_long_running(&self) -> bool {
        matches!(
            self.kind(),
            "Pod" | "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
        )
    }

    /// Every container of its Pods, init containers first.
    pub fn containers(&self) -> Vec<Container<'_>> {
        let Some(spec) = self.pod_spec() else {
            return Vec::new();
        };
        let init = array(spec, "/initContainers")
            .iter()
            .map(|value| Container {
                role: if text(value, "/restartPolicy") == "Always" {
                    Role::Sidecar
                } else {
                    Role::Init
                },
                value,
            });
        let main = array(spec, "/containers").iter().map(|value| Container {
            role: Role::Main,
            value,
        });
        init.chain(main).collect()
    }
}

impl<'a> Container<'a> {
    pub fn name(&self) -> &'a str {
        text(self.value, "/name")
    }

    pub fn image(&self) -> &'a str {
        text(self.value, "/image")
    }

    /// The literal value of an environment variable (not one taken from a Secret).
    pub fn env(&self, name: &str) -> Option<&'a str> {
        array(self.value, "/env")
            .iter()
            .find(|e| text(e, "/name") == name)
            .and_then(|e| e.get("value"))
            .and_then(Value::as_str)
    }

    /// `command` followed by `args`, as text.
    pub fn command_line(&self) -> Vec<&'a str> {
        array(self.value, "/command")
            .iter()
            .chain(array(self.value, "/args"))
            .filter_map(Value::as_str)
            .collect()
    }

    /// The value after `--flag` (or in `--flag=value`) on the command line.
    pub fn flag(&self, flag: &str) -> Option<&'a str> {
        let line = self.command_line();
        let with_equals = format!("{flag}=");
        line.iter().enumerate().find_map(|(i, word)| {
            if *word == flag {
                line.get(i + 1).copied()
            } else {
                word.strip_prefix(&with_equals)
            }
        })
    }

    /// `(name, number)` of each declared container port.
    pub fn ports(&self) -> Vec<(&'a str, u64)> {
        array(self.value, "/ports")
            .iter()
            .filter_map(|p| Some((text(p, "/name"), p.get("containerPort")?.as_u64()?)))
            .collect()
    }

    /// The port number a probe's or Service's `port` field means for this container:
    /// a number as it is, a name through the container's named ports.
    pub fn resolve_port(&self, port: &Value) -> Option<u64> {
        match port {
            Value::Number(n) => n.as_u64(),
            Value::String(name) => self
                .ports()
                .into_iter()
                .find(|(n, _)| n == name)
                .map(|(_, number)| number),
            _ => None,
        }
    }
}

/// Whether a label selector (`matchLabels` and `matchExpressions`, or a bare map as a
/// Service uses) matches `labels`. An empty selector matches everything.
pub fn selector_matches(selector: &Value, labels: &Map<String, Value>) -> bool {
    let Some(selector) = selector.as_object() else {
        return true;
    };
    let has_structure =
        selector.contains_key("matchLabels") || selector.contains_key("matchExpressions");
    let match_labels = if has_structure {
        selector.get("matchLabels").and_then(Value::as_object)
    } else {
        Some(selector)
    };
    let labels_ok = match_labels
        .into_iter()
        .flatten()
        .all(|(key, value)| labels.get(key) == Some(value));
    let expressions_ok = array(&Value::Object(selector.clone()), "/matchExpressions")
        .iter()
        .all(|expression| {
            let key = text(expression, "/key");
            let values: Vec<&str> = array(expression, "/values")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let actual = labels.get(key).and_then(Value::as_str);
            match text(expression, "/operator") {
                "In" => actual.is_some_and(|a| values.contains(&a)),
                "NotIn" => actual.is_none_or(|a| !values.contains(&a)),
                "Exists" => actual.is_some(),
                "DoesNotExist" => actual.is_none(),
                _ => false,
            }
        });
    labels_ok && expressions_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_are_split_and_empty_ones_skipped() {
        let objects = parse_documents(
            "t",
            "---\napiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n---\nkind: Pod\nmetadata: {name: b}\n",
        )
        .unwrap();
        let ids: Vec<String> = objects.iter().map(Object::id).collect();
        assert_eq!(ids, ["Service/a", "Pod/b"]);
    }

    #[test]
    fn a_document_without_kind_is_refused() {
        let err = parse_documents("t", "metadata: {name: a}\n").unwrap_err();
        assert!(err.to_string().contains("no kind"), "{err}");
    }

    #[test]
    fn flags_are_found_with_or_without_equals() {
        let value = json!({"name": "e", "args": ["--port", "1402"]});
        let c = Container {
            role: Role::Main,
            value: &value,
        };
        assert_eq!(c.flag("--port"), Some("1402"));
        let value = json!({"name": "e", "command": ["echo", "--port=9"]});
        let c = Container {
            role: Role::Main,
            value: &value,
        };
        assert_eq!(c.flag("--port"), Some("9"));
    }

    #[test]
    fn selectors_match_labels_and_expressions() {
        let labels = json!({"app": "a", "tier": "db"});
        let labels = labels.as_object().unwrap();
        assert!(selector_matches(&json!({"app": "a"}), labels));
        assert!(!selector_matches(&json!({"app": "b"}), labels));
        assert!(selector_matches(
            &json!({"matchLabels": {"tier": "db"}}),
            labels
        ));
        assert!(selector_matches(&json!({}), labels));
        assert!(selector_matches(
            &json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["a", "c"]}]}),
            labels
        ));
        assert!(!selector_matches(
            &json!({"matchExpressions": [{"key": "x", "operator": "Exists"}]}),
            labels
        ));
    }
}
