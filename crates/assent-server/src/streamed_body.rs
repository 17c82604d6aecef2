//! A response body written by blocking code (SQLite reads, inflating replay chunks) as it goes,
//! so that memory stays flat whatever the size of what is sent.
//!
//! The writer runs on the blocking pool and hands chunks to the body through a small channel;
//! when the client reads slowly, the writer waits. The body ends cleanly only when the writer
//! returned `Ok`: an error, or a panic, ends it with an error instead, which cuts the HTTP
//! response short (no final chunk). A client then sees a failed download, never a document
//! that looks complete but is not.

use std::io::Write;

use axum::body::Body;
use bytes::Bytes;
use tokio::sync::mpsc;

/// Bytes gathered before a chunk is sent to the client.
const CHUNK: usize = 64 * 1024;

/// A body produced by `write`, run on the blocking pool. `done` is called with the outcome
/// once `write` has returned (not when the client has read everything).
pub fn streamed<T, E>(
    write: impl FnOnce(&mut dyn Write) -> Result<T, E> + Send + 'static,
    done: impl FnOnce(Result<T, E>) + Send + 'static,
) -> Body
where
    T: Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let (chunks, body) = mpsc::channel::<std::io::Result<Bytes>>(4);
    let (finished, finished_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::task::spawn_blocking(move || {
        let mut out = std::io::BufWriter::with_capacity(CHUNK, ChannelWriter(chunks.clone()));
        let written = write(&mut out);
        // A tail that cannot be sent means the client left: there is no one left to tell.
        let delivered = written.is_ok() && out.flush().is_ok();
        drop(out);
        match &written {
            Ok(_) if delivered => {
                let _ = finished.send(());
            }
            Ok(_) => tracing::debug!("the client left before the end of a streamed answer"),
            Err(e) => {
                tracing::error!(error = %e, "a streamed answer failed part way; it is cut short");
                let _ = chunks.blocking_send(Err(std::io::Error::other(e.to_string())));
            }
        }
        done(written);
    });
    let stream = futures_util::stream::unfold(
        (body, Some(finished_rx)),
        |(mut body, finished)| async move {
            if let Some(chunk) = body.recv().await {
                return Some((chunk, (body, finished)));
            }
            // The writer is gone, by returning or by panicking: only its signal makes this a
            // clean end of the body.
            match finished?.await {
                Ok(()) => None,
                Err(_) => Some((
                    Err(std::io::Error::other(
                        "the answer could not be written to its end",
                    )),
                    (body, None),
                )),
            }
        },
    );
    Body::from_stream(stream)
}

/// A `Write` whose bytes become body chunks of at most [`CHUNK`] bytes; it blocks while the
/// client is slow to read. A large write is sent in pieces, so the channel never holds more
/// than a few chunks, whatever size the writer hands over at once.
struct ChannelWriter(mpsc::Sender<std::io::Result<Bytes>>);

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let piece = &buf[..buf.len().min(CHUNK)];
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(piece)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client left"))?;
        Ok(piece.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
