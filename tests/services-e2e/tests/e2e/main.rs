//! End-to-end tests of the web app over the real catalog and activity services.

mod browser;
mod flow;
mod trace;
mod visitor;
