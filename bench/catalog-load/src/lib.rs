//! What the load generators under bench/ share: latency samples and their figures.

pub mod stats;
