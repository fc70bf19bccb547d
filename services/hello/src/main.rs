//! `hello`: answers `hello world` (or its upstream's body) on `PORT`, default 1401.

use std::process::ExitCode;

use anyhow::Context;
use service_common::{telemetry, Env};

#[tokio::main]
async fn main() -> ExitCode {
    service_common::exit_code(run().await)
}

async fn run() -> anyhow::Result<()> {
    let config = hello::Config::from_env(&Env::process()).context("bad configuration")?;
    telemetry::init(config.log_format);
    let app = hello::build(&config).await?;
    app.run_until_stopped().await.context("server failed")
}
