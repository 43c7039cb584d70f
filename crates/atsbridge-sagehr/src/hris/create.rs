//! Kombo's (deprecated) "Create employee" on Sage HR (H5, `sagehr-hris-api.md` §7.7), and
//! reading one employee back in the form `read_all` gives.

use atsbridge_model::connector::{ConnectorError, ConnectorErrorKind as Kind};
use atsbridge_model::envelope::Warning;
use atsbridge_model::hris::{CreateEmployeeRequest, Employee};
use reqwest::Method;
use serde_json::{Map, Value};

use super::mapping::{self, TERMINATED_LIST_KEYS};
use super::read::HISTORY;
use super::SageHrHris;
use crate::client::{Body, Request, Retry};
use crate::connector::addressable;

/// ISO 3166-1 alpha-2 → the long form (demonym) Sage HR stores as `nationality`. Only common
/// countries: an unknown code is left out with a warning rather than guessed.
const NATIONALITIES: &[(&str, &str)] = &[
    ("AR", "Argentinian"),
    ("AT", "Austrian"),
    ("AU", "Australian"),
    ("BE", "Belgian"),
    ("BG", "Bulgarian"),
    ("BR", "Brazilian"),
    ("CA", "Canadian"),
    ("CH", "Swiss"),
    ("CN", "Chinese"),
    ("CZ", "Czech"),
    ("DE", "German"),
    ("DK", "Danish"),
    ("EE", "Estonian"),
    ("ES", "Spanish"),
    ("FI", "Finnish"),
    ("FR", "French"),
    ("GB", "British"),
    ("GR", "Greek"),
    ("HR", "Croatian"),
    ("HU", "Hungarian"),
    ("IE", "Irish"),
    ("IL", "Israeli"),
    ("IN", "Indian"),
    ("IS", "Icelandic"),
    ("IT", "Italian"),
    ("JP", "Japanese"),
    ("KR", "South Korean"),
    ("LT", "Lithuanian"),
    ("LU", "Luxembourgish"),
    ("LV", "Latvian"),
    ("MX", "Mexican"),
    ("NL", "Dutch"),
    ("NO", "Norwegian"),
    ("NZ", "New Zealander"),
    ("PH", "Filipino"),
    ("PL", "Polish"),
    ("PT", "Portuguese"),
    ("RO", "Romanian"),
    ("RS", "Serbian"),
    ("SE", "Swedish"),
    ("SI", "Slovenian"),
    ("SK", "Slovak"),
    ("TR", "Turkish"),
    ("UA", "Ukrainian"),
    ("US", "American"),
    ("ZA", "South African"),
];

/// The long form Sage HR wants for an ISO 3166-1 alpha-2 code, if the table has it.
pub fn nationality(code: &str) -> Option<&'static str> {
    NATIONALITIES
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(code))
        .map(|(_, n)| *n)
}

