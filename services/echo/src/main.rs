//! `echo --port N`: answers the host name it runs on.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use service_common::{telemetry, Env};

#[tokio::main]
async fn main() -> ExitCode {
    // clap prints its own usage errors and exits with code 2.
    let cli = echo::Cli::parse();
    service_common::exit_code(run(cli).await)
}

async fn run(cli: echo::Cli) -> anyhow::Result<()> {
    let config = echo::Config::new(&cli, &Env::process()).context("bad configuration")?;
    telemetry::init(config.log_format);
    let app = echo::build(&config).await?;
    app.run_until_stopped().await.context("server failed")
}
