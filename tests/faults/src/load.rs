//! A bounded write load: threads that create uniquely named entries through catalog's API
//! and through web's add form, at a steady pace, until stopped. Every answer is recorded:
//! the names acknowledged (catalog 200/201, web 303), the other statuses and transport
//! errors by kind, and any request that got no answer within its time limit.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{sleep, JoinHandle};
use std::time::{Duration, Instant};

/// The client's limit per request: the services' own request timeout (10 s) plus a margin.
/// A request without an answer by then hung, which a fault must never cause.
pub const REQUEST_LIMIT: Duration = Duration::from_secs(12);
/// A well-formed CSRF token, sent as both cookie and form field (double submit).
const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// What a load saw.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Names whose write was acknowledged.
    pub acknowledged: Vec<String>,
    /// Other answers: "catalog 503", "web 503", "catalog connect", … with their counts.
    pub failures: BTreeMap<String, usize>,
    /// Requests with no answer within [`REQUEST_LIMIT`].
    pub hung: usize,
    pub sent: usize,
    /// When the last answer that was not an acknowledgement came (or the last request that
    /// got none), to tell how soon a cluster recovers after a fault.
    pub last_failure: Option<Instant>,
}

/// A running load; [`Load::stop`] ends it and returns what it saw.
pub struct Load {
    stop: Arc<AtomicBool>,
    outcome: Arc<Mutex<Outcome>>,
    threads: Vec<JoinHandle<()>>,
}

impl Load {
    /// Starts `catalog_writers` threads writing to catalog and one writing through web, each
    /// about `per_second` writes a second; names start with `prefix`.
    pub fn start(
        web: &str,
        catalog: &str,
        prefix: &str,
        catalog_writers: usize,
        per_second: u32,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let outcome = Arc::new(Mutex::new(Outcome::default()));
        let client = reqwest::blocking::Client::builder()
            .timeout(REQUEST_LIMIT)
            .connect_timeout(Duration::from_secs(2))
            // A new connection per request, as many independent clients would make: an idle
            // pooled connection to a stopped container's address is a black hole (no reset
            // comes back), which would measure the client's pool, not the cluster.
            .pool_max_idle_per_host(0)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the HTTP client builds");
        let pause = Duration::from_secs(1) / per_second.max(1);
        let mut threads = Vec::new();
        for writer in 0..=catalog_writers {
            let through_web = writer == catalog_writers;
            let (stop, outcome, client) = (stop.clone(), outcome.clone(), client.clone());
            let (web, catalog, prefix) = (web.to_owned(), catalog.to_owned(), prefix.to_owned());
            threads.push(std::thread::spawn(move || {
                let mut n = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let (name, service, result) = if through_web {
                        let name = format!("{prefix}w-{n}");
                        let result = client
                            .post(format!("{web}/entries"))
                            .header("cookie", format!("csrf={TOKEN}"))
                            .form(&[
                                ("csrf_token", TOKEN),
                                ("name", &name),
                                ("description", "written through web"),
                            ])
                            .send();
                        (name, "web", result)
                    } else {
                        let name = format!("{prefix}c{writer}-{n}");
                        let result = client
                            .put(format!("{catalog}/info/{name}"))
                            .header("content-type", "application/json")
                            .body(format!(r#"{{"description":"written as {name}"}}"#))
                            .send();
                        (name, "catalog", result)
                    };
                    record(&outcome, name, service, result);
                    n += 1;
                    if let Some(rest) = pause.checked_sub(started.elapsed()) {
                        sleep(rest);
                    }
                }
            }));
        }
        Self {
            stop,
            outcome,
            threads,
        }
    }

    /// Stops the writers, waits for their last requests, and returns what they saw.
    pub fn stop(self) -> Outcome {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads {
            thread.join().expect("a load thread panicked");
        }
        let mut outcome = std::mem::take(&mut *self.outcome.lock().expect("outcome"));
        outcome.acknowledged.sort();
        outcome
    }
}

fn record(
    outcome: &Mutex<Outcome>,
    name: String,
    service: &str,
    result: reqwest::Result<reqwest::blocking::Response>,
) {
    let mut outcome = outcome.lock().expect("outcome");
    outcome.sent += 1;
    let failed_at = Some(Instant::now());
    match result {
        Ok(response) => {
            let status = response.status().as_u16();
            // Read the body: a reset in the middle of it is a failure too.
            let complete = response.bytes().is_ok();
            let acknowledged = match service {
                "web" => status == 303,
                _ => status == 200 || status == 201,
            };
            if acknowledged && complete {
                outcome.acknowledged.push(name);
            } else {
                outcome.last_failure = failed_at;
                *outcome
                    .failures
                    .entry(format!("{service} {status}"))
                    .or_default() += 1;
            }
        }
        Err(err) if err.is_connect() => {
            outcome.last_failure = failed_at;
            *outcome
                .failures
                .entry(format!("{service} cannot connect"))
                .or_default() += 1;
        }
        Err(err) if err.is_timeout() => {
            outcome.last_failure = failed_at;
            outcome.hung += 1;
            *outcome
                .failures
                .entry(format!("{service} no answer"))
                .or_default() += 1;
        }
        Err(err) => {
            outcome.last_failure = failed_at;
            let kind = if err.is_connect() {
                "cannot connect"
            } else {
                "connection lost"
            };
            *outcome
                .failures
                .entry(format!("{service} {kind}"))
                .or_default() += 1;
        }
    }
}
