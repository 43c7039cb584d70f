//! Kombo's response envelopes: `{"status":"success","data":…}` for reads, the same plus
//! `warnings` for writes, and `{"status":"error","error":{…}}` for failures.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ErrorCode;

/// Declares a unit type that serializes as one fixed string and accepts only that string.
macro_rules! literal {
    ($name:ident = $text:literal) => {
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $name;

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($text)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                if s == $text {
                    Ok($name)
                } else {
                    Err(serde::de::Error::custom(format!(
                        "expected \"{}\", found \"{s}\"",
                        $text
                    )))
                }
            }
        }
    };
}

literal!(Success = "success");
literal!(Failure = "error");

/// One page of a list endpoint. `next` is the opaque cursor of the following page, `null` on
/// the last one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub next: Option<String>,
    pub results: Vec<T>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListResponse<T> {
    pub status: Success,
    pub data: Page<T>,
}

impl<T> ListResponse<T> {
    pub fn new(results: Vec<T>, next: Option<String>) -> Self {
        ListResponse {
            status: Success,
            data: Page { next, results },
        }
    }
}

/// A single object: an integration, the API key check, a force-sync answer, …
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DataResponse<T> {
    pub status: Success,
    pub data: T,
}

impl<T> DataResponse<T> {
    pub fn new(data: T) -> Self {
        DataResponse {
            status: Success,
            data,
        }
    }
}

/// The answer of a write action: the written object plus everything the ATS could not take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WriteResponse<T> {
    pub status: Success,
    pub data: T,
    pub warnings: Vec<Warning>,
}

impl<T> WriteResponse<T> {
    pub fn new(data: T, warnings: Vec<Warning>) -> Self {
        WriteResponse {
            status: Success,
            data,
            warnings,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Warning {
    pub message: String,
}

impl Warning {
    pub fn new(message: impl Into<String>) -> Self {
        Warning {
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorResponse {
    pub status: Failure,
    pub error: ErrorBody,
}

/// `code` is what clients branch on; `title` is the code's fixed label; `message` describes
/// this instance (naming the offending field where there is one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub code: Option<ErrorCode>,
    pub title: Option<String>,
    pub message: String,
    pub log_url: Option<String>,
}

impl ErrorResponse {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorResponse {
            status: Failure,
            error: ErrorBody {
                code: Some(code),
                title: Some(code.title().to_owned()),
                message: message.into(),
                log_url: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn list_envelope_has_status_next_and_results() {
        let r = ListResponse::new(vec![1, 2], None);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"status": "success", "data": {"next": null, "results": [1, 2]}})
        );
    }

    #[test]
    fn write_envelope_always_has_warnings() {
        let r = WriteResponse::new(json!({}), vec![]);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"status": "success", "data": {}, "warnings": []})
        );
    }

    #[test]
    fn error_envelope_carries_code_title_message_and_null_log_url() {
        let e = ErrorResponse::new(ErrorCode::PlatformInputInvalid, "page_size: must be 1..250");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"status": "error", "error": {
                "code": "PLATFORM.INPUT_INVALID",
                "title": "Invalid input",
                "message": "page_size: must be 1..250",
                "log_url": null}})
        );
        assert!(serde_json::from_value::<ErrorResponse>(json!({"status": "success", "error": {"code": null, "title": null, "message": "x", "log_url": null}})).is_err());
    }
}
