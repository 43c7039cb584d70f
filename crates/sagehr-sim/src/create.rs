//! R4, `POST /recruitment/positions/{id}/applicants`: creating an applicant from a multipart
//! (documented), JSON or url-encoded body, with Sage HR's validation and source rules.

use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::api::{authenticate, hex, now_seconds, parse_id, ApiError, ApiResult, MAX_BODY_BYTES};
use crate::state::{lock, Action, Applicant, ReceivedFile, Referrer, Sim, Tenant};

/// What R4 received, from whichever body form (or from a hook that creates an applicant).
#[derive(Debug, Default)]
pub(crate) struct NewApplicant {
    pub(crate) first_name: Option<String>,
    pub(crate) last_name: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) phone_number: Option<String>,
    pub(crate) address: Option<String>,
    pub(crate) summary: Option<String>,
    pub(crate) source: Option<String>,
    referral: Option<NewReferral>,
    attachment: Option<Upload>,
}

#[derive(Debug, Default)]
struct NewReferral {
    full_name: Option<String>,
    email: Option<String>,
    phone_number: Option<String>,
}

#[derive(Debug)]
struct Upload {
    name: String,
    content_type: Option<String>,
    bytes: Vec<u8>,
}

impl NewApplicant {
    /// Takes one bracketed form field (`applicant[first_name]`, `applicant[referral][email]`).
    /// Unknown names are ignored, like Rails' strong parameters do.
    fn set(&mut self, name: &str, value: String) {
        let value = Some(value);
        match name {
            "applicant[first_name]" => self.first_name = value,
            "applicant[last_name]" => self.last_name = value,
            "applicant[email]" => self.email = value,
            "applicant[phone_number]" => self.phone_number = value,
            "applicant[address]" => self.address = value,
            "applicant[summary]" => self.summary = value,
            "applicant[source]" => self.source = value,
            "applicant[referral][full_name]" => {
                self.referral.get_or_insert_with(Default::default).full_name = value;
            }
            "applicant[referral][email]" => {
                self.referral.get_or_insert_with(Default::default).email = value;
            }
            "applicant[referral][phone_number]" => {
                self.referral
                    .get_or_insert_with(Default::default)
                    .phone_number = value;
            }
            _ => {}
        }
    }

    fn from_json(body: &Value) -> Result<Self, ApiError> {
        let Some(a) = body.get("applicant").filter(|a| a.is_object()) else {
            return Err(ApiError::bad_request(
                "param is missing or the value is empty: applicant",
            ));
        };
        if a.get("attachment").is_some_and(|v| !v.is_null()) {
            return Err(ApiError::validation(vec![
                "Attachment can only be uploaded as a multipart/form-data file part".into(),
            ]));
        }
        let text = |v: Option<&Value>| match v {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            _ => None,
        };
        let referral = a
            .get("referral")
            .filter(|r| r.is_object())
            .map(|r| NewReferral {
                full_name: text(r.get("full_name")),
                email: text(r.get("email")),
                phone_number: text(r.get("phone_number")),
            });
        Ok(NewApplicant {
            first_name: text(a.get("first_name")),
            last_name: text(a.get("last_name")),
            email: text(a.get("email")),
            phone_number: text(a.get("phone_number")),
            address: text(a.get("address")),
            summary: text(a.get("summary")),
            source: text(a.get("source")),
            referral,
            attachment: None,
        })
    }

    async fn from_multipart(mut form: Multipart) -> Result<Self, ApiError> {
        let mut new = NewApplicant::default();
        let broken = |e: axum::extract::multipart::MultipartError| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                ApiError::bad_request(format!("malformed multipart body: {e}"))
            }
        };
        while let Some(field) = form.next_field().await.map_err(broken)? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "applicant[attachment]" {
                let file_name = field.file_name().unwrap_or("attachment").to_owned();
                let content_type = field.content_type().map(str::to_owned);
                let bytes = field.bytes().await.map_err(broken)?.to_vec();
                new.attachment = Some(Upload {
                    name: file_name,
                    content_type,
                    bytes,
                });
            } else {
                let value = field.text().await.map_err(broken)?;
                new.set(&name, value);
            }
        }
        Ok(new)
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        vec![format!(
            "Request body is larger than {MAX_BODY_BYTES} bytes"
        )],
    )
}

fn blank(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(|s| s.trim().is_empty())
}

fn non_blank(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

fn email_looks_valid(s: &str) -> bool {
    s.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !s.contains(char::is_whitespace)
    })
}

/// The built-in sources; anything else becomes a custom source.
const BUILT_IN_SOURCES: [&str; 4] = ["company_marketing", "recruiters", "referral", "sourced"];

