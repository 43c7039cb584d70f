//! The connection flow over HTTP: links, the page, credential checks against the simulator,
//! single use, expiry, cross-site posts, escaping, relink. The browser version of the happy
//! path is `connect_browser.rs`.

use atsbridge_model::integration::{IntegrationStatus, SetupStatus};
use atsbridge_model::{ErrorCode, Timestamp};
use atsbridge_store::{LinkPurpose, NewConnectLink};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{send, spawn_app, Options, TestApp, ENVIRONMENT, INTEGRATION, SIM_KEY};

struct Page {
    status: u16,
    headers: HeaderMap,
    html: String,
}

fn keyed(app: &TestApp, method: Method, path: &str) -> reqwest::RequestBuilder {
    app.http
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(&app.key)
}

async fn create_link(app: &TestApp, body: Value) -> String {
    let (status, answer) =
        send(keyed(app, Method::POST, "/v1/connect/create-link").json(&body)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "success");
    answer["data"]["link"].as_str().unwrap().to_owned()
}

fn link_body() -> Value {
    json!({
        "end_user_email": "it@globex.example",
        "end_user_organization_name": "Globex",
        "end_user_origin_id": "globex-7",
        "integration_category": "ATS",
        "integration_tool": "sagehr",
    })
}

async fn open(app: &TestApp, link: &str) -> Page {
    let r = app.http.get(link).send().await.unwrap();
    Page {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        html: r.text().await.unwrap(),
    }
}

async fn submit(app: &TestApp, link: &str, fields: &[(&str, &str)]) -> Page {
    let r = app
        .http
        .post(link)
        .header("Origin", &app.base)
        .header("Sec-Fetch-Site", "same-origin")
        .form(fields)
        .send()
        .await
        .unwrap();
    Page {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        html: r.text().await.unwrap(),
    }
}

/// The completion token of a done page.
fn token_of(page: &Page) -> String {
    let start = page
        .html
        .find("data-token=\"")
        .unwrap_or_else(|| panic!("no token in {}", page.html))
        + "data-token=\"".len();
    let end = start + page.html[start..].find('"').unwrap();
    page.html[start..end].to_owned()
}

async fn events(app: &TestApp, kind: &str) -> Vec<Value> {
    app.store
        .events(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == kind)
        .map(|e| e.payload)
        .collect()
}

async fn jobs_of(app: &TestApp, integration: &str) -> (u16, Value) {
    send(
        keyed(app, Method::GET, "/v1/ats/jobs?page_size=250")
            .header("X-Integration-Id", integration),
    )
    .await
}

#[tokio::test]
async fn create_link_checks_its_input_and_answers_a_link() {
    let app = spawn_app(Options::default()).await;
    let link = create_link(&app, link_body()).await;
    let prefix = format!("{}/connect/", app.base);
    assert!(link.starts_with(&prefix), "{link}");
    let token = &link[prefix.len()..];
    assert!(token.len() >= 43, "at least 256 bits: {token}");
    assert_ne!(link, create_link(&app, link_body()).await);

    let mut cases = vec![
        (json!({}), "end_user_email"),
        (
            json!({"end_user_email": "it@globex.example"}),
            "end_user_organization_name",
        ),
    ];
    for (field, value, named) in [
        ("end_user_email", json!("not-an-email"), "end_user_email"),
        ("end_user_email", json!(42), "end_user_email"),
        (
            "end_user_organization_name",
            json!("  "),
            "end_user_organization_name",
        ),
        ("integration_category", json!("LMS"), "integration_category"),
        (
            "integration_category",
            json!("NOPE"),
            "integration_category",
        ),
        ("integration_tool", json!("personio"), "integration_tool"),
        ("language", json!("pl"), "language"),
        ("link_type", json!("FOREVER"), "link_type"),
        ("redirect_url", json!("javascript:alert(1)"), "redirect_url"),
        ("redirect_url", json!("/relative"), "redirect_url"),
        ("enable_field_mapping", json!(true), "enable_field_mapping"),
        ("remote_environment", json!("sandbox"), "remote_environment"),
        ("surprise", json!(1), "surprise"),
    ] {
        let mut body = link_body();
        body[field] = value;
        cases.push((body, named));
    }
    for (body, named) in cases {
        let (status, answer) =
            send(keyed(&app, Method::POST, "/v1/connect/create-link").json(&body)).await;
        assert_eq!(status, 400, "{body} → {answer}");
        assert_eq!(
            answer["error"]["code"],
            ErrorCode::PlatformInputInvalid.as_str()
        );
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(named), "{body}: {message}");
    }
    let (status, answer) = send(
        app.http
            .post(format!("{}/v1/connect/create-link", app.base))
            .json(&link_body()),
    )
    .await;
    assert_eq!(status, 401, "{answer}");
}

