//! The dashboard's statistics agree exactly with brute-force SQL over the same stored events:
//! visitors, visits, pageviews, bounces, durations, a funnel, consent shares and choices, with
//! and without filters, over closed partitions (digests kept in the partition) and live ones,
//! and again after a deletion.

use std::sync::Arc;

use assent_core::{EventType, StoredEvent};
use assent_store::deletion::DeletionRequest;
use assent_store::stats::{Dimension, Filter, FunnelStep, Interval, StatsQuery};
use assent_store::{SqliteStore, Store, StoreOptions};
use rusqlite::Connection;
use serde_json::json;

const DAY: i64 = 86_400_000;
const MINUTE: i64 = 60_000;
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";
const PATHS: [&str; 5] = ["/", "/products", "/products/mug", "/cart", "/checkout"];
const EVENTS: [&str; 3] = ["Product Added", "Checkout Started", "Order Completed"];

/// A small deterministic generator (the test must not depend on luck).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Allowed analytics: an anonymousId (and their first events of the day before consent
    /// carry only the hash).
    Consented,
    /// The cookieless hash only.
    HashOnly,
    /// Anonymous requests: no hash, no id; some send a refusal.
    Anonymous,
}

struct Maker {
    rng: Lcg,
    n: u64,
    events: Vec<StoredEvent>,
}

impl Maker {
    #[allow(clippy::too_many_arguments)]
    fn event(
        &mut self,
        kind: EventType,
        name: Option<&str>,
        ts: i64,
        anonymous_id: Option<String>,
        hash: Option<String>,
        ua: &str,
        consent: serde_json::Value,
        path: &str,
        gpc: bool,
    ) {
        self.n += 1;
        let mut payload = json!({
            "context": {"page": {"path": path, "referrer": "https://www.google.com/", "search": "?utm_campaign=winter",
                                  "url": format!("https://shop.test{path}")},
                        "userAgent": ua, "consent": consent},
            "country": if self.n.is_multiple_of(3) { "FR" } else { "DE" },
        });
        if kind == EventType::Track {
            payload["properties"] =
                json!({"plan": if self.n.is_multiple_of(2) { "a" } else { "b" }});
        }
        if gpc {
            payload["privacySignals"] = json!({"gpc": true});
        }
        if kind == EventType::Consent && consent["optOut"] == json!(true) {
            payload["properties"] = json!({"optOut": true});
        }
        self.events.push(StoredEvent {
            message_id: format!("m{}", self.n),
            kind,
            name: name.map(str::to_string),
            anonymous_id: anonymous_id.clone(),
            user_id: None,
            group_id: None,
            previous_id: None,
            session_id: anonymous_id.as_ref().map(|_| ts / DAY),
            sequence: None,
            timestamp_ms: ts,
            original_timestamp_ms: Some(ts),
            sent_at_ms: None,
            received_at_ms: ts + 30,
            ip: None,
            visitor_hash: hash.map(Into::into),
            consent: None,
            payload: payload.to_string(),
        });
    }

