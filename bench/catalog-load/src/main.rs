//! catalog-load: drives GET requests at one URL and prints what it measured.
//!
//! Two modes:
//! - peak (default): `--connections` clients each send a request as soon as the previous
//!   answer arrived, for `--seconds`; prints requests per second.
//! - fixed rate (`--rate N`): one request every 1/N s whatever the answers do (an open loop),
//!   and each latency is counted from when the request was due, not when it was sent, so a
//!   stall shows in the percentiles instead of hiding (no coordinated omission).
//!
//! Either way it prints the count, the non-200 answers, requests per second and the 50th,
//! 90th, 99th and 99.9th percentile and maximum latency.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Parser;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::Uri;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::sync::Mutex;

use catalog_load::stats::Samples;

/// Load generator for the catalog benchmark (bench/catalog.sh).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The URL to GET (plain http).
    url: String,
    /// Concurrent connections in peak mode.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Requests per second to send in fixed-rate mode; peak mode when not given.
    #[arg(long)]
    rate: Option<u32>,
    /// How long to measure, in seconds (after a one-second warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

fn main() -> ExitCode {
    catalog_load::run_on_one_thread(run(Args::parse()))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let uri: Uri = args.url.parse().context("the URL")?;
    if uri.scheme_str() != Some("http") {
        bail!("only http:// URLs are supported");
    }
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: HttpClient = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(args.connections.max(64))
        .build(connector);

    // Check once that the URL answers 200 before measuring anything.
    let (status, _) = get(&client, &uri).await?;
    if status != 200 {
        bail!("{} answered {status}, not 200", args.url);
    }

    let measure = Duration::from_secs(args.seconds);
    let samples = match args.rate {
        None => {
            peak(&client, &uri, args.connections, Duration::from_secs(1)).await;
            peak(&client, &uri, args.connections, measure).await
        }
        Some(0) => bail!("--rate must be at least 1"),
        Some(rate) => {
            fixed_rate(&client, &uri, rate, Duration::from_secs(1)).await;
            let (from_due, from_sent) = fixed_rate(&client, &uri, rate, measure).await;
            println!("{}", from_due.report(&format!("fixed rate {rate}/s")));
            // The same requests timed from when they were actually sent: the difference
            // from the line above is time the load generator itself was late.
            println!(
                "{}",
                from_sent.report(&format!("fixed rate {rate}/s, timed from sending"))
            );
            return Ok(());
        }
    };
    println!(
        "{}",
        samples.report(&format!("peak, {} connections", args.connections))
    );
    Ok(())
}

/// One GET: the status and the body length.
async fn get(client: &HttpClient, uri: &Uri) -> anyhow::Result<(u16, usize)> {
    let response = client.get(uri.clone()).await?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, body.len()))
}

/// `connections` loops, each sending its next request when the last one answered.
async fn peak(client: &HttpClient, uri: &Uri, connections: usize, length: Duration) -> Samples {
    let samples = Arc::new(Mutex::new(Samples::default()));
    let started = Instant::now();
    let deadline = started + length;
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (client, uri, samples) = (client.clone(), uri.clone(), samples.clone());
        tasks.push(tokio::spawn(async move {
            let mut mine = Samples::default();
            while Instant::now() < deadline {
                let sent = Instant::now();
                let ok = matches!(get(&client, &uri).await, Ok((200, _)));
                mine.record(sent.elapsed(), ok);
            }
            samples.lock().await.merge(mine);
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let mut samples =
        Arc::try_unwrap(samples).map_or_else(|_| Samples::default(), Mutex::into_inner);
    samples.elapsed = started.elapsed();
    samples
}

/// One request every 1/rate s, each on its own task. Returns the latencies counted from each
/// request's due time, and counted from when it was sent.
async fn fixed_rate(
    client: &HttpClient,
    uri: &Uri,
    rate: u32,
    length: Duration,
) -> (Samples, Samples) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let period = Duration::from_secs(1) / rate;
    let total = u64::from(rate) * length.as_secs();
    let started = Instant::now();
    for i in 0..total {
        let due = started + period * u32::try_from(i).unwrap_or(u32::MAX);
        tokio::time::sleep_until(due.into()).await;
        let (client, uri, tx) = (client.clone(), uri.clone(), tx.clone());
        tokio::spawn(async move {
            let sent = Instant::now();
            let ok = matches!(get(&client, &uri).await, Ok((200, _)));
            let _ = tx.send((due.elapsed(), sent.elapsed(), ok));
        });
    }
    drop(tx);
    let (mut from_due, mut from_sent) = (Samples::default(), Samples::default());
    while let Some((since_due, since_sent, ok)) = rx.recv().await {
        from_due.record(since_due, ok);
        from_sent.record(since_sent, ok);
    }
    from_due.elapsed = started.elapsed();
    from_sent.elapsed = from_due.elapsed;
    (from_due, from_sent)
}
