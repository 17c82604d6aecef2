//! Privacy operations as a site owner uses them (issue 5): a visitor browses anonymously,
//! logs in, is merged, gives consent — then asks to see everything, and to be forgotten.
//! Real server, real HTTP, real SQLite files.

mod support;

use serde_json::{json, Value};
use support::{answer, TestServer, ADMIN_TOKEN, WRITE_KEY};

/// Identifiers unusual enough that finding them in a file's bytes means they are still there.
const ANON: &str = "anon-ada-7f3e9c51";
const USER: &str = "ada.lovelace@example.org";
const OLD_ID: &str = "legacy-ada-000417";
const OTHER: &str = "anon-babbage-2b8d";

impl TestServer {
    async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        answer(req.send().await.unwrap()).await
    }

    async fn admin_get(&self, path: &str) -> (u16, Value) {
        self.admin(reqwest::Method::GET, path, Some(ADMIN_TOKEN))
            .await
    }

    async fn admin_delete(&self, path: &str) -> (u16, Value) {
        self.admin(reqwest::Method::DELETE, path, Some(ADMIN_TOKEN))
            .await
    }

    /// The audit trail once it has `n` entries: an export's entry is written after its body
    /// was sent, a sweep's after the sweep.
    async fn audit_entries(&self, token: &str, n: usize) -> Vec<Value> {
        let mut entries = vec![];
        for _ in 0..100 {
            let (status, audit) = self
                .admin(reqwest::Method::GET, "/v1/admin/audit", Some(token))
                .await;
            assert_eq!(status, 200, "{audit}");
            entries = audit["entries"].as_array().unwrap().clone();
            if entries.len() >= n {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(entries.len(), n, "{entries:?}");
        entries
    }
}

fn consent(message_id: &str, consent_id: &str, ids: Value, state: Value) -> Value {
    let mut e = json!({"type": "consent", "messageId": message_id,
        "context": {"consent": {"id": consent_id, "state": state, "revision": "3", "source": "banner"}}});
    e.as_object_mut()
        .unwrap()
        .extend(ids.as_object().unwrap().clone());
    e
}

/// Ada browses anonymously, consents, logs in, is aliased from an old id, and keeps browsing;
/// Babbage browses too and must be left alone.
async fn ada_and_babbage(server: &TestServer) {
    let batch = json!({"batch": [
        consent("c-1", "consent-ada", json!({"anonymousId": ANON}), json!({"analytics": "granted"})),
        {"type": "page", "messageId": "p-1", "anonymousId": ANON, "name": "Pricing"},
        {"type": "track", "messageId": "t-1", "anonymousId": ANON, "event": "Cart Viewed"},
        {"type": "identify", "messageId": "i-1", "anonymousId": ANON, "userId": USER,
         "traits": {"email": USER}},
        {"type": "alias", "messageId": "a-1", "previousId": OLD_ID, "userId": USER},
        {"type": "track", "messageId": "t-2", "userId": USER, "event": "Order Completed"},
        consent("c-2", "consent-ada", json!({"anonymousId": ANON, "userId": USER}),
                json!({"analytics": "granted", "marketing": "denied"})),
        // Withdrawing analytics: the policy keeps no identifier, only the consent id.
        consent("c-3", "consent-ada", json!({"anonymousId": ANON}), json!({"analytics": "denied"})),
        {"type": "page", "messageId": "p-2", "anonymousId": OTHER, "name": "Home"},
        consent("c-4", "consent-babbage", json!({"anonymousId": OTHER}), json!({"analytics": "granted"})),
    ]});
    let (status, body) = server.post("/v1/batch", &batch).await;
    assert_eq!(
        (status, body["accepted"].as_u64()),
        (200, Some(10)),
        "{body}"
    );
}

#[tokio::test]
async fn admin_endpoints_answer_401_json_to_a_missing_or_wrong_token_or_a_write_key() {
    let server = TestServer::start().await;
    ada_and_babbage(&server).await;
    let paths = [
        (
            reqwest::Method::DELETE,
            format!("/v1/admin/subjects/{USER}"),
        ),
        (
            reqwest::Method::DELETE,
            "/v1/admin/subjects/nobody-ever-seen".to_string(),
        ),
        (
            reqwest::Method::GET,
            format!("/v1/admin/subjects/{USER}/export"),
        ),
        (
            reqwest::Method::GET,
            "/v1/admin/subjects/nobody-ever-seen/export".to_string(),
        ),
        (
            reqwest::Method::GET,
            "/v1/admin/deletions/some-job".to_string(),
        ),
        (reqwest::Method::GET, "/v1/admin/audit".to_string()),
        (
            reqwest::Method::GET,
            format!("/v1/admin/consent?subject={USER}"),
        ),
        (
            reqwest::Method::GET,
            "/v1/admin/no-such-endpoint".to_string(),
        ),
    ];
    let mut bodies = std::collections::HashSet::new();
    for (method, path) in &paths {
        for token in [None, Some("sk_wrong"), Some(WRITE_KEY), Some("")] {
            let (status, body) = server.admin(method.clone(), path, token).await;
            assert_eq!(status, 401, "{method} {path} with {token:?}: {body}");
            assert_eq!(body["error"], "unauthorized");
            bodies.insert(body.to_string());
        }
        // A write key sent the way ingest takes it is no better.
        let res = server
            .http
            .request(method.clone(), format!("{}{path}", server.url))
            .basic_auth(WRITE_KEY, Some(""))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    assert_eq!(
        bodies.len(),
        1,
        "every refusal is the same answer: {bodies:?}"
    );
    // Nothing was deleted by any of those.
    assert_eq!(server.count("SELECT count(*) FROM events"), 10);
}

#[tokio::test]
async fn an_admin_token_is_never_accepted_for_ingest() {
    let server = TestServer::start().await;
    let (status, body) = server
        .post_raw("/v1/track", |r| {
            r.basic_auth(ADMIN_TOKEN, Some(""))
                .json(&json!({"event": "X", "anonymousId": "a"}))
        })
        .await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("admin token"),
        "{body}"
    );
}

#[tokio::test]
async fn a_token_opens_only_its_own_project_and_may_be_configured_as_a_sha256() {
    let shop_token = "sk_shop_dpo";
    let hashed = sha256_hex(shop_token);
    let server = TestServer::start_with(
        "127.0.0.1:0",
        "",
        &format!(
            "mode = \"opt-out\"\n[[projects]]\nid = \"shop\"\nmode = \"opt-out\"\nwrite_keys = [\"pk_shop\"]\n\
             admin_tokens = [{{ name = \"shop-dpo\", sha256 = \"{hashed}\" }}]\n"
        ),
    )
    .await;
    ada_and_babbage(&server).await; // into project "demo"
    let (status, job) = server
        .admin_delete(&format!("/v1/admin/subjects/{USER}"))
        .await;
    assert_eq!(
        (status, job["status"].as_str()),
        (202, Some("finished")),
        "{job}"
    );
    let job_path = format!("/v1/admin/deletions/{}", job["job"].as_str().unwrap());

    // The shop's token works, by its hash, but sees nothing of the demo project.
    let (status, export) = server
        .admin(
            reqwest::Method::GET,
            &format!("/v1/admin/subjects/{OTHER}/export"),
            Some(shop_token),
        )
        .await;
    assert_eq!(
        (status, export["events"].as_array().unwrap().len()),
        (200, 0)
    );
    let (status, body) = server
        .admin(reqwest::Method::GET, &job_path, Some(shop_token))
        .await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    let (status, _) = server.admin_get(&job_path).await;
    assert_eq!(status, 200);
    let audit = server.audit_entries(shop_token, 1).await;
    assert_eq!(audit[0]["actor"], "shop-dpo");
    assert_eq!(audit[0]["action"], "export");
}

fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

#[tokio::test]
async fn a_visitor_who_logged_in_is_one_subject_exported_whole() {
    let server = TestServer::start().await;
    ada_and_babbage(&server).await;
    for asked in [USER, ANON, OLD_ID] {
        let res = server
            .http
            .get(format!("{}/v1/admin/subjects/{asked}/export", server.url))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "application/json");
        let export: Value = res.json().await.unwrap();
        assert_eq!(export["project"], "demo");
        assert_eq!(
            export["identifiers"],
            json!([ANON, USER, OLD_ID]
                .iter()
                .copied()
                .collect::<std::collections::BTreeSet<_>>())
        );
        let ids: Vec<&str> = export["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["messageId"].as_str().unwrap())
            .collect();
        // Including what was sent under the anonymousId before the login, in stored order.
        assert_eq!(
            ids,
            ["c-1", "p-1", "t-1", "i-1", "a-1", "t-2", "c-2"],
            "asked {asked}"
        );
        assert_eq!(export["events"][3]["traits"]["email"], USER);
        let links = export["identityLinks"].as_array().unwrap();
        assert_eq!(links.len(), 2, "{links:?}");
        assert!(links
            .iter()
            .any(|l| l["anonymousId"] == OLD_ID && l["userId"] == USER));
        // The whole ledger trail, including the withdrawal recorded by consent id alone.
        let consent = export["consent"].as_array().unwrap();
        assert_eq!(consent.len(), 3, "{consent:?}");
        assert_eq!(consent[0]["states"], json!({"analytics": "granted"}));
        assert_eq!(consent[2]["states"], json!({"analytics": "denied"}));
        assert_eq!(consent[2]["anonymousId"], Value::Null);
        assert_eq!(consent[2]["previousHash"], consent[1]["hash"]);
    }

    // Somebody never seen gets the same document, empty, with the same status.
    let (status, empty) = server
        .admin_get("/v1/admin/subjects/nobody-ever-seen/export")
        .await;
    assert_eq!(status, 200);
    assert_eq!(empty["identifiers"], json!(["nobody-ever-seen"]));
    for section in ["events", "identityLinks", "consent"] {
        assert_eq!(empty[section], json!([]), "{section}");
    }
}

#[tokio::test]
async fn the_consent_history_of_a_subject_is_its_whole_ledger_trail() {
    let server = TestServer::start().await;
    ada_and_babbage(&server).await;
    let (status, history) = server
        .admin_get(&format!("/v1/admin/consent?subject={OLD_ID}"))
        .await;
    assert_eq!(status, 200, "{history}");
    let entries = history["entries"].as_array().unwrap();
    let messages: Vec<&str> = entries
        .iter()
        .map(|e| e["messageId"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["c-1", "c-2", "c-3"]);
    assert_eq!(entries[0]["consentId"], "consent-ada");
    assert_eq!(entries[0]["source"], "banner");
    assert_eq!(entries[0]["revision"], "3");

    let (status, body) = server.admin_get("/v1/admin/consent").await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("subject")),
        "{body}"
    );
}

