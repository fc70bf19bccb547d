//! The `dbtool` binary: parse the command line, run one command, map errors to exit codes.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use dbtool::cli::{Cli, Command};
use dbtool::error::{exit, Error};
use dbtool::plan::RollbackTarget;
use dbtool::progress::Progress;
use dbtool::{new, repair, rollback, status, up, wait, Context};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // One thread is plenty for one connection, and keeps the process small.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(exit::CONFIG);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

async fn run(cli: Cli) -> Result<(), Error> {
    let global = cli.global;
    if let Command::New { name } = &cli.command {
        let (up, down) = new::new_migration(&global.migrations, name)?;
        println!("{}\n{}", up.display(), down.display());
        return Ok(());
    }
    let url = global.database_url.as_deref().ok_or_else(|| {
        Error::BadUrl("no database given: pass --database-url or set DATABASE_URL".into())
    })?;
    let ctx = Context {
        wait: Duration::from_secs(global.wait),
        lock_timeout: Duration::from_secs(global.lock_timeout),
        progress: Progress::stderr(),
        ..Context::new(url, &global.migrations)?
    };
    match cli.command {
        Command::Up { to, dry_run } => up::up(&ctx, to, dry_run).await.map(drop),
        Command::Rollback { count, to, dry_run } => {
            let target = match (count, to) {
                (_, Some(version)) => RollbackTarget::ToVersion(version),
                (count, None) => RollbackTarget::Count(count.unwrap_or(1) as usize),
            };
            rollback::rollback(&ctx, target, dry_run).await.map(drop)
        }
        Command::Status { json } => {
            let rows = status::status(&ctx).await?;
            if json {
                let text = serde_json::to_string(&rows)
                    .map_err(|e| Error::InvalidArgument(e.to_string()))?;
                println!("{text}");
            } else {
                print!("{}", status::table(&rows));
            }
            Ok(())
        }
        Command::Verify => {
            let checked = status::verify(&ctx).await?;
            ctx.progress
                .line(&format!("{checked} applied migration(s) match their files"));
            Ok(())
        }
        Command::Wait { timeout } => {
            let timeout = Duration::from_secs(timeout.unwrap_or(global.wait));
            wait::wait(&ctx, timeout).await
        }
        Command::Repair { version } => repair::repair(&ctx, version).await.map(drop),
        Command::New { .. } => Ok(()),
    }
}
