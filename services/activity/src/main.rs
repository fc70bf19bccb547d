//! The `activity` binary: read the environment, start, serve until SIGTERM or SIGINT.
//!
//! Exit codes: 0 after a clean shutdown, 1 on a configuration or start-up error.

use std::process::ExitCode;

use activity::Config;
use service_common::{telemetry, Env};

#[tokio::main]
async fn main() -> ExitCode {
    service_common::exit_code(run().await)
}

async fn run() -> anyhow::Result<()> {
    let config = Config::from_env(&Env::process())?;
    telemetry::init(config.log_format);
    let app = activity::build(config).await?;
    app.run_until_stopped().await
}
