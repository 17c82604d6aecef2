//! The visitor read from cookies the real browser tracker wrote, in Debian's Chromium against
//! the real collector, is the visitor the browser recorded: same consent, same ids, same
//! session; and an event the backend sends for them joins the browser's in the store.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use assent_sdk::{
    CategoryState, Client, ConsentPolicy, Options, Revision, Signals, Visitor, VisitorReader,
};
use serde_json::Value;
use support::{Collector, WRITE_KEY};

const REVISION: i64 = 3;

fn repo_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Runs `tests/browser/tracker-cookies.mjs`: what the browser recorded in each scenario.
fn record_in_chromium(collector: &Collector) -> Value {
    let root = repo_root();
    let bundle = root.join("sdk/browser/dist/assent.min.js");
    assert!(
        bundle.exists(),
        "the tracker is not built at {}: run `npm ci && npm run build` (scripts/setup does)",
        bundle.display()
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/tracker-cookies.mjs");
    let output = Command::new("node")
        .arg(script)
        .args([collector.url.as_str(), WRITE_KEY, &REVISION.to_string()])
        .current_dir(root)
        .output()
        .expect("node runs (Node 20 and `npm ci` for playwright-core, /usr/bin/chromium)");
    assert!(
        output.status.success(),
        "the browser run failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the script prints JSON")
}

fn reader(revision: i64) -> VisitorReader {
    VisitorReader::new(
        WRITE_KEY,
        ConsentPolicy {
            revision: Revision::Number(revision),
            ..ConsentPolicy::default()
        },
    )
}

fn read(recorded: &Value, revision: i64) -> Visitor {
    let header = recorded["cookieHeader"].as_str().unwrap();
    reader(revision).read(header, Signals::default())
}

/// The consent the tracker reports (`getConsent()`) is the one read from its cookies.
fn assert_same_consent(scenario: &str, visitor: &Visitor, recorded: &Value) {
    let browser = &recorded["consent"];
    let consent = &visitor.consent;
    assert_eq!(
        consent.consent_id(),
        browser["id"].as_str(),
        "{scenario}: consent id"
    );
    for (category, state) in browser["state"].as_object().unwrap() {
        assert_eq!(
            consent.state(category).as_str(),
            state.as_str().unwrap(),
            "{scenario}: {category}"
        );
    }
    assert_eq!(
        consent.get_source(),
        browser["source"].as_str(),
        "{scenario}: source"
    );
    assert_eq!(
        consent.is_opted_out(),
        recorded["optedOut"].as_bool().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_visitor_read_from_real_tracker_cookies_is_the_one_the_browser_recorded() {
    let collector = Collector::start();
    let recorded = record_in_chromium(&collector);

    // Granted: consent, ids and session, exactly as the tracker has them.
    let granted = &recorded["granted"];
    let visitor = read(granted, REVISION);
    assert_same_consent("granted", &visitor, granted);
    assert_eq!(
        visitor.consent.decided_at_ms(),
        granted["consent"]["timestamp"].as_i64(),
        "when the choice was made"
    );
    assert_eq!(visitor.consent.state("analytics"), CategoryState::Granted);
    let anonymous_id = granted["anonymousId"]
        .as_str()
        .expect("the browser has an id");
    assert_eq!(visitor.anonymous_id.as_deref(), Some(anonymous_id));
    assert_eq!(visitor.user_id.as_deref(), Some("user-7"));
    assert_eq!(visitor.group_id.as_deref(), granted["groupId"].as_str());
    let browser_event = collector.count(&format!(
        "SELECT count(*) FROM events WHERE event = 'Browser Viewed' AND anonymous_id = '{anonymous_id}'"
    ));
    assert_eq!(browser_event, 1, "the browser's event is stored");
    let browser_session: i64 = collector
        .db()
        .query_row(
            "SELECT session_id FROM events WHERE anonymous_id = ?1 AND event = 'Browser Viewed'",
            [anonymous_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(visitor.session.map(|s| s.id), Some(browser_session));

    // Under a newer policy revision the same cookies are a choice not made: no ids.
    let revised = read(granted, REVISION + 1);
    assert_eq!(revised.consent.state("analytics"), CategoryState::Pending);
    assert_eq!((revised.anonymous_id, revised.user_id), (None, None));

    // Denied: the choice, and no identifier (the tracker stored none).
    let denied = &recorded["denied"];
    let visitor = read(denied, REVISION);
    assert_same_consent("denied", &visitor, denied);
    assert_eq!(visitor.consent.state("analytics"), CategoryState::Denied);
    assert_eq!(
        (visitor.anonymous_id.as_deref(), visitor.user_id.as_deref()),
        (None, None)
    );
    assert!(!denied["cookieHeader"].as_str().unwrap().contains("_aid="));

    // Opted out: the marker. (Its time is when the page, or the reader, saw the marker, so
    // only the rest is compared.)
    let opted_out = &recorded["optedOut"];
    let visitor = read(opted_out, REVISION);
    assert_same_consent("optedOut", &visitor, opted_out);
    assert!(visitor.consent.is_opted_out());
    assert_eq!(visitor.anonymous_id, None);

    // The backend tracks for the granted visitor: the event joins the browser's.
    let client = Client::new(&collector.url, WRITE_KEY, Options::default()).unwrap();
    let visitor = read(granted, REVISION);
    let receipt = client
        .track("Server Confirmed")
        .visitor(&visitor)
        .send()
        .await
        .unwrap();
    let refused = client
        .track("Server Confirmed")
        .visitor(&read(denied, REVISION))
        .send()
        .await
        .unwrap();
    client.shutdown(Duration::from_secs(10)).await.unwrap();
    let stored = collector.event(&receipt.message_id.unwrap().to_string());
    assert_eq!(stored["anonymousId"], anonymous_id);
    assert_eq!(stored["userId"], "user-7");
    assert_eq!(stored["sessionId"].as_i64(), Some(browser_session));
    assert_eq!(stored["context"]["consent"]["id"], granted["consent"]["id"]);
    let stored = collector.event(&refused.message_id.unwrap().to_string());
    assert_eq!(
        (stored.get("anonymousId"), stored.get("userId")),
        (None, None)
    );
}
