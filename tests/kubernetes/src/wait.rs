//! Waiting for Pods, Jobs and workloads, failing early and with a diagnosis: a Pod that
//! cannot get its image, a container that keeps crashing or a Job that failed ends the wait
//! at once, and every failure (those, or a deadline passed) carries [`diagnose::report`].

use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::diagnose::{self, pod_is_fine};
use crate::Cluster;

/// Container waiting reasons that never resolve by themselves.
const HOPELESS: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "ErrImageNeverPull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];
/// A container in CrashLoopBackOff after this many restarts is failing, not starting.
const CRASH_LOOP_RESTARTS: u64 = 3;

/// Why a Pod will not become ready by waiting, if it will not.
pub fn hopeless(pod: &Value) -> Option<String> {
    let name = pod["metadata"]["name"].as_str().unwrap_or("?");
    for key in ["initContainerStatuses", "containerStatuses"] {
        for status in pod["status"][key].as_array().into_iter().flatten() {
            let Some(waiting) = status["state"].get("waiting") else {
                continue;
            };
            let reason = waiting["reason"].as_str().unwrap_or("");
            let restarts = status["restartCount"].as_u64().unwrap_or(0);
            if HOPELESS.contains(&reason)
                || (reason == "CrashLoopBackOff" && restarts >= CRASH_LOOP_RESTARTS)
            {
                return Some(format!(
                    "Pod {name} container {}: {reason} ({restarts} restarts): {}",
                    status["name"].as_str().unwrap_or("?"),
                    waiting["message"].as_str().unwrap_or("")
                ));
            }
        }
    }
    None
}

/// Polls `check` every half second until it returns `Ok(true)`. `Err(reason)` ends the
/// wait at once; so does `within` passing. Either way the result is the reason followed by
/// the report of the Pods of `namespace` matching `selector`.
pub fn until(
    cluster: &Cluster,
    what: &str,
    within: Duration,
    namespace: &str,
    selector: Option<&str>,
    mut check: impl FnMut() -> Result<bool, String>,
) -> Result<(), String> {
    let deadline = Instant::now() + within;
    let reason = loop {
        match check() {
            Ok(true) => return Ok(()),
            Ok(false) if Instant::now() >= deadline => {
                break format!("gave up after {within:?} waiting for {what}");
            }
            Ok(false) => sleep(Duration::from_millis(500)),
            Err(reason) => break format!("{what} cannot happen: {reason}"),
        }
    };
    Err(format!(
        "{reason}\n{}",
        diagnose::report(cluster, namespace, selector)
    ))
}

/// Waits until `count` Pods of `namespace` match `selector` and all are Ready (no more,
/// no fewer: a Pod still terminating counts); returns their names.
pub fn pods_ready(
    cluster: &Cluster,
    namespace: &str,
    selector: &str,
    count: usize,
    within: Duration,
) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    until(
        cluster,
        &format!("{count} ready Pods matching {selector} in {namespace}"),
        within,
        namespace,
        Some(selector),
        || {
            let pods = diagnose::pods(cluster, namespace, Some(selector));
            if let Some(reason) = pods.iter().find_map(hopeless) {
                return Err(reason);
            }
            names = pods
                .iter()
                .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_owned))
                .collect();
            Ok(pods.len() == count && pods.iter().all(pod_is_fine))
        },
    )?;
    Ok(names)
}

/// Waits until Job `job` of `namespace` is Complete; fails at once when it Failed or when
/// its Pod cannot start.
pub fn job_complete(
    cluster: &Cluster,
    namespace: &str,
    job: &str,
    within: Duration,
) -> Result<(), String> {
    let selector = format!("job-name={job}");
    until(
        cluster,
        &format!("Job {job} to complete"),
        within,
        namespace,
        Some(&selector),
        || job_state(cluster, namespace, job, &selector),
    )
}

fn job_state(
    cluster: &Cluster,
    namespace: &str,
    job: &str,
    selector: &str,
) -> Result<bool, String> {
    let output = cluster.kubectl(&["get", "job", job, "-n", namespace, "-o", "json"]);
    if !output.status.success() {
        return Ok(false);
    }
    let value: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    for condition in value["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if condition["status"] != "True" {
            continue;
        }
        match condition["type"].as_str() {
            Some("Complete") => return Ok(true),
            Some("Failed") => {
                return Err(format!(
                    "Job {job} failed: {} {}\n  its events:\n{}",
                    condition["reason"].as_str().unwrap_or(""),
                    condition["message"].as_str().unwrap_or(""),
                    diagnose::events(cluster, namespace, "Job", job)
                ))
            }
            _ => {}
        }
    }
    if let Some(reason) = diagnose::pods(cluster, namespace, Some(selector))
        .iter()
        .find_map(hopeless)
    {
        return Err(reason);
    }
    Ok(false)
}

/// Waits until every Job of `namespace` is Complete and every Deployment and StatefulSet
/// has all its replicas updated and Ready.
pub fn workloads_ready(cluster: &Cluster, namespace: &str, within: Duration) -> Result<(), String> {
    until(
        cluster,
        &format!("every workload of {namespace} to be ready"),
        within,
        namespace,
        None,
        || {
            let output = cluster.kubectl(&[
                "get",
                "deployments,statefulsets,jobs",
                "-n",
                namespace,
                "-o",
                "json",
            ]);
            if !output.status.success() {
                return Ok(false);
            }
            let list: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
            let mut ready = true;
            for item in list["items"].as_array().into_iter().flatten() {
                let name = item["metadata"]["name"].as_str().unwrap_or("?");
                if item["kind"] == "Job" {
                    let selector = format!("job-name={name}");
                    ready &= job_state(cluster, namespace, name, &selector)?;
                } else {
                    let want = item["spec"]["replicas"].as_u64().unwrap_or(1);
                    let status = &item["status"];
                    let count = |key: &str| status[key].as_u64().unwrap_or(0);
                    ready &= count("readyReplicas") == want
                        && count("updatedReplicas") == want
                        && count("replicas") == want
                        && status["observedGeneration"] == item["metadata"]["generation"];
                }
            }
            if let Some(reason) = diagnose::pods(cluster, namespace, None)
                .iter()
                .find_map(hopeless)
            {
                return Err(reason);
            }
            Ok(ready)
        },
    )
}

/// Waits until Service `service` of `namespace` has `count` ready endpoint addresses (the
/// Pods are Ready, and the endpoints controller has caught up; kube-proxy follows).
pub fn endpoints_ready(
    cluster: &Cluster,
    namespace: &str,
    service: &str,
    count: usize,
    within: Duration,
) -> Result<(), String> {
    until(
        cluster,
        &format!("{count} ready endpoints of Service {service} in {namespace}"),
        within,
        namespace,
        None,
        || {
            let output =
                cluster.kubectl(&["get", "endpoints", service, "-n", namespace, "-o", "json"]);
            if !output.status.success() {
                return Ok(false);
            }
            let value: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
            let ready: usize = value["subsets"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| s["addresses"].as_array().map_or(0, Vec::len))
                .sum();
            Ok(ready == count)
        },
    )
}