/// R4. Accepts multipart (the documented form), JSON and url-encoded bodies.
pub(crate) async fn applicants_create(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
    request: Request,
) -> ApiResult {
    let (tenant, employee) = authenticate(&sim, &subdomain, request.headers())?;
    let id = parse_id(&id)?;
    {
        let t = lock(&tenant);
        let position = t.positions.get(&id).ok_or_else(ApiError::not_found)?;
        if !position.is_open() {
            return Err(ApiError::validation(vec![format!(
                "Position is not accepting applicants (its status is {})",
                position.status
            )]));
        }
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let new = if content_type.starts_with("multipart/form-data") {
        let form = Multipart::from_request(request, &())
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        NewApplicant::from_multipart(form).await?
    } else {
        let bytes = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| too_large())?;
        if content_type.starts_with("application/x-www-form-urlencoded") {
            let mut new = NewApplicant::default();
            for (k, v) in form_urlencoded::parse(&bytes) {
                new.set(&k, v.into_owned());
            }
            new
        } else {
            let body: Value = serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::bad_request(format!("body is not valid JSON: {e}")))?;
            NewApplicant::from_json(&body)?
        }
    };

    let mut t = lock(&tenant);
    let applicant_id = create_applicant(&mut t, id, new, Some(employee))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"data": {"id": applicant_id}})),
    )
        .into_response())
}

/// R4's validation, source rules and insert, under the tenant's lock: the position is checked
/// again here because it may have changed since the request arrived.
pub(crate) fn create_applicant(
    t: &mut Tenant,
    id: u64,
    new: NewApplicant,
    added_by: Option<u64>,
) -> Result<u64, ApiError> {
    let position = t.positions.get(&id).ok_or_else(ApiError::not_found)?;
    if !position.is_open() {
        return Err(ApiError::validation(vec![format!(
            "Position is not accepting applicants (its status is {})",
            position.status
        )]));
    }
    let first_stage = position.stages.first().map(|s| s.id).unwrap_or_default();
    let mut errors = Vec::new();
    if blank(&new.first_name) {
        errors.push("First name can't be blank".to_owned());
    }
    let email = non_blank(new.email.clone()).map(|e| e.trim().to_owned());
    if let Some(e) = &email {
        if !email_looks_valid(e) {
            errors.push("Email is invalid".to_owned());
        } else if t
            .by_position
            .get(&id)
            .into_iter()
            .flatten()
            .filter_map(|a| t.applicants.get(a))
            .any(|a| {
                a.email
                    .as_deref()
                    .is_some_and(|other| other.eq_ignore_ascii_case(e))
            })
        {
            errors.push("Email has already been taken".to_owned());
        }
    }
    if let Some(r) = &new.referral {
        if blank(&r.full_name) && blank(&r.email) {
            errors.push("Referral must have a full name or an email".to_owned());
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }

    let source = if new.referral.is_some() {
        "referral".to_owned()
    } else {
        match non_blank(new.source.clone()) {
            None => "api".to_owned(),
            Some(s) => {
                let s = s.trim().to_owned();
                if !BUILT_IN_SOURCES.contains(&s.as_str()) && s != "api" {
                    t.custom_sources.insert(s.clone());
                }
                s
            }
        }
    };
    let now = now_seconds();
    let applicant_id = t.next_id();
    let referrer = match new.referral {
        Some(r) => Some(Referrer {
            id: t.next_id(),
            // A referral given by email only is shown under that email.
            full_name: non_blank(r.full_name)
                .or_else(|| r.email.clone())
                .unwrap_or_default(),
            email: non_blank(r.email),
            phone_number: non_blank(r.phone_number),
        }),
        None => None,
    };
    let mut actions = vec![Action {
        action: "applicant_created".into(),
        message: "Applicant created".into(),
        created_at: now,
    }];
    if let Some(upload) = &new.attachment {
        actions.push(Action {
            action: "document_created".into(),
            message: format!("Uploaded \"{}\"", upload.name),
            created_at: now,
        });
        let file = ReceivedFile {
            name: upload.name.clone(),
            content_type: upload.content_type.clone(),
            size: upload.bytes.len(),
            sha256: hex(&Sha256::digest(&upload.bytes)),
        };
        t.files.entry(applicant_id).or_default().push(file);
    }
    t.insert_applicant(Applicant {
        id: applicant_id,
        position_id: id,
        first_name: new.first_name.unwrap_or_default().trim().to_owned(),
        last_name: non_blank(new.last_name),
        email,
        phone_number: non_blank(new.phone_number),
        address: non_blank(new.address),
        summary: non_blank(new.summary),
        source,
        created_at: now,
        disqualified_date: None,
        hired_date: None,
        stage_id: first_stage,
        added_by,
        referrer,
        actions,
    });
    Ok(applicant_id)
}
