//! Kombo's error codes. The general endpoints use only the `PLATFORM.*` codes; the ATS
//! endpoints use all but the `HRIS.*` ones, the HRIS endpoints all but the `ATS.*` ones.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! error_codes {
    ($($variant:ident => $code:literal, $status:literal, $title:literal;)+) => {
        /// Every code of Kombo's ATS and HRIS error envelopes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($variant,)+
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            /// The wire spelling, e.g. `PLATFORM.INPUT_INVALID`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)+
                }
            }

            /// The HTTP status atsbridge answers with. Kombo documents statuses only for a
            /// few codes (409 for setup states, 429 for limits) and tells clients to branch on
            /// the code; the rest follow HTTP's meaning of the situation.
            pub fn http_status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)+
                }
            }

            /// The code's fixed, human-readable label (`title` in the envelope).
            pub fn title(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $title,)+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($code => Some(ErrorCode::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

error_codes! {
    PlatformRateLimitExceeded => "PLATFORM.RATE_LIMIT_EXCEEDED", 429, "Rate limit exceeded";
    PlatformConcurrencyLimitExceeded => "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED", 429, "Concurrency limit exceeded";
    PlatformIntegrationNotFound => "PLATFORM.INTEGRATION_NOT_FOUND", 404, "Integration not found";
    PlatformInputInvalid => "PLATFORM.INPUT_INVALID", 400, "Invalid input";
    PlatformUnknownError => "PLATFORM.UNKNOWN_ERROR", 500, "Unknown error";
    PlatformIpNotWhitelisted => "PLATFORM.IP_NOT_WHITELISTED", 403, "IP address not allowed";
    PlatformAuthenticationInvalid => "PLATFORM.AUTHENTICATION_INVALID", 401, "Invalid API key";
    PlatformTaskTimedOut => "PLATFORM.TASK_TIMED_OUT", 504, "Task timed out";
    IntegrationPermissionMissing => "INTEGRATION.PERMISSION_MISSING", 403, "Permission missing in the connected tool";
    IntegrationAuthenticationInvalid => "INTEGRATION.AUTHENTICATION_INVALID", 403, "Credentials of the integration are invalid";
    IntegrationQaFailed => "INTEGRATION.QA_FAILED", 409, "Integration failed quality assurance";
    IntegrationSetupSyncPending => "INTEGRATION.SETUP_SYNC_PENDING", 409, "First sync still pending";
    IntegrationSetupIncomplete => "INTEGRATION.SETUP_INCOMPLETE", 409, "Integration setup incomplete";
    IntegrationInactive => "INTEGRATION.INACTIVE", 403, "Integration inactive";
    IntegrationModelNotAvailable => "INTEGRATION.MODEL_NOT_AVAILABLE", 400, "Model not available for this tool";
    IntegrationModelDisabled => "INTEGRATION.MODEL_DISABLED", 403, "Model disabled";
    IntegrationActionNotAvailable => "INTEGRATION.ACTION_NOT_AVAILABLE", 400, "Action not available for this tool";
    IntegrationActionDisabled => "INTEGRATION.ACTION_DISABLED", 403, "Action disabled";
    RemoteServiceUnavailable => "REMOTE.SERVICE_UNAVAILABLE", 503, "Remote system unavailable";
    RemoteRateLimitExceeded => "REMOTE.RATE_LIMIT_EXCEEDED", 429, "Remote system rate limit exceeded";
    RemoteInputInvalid => "REMOTE.INPUT_INVALID", 400, "Remote system rejected the input";
    RemoteUnknownHttpError => "REMOTE.UNKNOWN_HTTP_ERROR", 502, "Remote system error";
    AtsJobClosed => "ATS.JOB_CLOSED", 409, "Job closed";
    AtsApplicationAlreadyExists => "ATS.APPLICATION_ALREADY_EXISTS", 409, "Application already exists";
    // Conflicts with the tool's current state, like the two `ATS.*` codes above.
    HrisStaffingEntityClosed => "HRIS.STAFFING_ENTITY_CLOSED", 409, "Staffing entity closed";
    HrisEmployeeAlreadyExists => "HRIS.EMPLOYEE_ALREADY_EXISTS", 409, "Employee already exists";
}

impl ErrorCode {
    /// Whether the code belongs to the general set that non-ATS endpoints may return.
    pub fn is_general(self) -> bool {
        self.as_str().starts_with("PLATFORM.")
    }

    /// Whether only the ATS endpoints may return the code (Kombo's HRIS error list lacks it).
    pub fn is_ats_only(self) -> bool {
        self.as_str().starts_with("ATS.")
    }

    /// Whether only the HRIS endpoints may return the code (Kombo's ATS error list lacks it).
    pub fn is_hris_only(self) -> bool {
        self.as_str().starts_with("HRIS.")
    }

    /// Whether Kombo tells clients to retry the same request unchanged.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorCode::PlatformRateLimitExceeded
                | ErrorCode::PlatformConcurrencyLimitExceeded
                | ErrorCode::RemoteRateLimitExceeded
                | ErrorCode::RemoteServiceUnavailable
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ErrorCode::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown error code `{s}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_26_codes_round_trip() {
        assert_eq!(ErrorCode::ALL.len(), 26);
        for &code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
            assert!((400..600).contains(&code.http_status()), "{code}");
        }
        assert_eq!(ErrorCode::ALL.iter().filter(|c| c.is_general()).count(), 8);
        // Kombo's ATS and HRIS lists are the 22 shared codes plus two of their own each.
        assert_eq!(ErrorCode::ALL.iter().filter(|c| c.is_ats_only()).count(), 2);
        assert_eq!(
            ErrorCode::ALL.iter().filter(|c| c.is_hris_only()).count(),
            2
        );
        assert_eq!(
            ErrorCode::parse("HRIS.EMPLOYEE_ALREADY_EXISTS").map(ErrorCode::http_status),
            Some(409)
        );
    }

    #[test]
    fn documented_statuses_hold() {
        assert_eq!(ErrorCode::IntegrationSetupSyncPending.http_status(), 409);
        assert_eq!(
            ErrorCode::PlatformConcurrencyLimitExceeded.http_status(),
            429
        );
        assert_eq!(ErrorCode::PlatformAuthenticationInvalid.http_status(), 401);
        assert!(serde_json::from_str::<ErrorCode>("\"PLATFORM.NOPE\"").is_err());
    }
}