    /// A day of 40 visitors, each with one to three visits of one to six events.
    fn day(&mut self, day_start: i64, day_number: u64) {
        for v in 0..40u64 {
            let kind = match self.rng.below(20) {
                0..=9 => Kind::Consented,
                10..=16 => Kind::HashOnly,
                _ => Kind::Anonymous,
            };
            let ua = [FIREFOX, CHROME, SAFARI][self.rng.below(3) as usize];
            let hash = format!("{:032x}", day_number * 1000 + v);
            let anonymous_id = format!("a-{}", v % 30);
            let analytics = if kind == Kind::Consented {
                "granted"
            } else if self.rng.below(2) == 0 {
                "denied"
            } else {
                "pending"
            };
            let decided = analytics != "pending";
            let gpc = self.rng.below(5) == 0;
            let mut ts = day_start
                + (1 + self.rng.below(20) as i64) * 60 * MINUTE
                + self.rng.below(50) as i64 * MINUTE;
            for visit in 0..=self.rng.below(3) {
                for e in 0..=self.rng.below(6) {
                    // Before consent, the first event of a consented visitor's day carries
                    // only the hash.
                    let id = (kind == Kind::Consented && (visit, e) != (0, 0))
                        .then(|| anonymous_id.clone());
                    let h = (kind != Kind::Anonymous).then(|| hash.clone());
                    let consent = json!({"state": {"necessary": "granted", "analytics": analytics, "marketing": "denied"}, "decided": decided});
                    let path = PATHS[self.rng.below(5) as usize];
                    if self.rng.below(3) == 0 {
                        let name = EVENTS[self.rng.below(3) as usize];
                        self.event(
                            EventType::Track,
                            Some(name),
                            ts,
                            id,
                            h,
                            ua,
                            consent,
                            path,
                            gpc,
                        );
                    } else {
                        self.event(EventType::Page, None, ts, id, h, ua, consent, path, gpc);
                    }
                    if (visit, e) == (0, 0) && kind != Kind::HashOnly {
                        // The choice: identified for a grant, anonymous for a refusal.
                        let (id, h, marketing) = match kind {
                            Kind::Consented => (
                                Some(anonymous_id.clone()),
                                Some(hash.clone()),
                                if v.is_multiple_of(2) {
                                    "granted"
                                } else {
                                    "denied"
                                },
                            ),
                            _ => (None, None, "denied"),
                        };
                        let state = if kind == Kind::Consented {
                            "granted"
                        } else {
                            "denied"
                        };
                        let mut c = json!({"state": {"necessary": "granted", "analytics": state, "marketing": marketing}, "decided": true, "source": "banner", "revision": "7"});
                        if v.is_multiple_of(13) && kind == Kind::Anonymous {
                            c["optOut"] = json!(true);
                        }
                        self.event(EventType::Consent, None, ts + 1, id, h, ua, c, path, gpc);
                    }
                    ts += (1 + self.rng.below(29) as i64) * MINUTE + self.rng.below(59_000) as i64;
                }
                ts += 31 * MINUTE + self.rng.below(60) as i64 * MINUTE;
            }
        }
        // A server-side tracker: one hash (the backend's), two visitors' ids.
        for (i, id) in ["server-a", "server-b"].into_iter().enumerate() {
            let ts = day_start + 12 * 60 * MINUTE + i as i64 * MINUTE;
            self.event(
                EventType::Track,
                Some("Order Completed"),
                ts,
                Some(id.into()),
                Some("backend".into()),
                "",
                json!(null),
                "/",
                false,
            );
        }
    }
}

/// The brute-force truth: visits made with window functions over every stored event.
const VISITS_SQL: &str = "
CREATE TEMP TABLE ev AS
SELECT id, type, event, timestamp AS ts, received_at / 86400000 AS pday,
       coalesce(anonymous_id, user_id) AS stable, visitor_hash AS hash,
       json_extract(payload, '$.context.page.path') AS path,
       json_extract(payload, '$.context.userAgent') AS ua,
       json_extract(payload, '$.context.consent.state.analytics') AS analytics,
       json_extract(payload, '$.context.consent') IS NOT NULL AS has_consent,
       json_extract(payload, '$.context.consent.decided') AS decided,
       anonymous_id IS NULL AND user_id IS NULL AND group_id IS NULL AND session_id IS NULL AS no_ids
FROM events WHERE project = 'shop';
CREATE TEMP TABLE hashmap AS
SELECT pday, hash, min(stable) AS stable FROM ev WHERE hash IS NOT NULL AND stable IS NOT NULL
GROUP BY pday, hash HAVING count(DISTINCT stable) = 1;
CREATE TEMP TABLE keyed AS
SELECT ev.*, CASE WHEN ev.stable IS NOT NULL THEN 's:' || ev.stable
                  WHEN ev.hash IS NOT NULL THEN coalesce('s:' || hm.stable, 'h:' || ev.hash) END AS vkey
