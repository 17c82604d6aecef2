//! The browser tracker's stored format, as a `Cookie` header shows it. Everything about that
//! format is here, so that a change to it changes one module.
//!
//! The tracker (`sdk/browser/src/device-store.ts`, `cookies.ts`) keeps each value under
//! `ast_<write key>_<name>`, the write key with every character other than letters, digits,
//! `_` and `-` made `_`, the value written with `encodeURIComponent`. Cookies hold the small
//! values only (traits and the queue live in localStorage). Two layouts exist, and both are
//! read:
//!
//! | name | value |
//! |---|---|
//! | `consent` | JSON `{v, id, state, revision, source, timestamp}`: the visitor's choice (`v`, the format, from format 2 on) |
//! | `optout` | the consent id: the visitor opted out |
//! | `id` | format 2: JSON `{v, aid, uid, gid, session}`, the ids and the session in one record |
//! | `aid`, `uid`, `gid` | format 1: anonymousId, userId, groupId, as text |
//! | `session` | format 1: JSON `{id, last, seq}`: session start, last event (ms), events counted |
//!
//! As in the tracker, an `id` record wins over format 1 keys (which it migrates). Fields a
//! later format adds are ignored.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::consent::CategoryState;

/// `ast_<write key>_`, as the tracker scopes its keys.
pub(crate) fn prefix(write_key: &str) -> String {
    let key: String = write_key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("ast_{key}_")
}

/// What the tracker left in the cookies, read but not judged.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Stored {
    pub consent: Option<StoredConsent>,
    /// Present when the visitor opted out; holds the consent id.
    pub opt_out: Option<String>,
    pub anonymous_id: Option<String>,
    pub user_id: Option<String>,
    pub group_id: Option<String>,
    pub session: Option<StoredSession>,
}

