//! Beyond one machine, with real servers this test starts and stops itself: a PostgreSQL
//! cluster, a 3-node JetStream cluster, two `assent serve` collectors publishing to the stream
//! and two `assent sink` workers draining it into PostgreSQL.
//!
//! Each fault is injected under load, and the test counts, in PostgreSQL, that every event
//! a collector acknowledged is stored — once. The load is what a tracker does: a batch that
//! gets no `200` (refused, timed out, its collector gone) is sent again, unchanged, to the
//! other collector, until one acknowledges it.

mod support;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assent_testbed::{NatsCluster, Postgres};
use serde_json::json;
use support::Collector;

/// `assent sink --config FILE`, running until dropped or killed.
struct Sink(Child);

impl Sink {
    fn start(config: &Path) -> Sink {
        let mut child = support::assent()
            .args(["sink", "--config"])
            .arg(config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("the assent binary starts");
        let started = BufReader::new(child.stdout.take().unwrap())
            .lines()
            .map_while(Result::ok)
            .any(|l| l.starts_with("assent sink draining"));
        assert!(started, "the sink starts");
        Sink(child)
    }

    fn kill_9(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.kill_9();
    }
}

/// With an ingest log, or collectors writing to PostgreSQL themselves.
#[derive(Clone, Copy, PartialEq)]
enum Ingest {
    ThroughNats,
    Direct,
}

/// Everything a scaled-out deployment runs, on this machine.
///
/// Fields drop in order: the collectors and sinks stop before the servers they use.
struct Deployment {
    collectors: Vec<Collector>,
    sinks: Vec<Sink>,
    pg: Postgres,
    /// The JetStream cluster, with [`Ingest::ThroughNats`].
    nats: Option<NatsCluster>,
    config: PathBuf,
    _dir: tempfile::TempDir,
}

impl Deployment {
    fn start(ingest: Ingest) -> Deployment {
        let pg = Postgres::start();
        let url = pg.new_database("assent");
        let nats = (ingest == Ingest::ThroughNats).then(|| NatsCluster::start(3));
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("assent.toml");
        let queue = match &nats {
            Some(nats) => {
                let servers: Vec<String> = nats.urls().iter().map(|u| format!("{u:?}")).collect();
                format!(
                    "[queue]\nbackend = \"nats\"\nservers = [{}]\nreplicas = 3\nack_wait_seconds = 5\nbatch = 200\n",
                    servers.join(", ")
                )
            }
            None => String::new(),
        };
        let projects: String = [
            "kill-collector",
            "kill-nats",
            "postgres-away",
            "kill-sink",
            "privacy",
            "direct",
        ]
            .iter()
            .map(|p| {
                format!(
                    "[[projects]]\nid = \"{p}\"\nwrite_keys = [\"pk_{p}\"]\nadmin_tokens = [\"sk_{p}\"]\n"
                )
            })
            .collect();
        // The same file for every process, as docs/deploy.md has it (the keys directory is
        // shared here; on several machines it is copied).
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:0\"\ndata_dir = {data:?}\n\
                 [store]\nbackend = \"postgres\"\nurl = \"{url}\"\nkeys_dir = {keys:?}\n\
                                  {queue}[web]\ndemo = false\n{projects}",
                data = dir.path().join("data").display().to_string(),
                keys = dir.path().join("keys").display().to_string(),
            ),
        )
        .unwrap();
        let mut deployment = Deployment {
            pg,
            nats,
            config,
            collectors: Vec::new(),
            sinks: Vec::new(),
            _dir: dir,
        };
        // The first process to start makes the schema and the keys; the others find them.
        deployment
            .collectors
            .push(Collector::start(&deployment.config));
        deployment
            .collectors
            .push(Collector::start(&deployment.config));
        if ingest == Ingest::ThroughNats {
            deployment.sinks.push(Sink::start(&deployment.config));
            deployment.sinks.push(Sink::start(&deployment.config));
        }
        deployment
    }

    fn nats(&mut self) -> &mut NatsCluster {
        self.nats.as_mut().expect("a deployment through NATS")
    }

    fn urls(&self) -> Vec<String> {
        self.collectors.iter().map(|c| c.url.clone()).collect()
    }

    fn sql(&self, sql: &str) -> String {
        self.pg.sql("assent", sql)
    }

    /// Waits until PostgreSQL holds `expected` events of `project` (the sinks have caught up),
    /// then returns the messageIds stored, each with how many times.
    fn stored(&self, project: &str, expected: usize) -> Vec<(String, usize)> {
        let started = Instant::now();
        loop {
            let rows = self.sql(&format!(
                "SELECT message_id, count(*) FROM events WHERE project = '{project}' GROUP BY message_id"
            ));
            let stored: Vec<(String, usize)> = rows
                .lines()
                .filter_map(|l| {
                    let (id, n) = l.split_once('|')?;
                    Some((id.to_string(), n.parse().ok()?))
                })
                .collect();
            let total: usize = stored.iter().map(|(_, n)| n).sum();
            if total >= expected || started.elapsed() > Duration::from_secs(90) {
                return stored;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Every acknowledged event is stored, and none twice.
    fn assert_none_lost_none_twice(&self, project: &str, acked: &HashSet<String>) {
        let stored = self.stored(project, acked.len());
        let twice: Vec<&(String, usize)> = stored.iter().filter(|(_, n)| *n > 1).collect();
        assert!(twice.is_empty(), "{project}: stored twice: {twice:?}");
        let ids: HashSet<&str> = stored.iter().map(|(id, _)| id.as_str()).collect();
        let lost: Vec<&String> = acked
            .iter()
            .filter(|id| !ids.contains(id.as_str()))
            .collect();
        assert!(
            lost.is_empty(),
            "{project}: {} of {} acknowledged events lost, e.g. {:?}",
            lost.len(),
            acked.len(),
            lost.iter().take(3).collect::<Vec<_>>()
        );
        assert!(!acked.is_empty());
    }
}

/// One batch a tracker sends: fixed ids and timestamps, so that a retry is the same batch.
fn batch(project: &str, n: usize) -> (Vec<String>, serde_json::Value) {
    let ids: Vec<String> = (0..10).map(|i| format!("{project}-{n}-{i}")).collect();
    let events: Vec<_> = ids
        .iter()
        .map(|id| {
            json!({"type": "track", "event": "Load", "messageId": id,
                   "anonymousId": format!("visitor-{}", n % 50),
                   "timestamp": "2026-11-30T12:00:00.000Z",
                   "context": {"consent": {"id": "c", "state": {"analytics": "granted"}}}})
        })
        .collect();
    (ids, json!({"batch": events}))
}

/// Sends `batches` batches of `project`, one every `every`, alternating collectors; a batch
/// that is not acknowledged is sent again to the next collector until one does. Returns the
/// acknowledged messageIds.
async fn load(
    urls: Vec<String>,
    project: &'static str,
    batches: usize,
    every: Duration,
) -> HashSet<String> {
    let http = reqwest::Client::new();
    let acked: Arc<Mutex<HashSet<String>>> = Arc::default();
    let mut sends = Vec::new();
    for n in 0..batches {
        let (ids, body) = batch(project, n);
        let (http, urls, acked) = (http.clone(), urls.clone(), acked.clone());
        sends.push(tokio::spawn(async move {
            let deadline = Instant::now() + Duration::from_secs(120);
            for attempt in n.. {
                assert!(Instant::now() < deadline, "batch {n} never acknowledged");
                let url = &urls[attempt % urls.len()];
                let answer = http
                    .post(format!("{url}/v1/batch"))
                    .basic_auth(format!("pk_{project}"), Some(""))
                    .json(&body)
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await;
                if answer.is_ok_and(|a| a.status() == 200) {
                    acked.lock().unwrap().extend(ids);
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }));
        tokio::time::sleep(every).await;
    }
    for send in sends {
        send.await.unwrap();
    }
    Arc::try_unwrap(acked).unwrap().into_inner().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_under_load_lose_no_acknowledged_event_and_store_none_twice() {
    let mut d = Deployment::start(Ingest::ThroughNats);
    let every = Duration::from_millis(10);

    // 1. kill -9 of a collector: its requests in flight get no answer and are sent again to
    // the other one.
    let running = tokio::spawn(load(d.urls(), "kill-collector", 300, every));
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let _ = d.collectors[0].child.kill();
    let acked = running.await.unwrap();
    d.assert_none_lost_none_twice("kill-collector", &acked);
    d.collectors[0] = Collector::start(&d.config);

    // 2. kill -9 of one NATS node: the replicated stream keeps serving.
    let running = tokio::spawn(load(d.urls(), "kill-nats", 300, every));
    tokio::time::sleep(Duration::from_millis(1000)).await;
    d.nats().kill(0);
    let acked = running.await.unwrap();
    d.assert_none_lost_none_twice("kill-nats", &acked);
    d.nats().start_node(0);

    // 3. PostgreSQL away for 30 s under load: collectors keep acknowledging into JetStream;
    // the sinks keep their batches, and catch up once it is back.
    let before = d.sql("SELECT count(*) FROM events WHERE project = 'postgres-away'");
    assert_eq!(before, "0");
    let running = tokio::spawn(load(
        d.urls(),
        "postgres-away",
        400,
        Duration::from_millis(100),
    ));
    tokio::time::sleep(Duration::from_millis(2000)).await;
    d.pg.stop();
    let stopped = Instant::now();
    tokio::time::sleep(Duration::from_secs(30)).await;
    d.pg.start_again();
    let acked = running.await.unwrap();
    assert!(
        stopped.elapsed() >= Duration::from_secs(30),
        "the load ran while PostgreSQL was away"
    );
    d.assert_none_lost_none_twice("postgres-away", &acked);

    // 4. kill -9 of a sink mid-batch, the other sink still running: its messages come back
    // after ack_wait and are stored once. Both sinks drained every scenario above at once.
    let running = tokio::spawn(load(d.urls(), "kill-sink", 300, every));
    tokio::time::sleep(Duration::from_millis(1000)).await;
    d.sinks[0].kill_9();
    let acked = running.await.unwrap();
    d.assert_none_lost_none_twice("kill-sink", &acked);
    d.sinks[0] = Sink::start(&d.config);

    // Every message consumed has left the stream (work-queue retention).
    wait_until_the_stream_is_empty(&d);
}

fn wait_until_the_stream_is_empty(d: &Deployment) {
    let started = Instant::now();
    while stream_messages(d) != 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the stream drains"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Messages in the events stream now, as JetStream's monitoring reports them.
fn stream_messages(d: &Deployment) -> u64 {
    let report: serde_json::Value = d
        .nats
        .as_ref()
        .and_then(|nats| nats.jsz(1, "streams=true"))
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    report["account_details"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|account| account["stream_detail"].as_array().into_iter().flatten())
        .find(|stream| stream["name"] == "ASSENT_EVENTS")
        .and_then(|stream| stream["state"]["messages"].as_u64())
        .unwrap_or(u64::MAX)
}

/// `DELETE /v1/admin/subjects/{id}`: the job's first status.
async fn forget(http: &reqwest::Client, url: &str, token: &str, id: &str) -> serde_json::Value {
    http.delete(format!("{url}/v1/admin/subjects/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Polls a deletion job (as `DELETE /v1/admin/subjects/…` answered it) until it is finished;
/// returns its last status.
async fn finished(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    accepted: &serde_json::Value,
) -> serde_json::Value {
    let job = accepted["job"].as_str().expect("the answer names its job");
    let started = Instant::now();
    loop {
        let status: serde_json::Value = http
            .get(format!("{url}/v1/admin/deletions/{job}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if status["status"] == "finished" {
            return status;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every text (and bytea) column of every table in PostgreSQL, searched for `needle`.
fn rows_holding(d: &Deployment, needle: &str) -> Vec<String> {
    let columns = d.sql(
        "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
         JOIN information_schema.tables t USING (table_schema, table_name)
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
           AND c.data_type IN ('text', 'bytea', 'character varying', 'json', 'jsonb')",
    );
    let mut found = Vec::new();
    for line in columns.lines() {
        let parts: Vec<&str> = line.split('|').collect();
        let (table, column, kind) = (parts[0], parts[1], parts[2]);
        let as_text = if kind == "bytea" {
            format!("encode(\"{column}\", 'escape')")
        } else {
            format!("\"{column}\"::text")
        };
        let n = d.sql(&format!(
            "SELECT count(*) FROM \"{table}\" WHERE position('{needle}' in {as_text}) > 0"
        ));
        if n != "0" {
            found.push(format!("{table}.{column}: {n}"));
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_subject_leaves_no_byte_in_postgresql_and_every_collector_drops_it() {
    let d = Deployment::start(Ingest::ThroughNats);
    let http = reqwest::Client::new();
    let urls = d.urls();
    let send = |url: String, body: serde_json::Value| {
        let http = http.clone();
        async move {
            let answer = http
                .post(format!("{url}/v1/batch"))
                .basic_auth("pk_privacy", Some(""))
                .header("user-agent", "Firefox/140 test")
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200);
        }
    };
    let consent = json!({"id": "consent-1", "state": {"analytics": "granted"}, "source": "banner"});
    // Ada browses anonymously through one collector, logs in through the other.
    send(
        urls[0].clone(),
        json!({"batch": [
            {"type": "consent", "messageId": "p1", "anonymousId": "anon-ada-7f3a", "context": {"consent": consent}},
            {"type": "page", "name": "Home", "messageId": "p2", "anonymousId": "anon-ada-7f3a", "context": {"consent": consent}}]}),
    )
    .await;
    send(
        urls[1].clone(),
        json!({"batch": [
            {"type": "identify", "messageId": "p3", "anonymousId": "anon-ada-7f3a", "userId": "ada-7f3a@example.org",
             "traits": {"email": "ada-7f3a@example.org"}, "context": {"consent": consent}},
            {"type": "track", "event": "Order Completed", "messageId": "p4", "userId": "ada-7f3a@example.org",
             "properties": {"note": "for ada-7f3a"}, "context": {"consent": consent}},
            {"type": "track", "event": "Order Completed", "messageId": "p5", "anonymousId": "someone-else",
             "context": {"consent": {"id": "c2", "state": {"analytics": "granted"}}}}]}),
    )
    .await;
    d.stored("privacy", 5);
    // Shared salts: the same browser counts once, whichever collector it reached.
    let hashes = d.sql(
        "SELECT count(DISTINCT visitor_hash) FROM events WHERE project = 'privacy' AND message_id IN ('p1', 'p4')",
    );
    assert_eq!(hashes, "1", "every collector uses the same salt");
    assert!(!rows_holding(&d, "ada-7f3a").is_empty());

    // Deleted through the first collector.
    let answer = forget(&http, &urls[0], "sk_privacy", "ada-7f3a@example.org").await;
    // Its job reported by the other collector.
    let done = finished(&http, &urls[1], "sk_privacy", &answer).await;
    assert_eq!(done["counts"]["events"], 4);
    // The other collector drops the subject's later events: acknowledged, never stored.
    send(
        urls[1].clone(),
        json!({"batch": [{"type": "track", "event": "Back", "messageId": "p6", "anonymousId": "anon-ada-7f3a",
                          "properties": {"note": "ada-7f3a again"}, "context": {"consent": consent}},
                         {"type": "track", "event": "Back", "messageId": "p7", "anonymousId": "someone-else"}]}),
    )
    .await;
    let stored = d.stored("privacy", 2);
    let ids: HashSet<String> = stored.into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, HashSet::from(["p5".to_string(), "p7".to_string()]));
    assert_eq!(rows_holding(&d, "ada-7f3a"), Vec::<String>::new());
    // The ledger keeps the proof of the choice, without the plain identifiers, and verifies.
    let verify = support::assent()
        .args(["consent", "verify", "--config"])
        .arg(&d.config)
        .output()
        .unwrap();
    assert!(verify.status.success(), "{verify:?}");
    assert!(String::from_utf8_lossy(&verify.stdout).contains("OK: 1 entries"));
    // Nothing of it is left in the stream either: consumed messages leave it.
    wait_until_the_stream_is_empty(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_queue_collectors_share_postgresql_with_group_commit() {
    let mut d = Deployment::start(Ingest::Direct);
    // kill -9 of one collector under load, as above: every acknowledged event is stored once.
    let running = tokio::spawn(load(d.urls(), "direct", 300, Duration::from_millis(10)));
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let _ = d.collectors[0].child.kill();
    let acked = running.await.unwrap();
    d.assert_none_lost_none_twice("direct", &acked);
    d.collectors[0] = Collector::start(&d.config);

    // A subject deleted through one collector is dropped by the other from then on.
    let http = reqwest::Client::new();
    let urls = d.urls();
    let event = |id: &str| {
        json!({"batch": [{"type": "track", "event": "Viewed", "messageId": id, "anonymousId": "gone-visitor",
                          "context": {"consent": {"id": "c", "state": {"analytics": "granted"}}}}]})
    };
    let post = |url: String, body: serde_json::Value| {
        let http = http.clone();
        async move {
            http.post(format!("{url}/v1/batch"))
                .basic_auth("pk_direct", Some(""))
                .json(&body)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(post(urls[1].clone(), event("before")).await["accepted"], 1);
    let deleted = forget(&http, &urls[0], "sk_direct", "gone-visitor").await;
    let done = finished(&http, &urls[1], "sk_direct", &deleted).await;
    assert_eq!(done["counts"]["events"], 1);
    let after = post(urls[1].clone(), event("after")).await;
    assert_eq!(after["accepted"], 1, "acknowledged like any event: {after}");
    assert_eq!(
        d.sql("SELECT count(*) FROM events WHERE anonymous_id = 'gone-visitor'"),
        "0",
        "and never stored"
    );

    // `assent demo-data` fills the configured store, PostgreSQL here.
    let demo = support::assent()
        .args([
            "demo-data",
            "--events",
            "3000",
            "--days",
            "3",
            "--project",
            "direct",
            "--config",
        ])
        .arg(&d.config)
        .output()
        .unwrap();
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let count = |kind: &str| -> u64 {
        d.sql(&format!(
            "SELECT count(*) FROM events WHERE project = 'direct' AND type = '{kind}'"
        ))
        .parse()
        .unwrap()
    };
    let (stored, pageviews) = (count("track"), count("page"));
    assert!(
        pageviews > 1000,
        "the demo shop's pages are in PostgreSQL: {pageviews}"
    );

    // The dashboard's numbers come from PostgreSQL: every collector answers the same, and
    // counts each stored page and custom event once.
    for url in &urls {
        let traffic: serde_json::Value = http
            .get(format!("{url}/v1/stats/traffic?period=7d"))
            .bearer_auth("sk_direct")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(traffic["totals"]["events"], stored, "{url}: {traffic}");
        assert_eq!(
            traffic["totals"]["pageviews"], pageviews,
            "{url}: {traffic}"
        );
    }
}