#[tokio::test]
async fn a_forgotten_subject_leaves_no_trace_in_the_files_and_its_later_events_are_dropped() {
    let server = TestServer::start().await;
    ada_and_babbage(&server).await;

    let (status, job) = server
        .admin_delete(&format!("/v1/admin/subjects/{ANON}"))
        .await;
    assert_eq!(status, 202, "{job}");
    assert_eq!(job["status"], "finished");
    assert_eq!(
        job["counts"],
        json!({"events": 7, "identity_links": 2, "consent": 2, "replays": 0, "suppressed_ids": 3})
    );
    assert!(job["startedAt"].as_str().unwrap().ends_with('Z'));
    assert!(job["finishedAt"].as_str().unwrap().ends_with('Z'));
    let (status, again) = server
        .admin_get(&format!(
            "/v1/admin/deletions/{}",
            job["job"].as_str().unwrap()
        ))
        .await;
    assert_eq!((status, &again["counts"]), (200, &job["counts"]));

    // Babbage is untouched (and the withdrawal that carries no identifier); the ledger keeps
    // Ada's entries without her identifiers, and the chain still verifies.
    assert_eq!(server.count("SELECT count(*) FROM events"), 3);
    assert_eq!(server.count("SELECT count(*) FROM consent_ledger"), 4);
    assert_eq!(assent_store::verify_ledger(&server.db()).unwrap(), 4);

    // Her browser keeps sending, under every one of her identifiers: acknowledged, not stored.
    let late = json!({"batch": [
        {"type": "track", "messageId": "late-1", "anonymousId": ANON, "event": "Came Back"},
        {"type": "track", "messageId": "late-2", "userId": USER, "event": "Came Back"},
        {"type": "alias", "messageId": "late-3", "previousId": OLD_ID, "userId": "ada-new-id"},
        {"type": "track", "messageId": "late-4", "anonymousId": OTHER, "event": "Stayed"},
    ]});
    let (status, body) = server.post("/v1/batch", &late).await;
    assert_eq!(
        (status, body["accepted"].as_u64()),
        (200, Some(4)),
        "{body}"
    );
    assert_eq!(server.count("SELECT count(*) FROM events"), 4);
    let metrics = server.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("assent_events_suppressed_total{project=\"demo\"} 3"),
        "{metrics}"
    );

    // No byte of any file of the store (main file, partitions, their WAL and shared memory)
    // holds an identifier any more…
    let files = support::store_files(server.dir.path());
    for file in &files {
        let bytes = std::fs::read(file).unwrap_or_default();
        for id in [ANON, USER, OLD_ID] {
            assert!(
                !bytes.windows(id.len()).any(|w| w == id.as_bytes()),
                "{id} is still in {}",
                file.display()
            );
        }
    }
    // …while Babbage still is, so the search would have found them.
    assert!(files.iter().any(|f| std::fs::read(f)
        .unwrap_or_default()
        .windows(OTHER.len())
        .any(|w| w == OTHER.as_bytes())));
}

