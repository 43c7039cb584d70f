//! `SageHr`, the Sage HR implementation of the connector trait.

use std::collections::BTreeMap;

use atsbridge_model::connector::{
    ApplicantRequest, ApplicationRecords, BoxFuture, Confirmed, Connector, ConnectorError,
    ConnectorErrorKind as Kind, FileUpload, Missing, PassthroughRequest, PassthroughResponse,
    Prepared, ReadSummary, Record, RecordSink,
};
use atsbridge_model::Timestamp;
use reqwest::Method;
use serde_json::Value;

use crate::client::{Body, Client, Config, Request, Retry};
use crate::mapping::{self, Scope, APPLICANTS_PATH};
use crate::write::{self, NewApplicant};

/// Keys R5 adds to R3's list form of an applicant.
const DETAIL_ONLY_KEYS: [&str; 3] = ["position_id", "added_by", "referrer"];

/// One connected Sage HR account.
#[derive(Debug, Clone)]
pub struct SageHr {
    client: Client,
    integration_id: String,
}

impl SageHr {
    pub fn new(integration_id: impl Into<String>, config: &Config) -> Result<Self, ConnectorError> {
        Ok(SageHr {
            client: Client::new(config)?,
            integration_id: integration_id.into(),
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn scope(&self) -> Scope<'_> {
        Scope {
            integration_id: &self.integration_id,
            read_at: Timestamp::now(),
        }
    }
}

impl Connector for SageHr {
    fn tool(&self) -> &'static str {
        "sagehr"
    }

    fn check_credentials(&self) -> BoxFuture<'_, Result<(), ConnectorError>> {
        Box::pin(async move {
            match self
                .client
                .get_json("/recruitment/positions", &[("per_page", "1".into())])
                .await
            {
                Ok(_) => Ok(()),
                // Sage HR answers an unknown subdomain with 404: the account does not
                // exist (NotFound), which the connect page reports apart from a wrong key.
                Err(e) if e.kind == Kind::NotFound => Err(ConnectorError::new(
                    Kind::NotFound,
                    format!("no Sage HR account answers at {}", self.client.base_url()),
                )),
                Err(e) => Err(e),
            }
        })
    }

    fn read_all<'a>(
        &'a self,
        sink: &'a mut dyn RecordSink,
    ) -> BoxFuture<'a, Result<ReadSummary, ConnectorError>> {
        Box::pin(self.read(sink))
    }

    fn requests_sent(&self) -> u64 {
        self.client.requests_sent()
    }

    fn retries(&self) -> u64 {
        self.client.retries()
    }

    fn confirm_missing<'a>(
        &'a self,
        missing: &'a Missing,
        sink: &'a mut dyn RecordSink,
    ) -> BoxFuture<'a, Result<Confirmed, ConnectorError>> {
        Box::pin(self.confirm(missing, sink))
    }

    fn prepare(&self, request: &ApplicantRequest) -> Prepared {
        write::prepare(request)
    }

    fn create_applicant<'a>(
        &'a self,
        request: &'a ApplicantRequest,
        files: Vec<FileUpload>,
    ) -> BoxFuture<'a, Result<String, ConnectorError>> {
        Box::pin(async move {
            let applicant = NewApplicant::from_request(request, files);
            let request = Request {
                method: Method::POST,
                path: format!(
                    "/recruitment/positions/{}/applicants",
                    applicant.job_remote_id
                ),
                query: vec![],
                headers: vec![],
                body: Body::Form(applicant.fields(), applicant.attachment),
            };
            let exchange = match self.client.execute(&request, Retry::Create).await {
                Ok(e) => e,
                Err(e) => return Err(refine_create_error(e)),
            };
            let body: Value = serde_json::from_slice(&exchange.body).unwrap_or(Value::Null);
            match body.pointer("/data/id") {
                Some(Value::Number(n)) => Ok(n.to_string()),
                Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                _ => Err(ConnectorError::new(
                    Kind::Unknown,
                    "Sage HR created the applicant but its answer has no id",
                )),
            }
        })
    }

    fn read_application<'a>(
        &'a self,
        remote_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<ApplicationRecords>, ConnectorError>> {
        Box::pin(async move {
            if !addressable(remote_id) {
                return Ok(None);
            }
            let body = match self
                .client
                .get_json(&format!("/recruitment/applicants/{remote_id}"), &[])
                .await
            {
                Ok(b) => b,
                Err(e) if e.kind == Kind::NotFound => return Ok(None),
                Err(e) => return Err(e),
            };
            let raw = body.get("data").cloned().unwrap_or(Value::Null);
            let position =
                crate::wire::parse::<crate::wire::Applicant>(&raw).and_then(|a| a.position_id);
            let Some(position) = position else {
                return Err(ConnectorError::new(
                    Kind::Unknown,
                    format!("applicant {remote_id}: the answer has no position_id"),
                ));
            };
            // Stored in the form the sync's listing (R3) gives, under the listing's key: R5's
            // detail is that form plus three keys. Otherwise the next sync would see another
            // `remote_data`, move `changed_at` and announce a change nobody made.
            let mut raw = raw;
            if let Some(fields) = raw.as_object_mut() {
                for key in DETAIL_ONLY_KEYS {
                    fields.remove(key);
                }
            }
            let scope = self.scope();
            let Some(m) = mapping::applicant(scope, &raw, &position, APPLICANTS_PATH) else {
                return Err(ConnectorError::new(
                    Kind::Unknown,
                    format!("applicant {remote_id}: the answer has no id"),
                ));
            };
            let stage = m.stage.as_ref().map(|s| Record::ApplicationStage {
                stage: mapping::application_stage(scope, s),
                job_remote_id: position.clone(),
            });
            Ok(Some(ApplicationRecords {
                candidate: m.candidate,
                application: m.application,
                stage,
            }))
        })
    }

    fn passthrough(
        &self,
        request: PassthroughRequest,
    ) -> BoxFuture<'_, Result<PassthroughResponse, ConnectorError>> {
        Box::pin(async move {
            let method = match request.method.to_ascii_uppercase().as_str() {
                "GET" => Method::GET,
                "POST" => Method::POST,
                "PUT" => Method::PUT,
                "PATCH" => Method::PATCH,
                "DELETE" => Method::DELETE,
                other => {
                    return Err(invalid(format!(
                        "method: `{other}` is not one of GET, POST, PUT, PATCH, DELETE"
                    )))
                }
            };
            // The path is checked where the URL is built (`Client::url_for`): on the final URL,
            // which a string check of the input cannot see.
            let headers = request
                .headers
                .into_iter()
                .filter(|(name, _)| !is_reserved_header(name))
                .collect();
            let body = match request.body {
                None | Some(Value::Null) => Body::Empty,
                Some(Value::String(s)) => Body::Text(s),
                Some(v) => Body::Json(v),
            };
            let req = Request {
                method,
                path: request.path,
                query: request.params.into_iter().collect(),
                headers,
                body,
            };
            let exchange = self.client.execute(&req, Retry::ConnectOnly).await?;
            let mut headers = BTreeMap::new();
            for (name, value) in &exchange.headers {
                if is_reserved_header(name.as_str()) {
                    continue;
                }
                if let Ok(v) = value.to_str() {
                    headers
                        .entry(name.as_str().to_owned())
                        .and_modify(|all: &mut String| {
                            all.push_str(", ");
                            all.push_str(v);
                        })
                        .or_insert_with(|| v.to_owned());
                }
            }
            let body = serde_json::from_slice(&exchange.body).unwrap_or_else(|_| {
                Value::String(String::from_utf8_lossy(&exchange.body).into_owned())
            });
            Ok(PassthroughResponse {
                url: exchange.url,
                status: exchange.status.as_u16(),
                headers,
                body,
                raw_body: exchange.body.to_vec(),
            })
        })
    }
}

