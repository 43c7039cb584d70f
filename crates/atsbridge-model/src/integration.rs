//! The integration object of `GET /v1/integrations/{id}`: one connected ATS account of one
//! end user, with what it can read and write.

use serde::{Deserialize, Serialize};

use crate::enums::closed_enum;
use crate::timestamp::Timestamp;

closed_enum!(Category {
    Hris => "HRIS",
    Ats => "ATS",
    Assessment => "ASSESSMENT",
    Lms => "LMS",
});

closed_enum!(
    /// `INVALID`: the stored credentials were rejected and syncing stopped; `INACTIVE`:
    /// disabled by the vendor.
    IntegrationStatus {
        Active => "ACTIVE",
        Invalid => "INVALID",
        Inactive => "INACTIVE",
    }
);

closed_enum!(
    /// `FINAL_SYNC_PENDING` until the first sync completes; reads answer
    /// `INTEGRATION.SETUP_SYNC_PENDING` meanwhile.
    SetupStatus {
        Incomplete => "INCOMPLETE",
        FinalSyncPending => "FINAL_SYNC_PENDING",
        Completed => "COMPLETED",
    }
);

closed_enum!(
    /// What a sync run reads: everything (`FULL`) or what changed (`DELTA`). Kombo's
    /// `POST /force-sync` takes either; a tool without a change feed (Sage HR) runs every
    /// sync in full and records what was asked.
    SyncKind {
        Full => "FULL",
        Delta => "DELTA",
    }
);

closed_enum!(CoverageStatus {
    Supported => "SUPPORTED",
    Unsupported => "UNSUPPORTED",
    NotImplemented => "NOT_IMPLEMENTED",
    Unknown => "UNKNOWN",
});

closed_enum!(ScopeConfigSetting {
    Enabled => "ENABLED",
    Disabled => "DISABLED",
    Optional => "OPTIONAL",
});

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Integration {
    pub id: String,
    pub tool: Tool,
    pub category: Category,
    pub status: IntegrationStatus,
    pub setup_status: SetupStatus,
    pub end_user: EndUser,
    pub scope_config: ScopeConfig,
    /// Set when a configuration change invalidated the stored data; cleared by the next
    /// successful sync.
    pub data_expired_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub beta: bool,
    pub read_models: Vec<ReadModel>,
    pub write_actions: Vec<WriteAction>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tool {
    /// The tool slug, e.g. `sagehr`.
    pub id: String,
    pub label: String,
    pub internal_label: Option<String>,
    pub logo_url: String,
    pub icon_url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EndUser {
    pub organization_name: String,
    pub creator_email: Option<String>,
    /// The vendor's own id for this customer.
    pub origin_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScopeConfig {
    pub id: String,
    pub name: Option<String>,
}

/// A model the integration can read (`ats_jobs`, …) and how well the tool covers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadModel {
    pub id: String,
    pub label: String,
    pub is_available: bool,
    pub coverage_status: CoverageStatus,
    pub scope_config_setting: ScopeConfigSetting,
    pub opted_out_by_customer: bool,
    pub fields: Vec<ReadModelField>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadModelField {
    pub id: String,
    pub is_available: bool,
    pub coverage_status: CoverageStatus,
    pub scope_config_setting: ScopeConfigSetting,
    pub opted_out_by_customer: bool,
}

/// A write action (`ats_create_application`, …) and how well the tool covers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WriteAction {
    pub id: String,
    pub label: String,
    pub is_available: bool,
    pub coverage_status: CoverageStatus,
    pub scope_config_setting: ScopeConfigSetting,
    pub opted_out_by_customer: bool,
    pub fields: Vec<WriteActionField>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WriteActionField {
    pub id: String,
    pub is_available: bool,
    pub coverage_status: CoverageStatus,
}

/// `GET /v1/check-api-key`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKeyCheck {
    pub environment_id: String,
}
