//! `SageHr`, the Sage HR implementation of the connector trait.

use std::collections::{BTreeMap, HashSet};

use atsbridge_model::connector::{
    ApplicationRecords, BoxFuture, Connector, ConnectorError, ConnectorErrorKind as Kind,
    NewApplicant, PassthroughRequest, PassthroughResponse, ReadSummary, Record, RecordSink,
};
use atsbridge_model::Timestamp;
use futures_util::stream::{self, StreamExt as _, TryStreamExt as _};
use reqwest::Method;
use serde_json::Value;

use crate::client::{Body, Client, Config, Request, Retry};
use crate::mapping::{self, Scope, SeenStage, APPLICANTS_PATH, APPLICANT_PATH};

/// Stop following `next_page` after this many pages of one listing: a misbehaving API must
/// not keep a sync busy forever.
const MAX_PAGES: u64 = 100_000;

/// How often one position's applicant listing is read again when it changed while being
/// paged (records may have shifted between pages).
const RELIST_ATTEMPTS: u32 = 3;

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

    fn scope(&self) -> Scope<'_> {
        Scope {
            integration_id: &self.integration_id,
            read_at: Timestamp::now(),
        }
    }

    /// Every applicant of one position, read to the end, and whether the listing held still
    /// while it was read (it is read again from the start when it did not).
    async fn applicants_of(&self, position_id: &str) -> Result<(Vec<Value>, bool), ConnectorError> {
        let path = format!("/recruitment/positions/{position_id}/applicants");
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (records, stable) = self.list_all(&path).await?;
            if stable || attempt >= RELIST_ATTEMPTS {
                if !stable {
                    tracing::warn!(position_id, "applicant listing kept changing while read");
                }
                return Ok((records, stable));
            }
        }
    }

    /// All pages of a listing, following `meta.next_page` with the reference's guards: stop
    /// on an empty page or a `next_page` that does not move forward. `stable` is false when
    /// the total changed between pages.
    async fn list_all(&self, path: &str) -> Result<(Vec<Value>, bool), ConnectorError> {
        let mut out = Vec::new();
        let mut page = 1;
        let mut total = None;
        let mut stable = true;
        loop {
            let (data, meta) = self.client.page(path, page).await?;
            stable &= settle(&mut total, meta.total_entries);
            let empty = data.is_empty();
            out.extend(data);
            match meta.next_page {
                Some(next) if !empty && next > page && page < MAX_PAGES => page = next,
                _ => return Ok((out, stable)),
            }
        }
    }

    /// One position with its applicants, as records: the job, its stages, then a candidate
    /// and an application per applicant; and whether its applicant listing held still.
    async fn read_position(&self, raw: Value) -> Result<(Vec<Record>, bool), ConnectorError> {
        let scope = self.scope();
        let Some(position_id) =
            crate::wire::parse::<crate::wire::Position>(&raw).and_then(|p| p.id)
        else {
            tracing::warn!(record = %raw, "skipping a position without an id");
            return Ok((vec![], true));
        };
        let (applicants, stable) = self.applicants_of(&position_id).await?;
        let mut records = Vec::with_capacity(applicants.len() * 2 + 8);
        let mut seen: Vec<SeenStage> = Vec::new();
        for raw_applicant in &applicants {
            let Some(m) = mapping::applicant(scope, raw_applicant, &position_id, APPLICANTS_PATH)
            else {
                tracing::warn!(position_id, record = %raw_applicant, "skipping an applicant without an id");
                continue;
            };
            seen.extend(m.stage);
            records.push(Record::Candidate(m.candidate));
            records.push(Record::Application(m.application));
        }
        let stages = mapping::job_stages(scope, &seen);
        let mut head = Vec::with_capacity(stages.len() + 1);
        let mut stage_ids = HashSet::new();
        for s in &seen {
            if stage_ids.insert(s.remote_id.clone()) {
                head.push(Record::ApplicationStage {
                    stage: mapping::application_stage(scope, s),
                    job_remote_id: position_id.clone(),
                });
            }
        }
        let Some(job) = mapping::job(scope, &raw, stages) else {
            return Ok((vec![], stable));
        };
        head.insert(0, Record::Job(job));
        head.extend(records);
        Ok((head, stable))
    }
}

/// Remembers the first total seen; false once a later page reports another.
fn settle(total: &mut Option<u64>, now: Option<u64>) -> bool {
    match (*total, now) {
        (None, n) => {
            *total = n;
            true
        }
        (Some(t), Some(n)) => t == n,
        (Some(_), None) => true,
    }
}