#[tokio::test]
async fn deleting_somebody_never_seen_looks_exactly_like_deleting_somebody() {
    let server = TestServer::start().await;
    let (status, job) = server
        .admin_delete("/v1/admin/subjects/nobody-ever-seen")
        .await;
    assert_eq!(
        (status, job["status"].as_str()),
        (202, Some("finished")),
        "{job}"
    );
    assert_eq!(
        job["counts"],
        json!({"events": 0, "identity_links": 0, "consent": 0, "replays": 0, "suppressed_ids": 1})
    );
}

#[tokio::test]
async fn the_audit_trail_records_every_operation_and_no_personal_data() {
    let server = TestServer::start().await;
    ada_and_babbage(&server).await;
    server
        .admin_get(&format!("/v1/admin/subjects/{USER}/export"))
        .await;
    server.audit_entries(ADMIN_TOKEN, 1).await;
    server
        .admin_delete(&format!("/v1/admin/subjects/{USER}"))
        .await;
    let entries = server.audit_entries(ADMIN_TOKEN, 2).await;
    assert_eq!(entries[0]["action"], "deletion");
    assert_eq!(entries[1]["action"], "export");
    for e in &entries {
        assert_eq!(e["actor"], "demo-admin-1");
        assert_eq!(e["project"], "demo");
        assert_eq!(e["subjectHash"].as_str().unwrap().len(), 64);
        assert!(e["at"].as_str().unwrap().ends_with('Z'));
    }
    // The same subject, asked by another of its ids, has the same hash: requests can be matched.
    assert_eq!(entries[0]["subjectHash"], entries[1]["subjectHash"]);
    assert_eq!(
        entries[1]["counts"],
        json!({"events": 7, "identityLinks": 2, "consent": 3, "replays": 0})
    );

    let text = serde_json::to_string(&entries).unwrap();
    let rows: String = server
        .db()
        .query_row("SELECT group_concat(actor || action || project || subject_hash || counts) FROM audit_log", [], |r| r.get(0))
        .unwrap();
    for id in [ANON, USER, OLD_ID, "consent-ada"] {
        assert!(
            !text.contains(id) && !rows.contains(id),
            "{id} in the audit trail"
        );
    }

    let (status, body) = server.admin_get("/v1/admin/audit?limit=0").await;
    assert_eq!((status, body["field"].as_str()), (400, Some("limit")));
    let (status, body) = server.admin_get("/v1/admin/audit?limit=many").await;
    assert_eq!((status, body["field"].as_str()), (400, Some("limit")));
}