FROM ev LEFT JOIN hashmap hm ON hm.pday = ev.pday AND hm.hash = ev.hash;
CREATE TEMP TABLE visit_events AS
SELECT *, CASE WHEN vkey IS NULL THEN 'anon:' || id
               ELSE pday || '/' || vkey || '/' || sum(new_visit) OVER (PARTITION BY pday, vkey ORDER BY ts, id ROWS UNBOUNDED PRECEDING) END AS visit,
       row_number() OVER (PARTITION BY pday, vkey ORDER BY ts, id) AS pos
FROM (SELECT *, CASE WHEN ts - lag(ts) OVER w <= 1800000 THEN 0 ELSE 1 END AS new_visit
      FROM keyed WINDOW w AS (PARTITION BY pday, vkey ORDER BY ts, id));
CREATE TEMP TABLE visits AS
SELECT visit, pday, vkey, min(ts) AS start, max(ts) - min(ts) AS duration,
       vkey IS NOT NULL AND sum(type != 'consent') > 0 AS traffic,
       sum(stable IS NOT NULL) > 0 AS consented,
       sum(type IN ('page', 'track')) < 2 AS bounce
FROM visit_events GROUP BY visit;
";

struct Truth {
    visitors: u64,
    visits: u64,
    pageviews: u64,
    events: u64,
    bounces: u64,
    duration_ms: u64,
}

fn truth(conn: &Connection, from: i64, to: i64, visit_filter: &str, page: Option<&str>) -> Truth {
    let page_cond = page.map_or("1".to_string(), |p| format!("e.path = '{p}'"));
    let q = |sql: &str| -> u64 {
        conn.query_row(sql, [], |r| r.get::<_, Option<i64>>(0))
            .unwrap()
            .unwrap_or(0) as u64
    };
    let kept = format!(
        "SELECT * FROM visits v WHERE v.start >= {from} AND v.start < {to} AND ({visit_filter})"
    );
    Truth {
        visitors: q(&format!("SELECT count(DISTINCT pday || vkey) FROM ({kept}) WHERE traffic")),
        visits: q(&format!("SELECT count(*) FROM ({kept}) WHERE traffic")),
        pageviews: q(&format!(
            "SELECT count(*) FROM visit_events e JOIN ({kept}) v USING (visit) WHERE e.type = 'page' AND {page_cond}"
        )),
        events: q(&format!("SELECT count(*) FROM visit_events e JOIN ({kept}) v USING (visit) WHERE e.type = 'track'")),
        bounces: q(&format!("SELECT count(*) FROM ({kept}) WHERE traffic AND bounce")),
        duration_ms: q(&format!("SELECT sum(duration) FROM ({kept}) WHERE traffic")),
    }
}

/// The visit's browser is its first event's with a user agent.
fn first_ua_is(ua: &str) -> String {
    format!("(SELECT e.ua FROM visit_events e WHERE e.visit = v.visit AND e.ua != '' ORDER BY e.ts, e.id LIMIT 1) = '{ua}'")
}

fn sql(dir: &std::path::Path) -> Connection {
    let conn = Connection::open(dir.join("events.db")).unwrap();
    assent_store::partition::attach_all(&conn, dir).unwrap();
    conn.execute_batch(VISITS_SQL).unwrap();
    conn
}

