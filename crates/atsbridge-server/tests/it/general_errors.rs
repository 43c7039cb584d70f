//! Every general endpoint (everything under `/v1` outside `/v1/ats/`) answers errors only with
//! the codes of Kombo's general error model (`KomboGeneralError`: the eight `PLATFORM.*`
//! codes), whatever went wrong: a disabled integration, rejected credentials, an unreachable
//! account, bad input, an unknown integration, a wrong key. Any other code makes Kombo's SDKs
//! raise a validation error instead of their typed error. Codes from outside the set are
//! rewritten (see `atsbridge_server::general_errors`), keeping the status and the detail.

use atsbridge_model::integration::IntegrationStatus;
use atsbridge_model::ErrorCode;
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

use atsbridge_test_support::sagehr::{self, end_user, new_integration};

use crate::helpers::{send, spawn_app, Options, TestApp, ENVIRONMENT, INTEGRATION, SIM_KEY};

/// Disabled with `PUT /integrations/{id}/enabled`.
const DISABLED: &str = "sagehr:Disab1edDisab1edDisab1ed";
/// Its Sage HR key was rejected by a sync (status INVALID).
const REJECTED: &str = "sagehr:RejectedRejectedRejected";
/// Its Sage HR address answers nothing.
const UNREACHABLE: &str = "sagehr:UnreachUnreachUnreachabc";
/// Its Sage HR key is wrong (not yet noticed by a sync).
const WRONG_KEY: &str = "sagehr:WrongKeyWrongKeyWrongKey";
const UNKNOWN: &str = "sagehr:UnknownUnknownUnknownabc";

#[derive(Clone, Copy)]
enum Key {
    Good,
    Wrong,
    Missing,
}

async fn add_integration(app: &TestApp, id: &str, base_url: &str, api_key: &str) {
    let credentials = sagehr::credentials("acme", api_key, base_url);
    let integration = new_integration(id, ENVIRONMENT, end_user("Errors Ltd"), credentials);
    sagehr::add_integration(&app.store, integration).await;
}

fn request(
    app: &TestApp,
    method: Method,
    path: &str,
    key: Key,
    integration: Option<&str>,
) -> RequestBuilder {
    let mut r = app.http.request(method, format!("{}{path}", app.base));
    r = match key {
        Key::Good => r.bearer_auth(&app.key),
        Key::Wrong => r.bearer_auth("not-a-key-of-this-server"),
        Key::Missing => r,
    };
    if let Some(id) = integration {
        r = r.header("X-Integration-Id", id);
    }
    r
}

/// What went wrong with the answers, collected so that one run lists every offender.
#[derive(Default)]
struct Findings(Vec<String>);

impl Findings {
    /// The answer is an error envelope with a general code, that code's title, a message and
    /// an error status.
    fn general(&mut self, what: &str, status: u16, body: &Value) -> Option<ErrorCode> {
        let raw = body["error"]["code"].as_str().unwrap_or_default();
        let code = ErrorCode::parse(raw);
        let ok = body["status"] == "error"
            && code.is_some_and(ErrorCode::is_general)
            && body["error"]["title"].as_str() == code.map(ErrorCode::title)
            && body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
            && (400..600).contains(&status);
        if !ok {
            self.0
                .push(format!("{what}: {status} {body} is not a general error"));
            return None;
        }
        code
    }

    /// A general error with exactly this code, status and a message mentioning `detail`.
    fn expect(
        &mut self,
        what: &str,
        (status, body): (u16, Value),
        code: ErrorCode,
        want_status: u16,
        detail: &[&str],
    ) {
        let Some(got) = self.general(what, status, &body) else {
            return;
        };
        let message = body["error"]["message"].as_str().unwrap_or_default();
        if got != code || status != want_status || !detail.iter().all(|d| message.contains(d)) {
            self.0.push(format!(
                "{what}: wanted {want_status} {code} mentioning {detail:?}, got {status} {body}"
            ));
        }
    }

    /// Either a success, or a general error.
    fn success_or_general(&mut self, what: &str, (status, body): (u16, Value)) {
        if status != 200 {
            self.general(what, status, &body);
        }
    }
}

