//! JSON request bodies: the `KomboJson` extractor every handler with a body uses, so malformed
//! JSON and wrong types answer Kombo's `PLATFORM.INPUT_INVALID` envelope naming the field
//! instead of axum's plain-text rejections.
//!
//! Two forms: `KomboJson<T>` refuses a bad body before the handler runs; `LaterJson<T>` reads
//! the body at once but leaves its verdict to the handler (`take`), for handlers that check
//! something else first (the integration exists, is enabled, has room for a write), so a
//! request with two problems keeps being answered with the first one.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};

/// A type a request body is parsed into.
pub trait KomboBody: DeserializeOwned {
    /// Whether an empty body stands for `{}` (an endpoint whose fields are all optional);
    /// otherwise an empty body is refused.
    const MAY_BE_EMPTY: bool = false;
}

/// `PUT /integrations/{id}/settings` takes any object and checks it field by field.
impl KomboBody for Map<String, Value> {}

/// A JSON object body parsed into `T`; a body that is no such object is refused with
/// `PLATFORM.INPUT_INVALID` naming the field before the handler runs.
#[derive(Debug)]
pub struct KomboJson<T>(pub T);

/// Why a body was refused: it could not be read (too large, connection failed; answered as
/// axum's `Bytes` answers it, which `limits` puts into the envelope), or it is not what the
/// endpoint takes.
#[derive(Debug)]
pub enum BodyRejection {
    Read(BytesRejection),
    Invalid(ApiError),
}

impl IntoResponse for BodyRejection {
    fn into_response(self) -> Response {
        match self {
            BodyRejection::Read(e) => e.into_response(),
            BodyRejection::Invalid(e) => e.into_response(),
        }
    }
}

impl<S, T> FromRequest<S> for KomboJson<T>
where
    S: Send + Sync,
    T: KomboBody,
{
    type Rejection = BodyRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(BodyRejection::Read)?;
        parse_json(&bytes, T::MAY_BE_EMPTY)
            .map(KomboJson)
            .map_err(BodyRejection::Invalid)
    }
}

/// A JSON object body read before the handler runs (a body that cannot be read is refused
/// then, like `Bytes`) and checked when the handler asks for it.
#[derive(Debug)]
pub struct LaterJson<T> {
    /// The body as a JSON object, or why it is not one.
    json: ApiResult<Value>,
    kind: std::marker::PhantomData<fn() -> T>,
}

impl<T: KomboBody> LaterJson<T> {
    /// The body as `T`, or `PLATFORM.INPUT_INVALID` naming the field.
    pub fn take(self) -> ApiResult<T> {
        deserialize(self.json?)
    }

    /// The body as `T` together with the JSON it was read from.
    pub fn take_with_json(self) -> ApiResult<(T, Value)> {
        let json = self.json?;
        let parsed = deserialize_ref(&json)?;
        Ok((parsed, json))
    }
}

impl<S, T> FromRequest<S> for LaterJson<T>
where
    S: Send + Sync,
    T: KomboBody,
{
    type Rejection = BodyRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(BodyRejection::Read)?;
        Ok(LaterJson {
            json: json_object(&bytes, T::MAY_BE_EMPTY),
            kind: std::marker::PhantomData,
        })
    }
}

/// Parses a JSON object body. An empty body (no bytes) is `{}` when `allow_empty`, else an
/// error. Errors name the offending field (`value: invalid type: …`) or say the JSON is
/// malformed.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8], allow_empty: bool) -> ApiResult<T> {
    deserialize(json_object(bytes, allow_empty)?)
}

/// The body as a JSON object (syntax and kind checked, not yet the fields).
fn json_object(bytes: &[u8], allow_empty: bool) -> ApiResult<Value> {
    // Only no bytes at all is "no body": whitespace alone is not JSON, and the published
    // schema (which the fuzz run holds us to) says so.
    let empty = bytes.is_empty();
    if empty && !allow_empty {
        return Err(ApiError::invalid("body", "a JSON object is required"));
    }
    // Syntax first, then shape: serde_json reports some type errors (a number where an
    // enum string belongs) as syntax errors when it deserializes straight from bytes.
    let value: Value = if empty {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(bytes)
            .map_err(|e| ApiError::invalid("body", format!("malformed JSON: {e}")))?
    };
    // serde would take `[true]` for a struct; Kombo's bodies are objects.
    if !value.is_object() {
        return Err(ApiError::invalid("body", "must be a JSON object"));
    }
    Ok(value)
}

fn deserialize<T: DeserializeOwned>(value: Value) -> ApiResult<T> {
    serde_path_to_error::deserialize(value).map_err(field_error)
}

fn deserialize_ref<T: DeserializeOwned>(value: &Value) -> ApiResult<T> {
    serde_path_to_error::deserialize(value).map_err(field_error)
}

/// `PLATFORM.INPUT_INVALID` naming the field serde stopped at (`body` for the top level).
fn field_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let field = if path == "." || path.is_empty() {
        "body"
    } else {
        path.as_str()
    };
    ApiError::invalid(field, e.into_inner())
}