fn count(summary: &mut ReadSummary, records: &[Record]) {
    for r in records {
        *summary.records.entry(r.model().as_str()).or_default() += 1;
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
        Box::pin(async move {
            let before = self.client.requests_sent();
            let mut summary = ReadSummary::default();
            let mut seen_positions = HashSet::new();
            let mut page = 1;
            let mut total = None;
            let mut stable = true;
            let mut listing = self.client.page("/recruitment/positions", page).await?;
            loop {
                let (positions, meta) = listing;
                stable &= settle(&mut total, meta.total_entries);
                let empty = positions.is_empty();
                let next_page = match meta.next_page {
                    Some(next) if !empty && next > page && page < MAX_PAGES => Some(next),
                    _ => None,
                };
                // A position that moved across a page boundary mid-listing would come twice.
                let fresh: Vec<Value> = positions
                    .into_iter()
                    .filter(|p| {
                        let id = p.get("id").map(Value::to_string).unwrap_or_default();
                        seen_positions.insert(id)
                    })
                    .collect();
                // Positions are read a few at a time; records reach the sink in listing order
                // and at most `concurrency` positions are held in memory at once.
                let read = async {
                    let mut batches =
                        stream::iter(fresh.into_iter().map(|p| self.read_position(p)))
                            .buffered(self.client.concurrency());
                    while let Some((records, position_stable)) = batches.try_next().await? {
                        stable &= position_stable;
                        count(&mut summary, &records);
                        if !records.is_empty() {
                            sink.accept(records).await?;
                        }
                    }
                    Ok::<_, ConnectorError>(())
                };
                // The next page of positions is fetched while this one's applicants are
                // read, so a slow API does not wait for it between pages.
                let Some(next) = next_page else {
                    read.await?;
                    break;
                };
                let (done, fetched) = futures_util::future::join(
                    read,
                    self.client.page("/recruitment/positions", next),
                )
                .await;
                done?;
                listing = fetched?;
                page = next;
            }
            summary.requests = self.client.requests_sent() - before;
            summary.stable = stable;
            Ok(summary)
        })
    }

    fn create_applicant<'a>(
        &'a self,
        applicant: &'a NewApplicant,
    ) -> BoxFuture<'a, Result<String, ConnectorError>> {
        Box::pin(async move {
            let mut fields = vec![(
                "applicant[first_name]".to_owned(),
                applicant.first_name.clone(),
            )];
            let optional = [
                ("applicant[last_name]", &applicant.last_name),
                ("applicant[email]", &applicant.email),
                ("applicant[phone_number]", &applicant.phone_number),
                ("applicant[address]", &applicant.address),
                ("applicant[summary]", &applicant.summary),
                ("applicant[source]", &applicant.source),
            ];
            for (name, value) in optional {
                if let Some(v) = value {
                    fields.push((name.to_owned(), v.clone()));
                }
            }
            let request = Request {
                method: Method::POST,
                path: format!(
                    "/recruitment/positions/{}/applicants",
                    applicant.job_remote_id
                ),
                query: vec![],
                headers: vec![],
                body: Body::Form(fields, applicant.attachment.clone()),
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
            if remote_id.is_empty() || !remote_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
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
            let scope = self.scope();
            let Some(m) = mapping::applicant(scope, &raw, &position, APPLICANT_PATH) else {
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
                        "method `{other}` is not one of GET, POST, PUT, PATCH, DELETE"
                    )))
                }
            };
            check_path(&request.path)?;
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
            })
        })
    }
}

fn invalid(message: String) -> ConnectorError {
    ConnectorError::new(Kind::InvalidInput(vec![message.clone()]), message)
}

/// The path must stay under the account's API: relative, no parent steps, no scheme or host,
/// no query (that goes in `params`).
fn check_path(path: &str) -> Result<(), ConnectorError> {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains("..")
        && !path.contains('\\')
        && !path.contains(['?', '#', '@'])
        && !path.chars().any(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "path `{path}` must start with `/`, stay under the API and carry no query"
        )))
    }
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

    #[test]
    fn totals_that_change_mark_a_listing_unstable() {
        let mut total = None;
        assert!(settle(&mut total, Some(3)));
        assert!(settle(&mut total, Some(3)));
        assert!(!settle(&mut total, Some(2)));
    }
}
