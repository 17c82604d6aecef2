//! Segment's HTTP Tracking API, as `analytics.js` (`@segment/analytics-next`) speaks it.
//!
//! The body of every Segment call is already Assent's native event (both follow the Segment
//! Spec), so [`decode::single`](super::single) and [`decode::batch`](super::batch) read it as is.
//! What differs is only the path: analytics.js posts each event to a one-letter path
//! (`/v1/t`, `/v1/p`, …) and batches to `/v1/b` or `/b`.

use crate::EventType;

/// The event type a Segment path names, by its one-letter or full name.
///
/// ```
/// use assent_core::{decode::segment, EventType};
/// assert_eq!(segment::event_type("t"), Some(EventType::Track));
/// assert_eq!(segment::event_type("screen"), Some(EventType::Screen));
/// // `consent` is Assent's own and has no Segment path.
/// assert_eq!(segment::event_type("c"), None);
/// ```
pub fn event_type(path: &str) -> Option<EventType> {
    Some(match path {
        "t" | "track" => EventType::Track,
        "p" | "page" => EventType::Page,
        "s" | "screen" => EventType::Screen,
        "i" | "identify" => EventType::Identify,
        "g" | "group" => EventType::Group,
        "a" | "alias" => EventType::Alias,
        _ => return None,
    })
}

/// The one-letter paths analytics.js posts single events to.
pub const SHORT_PATHS: [&str; 6] = ["t", "p", "s", "i", "g", "a"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{decode, Limits};

    #[test]
    fn every_short_path_names_the_type_of_its_long_path() {
        for short in SHORT_PATHS {
            let kind = event_type(short).unwrap();
            assert_eq!(event_type(kind.as_str()), Some(kind));
            assert!(kind.as_str().starts_with(short));
        }
        assert_eq!(event_type("consent"), None);
        assert_eq!(event_type(""), None);
    }

    /// What analytics-next 1.84 puts on the wire for `analytics.track(...)` while nobody is
    /// identified: `userId` is `null`, and fields Assent has no use for ride along.
    #[test]
    fn an_analytics_next_track_body_decodes_as_a_native_event() {
        let body = br#"{"timestamp":"2026-11-22T10:00:00.000Z","integrations":{},"type":"track",
            "event":"Clicked","properties":{"plan":"pro"},"context":{"page":{"path":"/"},
            "userAgent":"Mozilla/5.0","locale":"en-US","library":{"name":"analytics.js","version":"next-1.84.3"}},
            "messageId":"ajs-next-1764-abc","anonymousId":"a-1","writeKey":"pk_demo","userId":null,
            "sentAt":"2026-11-22T10:00:01.000Z","_metadata":{"bundled":["Segment.io"],"unbundled":[],"bundledIds":[]}}"#;
        let batch = decode::single(body, EventType::Track, &Limits::default()).unwrap();
        assert_eq!(batch.write_key.as_deref(), Some("pk_demo"));
        let ev = batch.events[0].as_ref().unwrap();
        assert_eq!(ev.message_id, "ajs-next-1764-abc");
        assert_eq!(ev.anonymous_id.as_deref(), Some("a-1"));
        assert_eq!(ev.user_id, None);
        assert_eq!(ev.event.as_deref(), Some("Clicked"));
        assert_eq!(ev.properties.as_ref().unwrap().get(), r#"{"plan":"pro"}"#);
    }

    /// The batching dispatcher's body for `/b`: one `sentAt` and `writeKey` for all.
    #[test]
    fn an_analytics_next_batch_body_decodes_as_a_native_batch() {
        let body = br#"{"writeKey":"pk_demo","sentAt":"2026-11-22T10:00:01.000Z","batch":[
            {"type":"page","name":null,"category":null,"properties":{"url":"http://shop.test/"},"messageId":"m-1","anonymousId":"a-1","userId":null},
            {"type":"identify","traits":{"plan":"pro"},"messageId":"m-2","anonymousId":"a-1","userId":"u-1"},
            {"type":"alias","previousId":"a-1","userId":"u-1","messageId":"m-3"}]}"#;
        let batch = decode::batch(body, &Limits::default()).unwrap();
        assert_eq!(batch.write_key.as_deref(), Some("pk_demo"));
        let kinds: Vec<_> = batch
            .events
            .iter()
            .map(|e| e.as_ref().unwrap().kind)
            .collect();
        assert_eq!(
            kinds,
            [EventType::Page, EventType::Identify, EventType::Alias]
        );
        assert!(batch.events[0].as_ref().unwrap().sent_at.is_some());
    }
}
