//! The `dbtool` binary: parse the command line, run one command, map errors to exit codes.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use dbtool::cli::{Cli, Command};
use dbtool::error::{exit, Error};
use dbtool::execute::Safety;
use dbtool::plan::RollbackTarget;
use dbtool::progress::Progress;
use dbtool::repair::RepairTarget;
use dbtool::up::UpOptions;
use dbtool::{baseline, check, new, repair, rollback, status, up, wait, Context};

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
    if let Command::Lint { json, rules, from } = &cli.command {
        return lint(&global.migrations, *json, *rules, *from);
    }
    let url = global.database_url.as_deref().ok_or_else(|| {
        Error::BadUrl("no database given: pass --database-url or set DATABASE_URL".into())
    })?;
    let ctx = Context {
        wait: Duration::from_secs(global.wait),
        wait_for_lock: Duration::from_secs(global.lock_timeout.unwrap_or(global.wait_for_lock)),
        history: global.history_table.unwrap_or_default(),
        safety: Safety {
            lock_timeout: global.pg_lock_timeout,
            statement_timeout: global.pg_statement_timeout,
        },
        progress: Progress::stderr(),
        ..Context::new(url, &global.migrations)?
    };
    match cli.command {
        Command::Up {
            to,
            dry_run,
            out_of_order,
        } => up::up_with(
            &ctx,
            UpOptions {
                target: to,
                dry_run,
                out_of_order,
            },
        )
        .await
        .map(drop),
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
        Command::Repair { version, all } => {
            let target = match version {
                Some(version) if !all => RepairTarget::Version(version),
                _ => RepairTarget::AllChanged,
            };
            repair::repair(&ctx, target).await.map(drop)
        }
        Command::Baseline { version } => baseline::baseline(&ctx, version).await.map(drop),
        Command::Check {
            scratch_url,
            keep,
            require_down,
        } => {
            let options = check::CheckOptions {
                scratch_url,
                keep,
                require_down,
            };
            let report = check::check(&ctx, url, &options).await?;
            for line in report.lines() {
                println!("{line}");
            }
            let failures = report.failures();
            if failures.is_empty() {
                ctx.progress
                    .line(&format!("{} migration(s) checked", report.checked.len()));
                Ok(())
            } else {
                Err(Error::RoundTripFailed(failures))
            }
        }
        Command::New { .. } | Command::Lint { .. } => Ok(()),
    }
}

/// `dbtool lint`: findings to stdout (lines or JSON), a summary to stderr.
fn lint(
    migrations: &std::path::Path,
    json: bool,
    rules: bool,
    from: Option<i32>,
) -> Result<(), Error> {
    if rules {
        print!("{}", dbtool::lint::rules_text());
        return Ok(());
    }
    let report = dbtool::lint::lint(migrations, from)?;
    if json {
        let text = serde_json::to_string(&report.findings)
            .map_err(|e| Error::InvalidArgument(e.to_string()))?;
        println!("{text}");
    } else {
        for finding in &report.findings {
            println!("{finding}");
        }
    }
    let (errors, warnings) = (report.errors(), report.warnings());
    if errors > 0 {
        return Err(Error::LintFindings { errors, warnings });
    }
    eprintln!(
        "lint: {} file(s), no problems{}",
        report.files,
        if warnings > 0 {
            format!(", {warnings} warning(s)")
        } else {
            String::new()
        }
    );
    Ok(())
}
