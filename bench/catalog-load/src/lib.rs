//! What the load generators under bench/ share: latency samples and their figures, and how
//! they run.

pub mod stats;

use std::future::Future;
use std::process::ExitCode;

/// Runs a load generator's `run` on one thread and turns its outcome into the exit code,
/// printing the error. One thread: the generator shares the machine with the servers it
/// measures, and one core of load is what the targets assume.
pub fn run_on_one_thread(run: impl Future<Output = anyhow::Result<()>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