#[tokio::test]
async fn every_general_endpoint_answers_only_general_error_codes() {
    let app = spawn_app(Options {
        sync: false,
        ..Default::default()
    })
    .await;
    let sim_base = format!("{}/{{subdomain}}/api", app.sim.url());
    add_integration(&app, DISABLED, &sim_base, SIM_KEY).await;
    add_integration(&app, REJECTED, &sim_base, SIM_KEY).await;
    add_integration(
        &app,
        UNREACHABLE,
        "http://127.0.0.1:1/{subdomain}/api",
        SIM_KEY,
    )
    .await;
    add_integration(&app, WRONG_KEY, &sim_base, "not-the-sage-hr-key").await;
    let (status, body) = send(
        request(
            &app,
            Method::PUT,
            &format!("/v1/integrations/{DISABLED}/enabled"),
            Key::Good,
            None,
        )
        .json(&json!({"value": false})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    app.store
        .set_integration_status(REJECTED, IntegrationStatus::Invalid)
        .await
        .unwrap();

    let mut f = Findings::default();
    let r = |method: Method, path: &str, key: Key, integration: Option<&str>| {
        request(&app, method, path, key, integration)
    };
    let passthrough = json!({"method": "GET", "path": "/recruitment/positions"});

    // ---- POST /v1/force-sync
    f.expect(
        "force-sync, disabled integration",
        send(r(Method::POST, "/v1/force-sync", Key::Good, Some(DISABLED))).await,
        ErrorCode::PlatformInputInvalid,
        403,
        &["INTEGRATION.INACTIVE", "disabled"],
    );
    f.expect(
        "force-sync, rejected credentials",
        send(r(Method::POST, "/v1/force-sync", Key::Good, Some(REJECTED))).await,
        ErrorCode::PlatformInputInvalid,
        403,
        &["INTEGRATION.AUTHENTICATION_INVALID", "credentials"],
    );
    // The sync runs in the background; its failure is in the run log, not the answer.
    f.success_or_general(
        "force-sync, unreachable account",
        send(r(
            Method::POST,
            "/v1/force-sync",
            Key::Good,
            Some(UNREACHABLE),
        ))
        .await,
    );
    f.expect(
        "force-sync, bad body",
        send(
            r(Method::POST, "/v1/force-sync", Key::Good, Some(INTEGRATION))
                .json(&json!({"type": "WEEKLY"})),
        )
        .await,
        ErrorCode::PlatformInputInvalid,
        400,
        &["type:"],
    );
    f.expect(
        "force-sync, no X-Integration-Id",
        send(r(Method::POST, "/v1/force-sync", Key::Good, None)).await,
        ErrorCode::PlatformInputInvalid,
        400,
        &["X-Integration-Id"],
    );
    f.expect(
        "force-sync, unknown integration",
        send(r(Method::POST, "/v1/force-sync", Key::Good, Some(UNKNOWN))).await,
        ErrorCode::PlatformIntegrationNotFound,
        404,
        &[UNKNOWN],
    );
    f.expect(
        "force-sync, wrong key",
        send(r(
            Method::POST,
            "/v1/force-sync",
            Key::Wrong,
            Some(INTEGRATION),
        ))
        .await,
        ErrorCode::PlatformAuthenticationInvalid,
        401,
        &[],
    );
    f.expect(
        "force-sync, wrong method",
        send(r(
            Method::GET,
            "/v1/force-sync",
            Key::Good,
            Some(INTEGRATION),
        ))
        .await,
        ErrorCode::PlatformInputInvalid,
        405,
        &[],
    );

    // ---- POST /v1/passthrough/{tool}/{api}
    let pt = "/v1/passthrough/sagehr/api";
    f.expect(
        "passthrough, disabled integration",
        send(r(Method::POST, pt, Key::Good, Some(DISABLED)).json(&passthrough)).await,
        ErrorCode::PlatformInputInvalid,
        403,
        &["INTEGRATION.INACTIVE", "disabled"],
    );
    // Sage HR's own answers, a 401 included, come back as `data.status`.
    f.success_or_general(
        "passthrough, rejected credentials",
        send(r(Method::POST, pt, Key::Good, Some(REJECTED)).json(&passthrough)).await,
    );
    f.success_or_general(
        "passthrough, wrong Sage HR key",
        send(r(Method::POST, pt, Key::Good, Some(WRONG_KEY)).json(&passthrough)).await,
    );
    f.expect(
        "passthrough, unreachable account",
        send(r(Method::POST, pt, Key::Good, Some(UNREACHABLE)).json(&passthrough)).await,
        ErrorCode::PlatformUnknownError,
        503,
        &["REMOTE.SERVICE_UNAVAILABLE"],
    );
    f.expect(
        "passthrough, bad path",
        send(
            r(Method::POST, pt, Key::Good, Some(INTEGRATION))
                .json(&json!({"method": "GET", "path": "/../admin"})),
        )
        .await,
        ErrorCode::PlatformInputInvalid,
        400,
        &["path:"],
    );
    f.expect(
        "passthrough, encoded path leaving the API",
        send(
            r(Method::POST, pt, Key::Good, Some(INTEGRATION))
                .json(&json!({"method": "GET", "path": "/recruitment/%2e%2e/%2e%2e/_sim"})),
        )
        .await,
        ErrorCode::PlatformInputInvalid,
        400,
        &["path"],
    );
    f.expect(
        "passthrough, bad method",
        send(
            r(Method::POST, pt, Key::Good, Some(INTEGRATION))
                .json(&json!({"method": "FETCH", "path": "/x"})),
        )
        .await,
        ErrorCode::PlatformInputInvalid,
        400,
        &["method:"],
    );
    f.expect(
        "passthrough, another tool",
        send(
            r(
                Method::POST,
                "/v1/passthrough/greenhouse/harvest",
                Key::Good,
                Some(INTEGRATION),
            )
            .json(&passthrough),
        )
        .await,
        ErrorCode::PlatformInputInvalid,
        400,
        &["path:"],
    );
    f.expect(
        "passthrough, unknown integration",
        send(r(Method::POST, pt, Key::Good, Some(UNKNOWN)).json(&passthrough)).await,
        ErrorCode::PlatformIntegrationNotFound,
        404,
        &[],
    );
    f.expect(
        "passthrough, wrong key",
        send(r(Method::POST, pt, Key::Wrong, Some(INTEGRATION)).json(&passthrough)).await,
        ErrorCode::PlatformAuthenticationInvalid,
        401,
        &[],
    );

    // ---- GET /v1/check-api-key
    f.expect(
        "check-api-key, wrong key",
        send(r(Method::GET, "/v1/check-api-key", Key::Wrong, None)).await,
        ErrorCode::PlatformAuthenticationInvalid,
        401,
        &[],
    );
    f.expect(
        "check-api-key, no key",
        send(r(Method::GET, "/v1/check-api-key", Key::Missing, None)).await,
        ErrorCode::PlatformAuthenticationInvalid,
        401,
        &[],
    );

    // ---- /v1/integrations/{id}: details, delete, enabled, settings, relink
    let unknown = format!("/v1/integrations/{UNKNOWN}");
    for (method, path, body) in [
        (Method::GET, unknown.clone(), None),
        (Method::DELETE, unknown.clone(), None),
        (
            Method::PUT,
            format!("{unknown}/enabled"),
            Some(json!({"value": true})),
        ),
        (Method::GET, format!("{unknown}/settings"), None),
        (
            Method::PUT,
            format!("{unknown}/settings"),
            Some(json!({"source_name": "x"})),
        ),
        (Method::POST, format!("{unknown}/relink"), Some(json!({}))),
    ] {
        for (key, code, status) in [
            (Key::Good, ErrorCode::PlatformIntegrationNotFound, 404),
            (Key::Wrong, ErrorCode::PlatformAuthenticationInvalid, 401),
        ] {
            let mut req = r(method.clone(), &path, key, None);
            if let Some(body) = &body {
                req = req.json(body);
            }
            f.expect(
                &format!("{method} {path}, {code:?}"),
                send(req).await,
                code,
                status,
                &[],
            );
        }
    }
    // Every one of them on the disabled, rejected and unreachable integrations: successes
    // (they manage the integration rather than reach its ATS) or general errors.
    for id in [DISABLED, REJECTED, UNREACHABLE] {
        let base = format!("/v1/integrations/{id}");
        f.success_or_general(
            &format!("GET {base}"),
            send(r(Method::GET, &base, Key::Good, None)).await,
        );
        f.success_or_general(
            &format!("GET {base}/settings"),
            send(r(Method::GET, &format!("{base}/settings"), Key::Good, None)).await,
        );
        f.success_or_general(
            &format!("POST {base}/relink"),
            send(r(Method::POST, &format!("{base}/relink"), Key::Good, None).json(&json!({})))
                .await,
        );
    }
    let mine = format!("/v1/integrations/{INTEGRATION}");
    for (method, path, raw, field) in [
        (
            Method::PUT,
            format!("{mine}/enabled"),
            r#"{"value": "yes"}"#,
            "value:",
        ),
        (
            Method::PUT,
            format!("{mine}/enabled"),
            r#"{"value": tr"#,
            "body:",
        ),
        (
            Method::PUT,
            format!("{mine}/settings"),
            r#"{"colour": "red"}"#,
            "colour:",
        ),
        (
            Method::POST,
            format!("{mine}/relink"),
            r#"{"link_type": "CARRIER_PIGEON"}"#,
            "link_type",
        ),
    ] {
        f.expect(
            &format!("{method} {path} {raw}"),
            send(
                r(method.clone(), &path, Key::Good, None)
                    .header("content-type", "application/json")
                    .body(raw),
            )
            .await,
            ErrorCode::PlatformInputInvalid,
            400,
            &[field],
        );
    }

    // ---- /v1/connect/...
    f.expect(
        "create-link, bad input",
        send(
            r(Method::POST, "/v1/connect/create-link", Key::Good, None)
                .json(&json!({"end_user_email": "it@x.example"})),
        )
        .await,
        ErrorCode::PlatformInputInvalid,
        400,
        &[],
    );
    f.expect(
        "create-link, a category without tools",
        send(
            r(Method::POST, "/v1/connect/create-link", Key::Good, None).json(&json!({
                "end_user_email": "it@x.example",
                "end_user_organization_name": "X",
                "integration_category": "ASSESSMENT",
            })),
        )
        .await,
        ErrorCode::PlatformInputInvalid,
        400,
        &[],
    );
    f.expect(
        "create-link, wrong key",
        send(
            r(Method::POST, "/v1/connect/create-link", Key::Wrong, None).json(&json!({
                "end_user_email": "it@x.example",
                "end_user_organization_name": "X",
                "integration_category": "ATS",
            })),
        )
        .await,
        ErrorCode::PlatformAuthenticationInvalid,
        401,
        &[],
    );
    f.expect(
        "integration-by-token, unknown token",
        send(r(
            Method::GET,
            "/v1/connect/integration-by-token/no-such-token",
            Key::Good,
            None,
        ))
        .await,
        ErrorCode::PlatformIntegrationNotFound,
        404,
        &[],
    );
    f.expect(
        "integration-by-token, wrong key",
        send(r(
            Method::GET,
            "/v1/connect/integration-by-token/no-such-token",
            Key::Wrong,
            None,
        ))
        .await,
        ErrorCode::PlatformAuthenticationInvalid,
        401,
        &[],
    );

    // ---- /v1/webhooks (an atsbridge addition, held to the same rule)
    for (method, path, body) in [
        (
            Method::POST,
            "/v1/webhooks".to_owned(),
            Some(json!({"url": "not a url"})),
        ),
        (Method::DELETE, "/v1/webhooks/whk_nope".to_owned(), None),
        (
            Method::POST,
            "/v1/webhooks/whk_nope/rotate-secret".to_owned(),
            None,
        ),
        (
            Method::GET,
            "/v1/webhooks/whk_nope/deliveries".to_owned(),
            None,
        ),
        (Method::GET, "/v1/webhooks".to_owned(), None),
    ] {
        for key in [Key::Good, Key::Wrong] {
            let mut req = r(method.clone(), &path, key, Some(INTEGRATION));
            if let Some(body) = &body {
                req = req.json(body);
            }
            let (status, body) = send(req).await;
            if matches!(key, Key::Wrong) || status != 200 {
                f.general(&format!("{method} {path}"), status, &body);
            }
        }
    }

    // ---- GET /v1/tools/{category}
    f.expect(
        "tools, unknown category",
        send(r(Method::GET, "/v1/tools/nope", Key::Good, None)).await,
        ErrorCode::PlatformInputInvalid,
        400,
        &["category"],
    );
    f.expect(
        "tools, wrong key",
        send(r(Method::GET, "/v1/tools/ats", Key::Wrong, None)).await,
        ErrorCode::PlatformAuthenticationInvalid,
        401,
        &[],
    );

    // ---- no such endpoint under /v1
    f.expect(
        "unknown endpoint",
        send(r(Method::GET, "/v1/nope", Key::Good, None)).await,
        ErrorCode::PlatformInputInvalid,
        400,
        &[],
    );

    assert!(
        f.0.is_empty(),
        "{} general answers broke the general error model:\n{}",
        f.0.len(),
        f.0.join("\n")
    );

    // The ATS endpoints keep Kombo's full set: a disabled integration is INTEGRATION.INACTIVE.
    let (status, body) = send(r(Method::GET, "/v1/ats/jobs", Key::Good, Some(DISABLED))).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("INTEGRATION.INACTIVE")),
        "{body}"
    );
}
