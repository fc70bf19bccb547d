//! compose/app under faults. Each case brings the cluster up under its own project name,
//! runs a bounded write load through web and catalog while the fault happens, then counts:
//! every acknowledged write is in catalog's database and, once activity has caught up, in
//! its feed exactly once; and no request went unanswered past its time limit (a failure
//! during the fault must be a proper error status or a refused connection).
//! Run serially (the `compose` test group in .config/nextest.toml): each case is a whole
//! cluster on a two-core machine.

mod databases;
mod migrations;
mod privileges;
mod services;

use std::thread::sleep;
use std::time::Duration;

use fault_tests::{Cluster, Load, Outcome};

/// Load the cluster for `before`, run `fault`, keep loading for `after`, stop; then count.
/// Prints the figures for docs/faults.md.
pub fn under_load(
    case: &str,
    before: Duration,
    after: Duration,
    fault: impl FnOnce(&Cluster),
) -> (Cluster, Outcome) {
    let cluster = Cluster::up();
    let prefix = format!(
        "{}-",
        case.replace(|c: char| !c.is_ascii_alphanumeric(), "")
    );
    let load = Load::start(&cluster.web, &cluster.catalog, &prefix, 2, 20);
    sleep(before);
    fault(&cluster);
    sleep(after);
    let outcome = load.stop();
    let (acknowledged, in_catalog, in_feed) = cluster.count(&prefix, &outcome.acknowledged);
    eprintln!(
        "{case}: {} writes sent, {acknowledged} acknowledged, {in_catalog} in catalog, \
         {in_feed} in activity's feed once each, {} unanswered, failures {:?}",
        outcome.sent, outcome.hung, outcome.failures
    );
    assert_eq!(
        outcome.hung, 0,
        "{case}: requests went unanswered: {:?}",
        outcome.failures
    );
    assert!(acknowledged > 0, "{case}: no write was acknowledged at all");
    (cluster, outcome)
}
