//! cluster-load: a mixed, fixed-rate load through web and catalog (see `mix.rs` for the
//! mix), printing requests per second and latency percentiles per endpoint and overall.
//!
//! Open loop: one request every 1/rate s whatever the answers do, each timed from when it
//! was due, so a stall shows in the percentiles (no coordinated omission). Before measuring
//! it writes the entries the load reads, and warms up for one second.
//!
//!   cluster-load --web http://127.0.0.1:8080 --catalog http://127.0.0.1:8081 --rate 500
//!
//! With `--seconds 0` it runs until SIGTERM or Ctrl-C, printing the figures of every
//! `--report-every` seconds: compose/app's `load` profile runs it so at a gentle rate, to
//! give Prometheus and the logs traffic to show.

mod mix;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::mix::{Endpoint, Targets};
use catalog_load::stats::Samples;

/// Mixed load through web and catalog (bench/cluster-load.sh runs it against compose/app).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// web's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    web: String,
    /// catalog's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8081")]
    catalog: String,
    /// Requests per second, all endpoints together.
    #[arg(long, default_value_t = 500)]
    rate: u32,
    /// How long to measure, in seconds (after a one-second warm-up); 0: until stopped.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// With `--seconds 0`: print the figures of each period of this many seconds.
    #[arg(long, default_value_t = 10)]
    report_every: u64,
    /// Per-request time limit in milliseconds; a request over it counts as failed.
    #[arg(long, default_value_t = 5000)]
    timeout_ms: u64,
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn main() -> ExitCode {
    catalog_load::run_on_one_thread(run(Args::parse()))
}

async fn run(args: Args) -> anyhow::Result<()> {
    if args.rate == 0 {
        bail!("--rate must be at least 1");
    }
    let targets = Targets {
        web: args.web.trim_end_matches('/').to_owned(),
        catalog: args.catalog.trim_end_matches('/').to_owned(),
    };
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: HttpClient = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(256)
        .build(connector);
    let timeout = Duration::from_millis(args.timeout_ms);

    // The entries the reads ask for, so a read is a hit and not a 404.
    for n in 0..mix::ENTRIES {
        let uri: Uri = format!("{}/info/{}", targets.catalog, mix::entry_name(n))
            .parse()
            .context("the catalog URL")?;
        let status = send(
            &client,
            Method::PUT,
            uri,
            br#"{"description":"load"}"#.to_vec(),
            timeout,
        )
        .await
        .with_context(|| format!("cannot write to {}", targets.catalog))?;
        if !(200..300).contains(&status) {
            bail!("{} answered {status} to a write", targets.catalog);
        }
    }
    let status = send(
        &client,
        Method::GET,
        format!("{}/", targets.web).parse()?,
        Vec::new(),
        timeout,
    )
    .await
    .with_context(|| format!("cannot reach web at {}", targets.web))?;
    if status != 200 {
        bail!("{} answered {status}", targets.web);
    }

    fixed_rate(
        &client,
        &targets,
        args.rate,
        Duration::from_secs(1),
        timeout,
    )
    .await?;
    if args.seconds == 0 {
        return until_stopped(&client, &targets, &args, timeout).await;
    }
    let (overall, per_endpoint) = fixed_rate(
        &client,
        &targets,
        args.rate,
        Duration::from_secs(args.seconds),
        timeout,
    )
    .await?;
    println!(
        "{}",
        overall.report(&format!("all, fixed rate {}/s", args.rate))
    );
    for (endpoint, samples) in Endpoint::ALL.iter().zip(per_endpoint) {
        println!("{}", samples.report(endpoint.label()));
    }
    Ok(())
}

/// Rounds of `--report-every` seconds at the fixed rate, one line of figures after each,
/// until SIGTERM (what `docker stop` sends) or Ctrl-C; a round in progress is abandoned.
async fn until_stopped(
    client: &HttpClient,
    targets: &Targets,
    args: &Args,
    timeout: Duration,
) -> anyhow::Result<()> {
    if args.report_every == 0 {
        bail!("--report-every must be at least 1");
    }
    let round = Duration::from_secs(args.report_every);
    let label = format!("last {} s, fixed rate {}/s", args.report_every, args.rate);
    let rounds = async {
        loop {
            let (overall, _) = fixed_rate(client, targets, args.rate, round, timeout).await?;
            println!("{}", overall.report(&label));
        }
    };
    tokio::select! {
        result = rounds => result,
        () = stopped() => Ok(()),
    }
}

/// Completes on SIGTERM or SIGINT.
async fn stopped() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// One request: its status, after reading the whole body, or an error on failure or timeout.
async fn send(
    client: &HttpClient,
    method: Method,
    uri: Uri,
    body: Vec<u8>,
    timeout: Duration,
) -> anyhow::Result<u16> {
    let mut request = Request::builder().method(method).uri(uri);
    if !body.is_empty() {
        request = request.header("content-type", "application/json");
    }
    let request = request.body(Full::new(Bytes::from(body)))?;
    let exchange = async {
        let response = client.request(request).await?;
        let status = response.status().as_u16();
        response.into_body().collect().await?;
        anyhow::Ok(status)
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .context("timed out")?
}

/// `rate` requests per second for `length`, each on its own task, latency from its due time.
async fn fixed_rate(
    client: &HttpClient,
    targets: &Targets,
    rate: u32,
    length: Duration,
    timeout: Duration,
) -> anyhow::Result<(Samples, Vec<Samples>)> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let period = Duration::from_secs(1) / rate;
    let total = u64::from(rate) * length.as_secs();
    let started = Instant::now();
    for i in 0..total {
        let due = started + period * u32::try_from(i).unwrap_or(u32::MAX);
        tokio::time::sleep_until(due.into()).await;
        let (endpoint, method, uri, body) = mix::request(targets, i)?;
        let (client, tx) = (client.clone(), tx.clone());
        tokio::spawn(async move {
            let status = send(&client, method, uri, body, timeout).await;
            let ok = matches!(status, Ok(200..=299));
            let _ = tx.send((endpoint, due.elapsed(), ok));
        });
    }
    drop(tx);
    let mut overall = Samples::default();
    // In the order of `Endpoint::ALL`.
    let mut per_endpoint: Vec<Samples> = Endpoint::ALL.iter().map(|_| Samples::default()).collect();
    while let Some((endpoint, latency, ok)) = rx.recv().await {
        overall.record(latency, ok);
        let index = Endpoint::ALL
            .iter()
            .position(|e| *e == endpoint)
            .unwrap_or(0);
        per_endpoint[index].record(latency, ok);
    }
    overall.elapsed = started.elapsed();
    for samples in &mut per_endpoint {
        samples.elapsed = overall.elapsed;
    }
    Ok((overall, per_endpoint))
}
