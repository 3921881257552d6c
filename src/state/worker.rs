//! Async work from the synchronous [`Backend`](super::Backend) trait. The trait is called both
//! from plain code and from inside the engine's async runtime (state is saved after every
//! resource), and a runtime must never be entered from another: so requests run on a worker
//! thread that owns its own current-thread runtime, and callers block on a channel, as they
//! would on a file write.

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;

type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A thread running one future at a time; it ends when the `Worker` drops.
pub struct Worker {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Worker")
    }
}

impl Worker {
    /// Starts the thread (`name` shows in debuggers and panics).
    pub fn start(name: &str) -> Result<Worker, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the {name} runtime: {e}"))?;
        let (jobs, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    rt.block_on(job);
                }
            })
            .map_err(|e| format!("cannot start the {name} thread: {e}"))?;
        Ok(Worker { jobs })
    }

    /// Runs `fut` on the worker and waits for its output; `None` when the thread is gone.
    pub fn run<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = mpsc::sync_channel(1);
        let job: Job = Box::pin(async move {
            let _ = tx.send(fut.await);
        });
        self.jobs.send(job).ok()?;
        rx.recv().ok()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs_futures_from_inside_another_runtime() {
        let w = super::Worker::start("test-worker").unwrap();
        assert_eq!(w.run(async { 2 + 2 }), Some(4));
        let rt = tokio::runtime::Runtime::new().unwrap();
        let inside = rt.block_on(async { w.run(async { "ok" }) });
        assert_eq!(inside, Some("ok"));
    }
}
