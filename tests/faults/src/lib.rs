//! The fault suite's harness: compose/app brought up under a project name of its own (torn
//! down with its volumes by `compose_tests::Project`'s drop, pass or fail), a bounded write
//! load through web and catalog that records every acknowledged write, and the final count
//! against catalog's database and activity's feed.

pub mod cluster;
pub mod load;

pub use cluster::Cluster;
pub use load::{Load, Outcome};
