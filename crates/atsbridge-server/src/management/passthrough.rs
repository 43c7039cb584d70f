//! `POST /passthrough/{tool}/{api}`: a raw call to the ATS with the integration's
//! credentials, checked on the way in and scrubbed of every credential on the way out.

use std::collections::BTreeMap;

use atsbridge_model::connector::{ConnectorErrorKind, PassthroughRequest};
use atsbridge_model::integration::IntegrationStatus;
use atsbridge_model::tool::ToolDescriptor;
use atsbridge_model::{ErrorCode, Warning, WriteResponse};
use atsbridge_store::Credentials;
use axum::extract::{Path, State};
use axum::http::{HeaderName, HeaderValue};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::connector_error;
use crate::auth::Scoped;
use crate::body::{KomboBody, LaterJson};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(expecting = "a JSON object with `method` and `path`")]
pub(crate) struct PassthroughBody {
    #[schema(schema_with = methods)]
    method: String,
    path: String,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    headers: Option<Map<String, Value>>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    params: Option<Map<String, Value>>,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    response_as_base64: Option<bool>,
    #[serde(default)]
    multipart_form_data: Option<Value>,
    #[serde(default)]
    api_options: Option<Value>,
}

impl KomboBody for PassthroughBody {}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct PassthroughAnswer {
    url: String,
    status: u16,
    headers: BTreeMap<String, String>,
    data: Value,
}

const PASSTHROUGH_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

fn methods() -> utoipa::openapi::schema::ObjectBuilder {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(PASSTHROUGH_METHODS.iter().copied()))
}

/// A header or parameter value: strings as they are, numbers and booleans as text.
fn scalar(field: &str, value: &Value) -> ApiResult<String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(ApiError::invalid(
            field,
            "must be a string, number or boolean",
        )),
    }
}

/// Turns the body into the connector's request, or names what is wrong with it; `tool` is
/// the tool's label, for the messages.
fn passthrough_request(
    body: PassthroughBody,
    tool: &str,
    warnings: &mut Vec<Warning>,
) -> ApiResult<PassthroughRequest> {
    let method = body.method.trim().to_ascii_uppercase();
    if !PASSTHROUGH_METHODS.contains(&method.as_str()) {
        return Err(ApiError::invalid(
            "method",
            format!(
                "`{}` is not one of {}",
                body.method,
                PASSTHROUGH_METHODS.join(", ")
            ),
        ));
    }
    let raw_path = body.path.trim();
    if raw_path.is_empty() {
        return Err(ApiError::invalid("path", "must not be empty"));
    }
    // A query written into the path is taken apart into parameters; explicit `params` win.
    let (path, query) = raw_path.split_once('?').unwrap_or((raw_path, ""));
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    let path_ok = !path.starts_with("//")
        && !path
            .split('/')
            .any(|segment| segment == ".." || segment == ".")
        && !path.contains(['\\', '#', '@'])
        && !path.chars().any(|c| c.is_whitespace() || c.is_control());
    if !path_ok {
        return Err(ApiError::invalid(
            "path",
            format!(
                "`{}` must be a path under the {tool} API, e.g. /recruitment/positions",
                body.path
            ),
        ));
    }
    let mut params = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        params.insert(k.into_owned(), v.into_owned());
    }
    for (k, v) in body.params.iter().flatten() {
        params.insert(k.clone(), scalar(&format!("params.{k}"), v)?);
    }
    let mut headers = BTreeMap::new();
    for (k, v) in body.headers.iter().flatten() {
        let field = format!("headers.{k}");
        let value = scalar(&field, v)?;
        if HeaderName::from_bytes(k.as_bytes()).is_err() {
            return Err(ApiError::invalid(&field, "is not a valid header name"));
        }
        if HeaderValue::from_str(&value).is_err() {
            return Err(ApiError::invalid(&field, "is not a valid header value"));
        }
        headers.insert(k.clone(), value);
    }
    if body
        .multipart_form_data
        .as_ref()
        .is_some_and(|v| !v.is_null())
    {
        return Err(ApiError::invalid(
            "multipart_form_data",
            "multipart bodies are not supported by this passthrough yet; send JSON in `data`",
        ));
    }
    if body
        .api_options
        .as_ref()
        .is_some_and(|v| !v.is_null() && v.as_object().is_none_or(|o| !o.is_empty()))
    {
        warnings.push(Warning::new(format!(
            "`api_options` is ignored by the {tool} passthrough"
        )));
    }
    Ok(PassthroughRequest {
        method,
        path,
        headers,
        params,
        body: body.data.filter(|v| !v.is_null()),
    })
}

/// The credential values that must never appear in an answer: all but the API's base URL
/// and the fields the tool's connect form shows openly (where the account lives). A value
/// the tool does not describe counts as secret.
fn secrets(credentials: &Credentials, tool: Option<&ToolDescriptor>) -> Vec<String> {
    let open = |key: &str| {
        key == "base_url"
            || tool.is_some_and(|t| t.connect.fields.iter().any(|f| f.key == key && !f.secret))
    };
    credentials
        .0
        .iter()
        .filter(|(k, _)| !open(k))
        .filter_map(|(_, v)| v.as_str())
        .filter(|s| s.len() >= 6)
        .map(str::to_owned)
        .collect()
}

fn scrub(text: &mut String, secrets: &[String]) {
    for secret in secrets {
        if text.contains(secret.as_str()) {
            *text = text.replace(secret.as_str(), "[redacted]");
        }
    }
}