async fn check_traffic(store: &SqliteStore, conn: &Connection, from: i64, to: i64) {
    let cases: Vec<(Vec<Filter>, String, Option<&str>)> = vec![
        (vec![], "1".into(), None),
        (vec![Filter { dimension: Dimension::Browser, value: "Firefox".into() }], first_ua_is(FIREFOX), None),
        (
            vec![Filter { dimension: Dimension::Page, value: "/cart".into() }],
            "EXISTS (SELECT 1 FROM visit_events e WHERE e.visit = v.visit AND e.type = 'page' AND e.path = '/cart')".into(),
            Some("/cart"),
        ),
    ];
    for (filters, visit_filter, page) in cases {
        let query = StatsQuery {
            filters: filters.clone(),
            ..StatsQuery::new("shop", from, to)
        };
        let got = store
            .stats_traffic(query, Interval::Day)
            .await
            .unwrap()
            .totals;
        let want = truth(conn, from, to, &visit_filter, page);
        let label = format!("{filters:?} over [{from}, {to})");
        assert_eq!(got.visitors, want.visitors, "visitors, {label}");
        assert_eq!(got.visits, want.visits, "visits, {label}");
        assert_eq!(got.pageviews, want.pageviews, "pageviews, {label}");
        if page.is_none() {
            assert_eq!(got.events, want.events, "events, {label}");
        }
        assert_eq!(got.bounces, want.bounces, "bounces, {label}");
        assert_eq!(got.duration_ms, want.duration_ms, "duration, {label}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_statistic_matches_a_brute_force_sql_count() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let today = now / DAY * DAY;
    let mut maker = Maker {
        rng: Lcg(7),
        n: 0,
        events: Vec::new(),
    };
    // Two closed days, then yesterday and the last hours (live, read as they grow).
    for ago in [4, 3, 1] {
        maker.day(today - ago * DAY, ago as u64);
    }
    maker.day(now - 26 * 60 * MINUTE, 0);
    maker.events.retain(|e| e.received_at_ms < now);
    let total = maker.events.len();
    for chunk in maker.events.chunks(500) {
        store
            .append(Arc::from("shop"), chunk.to_vec())
            .unwrap()
            .await
            .unwrap();
    }
    assert!(
        store.build_closed_statistics().unwrap() >= 2,
        "the closed days get their digests"
    );
    let conn = sql(dir.path());
    let count: i64 = conn
        .query_row("SELECT count(*) FROM ev", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count as usize, total);

    let (from, to) = (today - 5 * DAY, today + DAY);
    check_traffic(&store, &conn, from, to).await;
    // A period that cuts days in the middle.
    check_traffic(
        &store,
        &conn,
        today - 4 * DAY + 7 * 3_600_000,
        today - DAY + 13 * 3_600_000,
    )
    .await;

    // The series adds up to the totals, bucket by bucket.
    let traffic = store
        .stats_traffic(StatsQuery::new("shop", from, to), Interval::Day)
        .await
        .unwrap();
    let days_visitors: u64 = traffic.series.iter().map(|p| p.value.visitors).sum();
    assert_eq!(
        days_visitors, traffic.totals.visitors,
        "visitors are per day, summed"
    );

    // Top pages: views per path.
    let pages = store
        .stats_top(StatsQuery::new("shop", from, to), Dimension::Page, 100)
        .await
        .unwrap();
    for row in &pages.rows {
        let want: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM visit_events e JOIN visits v USING (visit) WHERE v.start >= {from} AND v.start < {to} AND e.type = 'page' AND e.path = ?1"),
                [&row.value],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(row.pageviews, want as u64, "views of {}", row.value);
    }

    // A funnel: consented visits, in order, within the visit.
    let steps = vec![
        FunnelStep::Page("/".into()),
        FunnelStep::Page("/cart".into()),
        FunnelStep::Event("Order Completed".into()),
    ];
    let funnel = store
        .stats_funnel(StatsQuery::new("shop", from, to), steps)
        .await
        .unwrap();
    let reached = |n: usize| -> u64 {
        let step = |i: usize, after: &str| {
            match i {
            0 => format!("(SELECT min(pos) FROM visit_events s WHERE s.visit = v.visit AND s.type = 'page' AND s.path = '/' AND s.pos > {after})"),
            1 => format!("(SELECT min(pos) FROM visit_events s WHERE s.visit = v.visit AND s.type = 'page' AND s.path = '/cart' AND s.pos > {after})"),
            _ => format!("(SELECT min(pos) FROM visit_events s WHERE s.visit = v.visit AND s.type = 'track' AND s.event = 'Order Completed' AND s.pos > {after})"),
        }
        };
        let mut at = "0".to_string();
        for i in 0..n {
            at = step(i, &at);
        }
        conn.query_row(
            &format!("SELECT count(*) FROM visits v WHERE v.traffic AND v.consented AND v.start >= {from} AND v.start < {to} AND {at} IS NOT NULL"),
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as u64
    };
    for (i, step) in funnel.steps.iter().enumerate() {
        assert_eq!(step.visits, reached(i + 1), "funnel step {}", i + 1);
    }
    assert!(
        funnel.steps[0].visits > funnel.steps[2].visits,
        "the funnel narrows: {funnel:?}"
    );

    // Consent: visitors by their latest analytics state of the day, and the choices.
    let consent = store
        .stats_consent(StatsQuery::new("shop", from, to), Interval::Day)
        .await
        .unwrap();
    let analytics = consent
        .categories
        .iter()
        .find(|c| c.category == "analytics")
        .unwrap();
    let state_counts: Vec<(String, i64)> = {
        let mut q = conn
            .prepare(&format!(
                "WITH latest AS (
                   SELECT e.pday, e.vkey, e.has_consent, e.analytics, e.decided,
                          row_number() OVER (PARTITION BY e.pday, e.vkey ORDER BY e.has_consent DESC, v.start DESC, e.ts DESC, e.id DESC) AS r
                   FROM visit_events e JOIN visits v USING (visit)
                   WHERE v.start >= {from} AND v.start < {to} AND e.vkey IS NOT NULL
                     AND (e.pday, e.vkey) IN (SELECT pday, vkey FROM visits WHERE traffic AND start >= {from} AND start < {to}))
                 SELECT CASE WHEN NOT has_consent THEN 'unknown' WHEN decided = 0 THEN 'not_answered'
                             WHEN analytics IN ('granted', 'denied') THEN analytics ELSE 'not_answered' END, count(*)
                 FROM latest WHERE r = 1 GROUP BY 1"
            ))
            .unwrap();
        let rows = q.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        rows.map(Result::unwrap).collect()
    };
    let state = |name: &str| {
        state_counts
            .iter()
            .find(|(s, _)| s == name)
            .map_or(0, |(_, n)| *n as u64)
    };
    assert_eq!(analytics.granted, state("granted"), "{state_counts:?}");
    assert_eq!(analytics.denied, state("denied"), "{state_counts:?}");
    assert_eq!(
        analytics.not_answered,
        state("not_answered"),
        "{state_counts:?}"
    );
    assert_eq!(analytics.unknown, state("unknown"), "{state_counts:?}");
    assert_eq!(consent.visitors, traffic.totals.visitors);
    let choices = |cond: &str| -> u64 {
        conn.query_row(
            &format!("SELECT count(*) FROM visit_events e JOIN visits v USING (visit) WHERE e.type = 'consent' AND v.start >= {from} AND v.start < {to} AND ({cond})"),
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as u64
    };
    assert_eq!(consent.choices.total, choices("1"));
    assert_eq!(
        consent.choices.opt_outs,
        choices(
            "e.id IN (SELECT id FROM events WHERE json_extract(payload, '$.properties.optOut'))"
        )
    );
    assert!(consent.choices.opt_outs > 0);
    let in_period = |cond: &str| -> u64 {
        let sql = format!("SELECT count(*) FROM visit_events e JOIN visits v USING (visit) WHERE ({cond}) AND v.start >= {from} AND v.start < {to}");
        conn.query_row(&sql, [], |r| r.get::<_, i64>(0)).unwrap() as u64
    };
    assert_eq!(consent.events, in_period("1"));
    assert_eq!(consent.events_without_identifiers, in_period("e.no_ids"));

    // A deletion in a closed day: the statistics follow the store exactly again.
    store
        .accept_deletion(DeletionRequest {
            job_id: "j1".into(),
            project: "shop".into(),
            id: "a-1".into(),
            actor: "test".into(),
        })
        .await
        .unwrap();
    store.run_deletion("j1".into()).await.unwrap();
    let conn = sql(dir.path());
    let left: i64 = conn
        .query_row("SELECT count(*) FROM ev WHERE stable = 'a-1'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(left, 0);
    check_traffic(&store, &conn, from, to).await;
    store.close();
}
