//! What the visitor agreed to decides what reaches the real collector's store, and every
//! mistake a caller can make is an error value, never a panic.

mod support;

use std::time::Duration;

use assent_sdk::{AnonymousLevel, Client, Consent, ConsentPolicy, Error, Options, Reason, Signals};
use serde_json::json;
use support::{Collector, WRITE_KEY};

fn options() -> Options {
    Options::default().flush_interval(Duration::from_millis(20))
}

fn id(receipt: &assent_sdk::Receipt) -> String {
    receipt.message_id.expect("queued").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_decides_what_reaches_the_store() {
    let collector = Collector::start(); // the project is opt-in, like the client's default
    let client = Client::new(&collector.url, WRITE_KEY, options()).unwrap();
    let yes = Consent::new()
        .id("c-yes")
        .grant("analytics")
        .source("banner")
        .decided_at(1_764_500_000_000);
    let no = Consent::new().id("c-no").deny("analytics").source("banner");
    let gone = Consent::new().id("c-gone").opted_out(true);

    let granted = client
        .track("Order Completed")
        .consent(&yes)
        .user_id("u-1")
        .context(
            "page",
            json!({"url": "https://shop.example/done?gclid=G&sku=1"}),
        )
        .send()
        .await
        .unwrap();
    let refused = client
        .track("Order Completed")
        .consent(&no)
        .user_id("u-2")
        .send()
        .await
        .unwrap();
    let without_consent = client
        .identify("u-3")
        .traits(json!({"plan": "pro"}))
        .send()
        .await;
    let opted_out = client
        .track("Order Completed")
        .consent(&gone)
        .user_id("u-4")
        .send()
        .await;
    let choice = client.consent(&gone).user_id("u-4").send().await.unwrap();
    let recorded = client
        .consent(&yes)
        .anonymous_id("a-1")
        .send()
        .await
        .unwrap();
    client.shutdown(Duration::from_secs(10)).await.unwrap();

    // Granted: the ids go, and the snapshot with its consent id; marketing was not granted,
    // so the click id does not.
    let e = collector.event(&id(&granted));
    assert_eq!(e["userId"], "u-1");
    assert_eq!(e["context"]["consent"]["id"], "c-yes");
    assert_eq!(
        e["context"]["page"]["url"],
        "https://shop.example/done?sku=1"
    );
    assert_eq!(
        granted.verdict.click_ids_removed,
        Some(Reason::MarketingNotGranted)
    );

    // Refused: sent anonymously; the collector keeps no address for it either.
    assert_eq!(
        refused.verdict.identifiers_removed,
        Some(Reason::ConsentNotGranted)
    );
    let e = collector.event(&id(&refused));
    assert_eq!(e.get("userId"), None);
    assert_eq!(e.get("ip"), None);
    assert_eq!(e["context"]["anonymous"], "server");
    assert_eq!(
        e["context"]["consent"].get("id"),
        None,
        "no id to link anonymous events"
    );

    // No consent at all: an identify is nothing but the link, so it is not sent.
    let withheld = without_consent.unwrap();
    assert_eq!(
        (withheld.message_id, withheld.verdict.withheld),
        (None, Some(Reason::ConsentNotGranted))
    );

    // Opted out: only the consent event goes, stripped to its consent id.
    assert_eq!(opted_out.unwrap().verdict.withheld, Some(Reason::OptedOut));
    let e = collector.event(&id(&choice));
    assert_eq!(e["context"]["consent"]["id"], "c-gone");
    assert_eq!(e.get("userId"), None);
    assert_eq!(e["properties"]["optOut"], true);

    // Consent events are the ledger's entries, with the identifiers consent allows.
    // Anonymous and identified events go in separate requests, so sort before comparing.
    let mut ledger: Vec<(String, Option<String>)> = {
        let db = collector.db();
        let mut q = db
            .prepare("SELECT consent_id, anonymous_id FROM consent_ledger ORDER BY id")
            .unwrap();
        q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    ledger.sort();
    assert_eq!(
        ledger,
        [
            ("c-gone".to_string(), None),
            ("c-yes".to_string(), Some("a-1".to_string()))
        ]
    );
    let e = collector.event(&id(&recorded));
    assert_eq!(e["properties"]["state"]["analytics"], "granted");
    assert_eq!(e["properties"]["source"], "banner");
    assert_eq!(collector.count("SELECT count(*) FROM events"), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_levels_and_signals_work_as_in_the_browser() {
    let collector = Collector::start_with("mode = \"opt-out\"");
    let policy = ConsentPolicy {
        mode: assent_sdk::ConsentMode::OptOut,
        ..ConsentPolicy::default()
    };
    let client = Client::new(&collector.url, WRITE_KEY, options().consent_policy(policy)).unwrap();
    let undecided = Consent::new().id("c-us");

    let identified = client
        .page()
        .name("Home")
        .consent(&undecided)
        .anonymous_id("a-1")
        .session_id(5)
        .send()
        .await
        .unwrap();
    let session = client
        .page()
        .name("Home")
        .consent(&undecided)
        .anonymous_id("a-1")
        .session_id(5)
        .anonymous(AnonymousLevel::Session)
        .send()
        .await
        .unwrap();
    let gpc = undecided.clone().signals(Signals {
        gpc: true,
        dnt: false,
    });
    let with_gpc = client
        .page()
        .consent(&gpc)
        .anonymous_id("a-1")
        .context("page", json!({"url": "https://shop.example/?fbclid=F&x=1"}))
        .send()
        .await
        .unwrap();
    client.shutdown(Duration::from_secs(10)).await.unwrap();

    let e = collector.event(&id(&identified));
    assert_eq!(
        (e["anonymousId"].as_str(), e["sessionId"].as_i64()),
        (Some("a-1"), Some(5))
    );
    assert!(
        e.get("ip").is_some(),
        "an identified request keeps its (truncated) address"
    );
    let e = collector.event(&id(&session));
    assert_eq!(
        (e.get("anonymousId"), e["sessionId"].as_i64()),
        (None, Some(5))
    );
    assert_eq!(e["context"]["anonymous"], "session");
    let e = collector.event(&id(&with_gpc));
    assert_eq!(
        e["anonymousId"], "a-1",
        "GPC denies marketing, not analytics"
    );
    assert_eq!(e["context"]["page"]["url"], "https://shop.example/?x=1");
}

#[tokio::test(flavor = "current_thread")]
async fn every_mistake_is_an_error_naming_what_to_fix() {
    let endpoint_errors = [
        ("", "pk"),
        ("ftp://h.example", "pk"),
        ("http://h.example", ""),
        ("http://h.example", "pk\n"),
    ];
    for (endpoint, key) in endpoint_errors {
        let err = Client::new(endpoint, key, Options::default())
            .err()
            .expect("refused");
        assert!(
            matches!(err, Error::Endpoint { .. } | Error::WriteKey { .. }),
            "{err}"
        );
    }
    let err = Client::new(
        "http://127.0.0.1:9",
        "pk",
        Options::default().queue_capacity(0),
    );
    assert_eq!(
        err.err().unwrap().to_string(),
        "option `queue_capacity` must be at least 1 (got 0)"
    );

    let client = Client::new("http://127.0.0.1:9", "pk", Options::default()).unwrap();
    let consent = Consent::new().id("c").grant("analytics");
    let cases: Vec<(Result<assent_sdk::Receipt, Error>, &str)> = vec![
        (
            client.track("").consent(&consent).try_send(),
            "`event` is required for this call",
        ),
        (
            client.track("E").properties(json!([1, 2])).try_send(),
            "`properties` must be a JSON object (got an array)",
        ),
        (
            client.identify("u").traits(json!("pro")).try_send(),
            "`traits` must be a JSON object (got a string)",
        ),
        (
            client.identify("x".repeat(300)).consent(&consent).try_send(),
            "`userId` is longer than 256 characters",
        ),
        (
            client.consent(&Consent::new().grant("analytics")).try_send(),
            "`consent.id` is required for a consent call: it is the record's key in the consent ledger",
        ),
        (
            client.alias("u-2").consent(&consent).try_send(),
            "`previousId` is required for this call",
        ),
        (
            client.track("Big").property("blob", "x".repeat(40_000)).try_send(),
            "",
        ),
    ];
    for (result, message) in cases {
        let err = result.expect_err(message);
        if message.is_empty() {
            assert!(
                matches!(err, Error::TooLarge { limit: 32_768, .. }),
                "{err}"
            );
        } else {
            assert_eq!(err.to_string(), message);
        }
    }
    assert_eq!(client.stats().queued, 0, "nothing was queued");
}

#[test]
fn a_client_needs_a_tokio_runtime() {
    let err = Client::new("http://127.0.0.1:9", "pk", Options::default()).err();
    assert_eq!(err, Some(Error::NoRuntime));
}
