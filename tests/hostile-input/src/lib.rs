//! Support for the hostile-input suite: each service of the cluster started for real on a
//! free loopback port (the same `build` its binary runs, on the harness's PostgreSQL and
//! Redis), and a raw HTTP/1.1 client that sends exactly the bytes a test chooses, at the
//! pace it chooses.

pub mod raw;
pub mod services;

pub use raw::{exchange, Answer, Trickle};
pub use services::Running;
