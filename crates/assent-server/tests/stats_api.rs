//! `/v1/stats` over real HTTP: who may read it (admin and viewer tokens, a session cookie),
//! what a viewer token may not do, the cookie's attributes and its protection against other
//! sites, CSV, mistakes named, and countries from a MaxMind-format database.

mod mmdb_writer;
mod support;

use serde_json::{json, Value};
use support::{answer, TestServer, ADMIN_TOKEN, WRITE_KEY};

const VIEWER: &str = "vk_demo_viewer";
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

async fn start() -> TestServer {
    TestServer::start_with(
        "127.0.0.1:0",
        "",
        &format!("viewer_tokens = [\"{VIEWER}\"]"),
    )
    .await
}

async fn get(server: &TestServer, path: &str, bearer: Option<&str>) -> (u16, Value) {
    let mut req = server.http.get(format!("{}{path}", server.url));
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    answer(req.send().await.unwrap()).await
}

async fn send_pages(server: &TestServer, user_agent: &str, paths: &[&str]) {
    let batch: Vec<Value> = paths
        .iter()
        .enumerate()
        .map(|(i, p)| {
            json!({"type": "page", "messageId": format!("{user_agent}-{p}-{i}"),
                   "context": {"page": {"path": p}, "userAgent": user_agent}})
        })
        .collect();
    let res = server
        .http
        .post(format!("{}/v1/batch", server.url))
        .basic_auth(WRITE_KEY, Some(""))
        .header("user-agent", user_agent)
        .json(&json!({"batch": batch}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_viewer_token_reads_statistics_and_nothing_else() {
    let server = start().await;
    send_pages(&server, FIREFOX, &["/", "/cart"]).await;

    let (status, traffic) = get(&server, "/v1/stats/traffic?period=today", Some(VIEWER)).await;
    assert_eq!(status, 200, "{traffic}");
    assert_eq!(traffic["totals"]["pageviews"], 2);
    assert_eq!(
        traffic["totals"]["visitors"], 1,
        "one cookieless visitor: {traffic}"
    );
    let (status, _) = get(&server, "/v1/stats/traffic", Some(ADMIN_TOKEN)).await;
    assert_eq!(status, 200, "an admin token reads statistics too");

    for (method, path) in [
        ("DELETE", "/v1/admin/subjects/a-1"),
        ("GET", "/v1/admin/subjects/a-1/export"),
        ("GET", "/v1/admin/replays"),
        ("GET", "/v1/admin/replays/1"),
        ("GET", "/v1/admin/audit"),
    ] {
        let req = server
            .http
            .request(method.parse().unwrap(), format!("{}{path}", server.url));
        let (status, body) = answer(req.bearer_auth(VIEWER).send().await.unwrap()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("forbidden")),
            "{method} {path}: {body}"
        );
        let req = server
            .http
            .request(method.parse().unwrap(), format!("{}{path}", server.url));
        let (status, _) = answer(req.send().await.unwrap()).await;
        assert_eq!(status, 401, "{method} {path} without a token");
    }
    for path in [
        "/v1/stats/traffic",
        "/v1/stats/top/page",
        "/v1/stats/consent",
        "/v1/stats/privacy",
        "/v1/stats/session",
    ] {
        assert_eq!(
            get(&server, path, None).await.0,
            401,
            "{path} without a token"
        );
        assert_eq!(
            get(&server, path, Some(WRITE_KEY)).await.0,
            401,
            "{path} with a write key"
        );
    }
    // A viewer token is no write key either.
    let res = server
        .http
        .post(format!("{}/v1/batch", server.url))
        .basic_auth(VIEWER, Some(""))
        .json(&json!({"batch": [{"type": "page"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_strict_and_refused_to_other_sites() {
    let server = start().await;
    let sign_in =
        |origin: Option<&'static str>, content_type: &'static str, token: &'static str| {
            let mut req = server
                .http
                .post(format!("{}/v1/stats/session", server.url))
                .header("content-type", content_type)
                .body(json!({"token": token}).to_string());
            if let Some(o) = origin {
                req = req.header("origin", o);
            }
            req.send()
        };
    let res = sign_in(Some("http://evil.test"), "application/json", VIEWER)
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "a sign-in from another site");
    let res = sign_in(None, "text/plain", VIEWER).await.unwrap();
    assert_eq!(res.status(), 403, "a form post cannot sign in");
    let res = sign_in(None, "application/json", "sk_wrong").await.unwrap();
    assert_eq!(res.status(), 401);

    let own = format!("http://{}", server.addr);
    let res = server
        .http
        .post(format!("{}/v1/stats/session", server.url))
        .header("content-type", "application/json")
        .header("origin", &own)
        .body(json!({"token": VIEWER}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP: no Secure flag ({cookie})"
    );
    assert!(
        !cookie.contains(VIEWER),
        "the cookie is a session id, not the token"
    );
    let me: Value = res.json().await.unwrap();
    assert_eq!(
        me,
        json!({"project": "demo", "role": "viewer", "name": "demo-viewer-1"})
    );
    let session = cookie.split(';').next().unwrap().to_string();

    let with_cookie = |path: &str| {
        server
            .http
            .get(format!("{}{path}", server.url))
            .header("cookie", &session)
            .send()
    };
    assert_eq!(
        with_cookie("/v1/stats/traffic").await.unwrap().status(),
        200
    );
    assert_eq!(
        server
            .http
            .get(format!("{}/v1/admin/audit", server.url))
            .header("cookie", &session)
            .send()
            .await
            .unwrap()
            .status(),
        401,
        "the dashboard's cookie opens no admin endpoint"
    );

    let res = server
        .http
        .delete(format!("{}/v1/stats/session", server.url))
        .header("cookie", &session)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        with_cookie("/v1/stats/traffic").await.unwrap().status(),
        401,
        "signed out"
    );
}

#[tokio::test]
async fn behind_a_tls_proxy_the_cookie_is_secure() {
    let server = TestServer::start_config(
        "listen = \"127.0.0.1:0\"\ntrusted_proxies = [\"127.0.0.1\"]",
        "",
        &format!("viewer_tokens = [\"{VIEWER}\"]"),
    )
    .await;
    let res = server
        .http
        .post(format!("{}/v1/stats/session", server.url))
        .header("content-type", "application/json")
        .header("x-forwarded-proto", "https")
        .body(json!({"token": VIEWER}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Secure"));
}

#[tokio::test]
async fn every_panel_has_csv_and_mistakes_are_named() {
    let server = start().await;
    send_pages(&server, FIREFOX, &["/", "/pricing", "/pricing"]).await;
    let res = server
        .http
        .get(format!(
            "{}/v1/stats/top/page?period=7d&format=csv",
            server.url
        ))
        .bearer_auth(VIEWER)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("page.csv"));
    let text = res.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "page,visitors,visits,pageviews,events,bounce_rate,mean_duration_s"
    );
    assert!(lines[1].starts_with("/pricing,1,1,2,0,"), "{text}");
    for path in [
        "traffic?period=7d",
        "top/browser?period=7d",
        "properties?event=Signed%20Up",
        "funnel?step=page:/&step=page:/pricing",
        "consent",
        "privacy",
    ] {
        let res = server
            .http
            .get(format!(
                "{}/v1/stats/{path}{}format=csv",
                server.url,
                if path.contains('?') { '&' } else { '?' }
            ))
            .bearer_auth(VIEWER)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv"),
            "{path}"
        );
    }
    for (path, field) in [
        ("/v1/stats/traffic?period=fortnight", "period"),
        (
            "/v1/stats/traffic?period=custom&from=2026-02-30&to=2026-03-01",
            "from",
        ),
        ("/v1/stats/traffic?interval=minute", "interval"),
        ("/v1/stats/traffic?colour=blue", "query"),
        ("/v1/stats/top/planet", "dimension"),
        ("/v1/stats/funnel?step=page:/", "step"),
        ("/v1/stats/properties", "event"),
    ] {
        let (status, body) = get(&server, path, Some(VIEWER)).await;
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some(field)),
            "{path}: {body}"
        );
    }
    let (status, body) = get(&server, "/v1/stats/nothing", Some(VIEWER)).await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn countries_come_from_the_database_and_only_the_country_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("countries.mmdb");
    std::fs::write(
        &db,
        mmdb_writer::country_database(&[([81, 2, 69, 0], 24, "GB"), ([203, 0, 113, 0], 24, "FR")]),
    )
    .unwrap();
    let server = TestServer::start_config(
        &format!(
            "listen = \"127.0.0.1:0\"\ntrusted_proxies = [\"127.0.0.1\"]\ncountry_database = {:?}",
            db.display().to_string()
        ),
        "",
        &format!("viewer_tokens = [\"{VIEWER}\"]\nip = \"drop\""),
    )
    .await;
    for (ip, n) in [("81.2.69.160", 2), ("203.0.113.9", 1), ("198.51.100.1", 1)] {
        for i in 0..n {
            let res = server
                .http
                .post(format!("{}/v1/batch", server.url))
                .basic_auth(WRITE_KEY, Some(""))
                .header("x-forwarded-for", ip)
                .json(&json!({"batch": [{"type": "page", "messageId": format!("{ip}-{i}")}]}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
        }
    }
    let stored: Vec<(Option<String>, Option<String>)> = {
        let db = server.db();
        let mut q = db
            .prepare("SELECT ip, json_extract(payload, '$.country') FROM events ORDER BY id")
            .unwrap();
        let rows = q.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        rows.map(Result::unwrap).collect()
    };
    assert_eq!(
        stored
            .iter()
            .filter(|(_, c)| c.as_deref() == Some("GB"))
            .count(),
        2
    );
    assert_eq!(
        stored
            .iter()
            .filter(|(_, c)| c.as_deref() == Some("FR"))
            .count(),
        1
    );
    assert!(
        stored.iter().all(|(ip, _)| ip.is_none()),
        "the address itself is dropped: {stored:?}"
    );
    let (_, countries) = get(&server, "/v1/stats/top/country?period=today", Some(VIEWER)).await;
    let rows: Vec<(String, u64)> = countries["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["value"].as_str().unwrap().to_string(),
                r["pageviews"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![("GB".into(), 2), ("(unknown)".into(), 1), ("FR".into(), 1)]
    );
}

#[tokio::test]
async fn an_unreadable_country_database_stops_the_collector_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("broken.mmdb");
    std::fs::write(&db, b"not a database").unwrap();
    let text = format!(
        "data_dir = {:?}\ncountry_database = {:?}\n[[projects]]\nid = \"demo\"\nwrite_keys = [\"pk\"]\n",
        dir.path().display().to_string(),
        db.display().to_string()
    );
    let settings = assent_server::config::parse(&text, "test").unwrap();
    let error = assent_server::Collector::open(settings)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("broken.mmdb"), "{error}");
}
