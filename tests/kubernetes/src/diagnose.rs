//! What a failed wait reports: the Pods, and for each that is not fine its events and the
//! last lines of its containers' logs (the previous run's too when a container restarted).

use serde_json::Value;

use crate::Cluster;

/// Log lines shown per container.
const LOG_LINES: &str = "15";
/// Events shown per object.
const EVENTS: usize = 12;

/// The Pods of `namespace` matching `selector` (every Pod when `None`) as JSON items.
pub fn pods(cluster: &Cluster, namespace: &str, selector: Option<&str>) -> Vec<Value> {
    let mut args = vec!["get", "pods", "-n", namespace, "-o", "json"];
    if let Some(selector) = selector {
        args.extend(["-l", selector]);
    }
    let output = cluster.kubectl(&args);
    if !output.status.success() {
        return Vec::new();
    }
    serde_json::from_slice::<Value>(&output.stdout)
        .ok()
        .and_then(|list| list["items"].as_array().cloned())
        .unwrap_or_default()
}

/// Whether a Pod counts as fine: Ready, or finished successfully (a Job's).
pub fn pod_is_fine(pod: &Value) -> bool {
    pod["status"]["phase"] == "Succeeded"
        || pod["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// The events of one object, oldest first, at most the last [`EVENTS`].
pub fn events(cluster: &Cluster, namespace: &str, kind: &str, name: &str) -> String {
    let selector = format!("involvedObject.kind={kind},involvedObject.name={name}");
    let output = cluster.kubectl(&[
        "get",
        "events",
        "-n",
        namespace,
        "--field-selector",
        &selector,
        "-o",
        "json",
    ]);
    let list: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    let mut items: Vec<&Value> = list["items"].as_array().into_iter().flatten().collect();
    let when = |e: &Value| {
        e["lastTimestamp"]
            .as_str()
            .or(e["eventTime"].as_str())
            .unwrap_or("")
            .to_owned()
    };
    items.sort_by_key(|e| when(e));
    let start = items.len().saturating_sub(EVENTS);
    let lines: Vec<String> = items[start..]
        .iter()
        .map(|e| {
            format!(
                "    {} {} (x{}): {}",
                e["type"].as_str().unwrap_or("?"),
                e["reason"].as_str().unwrap_or("?"),
                e["count"].as_u64().unwrap_or(1),
                e["message"].as_str().unwrap_or("").trim()
            )
        })
        .collect();
    if lines.is_empty() {
        "    (no events)".into()
    } else {
        lines.join("\n")
    }
}

/// One line per container of a Pod: its state and restarts.
fn container_states(pod: &Value) -> Vec<(String, String, u64)> {
    let mut states = Vec::new();
    for key in ["initContainerStatuses", "containerStatuses"] {
        for status in pod["status"][key].as_array().into_iter().flatten() {
            let name = status["name"].as_str().unwrap_or("?").to_owned();
            let restarts = status["restartCount"].as_u64().unwrap_or(0);
            let state = &status["state"];
            let text = if let Some(waiting) = state.get("waiting") {
                format!(
                    "waiting: {} {}",
                    waiting["reason"].as_str().unwrap_or(""),
                    waiting["message"].as_str().unwrap_or("")
                )
            } else if let Some(terminated) = state.get("terminated") {
                format!(
                    "terminated: {} (exit {})",
                    terminated["reason"].as_str().unwrap_or(""),
                    terminated["exitCode"]
                )
            } else if state.get("running").is_some() {
                format!("running, ready {}", status["ready"])
            } else {
                "unknown".into()
            };
            states.push((name, text, restarts));
        }
    }
    states
}

/// The last log lines of one container (`previous`: of its run before the last restart).
fn logs(cluster: &Cluster, namespace: &str, pod: &str, container: &str, previous: bool) -> String {
    let mut args = vec![
        "logs", "-n", namespace, pod, "-c", container, "--tail", LOG_LINES,
    ];
    if previous {
        args.push("--previous");
    }
    let output = cluster.kubectl(&args);
    let text = if output.status.success() {
        String::from_utf8_lossy(&output.stdout).into_owned()
    } else {
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let text = text.trim();
    if text.is_empty() {
        "      (no log lines)".into()
    } else {
        text.lines()
            .map(|l| format!("      {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The report of every Pod of `namespace` matching `selector` that is not fine: phase,
/// container states, events and last log lines. Pods that are fine get one line each.
pub fn report(cluster: &Cluster, namespace: &str, selector: Option<&str>) -> String {
    let pods = pods(cluster, namespace, selector);
    let scope = match selector {
        Some(s) => format!("Pods of {namespace} matching {s}"),
        None => format!("Pods of {namespace}"),
    };
    if pods.is_empty() {
        return format!("{scope}: none");
    }
    let mut out = format!("{scope}:");
    for pod in &pods {
        let name = pod["metadata"]["name"].as_str().unwrap_or("?");
        let phase = pod["status"]["phase"].as_str().unwrap_or("?");
        if pod_is_fine(pod) {
            out.push_str(&format!("\n  {name}: {phase}, fine"));
            continue;
        }
        out.push_str(&format!("\n  {name}: {phase}, not ready"));
        for (container, state, restarts) in container_states(pod) {
            out.push_str(&format!(
                "\n    container {container}: {state}, {restarts} restarts"
            ));
        }
        out.push_str("\n    events:\n");
        out.push_str(&events(cluster, namespace, "Pod", name));
        for (container, _state, restarts) in container_states(pod) {
            out.push_str(&format!("\n    last log lines of {container}:\n"));
            out.push_str(&logs(cluster, namespace, name, &container, false));
            if restarts > 0 {
                out.push_str(&format!(
                    "\n    last log lines of {container} before its restart:\n"
                ));
                out.push_str(&logs(cluster, namespace, name, &container, true));
            }
        }
    }
    out
}
