//! A server running on a task of its own: what a test holds, or a program that runs several
//! services in one process. Dropping it stops the server as SIGTERM would.

use std::future::Future;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A spawned server until [`stop`](Self::stop) or drop.
pub struct Running {
    port: u16,
    metrics_port: u16,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Spawns `run`, which is given the future that completes when the server should stop.
    pub(crate) fn spawn<F, Fut>(port: u16, metrics_port: u16, run: F) -> Self
    where
        F: FnOnce(StopSignal) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(run(StopSignal(stopped)));
        Self {
            port,
            metrics_port,
            stop: Some(stop),
            task,
        }
    }

    /// The port it serves on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its metrics port.
    pub fn metrics_port(&self) -> u16 {
        self.metrics_port
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:METRICS_PORT/metrics`.
    pub fn metrics_url(&self) -> String {
        format!("http://127.0.0.1:{}/metrics", self.metrics_port)
    }

    /// Asks it to stop as SIGTERM would and waits until it has finished its requests (and,
    /// for a data service, its worker's round); the error it stopped with, if any.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match (&mut self.task).await {
            Ok(result) => result,
            Err(err) => Err(anyhow::anyhow!("the server task failed: {err}")),
        }
    }
}

/// Completes when the [`Running`] handle asks for the stop or is dropped.
pub struct StopSignal(oneshot::Receiver<()>);

impl StopSignal {
    pub async fn wait(self) {
        let _ = self.0.await;
    }
}
