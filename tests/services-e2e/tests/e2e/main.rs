//! End-to-end tests of the web app over the real catalog and activity services.

mod browser;
mod chromium;
mod cluster_page;
mod flow;
mod trace;
mod visitor;