#[tokio::test]
async fn a_customer_connects_through_the_page() {
    let app = spawn_app(Options::default()).await;
    let (_, premade) = jobs_of(&app, INTEGRATION).await;
    let job_count = premade["data"]["results"].as_array().unwrap().len();
    assert!(job_count > 0);

    let mut body = link_body();
    body["end_user_organization_name"] = json!("<script>alert(1)</script> & Co");
    let link = create_link(&app, body).await;
    let page = open(&app, &link).await;
    assert_eq!(page.status, 200, "{}", page.html);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert_eq!(page.headers["referrer-policy"], "same-origin");
    assert_eq!(page.headers["cache-control"], "no-store");
    assert!(page.html.contains("<html lang=\"en\">"));
    for guide in [
        "Before you start",
        "Admin rights",
        "Create an API key",
        "Enable API access",
        "Integrations, then API",
        "creates new keys for all users",
        "Find your subdomain",
        "id=\"connect-form\"",
    ] {
        assert!(page.html.contains(guide), "missing {guide}");
    }
    assert!(!page.html.contains("<script>alert(1)"), "unescaped input");
    assert!(page
        .html
        .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"));

    // A wrong key: a clear message, the subdomain kept, the key not echoed.
    let wrong = "wrong-key-7f3a9c";
    let page = submit(
        &app,
        &link,
        &[
            ("subdomain", "acme"),
            ("api_key", wrong),
            ("source_name", "Globex <Jobs>"),
        ],
    )
    .await;
    assert_eq!(page.status, 422);
    assert!(page.html.contains("id=\"form-error\""), "{}", page.html);
    assert!(page
        .html
        .contains("did not accept this API key for acme.sage.hr"));
    assert!(page.html.contains("value=\"acme\""));
    assert!(page.html.contains("value=\"Globex &lt;Jobs&gt;\""));
    assert!(!page.html.contains(wrong), "the key was echoed");
    // An unknown account is told apart from a wrong key.
    let page = submit(
        &app,
        &link,
        &[
            ("subdomain", "https://nowhere.sage.hr/login"),
            ("api_key", SIM_KEY),
        ],
    )
    .await;
    assert_eq!(page.status, 422);
    assert!(
        page.html
            .contains("There is no Sage HR account at nowhere.sage.hr"),
        "{}",
        page.html
    );
    // Missing fields name themselves.
    let page = submit(&app, &link, &[("subdomain", ""), ("api_key", "")]).await;
    assert_eq!(page.status, 422);
    assert!(page.html.contains("Enter your Sage HR subdomain."));
    assert!(page.html.contains("Enter the API key."));
    assert!(page.html.contains("aria-invalid=\"true\""));
    assert!(
        app.store
            .integrations(Some(ENVIRONMENT))
            .await
            .unwrap()
            .len()
            == 1
    );
    // One connection-flow-failed event per link, however many attempts fail.
    let failed = events(&app, "connection-flow-failed").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["end_user"]["origin_id"], "globex-7");
    assert_eq!(failed[0]["integration_tool"], "sagehr");

    // The right key connects.
    let page = submit(
        &app,
        &link,
        &[
            ("subdomain", "acme"),
            ("api_key", SIM_KEY),
            ("source_name", "Globex Jobs"),
        ],
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("id=\"connect-done\""));
    assert!(!page.html.contains(SIM_KEY), "the key was echoed");
    let token = token_of(&page);
    assert!(token.len() >= 43);

    let (status, answer) = send(keyed(
        &app,
        Method::GET,
        &format!("/v1/connect/integration-by-token/{token}"),
    ))
    .await;
    assert_eq!(status, 200, "{answer}");
    let data = &answer["data"];
    let id = data["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("sagehr:"), "{id}");
    assert_ne!(id, INTEGRATION);
    assert_eq!(data["tool"], "sagehr");
    assert_eq!(data["end_user_email"], "it@globex.example");
    assert_eq!(data["end_user_origin_id"], "globex-7");
    assert!(matches!(
        data["setup_status"].as_str(),
        Some("FINAL_SYNC_PENDING" | "COMPLETED")
    ));
    let row = app.store.integration(&id).await.unwrap().unwrap();
    assert_eq!(row.status, IntegrationStatus::Active);
    assert_eq!(row.settings.source_name.as_deref(), Some("Globex Jobs"));
    assert_eq!(
        row.end_user.organization_name,
        "<script>alert(1)</script> & Co"
    );
    let credentials = app.store.credentials(&id).await.unwrap();
    assert_eq!(credentials.get("api_key"), Some(SIM_KEY));
    assert_eq!(credentials.get("subdomain"), Some("acme"));
    assert_eq!(events(&app, "integration-created").await.len(), 1);

    // The first sync runs by itself (awaited through the engine that owns it); then the jobs
    // are there and setup is COMPLETED.
    app.engine.settled(&id).await;
    let (status, jobs) = jobs_of(&app, &id).await;
    assert_eq!(status, 200, "{jobs}");
    assert_eq!(jobs["data"]["results"].as_array().unwrap().len(), job_count);
    assert_eq!(
        app.store
            .integration(&id)
            .await
            .unwrap()
            .unwrap()
            .setup_status,
        SetupStatus::Completed
    );

    // Single use: the link is spent.
    let page = open(&app, &link).await;
    assert_eq!(page.status, 410);
    assert!(page.html.contains("already used"));
    let page = submit(&app, &link, &[("subdomain", "acme"), ("api_key", SIM_KEY)]).await;
    assert_eq!(page.status, 410);
    assert_eq!(
        app.store
            .integrations(Some(ENVIRONMENT))
            .await
            .unwrap()
            .len(),
        2
    );

    // The token is bound to the environment and unknown tokens are not found.
    let (other, other_key) = app
        .store
        .create_api_key("env_other", "t", Timestamp::now())
        .await
        .unwrap();
    let _ = other;
    let (status, answer) = send(
        app.http
            .get(format!(
                "{}/v1/connect/integration-by-token/{token}",
                app.base
            ))
            .bearer_auth(&other_key),
    )
    .await;
    assert_eq!(status, 404, "{answer}");
    let (status, answer) = send(keyed(
        &app,
        Method::GET,
        "/v1/connect/integration-by-token/not-a-token",
    ))
    .await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(answer["error"]["code"], "PLATFORM.INTEGRATION_NOT_FOUND");
}

#[tokio::test]
async fn cross_site_posts_and_spent_or_locked_links_are_refused() {
    let app = spawn_app(Options {
        sync: false,
        ..Options::default()
    })
    .await;
    let link = create_link(&app, link_body()).await;
    let r = app
        .http
        .post(&link)
        .header("Origin", "https://evil.example")
        .form(&[("subdomain", "acme"), ("api_key", SIM_KEY)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = app
        .http
        .post(&link)
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[("subdomain", "acme"), ("api_key", SIM_KEY)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(
        app.store.integrations(None).await.unwrap().len(),
        1,
        "nothing was created"
    );

    // Unknown and expired links.
    let page = open(&app, &format!("{}/connect/nope", app.base)).await;
    assert_eq!(page.status, 404);
    assert!(page.html.contains("not valid"));
    let now = Timestamp::now();
    let expired = NewConnectLink {
        token: "expired-token-for-the-test".into(),
        environment_id: ENVIRONMENT.into(),
        tool: "sagehr".into(),
        category: atsbridge_model::integration::Category::Ats,
        purpose: LinkPurpose::Connect,
        integration_id: None,
        end_user_email: None,
        organization_name: "Old".into(),
        origin_id: None,
        language: "de".into(),
        link_type: "MAGIC_LINK".into(),
        redirect_url: None,
        created_at: Timestamp::from_unix_millis(now.unix_millis() - 7_200_000).unwrap(),
        expires_at: Timestamp::from_unix_millis(now.unix_millis() - 1).unwrap(),
    };
    app.store.create_connect_link(&expired).await.unwrap();
    let url = format!("{}/connect/{}", app.base, expired.token);
    let page = open(&app, &url).await;
    assert_eq!(page.status, 410);
    assert!(
        page.html.contains("Dieser Link ist abgelaufen"),
        "{}",
        page.html
    );
    assert!(page.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert_eq!(page.headers["x-frame-options"], "DENY");
    let page = submit(&app, &url, &[("subdomain", "acme"), ("api_key", SIM_KEY)]).await;
    assert_eq!(page.status, 410);

    // Guessing keys locks the link.
    for i in 0..10 {
        let page = submit(
            &app,
            &link,
            &[("subdomain", "acme"), ("api_key", &format!("guess-{i}"))],
        )
        .await;
        assert_eq!(page.status, 422);
    }
    let page = open(&app, &link).await;
    assert_eq!(page.status, 429);
    let page = submit(&app, &link, &[("subdomain", "acme"), ("api_key", SIM_KEY)]).await;
    assert_eq!(page.status, 429);
    assert!(page.html.contains("Too many attempts"));
    assert_eq!(app.store.integrations(None).await.unwrap().len(), 1);
}

#[tokio::test]
async fn pages_speak_german_and_magic_links_last_a_year() {
    let app = spawn_app(Options {
        sync: false,
        ..Options::default()
    })
    .await;
    let mut body = link_body();
    body["language"] = json!("de");
    body["link_type"] = json!("MAGIC_LINK");
    let link = create_link(&app, body).await;
    let page = open(&app, &link).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("<html lang=\"de\">"));
    assert!(page.html.contains("Voraussetzungen"));
    assert!(page.html.contains("API-Schlüssel erstellen"));
    let token = link.rsplit('/').next().unwrap();
    let stored = app.store.connect_link(token).await.unwrap().unwrap();
    let days = (stored.expires_at.unix_millis() - stored.created_at.unix_millis()) / 86_400_000;
    assert_eq!(days, 365);
    assert!(page.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    let page = submit(&app, &link, &[("subdomain", "acme"), ("api_key", "nein")]).await;
    assert!(page
        .html
        .contains("hat diesen API-Schlüssel für acme.sage.hr nicht angenommen"));

    let link = create_link(&app, link_body()).await;
    let token = link.rsplit('/').next().unwrap();
    let stored = app.store.connect_link(token).await.unwrap().unwrap();
    assert_eq!(
        stored.expires_at.unix_millis() - stored.created_at.unix_millis(),
        3_600_000,
        "EMBEDDED links last an hour"
    );
    assert_eq!(stored.link_type, "EMBEDDED");
}

#[tokio::test]
async fn relink_replaces_rejected_credentials_and_resumes_syncing() {
    let app = spawn_app(Options::default()).await;
    // Sage HR's key is regenerated: the next sync is rejected and the integration INVALID.
    app.http
        .delete(format!("{}/_sim/acme/keys/{SIM_KEY}", app.sim.url()))
        .send()
        .await
        .unwrap();
    app.sim
        .control(Method::POST, "keys", json!({"key": "the-new-key"}))
        .await;
    app.sync().await;
    let row = app.store.integration(INTEGRATION).await.unwrap().unwrap();
    assert_eq!(row.status, IntegrationStatus::Invalid);

    let (status, answer) = send(
        keyed(
            &app,
            Method::POST,
            &format!("/v1/integrations/{INTEGRATION}/relink"),
        )
        .json(&json!({"language": "en", "redirect_url": "https://app.vendor.example/done?step=2"})),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let link = answer["data"]["link"].as_str().unwrap().to_owned();
    let page = open(&app, &link).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("Reconnect your Sage HR account"));
    assert!(
        page.html.contains("value=\"acme\""),
        "the subdomain is prefilled"
    );
    assert!(!page.html.contains(SIM_KEY));
    assert!(page.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("form-action 'self' https://app.vendor.example"));

    // Another account is refused: it would mix two accounts under one integration.
    let page = submit(
        &app,
        &link,
        &[("subdomain", "globex"), ("api_key", "the-new-key")],
    )
    .await;
    assert_eq!(page.status, 422);
    assert!(page
        .html
        .contains("reconnects the Sage HR account at acme.sage.hr"));
    // The old key is still rejected.
    let page = submit(&app, &link, &[("subdomain", "acme"), ("api_key", SIM_KEY)]).await;
    assert_eq!(page.status, 422);

    let no_redirects = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirects
        .post(&link)
        .header("Origin", &app.base)
        .form(&[("subdomain", "acme"), ("api_key", "the-new-key")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("https://app.vendor.example/done?step=2&token="),
        "{location}"
    );
    let token = location.rsplit("token=").next().unwrap();
    let (status, answer) = send(keyed(
        &app,
        Method::GET,
        &format!("/v1/connect/integration-by-token/{token}"),
    ))
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["id"], INTEGRATION);

    let row = app.store.integration(INTEGRATION).await.unwrap().unwrap();
    assert_eq!(row.status, IntegrationStatus::Active);
    assert_eq!(row.invalid_credentials_version, None);
    assert_eq!(
        app.store
            .credentials(INTEGRATION)
            .await
            .unwrap()
            .get("api_key"),
        Some("the-new-key")
    );
    let changed = events(&app, "integration-state-changed").await;
    assert!(
        changed
            .iter()
            .any(|e| e["state"] == "ACTIVE" && e["integration_id"] == INTEGRATION),
        "{changed:?}"
    );
    // Syncing resumes: force-sync is accepted again and a run succeeds.
    let (status, answer) = send(app.request(Method::POST, "/v1/force-sync")).await;
    assert_eq!(status, 200, "{answer}");
    app.engine.settled(INTEGRATION).await;
    let runs = app.store.runs(INTEGRATION, 1).await.unwrap();
    assert!(
        runs.first()
            .is_some_and(|r| r.state.as_str() == "SUCCEEDED"),
        "no successful run: {runs:?}"
    );

    // Relinking another environment's integration is not possible.
    let (_, other_key) = app
        .store
        .create_api_key("env_other", "t", Timestamp::now())
        .await
        .unwrap();
    let (status, _) = send(
        app.http
            .post(format!("{}/v1/integrations/{INTEGRATION}/relink", app.base))
            .bearer_auth(&other_key)
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, 404);
}
