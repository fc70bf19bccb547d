//! The cluster page's figures that need memory between two views: which echo replicas
//! answered the last calls, and each service's request count at the previous view, to turn
//! two counts into a rate. Shared by every view (and every browser tab) of this web.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use service_common::health::Served;

/// How many echo answers the tally remembers.
pub const ECHO_MEMORY: usize = 30;

/// The shortest time between two counts that makes a rate: closer views (two tabs) keep the
/// rate of the previous pair instead of a figure from a few milliseconds.
const MIN_RATE_WINDOW_SECS: f64 = 0.5;

#[derive(Debug, Clone, Default)]
pub struct ClusterMemory {
    inner: Arc<Mutex<Memory>>,
}

#[derive(Debug, Default)]
struct Memory {
    echo_answers: VecDeque<String>,
    counts: HashMap<&'static str, Count>,
}

#[derive(Debug, Clone)]
struct Count {
    instance: String,
    requests: u64,
    at: Instant,
    rate: Option<f64>,
}

/// One echo replica and how many of the remembered answers it gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    pub name: String,
    pub answers: usize,
}

impl ClusterMemory {
    fn lock(&self) -> std::sync::MutexGuard<'_, Memory> {
        // Nothing here is left half-updated by a panic.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Remembers the replicas that answered, forgetting the oldest beyond
    /// [`ECHO_MEMORY`]; returns the tally, most answers first.
    pub fn echo_answered(&self, names: impl IntoIterator<Item = String>) -> Vec<Replica> {
        let mut memory = self.lock();
        for name in names {
            if memory.echo_answers.len() == ECHO_MEMORY {
                memory.echo_answers.pop_front();
            }
            memory.echo_answers.push_back(name);
        }
        let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
        for name in &memory.echo_answers {
            *tally.entry(name).or_default() += 1;
        }
        let mut replicas: Vec<Replica> = tally
            .into_iter()
            .map(|(name, answers)| Replica {
                name: name.to_owned(),
                answers,
            })
            .collect();
        replicas.sort_by(|a, b| b.answers.cmp(&a.answers).then(a.name.cmp(&b.name)));
        replicas
    }

    /// Records `service`'s count at `now` and returns its requests per second since the
    /// previous count of the same instance; `None` until there are two, or when another
    /// instance (a restart, a second replica behind the name) answered.
    pub fn requests_per_second(
        &self,
        service: &'static str,
        served: &Served,
        now: Instant,
    ) -> Option<f64> {
        let mut memory = self.lock();
        let previous = memory.counts.get(service).cloned();
        let rate = match previous {
            Some(prev) if prev.instance == served.instance && served.requests >= prev.requests => {
                let window = now.saturating_duration_since(prev.at).as_secs_f64();
                if window < MIN_RATE_WINDOW_SECS {
                    // Too close to the last count: keep it, and its rate, as they are.
                    return prev.rate;
                }
                Some((served.requests - prev.requests) as f64 / window)
            }
            _ => None,
        };
        memory.counts.insert(
            service,
            Count {
                instance: served.instance.clone(),
                requests: served.requests,
                at: now,
                rate,
            },
        );
        rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn served(instance: &str, requests: u64) -> Served {
        Served {
            instance: instance.into(),
            requests,
        }
    }

    #[test]
    fn a_rate_needs_two_counts_of_one_instance() {
        let memory = ClusterMemory::default();
        let t0 = Instant::now();
        assert_eq!(
            memory.requests_per_second("catalog", &served("a", 100), t0),
            None
        );
        let t1 = t0 + Duration::from_secs(2);
        assert_eq!(
            memory.requests_per_second("catalog", &served("a", 150), t1),
            Some(25.0)
        );
        // A view 100 ms later keeps the last rate and the last count.
        let t2 = t1 + Duration::from_millis(100);
        assert_eq!(
            memory.requests_per_second("catalog", &served("a", 151), t2),
            Some(25.0)
        );
        let t3 = t1 + Duration::from_secs(1);
        assert_eq!(
            memory.requests_per_second("catalog", &served("a", 160), t3),
            Some(10.0)
        );
        // A restarted service (another instance, its count from zero) starts over.
        let t4 = t3 + Duration::from_secs(1);
        assert_eq!(
            memory.requests_per_second("catalog", &served("b", 3), t4),
            None
        );
        // Services are counted apart.
        assert_eq!(
            memory.requests_per_second("activity", &served("b", 9), t4),
            None
        );
    }

    #[test]
    fn the_echo_tally_counts_the_last_answers_only() {
        let memory = ClusterMemory::default();
        let tally = memory.echo_answered(["e1".to_owned(), "e2".to_owned(), "e1".to_owned()]);
        assert_eq!(
            tally,
            [
                Replica {
                    name: "e1".into(),
                    answers: 2
                },
                Replica {
                    name: "e2".into(),
                    answers: 1
                },
            ]
        );
        let tally = memory.echo_answered((0..ECHO_MEMORY).map(|_| "e3".to_owned()));
        assert_eq!(
            tally,
            [Replica {
                name: "e3".into(),
                answers: ECHO_MEMORY
            }]
        );
    }
}
