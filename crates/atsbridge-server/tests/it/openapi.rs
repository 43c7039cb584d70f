//! The OpenAPI document: it lists every route the routers declare, it is served without a
//! key, and it equals the checked-in snapshot `tests/snapshots/openapi.json`. After a change
//! to the API on purpose, regenerate the snapshot with
//! `UPDATE_OPENAPI_SNAPSHOT=1 cargo test -p atsbridge-server --test it openapi` and review
//! its diff.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{send, spawn_app, Options};

/// Routes outside `/v1` (pages, logos, the health check): not part of the API document.
const OUTSIDE_V1: &[&str] = &[
    "/health",
    // Prometheus' text for scrapers, not part of the API.
    "/metrics",
    "/assets/{file}",
    "/connect/{token}",
    "/connect/assets/{file}",
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `(METHOD, path)` the server's routers declare, read from `.route("path", …)` calls
/// in its sources (test modules left out), so a route added anywhere is seen.
fn declared_routes() -> BTreeSet<(String, String)> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut routes = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        let mut rest = text;
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            // The call's extent: up to its closing parenthesis.
            let mut depth = 1usize;
            let mut end = 0;
            for (i, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let call = &rest[..end];
            let path = call
                .split('"')
                .nth(1)
                .expect("a route path literal")
                .to_owned();
            // The operator dashboard is HTML pages and forms for people, not the API.
            if OUTSIDE_V1.contains(&path.as_str()) || path.starts_with("/dashboard") {
                continue;
            }
            let mut found = false;
            for method in ["get", "post", "put", "delete", "patch"] {
                let mut from = 0;
                while let Some(i) = call[from..].find(&format!("{method}(")) {
                    let i = from + i;
                    let before = call[..i].chars().last().unwrap_or(' ');
                    if !(before.is_alphanumeric() || before == '_') {
                        routes.insert((method.to_uppercase(), format!("/v1{path}")));
                        found = true;
                    }
                    from = i + 1;
                }
            }
            assert!(
                found,
                "no method found in route {call} ({})",
                file.display()
            );
        }
    }
    routes
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            out.insert((method.to_uppercase(), path.clone()));
        }
    }
    out
}

#[test]
fn openapi_documents_every_route() {
    let doc: Value = serde_json::from_str(atsbridge_server::openapi::json()).unwrap();
    let declared = declared_routes();
    // Guards the scan itself: it must see the routes of every module.
    for route in [
        ("GET", "/v1/ats/jobs"),
        ("POST", "/v1/ats/jobs/{job_id}/applications"),
        ("DELETE", "/v1/ats/candidates/{id}/tags"),
        ("PATCH", "/v1/hris/employees/{id}"),
        ("DELETE", "/v1/webhooks/{webhook_id}"),
        ("POST", "/v1/connect/create-link"),
        ("GET", "/v1/openapi.json"),
    ] {
        assert!(
            declared.contains(&(route.0.to_owned(), route.1.to_owned())),
            "{route:?} not found by the scan"
        );
    }
    let documented = documented(&doc);
    let missing: Vec<_> = declared.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes without documentation: {missing:?}"
    );
    let extra: Vec<_> = documented.difference(&declared).collect();
    assert!(
        extra.is_empty(),
        "documented routes the server lacks: {extra:?}"
    );
    assert_eq!(doc["openapi"], "3.1.0");
    // Every operation answers errors in Kombo's envelope.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.iter().any(|(status, r)| status.starts_with('4')
                    && r["content"]["application/json"]["schema"]["$ref"]
                        == "#/components/schemas/ErrorResponse"),
                "{method} {path} documents no error envelope"
            );
        }
    }
}

#[test]
fn openapi_matches_the_snapshot() {
    let current = atsbridge_server::openapi::json();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI_SNAPSHOT").is_some() {
        std::fs::write(&file, current).unwrap();
        return;
    }
    let saved = std::fs::read_to_string(&file).unwrap_or_default();
    if saved != current {
        let first = saved
            .lines()
            .zip(current.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(saved.lines().count().min(current.lines().count()));
        panic!(
            "the OpenAPI document differs from tests/snapshots/openapi.json from line {} \
             (saved: {:?}, now: {:?}); if the change is meant, run \
             UPDATE_OPENAPI_SNAPSHOT=1 cargo test -p atsbridge-server --test it openapi",
            first + 1,
            saved.lines().nth(first),
            current.lines().nth(first)
        );
    }
}

#[tokio::test]
async fn openapi_is_served_without_a_key() {
    let app = spawn_app(Options::default()).await;
    let (status, body) = send(
        app.http
            .request(Method::GET, format!("{}/v1/openapi.json", app.base)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let served: Value = serde_json::from_str(atsbridge_server::openapi::json()).unwrap();
    assert_eq!(body, served);
    assert!(body["paths"]["/v1/ats/jobs"]["get"].is_object());
}
