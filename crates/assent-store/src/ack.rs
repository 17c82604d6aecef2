use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::oneshot;

use crate::StoreError;

/// Resolves when the store has made a write durable (or failed to).
///
/// If the writer disappears without answering (it panicked, or the process is shutting down
/// uncleanly) the ack resolves to [`StoreError::Closed`]: the client is told to retry rather
/// than being told its data is safe.
#[must_use = "an append is only durable once its Ack resolves"]
pub struct Ack<T>(oneshot::Receiver<Result<T, StoreError>>);

impl<T> Ack<T> {
    /// A pending ack and the sender that resolves it; for engines behind the store seam.
    pub fn channel() -> (oneshot::Sender<Result<T, StoreError>>, Ack<T>) {
        let (tx, rx) = oneshot::channel();
        (tx, Ack(rx))
    }
}

impl<T> Future for Ack<T> {
    type Output = Result<T, StoreError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|answer| answer.unwrap_or(Err(StoreError::Closed)))
    }
}