/// The `consent` record, when it has what the tracker requires to restore it: an id and a
/// state object.
#[derive(Debug, PartialEq)]
pub(crate) struct StoredConsent {
    pub id: String,
    pub states: Vec<(String, CategoryState)>,
    pub revision: Value,
    pub source: Option<String>,
    pub timestamp_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoredSession {
    pub id: i64,
    pub last: i64,
    pub seq: i64,
}

/// Reads the tracker's cookies for `prefix` from a `Cookie` header. Like the tracker, the
/// last cookie of a name wins.
pub(crate) fn read(header: &str, prefix: &str) -> Stored {
    let mut stored = Stored::default();
    let mut record = None;
    for pair in header.split(';') {
        let pair = pair.trim_start();
        let Some((name, raw)) = pair.split_once('=') else {
            continue;
        };
        let Some(key) = name.strip_prefix(prefix) else {
            continue;
        };
        let value = decode(raw.trim_end());
        match key {
            "consent" => stored.consent = consent(&value),
            "optout" => stored.opt_out = Some(value),
            "id" => record = serde_json::from_str::<IdRecord>(&value).ok(),
            "aid" => stored.anonymous_id = non_empty(value),
            "uid" => stored.user_id = non_empty(value),
            "gid" => stored.group_id = non_empty(value),
            "session" => stored.session = session(&value),
            _ => {}
        }
    }
    if let Some(record) = record {
        stored.anonymous_id = record.aid.and_then(non_empty);
        stored.user_id = record.uid.and_then(non_empty);
        stored.group_id = record.gid.and_then(non_empty);
        stored.session = record.session.as_ref().and_then(session_of);
    }
    stored
}

/// Format 2's `id` record. Fields of the wrong type make it unreadable, as if absent.
#[derive(Deserialize)]
struct IdRecord {
    aid: Option<String>,
    uid: Option<String>,
    gid: Option<String>,
    session: Option<Value>,
}

/// `decodeURIComponent`, which keeps the raw text when it cannot decode it.
fn decode(raw: &str) -> String {
    match percent_encoding::percent_decode_str(raw).decode_utf8() {
        Ok(text) => text.into_owned(),
        Err(_) => raw.to_string(),
    }
}

fn non_empty(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

fn consent(json: &str) -> Option<StoredConsent> {
    #[derive(Deserialize)]
    struct Record {
        id: Option<Value>,
        state: Option<Map<String, Value>>,
        #[serde(default)]
        revision: Value,
        source: Option<String>,
        timestamp: Option<Value>,
    }
    let record: Record = serde_json::from_str(json).ok()?;
    let id = match record.id? {
        Value::String(s) if !s.is_empty() => s,
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let states = record
        .state?
        .into_iter()
        .map(|(category, value)| {
            let state = match value.as_str() {
                Some("granted") => CategoryState::Granted,
                Some("pending") => CategoryState::Pending,
                // The tracker allows a category only when it is "granted" (or "pending" under
                // opt-out); any other value allows nothing.
                _ => CategoryState::Denied,
            };
            (category, state)
        })
        .collect();
    Some(StoredConsent {
        id,
        states,
        revision: record.revision,
        source: record.source,
        timestamp_ms: record.timestamp.as_ref().and_then(whole_number),
    })
}

fn session(json: &str) -> Option<StoredSession> {
    session_of(&serde_json::from_str(json).ok()?)
}

fn session_of(value: &Value) -> Option<StoredSession> {
    let number = |field| value.get(field).and_then(whole_number);
    Some(StoredSession {
        id: number("id")?,
        last: number("last")?,
        seq: number("seq")?,
    })
}

/// A JavaScript number that is a whole number of milliseconds.
fn whole_number(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        let f = value.as_f64()?;
        (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_is_the_tracker_s() {
        assert_eq!(prefix("pk_demo"), "ast_pk_demo_");
        assert_eq!(prefix("pk.live:é-1"), "ast_pk_live__-1_");
    }

    #[test]
    fn cookies_are_read_as_the_tracker_wrote_them() {
        let record = r#"{"id":"c-1","state":{"necessary":"granted","analytics":"granted","marketing":"denied","x":"maybe"},"revision":1,"source":"banner","timestamp":1764500000000}"#;
        let header = format!(
            "other=1; ast_pk_demo_consent={}; ast_pk_demo_aid=a-1; ast_pk_other_aid=zzz; \
             ast_pk_demo_session=%7B%22id%22%3A1764500000000%2C%22last%22%3A1764500001000%2C%22seq%22%3A3%7D",
            percent_encoding::utf8_percent_encode(record, percent_encoding::NON_ALPHANUMERIC)
        );
        let stored = read(&header, "ast_pk_demo_");
        let consent = stored.consent.unwrap();
        assert_eq!(consent.id, "c-1");
        assert_eq!(consent.revision, Value::from(1));
        assert_eq!(consent.timestamp_ms, Some(1_764_500_000_000));
        assert!(consent
            .states
            .contains(&("marketing".into(), CategoryState::Denied)));
        assert!(consent
            .states
            .contains(&("x".into(), CategoryState::Denied)));
        assert_eq!(stored.anonymous_id.as_deref(), Some("a-1"));
        assert_eq!(
            stored.session,
            Some(StoredSession {
                id: 1_764_500_000_000,
                last: 1_764_500_001_000,
                seq: 3
            })
        );
    }

    #[test]
    fn format_2_keeps_the_ids_and_the_session_in_one_record_which_wins_over_format_1() {
        let record = r#"{"v":2,"aid":"a-2","uid":"u-2","session":{"id":1764500000000,"last":1764500005000,"seq":9}}"#;
        let encoded =
            percent_encoding::utf8_percent_encode(record, percent_encoding::NON_ALPHANUMERIC);
        let stored = read(&format!("ast_k_aid=a-1; ast_k_id={encoded}"), "ast_k_");
        assert_eq!(stored.anonymous_id.as_deref(), Some("a-2"));
        assert_eq!(stored.user_id.as_deref(), Some("u-2"));
        assert_eq!(stored.group_id, None);
        assert_eq!(stored.session.map(|s| s.seq), Some(9));
        let unreadable = read("ast_k_aid=a-1; ast_k_id=%7B%22aid%22%3A7%7D", "ast_k_");
        assert_eq!(
            unreadable.anonymous_id.as_deref(),
            Some("a-1"),
            "format 1 then stands"
        );
    }

    #[test]
    fn a_version_field_or_any_other_addition_is_ignored() {
        let header = r#"ast_k_consent={"v":2,"id":"c","state":{"analytics":"granted"},"revision":"r","timestamp":5,"extra":[1]}"#;
        let consent = read(header, "ast_k_").consent.unwrap();
        assert_eq!(consent.id, "c");
        assert_eq!(consent.revision, Value::from("r"));
    }

    #[test]
    fn garbage_is_no_record_never_a_panic() {
        for header in [
            "",
            ";;;",
            "ast_k_consent",
            "ast_k_consent=",
            "ast_k_consent=%7B",
            "ast_k_consent={\"id\":\"\",\"state\":{}}",
            "ast_k_consent={\"id\":\"c\",\"state\":null}",
            "ast_k_consent=[1,2]",
            "ast_k_session={\"id\":\"x\",\"last\":1,\"seq\":1}",
            "ast_k_aid=%FF%FE",
            "ast_k_aid=",
        ] {
            let stored = read(header, "ast_k_");
            assert_eq!(stored.consent, None, "{header}");
            assert_eq!(stored.session, None, "{header}");
        }
        assert_eq!(
            read("ast_k_aid=%FF", "ast_k_").anonymous_id.as_deref(),
            Some("%FF")
        );
    }

    #[test]
    fn any_header_at_all_is_read_without_a_panic() {
        let pieces = [
            "ast_k_",
            "consent=",
            "id=",
            "aid=",
            "session=",
            "optout=",
            ";",
            " ",
            "=",
            "%",
            "%7B",
            "%22",
            "%FF",
            "{",
            "}",
            "\"",
            ":",
            ",",
            "[",
            "]",
            "v",
            "2",
            "-1",
            "1e400",
            "null",
            "\"state\"",
            "\"id\"",
            "\"session\"",
            "é",
            "\u{0}",
        ];
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..20_000 {
            let header: String = (0..rng.usize(0..40))
                .map(|_| pieces[rng.usize(..pieces.len())])
                .collect();
            let _ = read(&header, "ast_k_");
        }
    }

    #[test]
    fn the_last_cookie_of_a_name_wins_as_in_the_tracker() {
        let stored = read("ast_k_aid=first; ast_k_aid=second", "ast_k_");
        assert_eq!(stored.anonymous_id.as_deref(), Some("second"));
    }
}
