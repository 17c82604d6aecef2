/// Size limits, enforced before anything is parsed deeply. The defaults are the documented
/// ones (README, "Sending events"); a request over a limit gets `413` with a JSON body naming the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// One event, as it appears on the wire.
    pub event_bytes: usize,
    /// The `batch` array of one request.
    pub batch_bytes: usize,
    /// A whole request body.
    pub body_bytes: usize,
    /// Identifiers (`messageId`, `userId`, …): longer ones are rejected, not truncated, so two
    /// different ids can never collide after storage.
    pub id_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            event_bytes: 32 * 1024,
            batch_bytes: 500 * 1024,
            body_bytes: 1024 * 1024,
            id_chars: 256,
        }
    }
}