fn some(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// H5's body for a request, and a warning for each given input Sage HR cannot take.
pub(crate) fn body(
    request: &CreateEmployeeRequest,
) -> Result<(Map<String, Value>, Vec<Warning>), ConnectorError> {
    let Some(email) = some(&request.work_email) else {
        let message = "work_email: is required by Sage HR".to_owned();
        return Err(ConnectorError::new(
            Kind::InvalidInput(vec![message.clone()]),
            message,
        ));
    };
    let mut body = Map::new();
    let mut warnings = vec![];
    let mut put = |key: &str, value: Option<&str>| {
        if let Some(v) = value {
            body.insert(key.to_owned(), Value::String(v.to_owned()));
        }
    };
    put("email", Some(email));
    put("first_name", some(&request.first_name));
    put("last_name", some(&request.last_name));
    let start = request.start_date_date().map(|d| d.to_string());
    put("work_start_date", start.as_deref());
    let birth = request.date_of_birth_date().map(|d| d.to_string());
    put("date_of_birth", birth.as_deref());
    put(
        "gender",
        some(&request.gender).map(|g| match g {
            "MALE" => "Male",
            "FEMALE" => "Female",
            _ => "Other",
        }),
    );
    if let Some(code) = some(&request.nationality) {
        match nationality(code) {
            Some(long) => put("nationality", Some(long)),
            None => warnings.push(Warning::new(format!(
                "nationality: Sage HR wants the nationality in words and `{code}` is not in atsbridge's table; it was not sent"
            ))),
        }
    }
    if let Some(a) = &request.home_address {
        put("street_first", some(&a.street_1));
        put("street_second", some(&a.street_2));
        put("city", some(&a.city));
        put("state", some(&a.state));
        put("post_code", some(&a.zip_code));
        put("country", some(&a.country));
    }
    put("mobile_phone", some(&request.mobile_phone_number));
    put("home_phone", some(&request.home_phone_number));
    put("position_title", some(&request.job_title));
    for (path, given) in [
        ("legal_entity_id", &request.legal_entity_id),
        ("location_id", &request.location_id),
    ] {
        if given.is_some() {
            warnings.push(Warning::new(format!(
                "{path}: Sage HR has no legal entities or work locations; it was ignored"
            )));
        }
    }
    // `remote_fields.sagehr` goes to Sage HR as it is, over the mapped fields: the caller
    // asked for exactly that. `send_email` is never sent unless asked for that way (no
    // welcome email by default).
    if let Some(Value::Object(extra)) = request.remote_fields.as_ref().and_then(|r| r.get("sagehr"))
    {
        for (k, v) in extra {
            body.insert(k.clone(), v.clone());
        }
    }
    Ok((body, warnings))
}

impl SageHrHris {
    /// Creates an employee (H5) and returns its remote id, with a warning for each input Sage
    /// HR does not store.
    pub async fn create_employee(
        &self,
        request: &CreateEmployeeRequest,
    ) -> Result<(String, Vec<Warning>), ConnectorError> {
        let (body, warnings) = body(request)?;
        let req = Request {
            method: Method::POST,
            path: "/employees".into(),
            query: vec![],
            headers: vec![],
            body: Body::Json(Value::Object(body)),
        };
        let exchange = match self.client().execute(&req, Retry::Create).await {
            Ok(e) => e,
            Err(e) => return Err(refine(e)),
        };
        let answer: Value = serde_json::from_slice(&exchange.body).unwrap_or(Value::Null);
        match answer.pointer("/data/id") {
            Some(Value::Number(n)) => Ok((n.to_string(), warnings)),
            Some(Value::String(s)) if !s.is_empty() => Ok((s.clone(), warnings)),
            _ => Err(ConnectorError::new(
                Kind::Unknown,
                "Sage HR created the employee but its answer has no id",
            )),
        }
    }

    /// One employee by remote id in exactly the form `read_all` delivers it (same fields, same
    /// `remote_data`, so the same hash): H2 for an active employee, else H4 cut down to H3's
    /// keys. `None` when Sage HR knows neither.
    pub async fn read_employee(&self, remote_id: &str) -> Result<Option<Employee>, ConnectorError> {
        if !addressable(remote_id) {
            return Ok(None);
        }
        let query = [(HISTORY.0, HISTORY.1.to_owned())];
        let scope = self.scope();
        match self
            .client()
            .get_json(&format!("/employees/{remote_id}"), &query)
            .await
        {
            Ok(body) => {
                let raw = body.get("data").cloned().unwrap_or(Value::Null);
                return self
                    .with_custom_fields(mapping::employee(scope, &raw, false))
                    .await;
            }
            Err(e) if e.kind == Kind::NotFound => {}
            Err(e) => return Err(e),
        }
        let body = match self
            .client()
            .get_json(&format!("/terminated-employees/{remote_id}"), &query)
            .await
        {
            Ok(body) => body,
            Err(e) if e.kind == Kind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(Value::Object(full)) = body.get("data") else {
            return Ok(None);
        };
        let short: Map<String, Value> = full
            .iter()
            .filter(|(k, _)| TERMINATED_LIST_KEYS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.with_custom_fields(mapping::employee(scope, &Value::Object(short), true))
            .await
    }

    /// The employee with its H9 custom fields, as `read_all` delivers it. `None` when it
    /// was deleted in between.
    async fn with_custom_fields(
        &self,
        employee: Option<Employee>,
    ) -> Result<Option<Employee>, ConnectorError> {
        let Some(mut employee) = employee else {
            return Ok(None);
        };
        match self.custom_fields(&employee.core.remote_id).await {
            Ok(rows) => {
                mapping::with_custom_fields(self.scope(), &mut employee, &rows);
                Ok(Some(employee))
            }
            Err(e) if e.kind == Kind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Sage HR's "Email has already been taken" is a duplicate employee.
fn refine(e: ConnectorError) -> ConnectorError {
    let Kind::InvalidInput(messages) = &e.kind else {
        return e;
    };
    let text = messages.join("; ");
    if text.to_ascii_lowercase().contains("already been taken") {
        ConnectorError::new(
            Kind::AlreadyExists,
            format!("Sage HR refused a duplicate employee: {text}"),
        )
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_body_maps_kombos_fields_onto_sage_hrs() {
        let request: CreateEmployeeRequest = serde_json::from_value(json!({
            "first_name": "Ada", "last_name": "Lovelace", "work_email": "ada@acme.example",
            "gender": "NON_BINARY", "job_title": "Engineer", "nationality": "GB",
            "home_address": {"street_1": "1 High St", "city": "Leeds", "zip_code": "LS1", "country": "GB"},
            "date_of_birth": "1990-05-01T00:00:00.000Z", "start_date": "2026-04-01",
            "mobile_phone_number": "+44 7700 900000", "legal_entity_id": "x"
        }))
        .unwrap();
        let (body, warnings) = body(&request).unwrap();
        assert_eq!(
            Value::Object(body),
            json!({"email": "ada@acme.example", "first_name": "Ada", "last_name": "Lovelace",
                "work_start_date": "2026-04-01", "date_of_birth": "1990-05-01", "gender": "Other",
                "nationality": "British", "street_first": "1 High St", "city": "Leeds",
                "post_code": "LS1", "country": "GB", "mobile_phone": "+44 7700 900000",
                "position_title": "Engineer"})
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].message.starts_with("legal_entity_id"));
    }

    #[test]
    fn unknown_nationalities_warn_and_a_missing_email_is_refused() {
        let mut request: CreateEmployeeRequest = serde_json::from_value(
            json!({"first_name": "A", "last_name": "B", "work_email": "a@b.example", "nationality": "ZZ"}),
        )
        .unwrap();
        let (body, warnings) = body(&request).unwrap();
        assert!(!body.contains_key("nationality"));
        assert!(warnings[0].message.starts_with("nationality"));
        request.work_email = None;
        let e = super::body(&request).unwrap_err();
        assert!(matches!(&e.kind, Kind::InvalidInput(m) if m[0].starts_with("work_email")));
    }
}
