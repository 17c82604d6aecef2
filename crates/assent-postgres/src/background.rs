//! A tokio runtime of the store's own, shut down without waiting when dropped: it may be
//! dropped from async code (a collector closing its store), where a plain runtime's drop
//! would panic.

/// Owns a runtime; see the module's documentation.
pub struct BackgroundRuntime(Option<tokio::runtime::Runtime>);

impl BackgroundRuntime {
    /// A multi-threaded runtime of `threads` workers named `name`.
    pub fn new(name: &str, threads: usize) -> std::io::Result<BackgroundRuntime> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name(name)
            .enable_all()
            .build()
            .map(|runtime| BackgroundRuntime(Some(runtime)))
    }

    pub fn handle(&self) -> tokio::runtime::Handle {
        self.runtime().handle().clone()
    }

    /// Runs `work` to its end from a thread of its own: the caller may itself be on a
    /// runtime's thread (a collector opens its store from async code), where blocking on
    /// another runtime is not allowed.
    pub fn block_on<F>(&self, work: F) -> F::Output
    where
        F: std::future::Future + Send,
        F::Output: Send,
    {
        let runtime = self.runtime();
        std::thread::scope(|s| {
            s.spawn(|| runtime.block_on(work))
                .join()
                .expect("the blocking thread does not panic")
        })
    }

    /// Stops the runtime's tasks now; safe to call more than once.
    pub fn shut_down(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.0
            .as_ref()
            .expect("the runtime is used before it is shut down")
    }
}

impl Drop for BackgroundRuntime {
    fn drop(&mut self) {
        self.shut_down();
    }
}
