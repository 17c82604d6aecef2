//! When to try a failed request again: exponential backoff with full jitter, or what the
//! collector asked for.

use std::time::Duration;

/// A random wait between zero and `base · 2^attempt`, capped at `max` ("full jitter"), so
/// that many clients that failed together do not all come back together.
pub(crate) fn delay(attempt: u32, base: Duration, max: Duration) -> Duration {
    let cap = base
        .saturating_mul(2u32.saturating_pow(attempt.min(30)))
        .min(max);
    cap.mul_f64(fastrand::f64())
}

/// `Retry-After` as a wait: delay-seconds or an HTTP date; `None` when absent or unreadable.
pub(crate) fn retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    Some(at.duration_since(now).try_into().unwrap_or(Duration::ZERO))
}

/// Answers that mean "send the same batch again later".
pub(crate) fn is_retryable(status: u16) -> bool {
    status == 408 || status == 429 || status >= 500
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_grows_with_each_attempt_up_to_the_cap_and_is_random_below_it() {
        let (base, max) = (Duration::from_millis(100), Duration::from_secs(2));
        for attempt in 0..40 {
            let cap = (base * 2u32.pow(attempt.min(10))).min(max);
            for _ in 0..50 {
                assert!(delay(attempt, base, max) <= cap);
            }
        }
        let waits: Vec<Duration> = (0..50).map(|_| delay(5, base, max)).collect();
        assert!(waits.iter().any(|w| *w != waits[0]), "jittered");
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now: jiff::Timestamp = "2026-11-30T10:00:00Z".parse().unwrap();
        assert_eq!(retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            retry_after("Mon, 30 Nov 2026 10:00:07 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after("Mon, 30 Nov 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn network_trouble_and_overload_are_retried_mistakes_are_not() {
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable(status), "{status}");
        }
        for status in [400, 401, 403, 404, 413] {
            assert!(!is_retryable(status), "{status}");
        }
    }
}