fn replace_bytes(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

fn scrub_value(value: &mut Value, secrets: &[String]) {
    match value {
        Value::String(s) => scrub(s, secrets),
        Value::Array(items) => items.iter_mut().for_each(|v| scrub_value(v, secrets)),
        Value::Object(map) => map.values_mut().for_each(|v| scrub_value(v, secrets)),
        _ => {}
    }
}

/// `POST /passthrough/{tool}/{api}`: a raw call to the ATS with the integration's
/// credentials. The remote status is passed through in `data.status` (a remote 404 is a
/// 200 answer); only failures to get an answer at all are errors.
pub(super) async fn passthrough(
    State(state): State<AppState>,
    scoped: Scoped,
    Path((tool, api)): Path<(String, String)>,
    body: LaterJson<PassthroughBody>,
) -> ApiResult<Json<WriteResponse<PassthroughAnswer>>> {
    let integration = scoped.integration;
    if tool != integration.tool || api != "api" {
        return Err(ApiError::invalid(
            "path",
            format!(
                "integration `{}` is a {} integration; its passthrough is /passthrough/{}/api",
                integration.id, integration.tool, integration.tool
            ),
        ));
    }
    if integration.status == IntegrationStatus::Inactive {
        return Err(ApiError::new(
            ErrorCode::IntegrationInactive,
            format!("integration `{}` is disabled", integration.id),
        ));
    }
    let body = body.take()?;
    let mut warnings = Vec::new();
    let as_base64 = body.response_as_base64 == Some(true);
    let tool = state.tools.get(&integration.tool, integration.category);
    let label = tool.map_or(integration.tool.as_str(), |t| t.label);
    let request = passthrough_request(body, label, &mut warnings)?;
    let credentials = state.store.credentials(&integration.id).await?;
    let connector = (state.connectors)(&integration, &credentials, &state.metrics.observer())
        .map_err(connector_error)?;
    tracing::info!(method = %request.method, path = %request.path, "passthrough");
    let response = connector
        .passthrough(request)
        .await
        .map_err(|e| match e.kind {
            // Only our own checks of the request refuse input here (the connector builds the final
            // URL and refuses one that leaves the account's API); the tool's own answers, 422s
            // included, come back as a status.
            ConnectorErrorKind::InvalidInput(messages) => {
                ApiError::new(ErrorCode::PlatformInputInvalid, messages.join("; "))
            }
            _ => connector_error(e),
        })?;

    let secrets = secrets(&credentials, tool);
    let mut url = response.url;
    scrub(&mut url, &secrets);
    let headers = response
        .headers
        .into_iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("x-auth-token"))
        .map(|(name, mut value)| {
            scrub(&mut value, &secrets);
            (name, value)
        })
        .collect();
    let data = if as_base64 {
        // Byte for byte (a file, say), with the credentials still kept out.
        let mut raw = response.raw_body;
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            raw = replace_bytes(&raw, secret.as_bytes(), b"[redacted]");
        }
        Value::String(base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            raw,
        ))
    } else {
        let mut data = response.body;
        scrub_value(&mut data, &secrets);
        data
    };
    Ok(Json(WriteResponse::new(
        PassthroughAnswer {
            url,
            status: response.status,
            headers,
            data,
        },
        warnings,
    )))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::body::parse_json;

    #[test]
    fn passthrough_bodies_are_checked() {
        let parse = |v: Value| {
            let body: PassthroughBody = parse_json(v.to_string().as_bytes(), false)?;
            passthrough_request(body, "Sage HR", &mut Vec::new())
        };
        let r = parse(json!({"method": "get", "path": "recruitment/positions?page=2", "params": {"per_page": 5}})).unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "/recruitment/positions");
        assert_eq!(r.params.get("page").map(String::as_str), Some("2"));
        assert_eq!(r.params.get("per_page").map(String::as_str), Some("5"));
        assert!(parse(json!({"method": "FETCH", "path": "/x"}))
            .unwrap_err()
            .message
            .starts_with("method:"));
        assert!(parse(json!({"method": "GET", "path": "/../x"}))
            .unwrap_err()
            .message
            .starts_with("path:"));
        assert!(
            parse(json!({"method": "GET", "path": "/x", "headers": {"X-A": [1]}}))
                .unwrap_err()
                .message
                .starts_with("headers.X-A:")
        );
        assert!(
            parse(json!({"method": "GET", "path": "/x", "params": {"a": {}}}))
                .unwrap_err()
                .message
                .starts_with("params.a:")
        );
        assert!(parse(json!({"path": "/x"}))
            .unwrap_err()
            .message
            .contains("`method`"));
        assert!(parse(json!({"method": "GET", "path": 3}))
            .unwrap_err()
            .message
            .starts_with("path:"));
    }

    #[test]
    fn secrets_are_scrubbed() {
        let mut credentials = Credentials::default();
        credentials
            .0
            .insert("subdomain".into(), json!("acme-company"));
        credentials.0.insert("api_key".into(), json!("s3cr3t-key"));
        credentials
            .0
            .insert("refresh".into(), json!("undescribed-secret"));
        let secrets = secrets(
            &credentials,
            Some(&atsbridge_sagehr::descriptor::DESCRIPTOR),
        );
        let mut v =
            json!({"a": ["token s3cr3t-key"], "b": "acme-company", "c": "undescribed-secret"});
        scrub_value(&mut v, &secrets);
        assert_eq!(
            v,
            json!({"a": ["token [redacted]"], "b": "acme-company", "c": "[redacted]"})
        );
    }
}
