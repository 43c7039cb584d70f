//! Reading and checking answers: a request's status and JSON body, an error's code and
//! message, a header, and every stored record of a model.

use std::collections::BTreeMap;

use atsbridge_model::ModelKind;
use atsbridge_store::{Filter, Store, StoredRecord};
use reqwest::{RequestBuilder, Response};
use serde_json::Value;

/// Sends `request`: its status and its body as JSON (a JSON string when it is not JSON).
pub async fn send(request: RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("send the request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("read the answer");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// An error answer's `error.code` (empty when there is none).
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

/// An error answer's `error.message` (empty when there is none).
pub fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

/// A header's value, when it is there and text.
pub fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Every stored record of `model` of an integration, deleted ones included, by id.
pub async fn all_records(
    store: &Store,
    integration: &str,
    model: ModelKind,
) -> BTreeMap<String, StoredRecord> {
    let filter = Filter {
        include_deleted: true,
        ..Filter::default()
    };
    let mut out = BTreeMap::new();
    let mut after = None;
    loop {
        let (page, more) = store
            .list(integration, model, &filter, after, 250)
            .await
            .expect("list stored records");
        after = page.last().map(|r| r.seq);
        out.extend(page.into_iter().map(|r| (r.id.clone(), r)));
        if !more {
            return out;
        }
    }
}
