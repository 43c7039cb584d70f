//! Enumerations of the unified model.
//!
//! Kombo has two kinds. *Open* enums (employment type, job status, visibility, remote work
//! status, salary period) carry the mapped value when there is one and otherwise pass the
//! ATS's raw string through unchanged, so no information is lost. *Closed* enums (outcome,
//! stage status, …) only ever hold their listed values.

/// Declares an open enum: the listed variants plus `Other(raw)`.
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
            /// A value the mapping did not recognise, passed through as the tool sent it.
            Other(String),
        }

        impl $name {
            pub const KNOWN: &'static [&'static str] = &[$($text),+];

            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Other(raw) => raw,
                }
            }

            /// The listed variant spelled exactly `s`, else `Other(s)`.
            pub fn from_raw(s: &str) -> Self {
                match s {
                    $($text => $name::$variant,)+
                    other => $name::Other(other.to_owned()),
                }
            }

            /// Whether this is one of Kombo's listed values rather than a raw passthrough.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Other(_))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok(Self::from_raw(&<String as ::serde::Deserialize>::deserialize(d)?))
            }
        }

        // Any string is valid (a raw value passes through), so the known values are only
        // examples, not an `enum`.
        #[cfg(feature = "openapi")]
        impl ::utoipa::PartialSchema for $name {
            fn schema() -> ::utoipa::openapi::RefOr<::utoipa::openapi::Schema> {
                $crate::openapi::string_schema(concat!(
                    "One of Kombo's values ", $("`", $text, "` ",)+
                    "or the tool's raw value when it has no mapping."
                ))
                .examples([$($text),+])
                .into()
            }
        }
        #[cfg(feature = "openapi")]
        impl ::utoipa::ToSchema for $name {}
    };
}

/// Declares a closed enum serialized as its SCREAMING_SNAKE_CASE name.
macro_rules! closed_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// Exact, case-sensitive parse of Kombo's spelling.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        // Written out: the derive does not read `rename` values that come from the macro.
        #[cfg(feature = "openapi")]
        impl ::utoipa::PartialSchema for $name {
            fn schema() -> ::utoipa::openapi::RefOr<::utoipa::openapi::Schema> {
                $crate::openapi::string_enum([$($text),+]).into()
            }
        }
        #[cfg(feature = "openapi")]
        impl ::utoipa::ToSchema for $name {}

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

// The HRIS module declares its own enums with the same two shapes.
pub(crate) use closed_enum;
pub(crate) use open_enum;

open_enum!(EmploymentType {
    FullTime => "FULL_TIME",
    PartTime => "PART_TIME",
    Contract => "CONTRACT",
    Seasonal => "SEASONAL",
    Internship => "INTERNSHIP",
});

open_enum!(
    /// Evaluate together with [`Visibility`]: an OPEN job may still be internal only.
    JobStatus {
        Open => "OPEN",
        Closed => "CLOSED",
        Draft => "DRAFT",
        Archived => "ARCHIVED",
    }
);

open_enum!(Visibility {
    Public => "PUBLIC",
    Internal => "INTERNAL",
    Unlisted => "UNLISTED",
    Confidential => "CONFIDENTIAL",
});

open_enum!(RemoteWorkStatus {
    Remote => "REMOTE",
    Hybrid => "HYBRID",
    Temporary => "TEMPORARY",
    OnSite => "ON_SITE",
});

open_enum!(SalaryPeriod {
    Year => "YEAR",
    Month => "MONTH",
    TwoWeeks => "TWO_WEEKS",
    Week => "WEEK",
    Day => "DAY",
    Hour => "HOUR",
});

closed_enum!(
    /// Kombo's derived state of an application: hired, declined (by either side) or pending.
    Outcome {
        Pending => "PENDING",
        Hired => "HIRED",
        Declined => "DECLINED",
    }
);

closed_enum!(StageStatus {
    Active => "ACTIVE",
    Inactive => "INACTIVE",
});

closed_enum!(JobPostingStatus {
    Active => "ACTIVE",
    Inactive => "INACTIVE",
    Draft => "DRAFT",
});

closed_enum!(JobPostingVisibility {
    Public => "PUBLIC",
    Internal => "INTERNAL",
    Unlisted => "UNLISTED",
});

closed_enum!(HiringTeamRole {
    HiringManager => "HIRING_MANAGER",
    Recruiter => "RECRUITER",
    Coordinator => "COORDINATOR",
    Sourcer => "SOURCER",
    Interviewer => "INTERVIEWER",
});

closed_enum!(JobRoleType {
    HiringManager => "HIRING_MANAGER",
    Recruiter => "RECRUITER",
    Coordinator => "COORDINATOR",
    Sourcer => "SOURCER",
    Interviewer => "INTERVIEWER",
    Admin => "ADMIN",
});

closed_enum!(JobRoleScope { Job => "JOB" });

closed_enum!(ScreeningQuestionCategory {
    Eeo => "EEO",
    Demographic => "DEMOGRAPHIC",
});

closed_enum!(OfferStatus {
    Accepted => "ACCEPTED",
    Declined => "DECLINED",
    Sent => "SENT",
    Approved => "APPROVED",
    Draft => "DRAFT",
    Abandoned => "ABANDONED",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_enums_map_known_values_and_keep_raw_ones() {
        let known: EmploymentType = serde_json::from_str("\"PART_TIME\"").unwrap();
        assert_eq!(known, EmploymentType::PartTime);
        assert!(known.is_known());
        let raw: EmploymentType = serde_json::from_str("\"Freelance (4 days)\"").unwrap();
        assert_eq!(raw, EmploymentType::Other("Freelance (4 days)".into()));
        assert!(!raw.is_known());
        assert_eq!(
            serde_json::to_string(&raw).unwrap(),
            "\"Freelance (4 days)\""
        );
        assert_eq!(serde_json::to_string(&JobStatus::Open).unwrap(), "\"OPEN\"");
        // Matching is exact: a differently spelled known value is a raw value, not a guess.
        assert_eq!(
            Visibility::from_raw("public"),
            Visibility::Other("public".into())
        );
    }

    #[test]
    fn closed_enums_reject_unlisted_values() {
        assert_eq!(
            serde_json::from_str::<Outcome>("\"HIRED\"").unwrap(),
            Outcome::Hired
        );
        assert!(serde_json::from_str::<Outcome>("\"REJECTED\"").is_err());
        assert_eq!(
            serde_json::to_string(&Outcome::Declined).unwrap(),
            "\"DECLINED\""
        );
        assert_eq!(Outcome::parse("PENDING"), Some(Outcome::Pending));
        assert_eq!(Outcome::parse("pending"), None);
        assert_eq!(OfferStatus::ALL.len(), 6);
    }
}