#[tokio::test]
async fn bad_admin_requests_get_json_errors_naming_what_to_fix() {
    let server = TestServer::start().await;
    let long = "x".repeat(257);
    let (status, body) = server
        .admin_delete(&format!("/v1/admin/subjects/{long}"))
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("id")),
        "{body}"
    );
    let (status, body) = server.admin_get("/v1/admin/deletions/no-such-job").await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    let (status, body) = server.admin_get("/v1/admin/no-such-endpoint").await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    let (status, body) = server
        .admin(reqwest::Method::POST, "/v1/admin/audit", Some(ADMIN_TOKEN))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (405, Some("method_not_allowed"))
    );
    // An id with a slash is one id when escaped.
    let (status, body) = server.admin_get("/v1/admin/subjects/a%2Fb/export").await;
    assert_eq!((status, &body["identifiers"]), (200, &json!(["a/b"])));
}

#[tokio::test]
async fn the_retention_sweeper_runs_when_the_server_starts_and_audits_what_it_deleted() {
    let server = TestServer::start().await;
    ada_and_babbage(&server).await;
    let dir = server.stop().await;
    // The events were received 40 days ago (the day's partition is made older behind the
    // server's back, while it is down).
    support::age_partitions(dir.path(), 40);

    let server = TestServer::start_in(
        dir,
        "listen = \"127.0.0.1:0\"",
        "retention_sweep_minutes = 60",
        "[projects.retention]\nevents_days = 30\nconsent_days = 400\n",
    )
    .await;
    let audit = server.audit_entries(ADMIN_TOKEN, 1).await;
    let entry = &audit[0];
    assert_eq!(entry["action"], "retention", "{audit:?}");
    assert_eq!(entry["actor"], "retention-sweeper");
    assert_eq!(entry["subjectHash"], Value::Null);
    let expired = entry["counts"]["events"].as_u64().unwrap();
    assert!(expired > 0, "{entry}");
    assert_eq!(
        server.count(&format!(
            "SELECT count(*) FROM events WHERE anonymous_id = '{ANON}'"
        )),
        0
    );
}

#[tokio::test]
async fn an_export_many_times_larger_than_its_buffer_arrives_whole() {
    let server = TestServer::start().await;
    for batch in 0..10 {
        let events: Vec<Value> = (0..500)
            .map(|i| {
                json!({"type": "track", "messageId": format!("bulk-{batch}-{i}"),
                            "anonymousId": ANON, "event": "Scrolled", "properties": {"depth": i}})
            })
            .collect();
        let (status, body) = server.post("/v1/batch", &json!({ "batch": events })).await;
        assert_eq!(status, 200, "{body}");
    }
    let res = server
        .http
        .get(format!("{}/v1/admin/subjects/{ANON}/export", server.url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.len() > 10 * 64 * 1024, "{} bytes", bytes.len());
    let export: Value = serde_json::from_slice(&bytes).unwrap();
    let events = export["events"].as_array().unwrap();
    assert_eq!(events.len(), 5000);
    assert_eq!(events[4999]["messageId"], "bulk-9-499");
}
