//! `GET /v1/id`: the HttpOnly first-party id cookie, only with analytics consent.

mod support;

use support::{TestServer, WRITE_KEY};

async fn ask(
    server: &TestServer,
    analytics: &str,
    cookie: Option<&str>,
    extra: Option<(&str, &str)>,
) -> reqwest::Response {
    let mut req = server
        .http
        .get(format!(
            "{}/v1/id?writeKey={WRITE_KEY}&analytics={analytics}",
            server.url
        ))
        .header("origin", "http://www.shop.test");
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    if let Some((name, value)) = extra {
        req = req.header(name, value);
    }
    req.send().await.unwrap()
}

fn set_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_string())
}

#[tokio::test]
async fn with_consent_the_id_is_set_and_refreshed_without_it_expired() {
    let server = TestServer::start_with(
        "127.0.0.1:0",
        "",
        "mode = \"opt-in\"\nid_cookie_days = 9999",
    )
    .await;

    let res = ask(&server, "granted", None, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-credentials"], "true");
    let cookie = set_cookie(&res).expect("a cookie is set with consent");
    let id = res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    assert!(
        cookie.starts_with(&format!("ast_id_demo={id};")),
        "{cookie}"
    );
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=34560000"] {
        assert!(
            cookie.contains(attribute),
            "{attribute} in {cookie} (400 days at most)"
        );
    }
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP without a trusted proxy"
    );

    // A returning visitor keeps the id, and its lifetime starts again.
    let res = ask(&server, "granted", Some(&format!("ast_id_demo={id}")), None).await;
    assert!(set_cookie(&res)
        .unwrap()
        .starts_with(&format!("ast_id_demo={id};")));
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["id"],
        id.as_str()
    );

    // Withdrawn consent: nothing is returned and the cookie the script cannot reach is expired.
    let res = ask(&server, "denied", Some(&format!("ast_id_demo={id}")), None).await;
    let expired = set_cookie(&res).expect("the existing cookie is expired");
    assert!(
        expired.starts_with("ast_id_demo=;") && expired.contains("Max-Age=0"),
        "{expired}"
    );
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["id"],
        serde_json::Value::Null
    );

    // Pending, with no cookie: nothing at all is set.
    let res = ask(&server, "pending", None, None).await;
    assert_eq!(set_cookie(&res), None);
}

#[tokio::test]
async fn an_anonymous_request_never_gets_an_id_and_loses_the_one_it_had() {
    let server = TestServer::start_with("127.0.0.1:0", "", "").await;
    let res = ask(
        &server,
        "granted",
        Some("ast_id_demo=0b6f6c2c-8a4e-4c55-9d7b-1f2a3b4c5d6e"),
        Some(("x-assent-anonymous", "1")),
    )
    .await;
    assert!(set_cookie(&res).unwrap().contains("Max-Age=0"));
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["id"],
        serde_json::Value::Null
    );
}

#[tokio::test]
async fn the_cnil_preset_caps_the_cookie_at_13_months_and_https_behind_a_proxy_is_secure() {
    let server = TestServer::start_config(
        "listen = \"127.0.0.1:0\"\ntrusted_proxies = [\"127.0.0.1\"]",
        "",
        "preset = \"cnil-exempt\"\nid_cookie_days = 9999\nid_cookie_domain = \"shop.test\"",
    )
    .await;
    let res = ask(
        &server,
        "granted",
        None,
        Some(("x-forwarded-proto", "https")),
    )
    .await;
    let cookie = set_cookie(&res).unwrap();
    for attribute in ["Max-Age=34128000", "Secure", "Domain=shop.test"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
}
