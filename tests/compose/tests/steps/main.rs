//! End-to-end tests of the `compose/` steps, one module per group of steps. Each test brings
//! its step up for real under its own project name and tears it down when it ends.

mod app;
mod databases;
mod files;
mod observability;
mod platforms;
mod tutorial;
