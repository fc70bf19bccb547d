//! A service on a thread and runtime of its own with its own JSON log, as if it ran in a
//! process (a container) of its own: a test reads what that one service logged, in the
//! format the service writes to stderr in the cluster.

use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use service_common::{telemetry, Running};
use tokio::sync::oneshot;

/// Everything one service logged so far, as JSON lines.
#[derive(Debug, Clone, Default)]
pub struct Log(Arc<Mutex<Vec<u8>>>);

impl Log {
    /// Each line parsed; a line that is not JSON fails the test, as it would a collector.
    pub fn lines(&self) -> Vec<serde_json::Value> {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        String::from_utf8(bytes)
            .expect("the log is UTF-8")
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }

    /// The raw text, for a check that something never appears in it.
    pub fn text(&self) -> String {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl io::Write for Log {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A service started by [`Separate::start`], stopped (as SIGTERM would) when dropped.
pub struct Separate {
    pub url: String,
    pub log: Log,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Separate {
    /// Runs what `build` starts on a new thread with a current-thread runtime, whose every
    /// task logs to this service's [`Log`] only.
    pub async fn start<F, Fut>(build: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Running>,
    {
        let log = Log::default();
        let (started, url) = oneshot::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let writer = log.clone();
        let thread = std::thread::spawn(move || {
            let subscriber = telemetry::json_subscriber(move || writer.clone());
            let _default = tracing::subscriber::set_default(subscriber);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let running = build().await;
                let _ = started.send(running.url());
                let _ = stopped.await;
                if let Err(err) = running.stop().await {
                    eprintln!("the service stopped with: {err:#}");
                }
            });
        });
        let url = url
            .await
            .expect("the service started (see its panic above)");
        Self {
            url,
            log,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Separate {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
