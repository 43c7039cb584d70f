//! Sage HR integrations for tests: credentials aimed at a simulator, the integration row,
//! and a connector that retries in milliseconds rather than seconds.

use std::time::Duration;

use atsbridge_model::connector::{Connector, ConnectorError, Observer};
use atsbridge_model::integration::EndUser;
use atsbridge_model::Timestamp;
use atsbridge_sagehr::{Config, RetryPolicy, SageHr};
use atsbridge_store::{Credentials, IntegrationSettings, NewIntegration, Store};
use serde_json::json;

/// Sage HR credentials: `base_url` may hold `{subdomain}` (see `Sim::base_url_template`).
pub fn credentials(subdomain: &str, api_key: &str, base_url: &str) -> Credentials {
    let mut credentials = Credentials::default();
    credentials.0.insert("subdomain".into(), json!(subdomain));
    credentials.0.insert("api_key".into(), json!(api_key));
    credentials.0.insert("base_url".into(), json!(base_url));
    credentials
}

/// An end user with only an organization name.
pub fn end_user(organization_name: &str) -> EndUser {
    EndUser {
        organization_name: organization_name.into(),
        creator_email: None,
        origin_id: None,
    }
}

/// A Sage HR integration `id` of `environment`, with default settings.
pub fn new_integration(
    id: &str,
    environment: &str,
    end_user: EndUser,
    credentials: Credentials,
) -> NewIntegration {
    NewIntegration {
        id: id.into(),
        tool: "sagehr".into(),
        category: atsbridge_model::integration::Category::Ats,
        environment_id: environment.into(),
        end_user,
        settings: IntegrationSettings::default(),
        credentials,
    }
}

/// Stores `integration`, created now.
pub async fn add_integration(store: &Store, integration: NewIntegration) {
    let id = integration.id.clone();
    store
        .create_integration(integration, Timestamp::now())
        .await
        .unwrap_or_else(|e| panic!("create the integration {id}: {e}"));
}

/// Retries of `max_attempts` within `max_total_wait`, 2 to 10 ms apart: faults cost a test
/// milliseconds.
pub fn fast_retry(max_attempts: u32, max_total_wait: Duration) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(10),
        max_total_wait,
    }
}

/// The Sage HR connector of integration `id` from its stored credentials, retrying by
/// `retry` (the body of a test's connector factory).
pub fn connector(
    id: &str,
    credentials: &Credentials,
    retry: RetryPolicy,
    observer: &Observer,
) -> Result<Box<dyn Connector>, ConnectorError> {
    let mut config = Config::from_credentials(&credentials.0);
    config.retry = retry;
    config.observer = observer.clone();
    Ok(Box::new(SageHr::new(id, &config)?))
}

/// The tools a test server serves: Sage HR, as the CLI wires it.
pub fn tools() -> atsbridge_model::tool::Tools {
    atsbridge_model::tool::Tools::new([
        &atsbridge_sagehr::descriptor::DESCRIPTOR,
        &atsbridge_sagehr::descriptor_hris::DESCRIPTOR,
    ])
}

/// The Sage HR HRIS connector of integration `id`, retrying by `retry`, taking `today` as
/// the simulator's pinned day when given (its leave windows then match the seeded data).
pub fn hris_connector(
    id: &str,
    credentials: &Credentials,
    retry: RetryPolicy,
    today: Option<atsbridge_model::hris::PlainDate>,
    observer: &Observer,
) -> Result<Box<dyn Connector>, ConnectorError> {
    let mut config = Config::from_credentials(&credentials.0);
    config.retry = retry;
    config.observer = observer.clone();
    let hris = atsbridge_sagehr::hris::HrisConfig {
        today,
        ..atsbridge_sagehr::hris::HrisConfig::default()
    };
    Ok(Box::new(atsbridge_sagehr::hris::SageHrHris::new(
        id, &config, hris,
    )?))
}
