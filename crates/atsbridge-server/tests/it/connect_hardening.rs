//! The connection flow under attack: bodies that never end, parallel key guessing, links
//! minted for another host, names that look like placeholders, promises about encryption.

use std::io::{Read as _, Write as _};
use std::time::Duration;

use atsbridge_model::Timestamp;
use atsbridge_server::ServerConfig;
use atsbridge_store::{LinkPurpose, NewConnectLink};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{send, spawn_app, Options, TestApp, ENVIRONMENT, INTEGRATION, SIM_KEY};

fn link_body() -> Value {
    json!({
        "end_user_email": "it@globex.example",
        "end_user_organization_name": "Globex",
        "integration_category": "ATS",
        "integration_tool": "sagehr",
    })
}

fn quiet(config: ServerConfig) -> Options {
    Options {
        sync: false,
        config,
        ..Options::default()
    }
}

async fn create_link_with(app: &TestApp, body: &Value, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut request = app
        .http
        .post(format!("{}/v1/connect/create-link", app.base))
        .bearer_auth(&app.key)
        .json(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(request).await
}

/// A link's path (`/connect/{token}`), whatever host the link names.
async fn link_path(app: &TestApp, body: &Value) -> String {
    let (status, answer) = create_link_with(app, body, &[]).await;
    assert_eq!(status, 200, "{answer}");
    let link = answer["data"]["link"].as_str().unwrap();
    let at = link.find("/connect/").unwrap();
    link[at..].to_owned()
}

async fn page(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut request = app.http.get(format!("{}{path}", app.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let r = request.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn post_form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let r = app
        .http
        .post(format!("{}{path}", app.base))
        .header("Origin", &app.base)
        .form(fields)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Sends `head` (request line and headers, without the blank line) and `body` on a fresh
/// connection and answers what the server sends within `wait`, or `None` if it sends
/// nothing: how a client that never finishes its body is seen.
async fn raw_exchange(
    app: &TestApp,
    head: String,
    body: Vec<u8>,
    wait: Duration,
) -> Option<String> {
    let addr = app.base.trim_start_matches("http://").to_owned();
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream.set_read_timeout(Some(wait)).unwrap();
        stream
            .write_all(format!("{head}\r\nHost: {addr}\r\n\r\n").as_bytes())
            .unwrap();
        // The server may answer and close before it has read all of it.
        let _ = stream.write_all(&body);
        let mut answer = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        (!answer.is_empty()).then(|| String::from_utf8_lossy(&answer).into_owned())
    })
    .await
    .unwrap()
}

fn status_of(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"))
}

#[tokio::test]
async fn posts_to_unusable_links_are_answered_without_waiting_for_the_body() {
    let app = spawn_app(quiet(ServerConfig::default())).await;
    let now = Timestamp::now();
    let expired = NewConnectLink {
        token: "an-expired-token-for-the-body-test".into(),
        environment_id: ENVIRONMENT.into(),
        tool: "sagehr".into(),
        category: atsbridge_model::integration::Category::Ats,
        purpose: LinkPurpose::Connect,
        integration_id: None,
        end_user_email: None,
        organization_name: "Old".into(),
        origin_id: None,
        language: "en".into(),
        link_type: "EMBEDDED".into(),
        redirect_url: None,
        created_at: Timestamp::from_unix_millis(now.unix_millis() - 7_200_000).unwrap(),
        expires_at: Timestamp::from_unix_millis(now.unix_millis() - 1).unwrap(),
    };
    app.store.create_connect_link(&expired).await.unwrap();
    for (path, want) in [
        ("/connect/no-such-token".to_owned(), 404),
        (format!("/connect/{}", expired.token), 410),
    ] {
        // 24 MB announced, a few bytes sent: the answer must not wait for the rest.
        let answer = raw_exchange(
            &app,
            format!(
                "POST {path} HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 24000000"
            ),
            b"subdomain=acme&api_key=".to_vec(),
            Duration::from_secs(3),
        )
        .await
        .unwrap_or_else(|| panic!("{path}: no answer while the body was still announced"));
        assert_eq!(status_of(&answer), want, "{path}: {answer}");
    }
}

#[tokio::test]
async fn form_bodies_larger_than_a_form_are_refused_with_413() {
    let app = spawn_app(quiet(ServerConfig::default())).await;
    let path = link_path(&app, &link_body()).await;

    // Announced too large: refused at once, nothing read.
    let answer = raw_exchange(
        &app,
        format!(
            "POST {path} HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000000"
        ),
        Vec::new(),
        Duration::from_secs(3),
    )
    .await
    .expect("no answer to a body announced too large");
    assert_eq!(status_of(&answer), 413, "{answer}");

    // Chunked, so the size is only known while reading: refused once it passes the limit.
    let mut form = b"subdomain=acme&api_key=wrong-key&padding=".to_vec();
    form.extend(std::iter::repeat_n(b'x', 40 * 1024));
    let mut chunked = Vec::new();
    for chunk in form.chunks(4096) {
        chunked.extend(format!("{:x}\r\n", chunk.len()).into_bytes());
        chunked.extend_from_slice(chunk);
        chunked.extend(b"\r\n");
    }
    chunked.extend(b"0\r\n\r\n");
    let answer = raw_exchange(
        &app,
        format!(
            "POST {path} HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked"
        ),
        chunked,
        Duration::from_secs(5),
    )
    .await
    .expect("no answer to a chunked body");
    assert_eq!(status_of(&answer), 413, "{answer}");

    // The page says so, in words.
    let big = "x".repeat(20 * 1024);
    let (status, html) = post_form(
        &app,
        &path,
        &[
            ("subdomain", "acme"),
            ("api_key", "k"),
            ("source_name", &big),
        ],
    )
    .await;
    assert_eq!(status, 413);
    assert!(html.contains("too large"), "{html}");
    // Neither counted as an attempt nor spent the link.
    let token = path.rsplit('/').next().unwrap();
    let stored = app.store.connect_link(token).await.unwrap().unwrap();
    assert_eq!(stored.failed_attempts, 0);
    let (status, _) = page(&app, &path, &[]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn fifty_parallel_wrong_keys_make_at_most_ten_key_checks() {
    let app = spawn_app(quiet(ServerConfig::default())).await;
    let path = link_path(&app, &link_body()).await;
    app.http
        .delete(format!("{}/_sim/acme/stats", app.sim.url()))
        .send()
        .await
        .unwrap();

    let posts = (0..50).map(|i| {
        let http = app.http.clone();
        let url = format!("{}{path}", app.base);
        let origin = app.base.clone();
        tokio::spawn(async move {
            http.post(url)
                .header("Origin", origin)
                .form(&[("subdomain", "acme"), ("api_key", &format!("guess-{i}"))])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    });
    let mut statuses = Vec::new();
    for post in posts.collect::<Vec<_>>() {
        statuses.push(post.await.unwrap());
    }
    let checked = statuses.iter().filter(|s| **s == 422).count();
    let locked = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(checked + locked, 50, "{statuses:?}");
    assert_eq!(checked, 10, "{statuses:?}");

    let stats: Value = app
        .http
        .get(format!("{}/_sim/acme/stats", app.sim.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let calls = stats["data"]["total"].as_u64().unwrap();
    assert!(calls <= 10, "{calls} key checks with Sage HR: {stats}");

    let token = path.rsplit('/').next().unwrap();
    let stored = app.store.connect_link(token).await.unwrap().unwrap();
    assert_eq!(stored.failed_attempts, 10);
    let failed: Vec<_> = app
        .store
        .events(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "connection-flow-failed")
        .collect();
    assert_eq!(failed.len(), 1, "one connection-flow-failed per link");
    // The right key comes too late.
    let (status, html) =
        post_form(&app, &path, &[("subdomain", "acme"), ("api_key", SIM_KEY)]).await;
    assert_eq!(status, 429, "{html}");
}

#[tokio::test]
async fn attempts_that_did_not_fail_are_not_counted() {
    let app = spawn_app(quiet(ServerConfig::default())).await;
    let path = link_path(&app, &link_body()).await;
    let token = path.rsplit('/').next().unwrap().to_owned();
    let (status, _) = post_form(&app, &path, &[("subdomain", "acme"), ("api_key", "wrong")]).await;
    assert_eq!(status, 422);
    // Sage HR down: the customer is not to blame.
    app.sim
        .control(
            Method::POST,
            "faults",
            json!({"kind": "server_error", "count": 100}),
        )
        .await;
    let (status, html) =
        post_form(&app, &path, &[("subdomain", "acme"), ("api_key", SIM_KEY)]).await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("could not be reached"), "{html}");
    let stored = app.store.connect_link(&token).await.unwrap().unwrap();
    assert_eq!(stored.failed_attempts, 1);
    app.http
        .delete(format!("{}/_sim/acme/faults", app.sim.url()))
        .send()
        .await
        .unwrap();
    let (status, html) =
        post_form(&app, &path, &[("subdomain", "acme"), ("api_key", SIM_KEY)]).await;
    assert_eq!(status, 200, "{html}");
    let stored = app.store.connect_link(&token).await.unwrap().unwrap();
    assert_eq!(stored.failed_attempts, 1, "the success is no failure");
    assert!(stored.completed_at.is_some());
}

#[tokio::test]
async fn links_ignore_forwarded_headers_and_foreign_hosts_by_default() {
    let app = spawn_app(quiet(ServerConfig::default())).await;
    // Behind no proxy, X-Forwarded-Proto is whatever the client says.
    let (status, answer) =
        create_link_with(&app, &link_body(), &[("X-Forwarded-Proto", "https")]).await;
    assert_eq!(status, 200, "{answer}");
    let link = answer["data"]["link"].as_str().unwrap();
    assert!(
        link.starts_with(&format!("{}/connect/", app.base)),
        "{link}"
    );
    // A client cannot mint links to another host.
    for headers in [
        vec![("Host", "evil.example")],
        vec![("Host", "evil.example"), ("X-Forwarded-Proto", "https")],
    ] {
        let (status, answer) = create_link_with(&app, &link_body(), &headers).await;
        assert_ne!(status, 200, "{headers:?} → {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("Host") && message.contains("--public-url"),
            "{message}"
        );
    }
    let (status, answer) = send(
        app.http
            .post(format!("{}/v1/integrations/{INTEGRATION}/relink", app.base))
            .bearer_auth(&app.key)
            .header("Host", "evil.example")
            .json(&json!({})),
    )
    .await;
    assert_ne!(status, 200, "{answer}");
}

#[tokio::test]
async fn links_use_the_bind_address_the_public_url_or_a_trusted_proxy() {
    // The server's own address: Host and X-Forwarded-Proto are ignored.
    let app = spawn_app(quiet(ServerConfig {
        listen_addr: Some("127.0.0.1:4567".parse().unwrap()),
        ..ServerConfig::default()
    }))
    .await;
    let (status, answer) = create_link_with(
        &app,
        &link_body(),
        &[("Host", "evil.example"), ("X-Forwarded-Proto", "https")],
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let link = answer["data"]["link"].as_str().unwrap();
    assert!(link.starts_with("http://127.0.0.1:4567/connect/"), "{link}");

    // Bound to every interface, the server does not know its address: it says what to set.
    let app = spawn_app(quiet(ServerConfig {
        listen_addr: Some("0.0.0.0:4567".parse().unwrap()),
        ..ServerConfig::default()
    }))
    .await;
    let (status, answer) = create_link_with(&app, &link_body(), &[]).await;
    assert_eq!(status, 500, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.contains("--public-url"), "{message}");
    assert!(message.contains("0.0.0.0"), "{message}");

    // Behind a proxy the operator trusts, its headers make the link.
    let app = spawn_app(quiet(ServerConfig {
        listen_addr: Some("0.0.0.0:4567".parse().unwrap()),
        trust_forwarded_headers: true,
        ..ServerConfig::default()
    }))
    .await;
    let (status, answer) = create_link_with(
        &app,
        &link_body(),
        &[
            ("Host", "connect.vendor.example"),
            ("X-Forwarded-Proto", "https"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let link = answer["data"]["link"].as_str().unwrap();
    assert!(
        link.starts_with("https://connect.vendor.example/connect/"),
        "{link}"
    );

    // The public URL wins over everything.
    let app = spawn_app(quiet(ServerConfig {
        public_url: Some("https://ats.vendor.example/".into()),
        trust_forwarded_headers: true,
        ..ServerConfig::default()
    }))
    .await;
    let (status, answer) = create_link_with(&app, &link_body(), &[("Host", "evil.example")]).await;
    assert_eq!(status, 200, "{answer}");
    let link = answer["data"]["link"].as_str().unwrap();
    assert!(
        link.starts_with("https://ats.vendor.example/connect/"),
        "{link}"
    );
}

#[tokio::test]
async fn names_that_look_like_placeholders_stay_as_typed() {
    let app = spawn_app(Options {
        config: ServerConfig {
            connect_app_name: Some("Jobs {org}".into()),
            ..ServerConfig::default()
        },
        ..Options::default()
    })
    .await;
    let mut body = link_body();
    body["end_user_organization_name"] = json!("{host}{app}{org}");
    let path = link_path(&app, &body).await;
    let (status, html) = page(&app, &path, &[]).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Jobs {org} asks to connect the Sage HR account of {host}{app}{org}."),
        "{html}"
    );
    let (status, html) =
        post_form(&app, &path, &[("subdomain", "acme"), ("api_key", SIM_KEY)]).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("Jobs {org} is now connected to the Sage HR account at acme.sage.hr"),
        "{html}"
    );
}

#[tokio::test]
async fn the_page_promises_encryption_only_over_https() {
    const PROMISE: &str = "sent over an encrypted connection";
    let app = spawn_app(quiet(ServerConfig::default())).await;
    let path = link_path(&app, &link_body()).await;
    let (status, html) = page(&app, &path, &[]).await;
    assert_eq!(status, 200);
    assert!(!html.contains(PROMISE), "plain HTTP: {html}");
    assert!(html.contains("stored encrypted"), "{html}");
    // An untrusted X-Forwarded-Proto does not make it true.
    let (_, html) = page(&app, &path, &[("X-Forwarded-Proto", "https")]).await;
    assert!(!html.contains(PROMISE));
    let mut de = link_body();
    de["language"] = json!("de");
    let de_path = link_path(&app, &de).await;
    let (_, html) = page(&app, &de_path, &[]).await;
    assert!(!html.contains("verschlüsselt übertragen"), "{html}");

    let app = spawn_app(quiet(ServerConfig {
        public_url: Some("https://ats.vendor.example".into()),
        ..ServerConfig::default()
    }))
    .await;
    let path = link_path(&app, &link_body()).await;
    let (_, html) = page(&app, &path, &[]).await;
    assert!(html.contains(PROMISE), "{html}");
}