/// Sage HR ids are integers: anything else cannot name a record, and must not be put into a
/// path where it could point elsewhere.
pub(crate) fn addressable(remote_id: &str) -> bool {
    !remote_id.is_empty() && remote_id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn invalid(message: String) -> ConnectorError {
    ConnectorError::new(Kind::InvalidInput(vec![message.clone()]), message)
}

/// Headers the caller may not set or see: credentials and connection management.
fn is_reserved_header(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "x-auth-token"
            | "authorization"
            | "cookie"
            | "set-cookie"
            | "host"
            | "content-length"
            | "connection"
            | "transfer-encoding"
            | "keep-alive"
            | "upgrade"
            | "proxy-authorization"
    )
}

/// Turns Sage HR's 422 messages for a create into the codes Kombo clients branch on.
fn refine_create_error(e: ConnectorError) -> ConnectorError {
    let Kind::InvalidInput(messages) = &e.kind else {
        return e;
    };
    let text = messages.join("; ");
    let lower = text.to_ascii_lowercase();
    if lower.contains("already been taken") {
        ConnectorError::new(
            Kind::AlreadyExists,
            format!("Sage HR refused a duplicate: {text}"),
        )
    } else if lower.contains("not accepting")
        || lower.contains("closed")
        || lower.contains("completed")
        || lower.contains("cancelled")
    {
        ConnectorError::new(
            Kind::JobClosed,
            format!("the position does not take applicants: {text}"),
        )
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passthrough_paths_stay_under_the_api() {
        let config = Config::from_credentials(
            serde_json::json!({"subdomain": "acme", "api_key": "k"})
                .as_object()
                .unwrap(),
        );
        let c = SageHr::new("sagehr:test", &config).unwrap();
        let check_path = |p: &str| c.client().url_for(p);
        for ok in ["/recruitment/positions", "/employees/17", "/"] {
            assert!(check_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "recruitment",
            "//evil.example/x",
            "/../admin",
            "/a?x=1",
            "/a#b",
            "/@evil",
            "/a b",
            "/a\\b",
        ] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn create_errors_become_kombo_write_codes() {
        let e = |m: &str| {
            refine_create_error(ConnectorError::new(Kind::InvalidInput(vec![m.into()]), m))
        };
        assert_eq!(e("Email has already been taken").kind, Kind::AlreadyExists);
        assert_eq!(
            e("Position is not accepting applicants (its status is completed)").kind,
            Kind::JobClosed
        );
        assert_eq!(
            e("First name can't be blank").kind,
            Kind::InvalidInput(vec!["First name can't be blank".into()])
        );
    }
}
