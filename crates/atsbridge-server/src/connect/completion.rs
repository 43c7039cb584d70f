//! What a posted connection form does once it is read (`submit`), in named steps: validate
//! the input, find the relink target, build the integration, reserve an attempt and check the
//! credentials with the tool, store the completion, and show the done page (or redirect).
//! Also what follows a completed link (events, the first sync) and the
//! `connection-flow-failed` webhook.

use std::time::Duration;

use atsbridge_model::connector::ConnectorErrorKind;
use atsbridge_model::event::{ConnectionFlowFailed, Event, IntegrationStateChanged, QaStatus};
use atsbridge_model::integration::{EndUser, IntegrationStatus, SyncKind};
use atsbridge_model::{IntegrationId, Timestamp};
use atsbridge_store::{
    Completion, ConnectLink, Credentials, IntegrationRow, IntegrationSettings, LinkPurpose,
    NewEvent, NewIntegration, StoreError,
};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use rand::RngCore as _;
use serde_json::json;
use tracing::Instrument as _;

use super::form::{
    context, form_page, frame_ancestors, message_page, page_response, store_failure, unusable,
    Submitted,
};
use super::page::{self, FormState, PageContext};
use super::texts::{Lang, Texts};
use super::{new_token, COMPLETION_TTL, MAX_FAILED_ATTEMPTS};
use crate::AppState;

/// The longest we let the customer wait for the tool to answer the credential check.
const CHECK_TIMEOUT: Duration = Duration::from_secs(20);

/// Checks the posted credentials and connects: creates the integration (or, for a relink,
/// replaces its credentials), hands back a completion token and starts the first sync.
pub(super) async fn submit(
    state: AppState,
    link: ConnectLink,
    input: Submitted,
    secure: bool,
    now: Timestamp,
) -> Response {
    let ctx = match context(&state, &link, secure) {
        Ok(ctx) => ctx,
        Err(page) => return *page,
    };
    let flow = Flow {
        state: &state,
        link: &link,
        t: ctx.lang.texts(),
        ctx: &ctx,
        now,
    };
    flow.run(&input).await.unwrap_or_else(|page| *page)
}

/// The page a step ends the flow with (boxed: a `Response` is large for an `Err`).
type Stop = Box<Response>;

/// One form post being handled: what every step needs. A step that ends the flow answers
/// the page to show as its `Err`.
struct Flow<'a> {
    state: &'a AppState,
    link: &'a ConnectLink,
    ctx: &'a PageContext<'a>,
    t: &'a Texts,
    now: Timestamp,
}

impl Flow<'_> {
    /// The steps in order. The relink target is looked up before a wrong form is answered,
    /// so a relink whose integration is gone says so whatever was typed.
    async fn run(&self, input: &Submitted) -> Result<Response, Stop> {
        let (mut form, values) = self.validate(input);
        let existing = self.relink_target(&values, &mut form).await?;
        if form.has_field_errors() {
            return Err(Box::new(self.form_again(&form)));
        }
        let host = self.account_host(&values);
        let source_name = (!form.source_name.is_empty()).then(|| form.source_name.clone());
        let new = self.build_integration(existing.as_ref(), &values, source_name.clone())?;
        tracing::Span::current().record("integration_id", new.id.as_str());
        self.reserve_and_check(&new, existing.as_ref(), &host, form)
            .await?;
        let completion = self
            .store_completion(&new, existing.as_ref(), source_name)
            .await?;
        after_completion(self.state, &new.id, existing.as_ref(), self.now).await;
        tracing::info!(integration_id = %new.id, "connection flow completed");
        Ok(self.done_page(&host, &completion))
    }

    /// The form as typed (secrets left out), with a message at each field that is wrong;
    /// the credentials as the tool normalizes them, by key.
    fn validate(&self, input: &Submitted) -> (FormState, Credentials) {
        let (ctx, t) = (self.ctx, self.t);
        let mut form = FormState {
            source_name: input.source_name.trim().to_owned(),
            ..FormState::default()
        };
        let mut values = Credentials::default();
        for (field, words) in ctx.tool.connect.fields.iter().zip(ctx.guide.fields) {
            let typed = input.fields.get(field.key).map_or("", |v| v.trim());
            if !field.secret {
                form.values.insert(field.key, typed.to_owned());
            }
            if typed.is_empty() {
                form.field_errors
                    .insert(field.key, ctx.fill(words.err_missing, ""));
            } else if let Some(value) = (field.normalize)(typed) {
                values.0.insert(field.key.into(), json!(value));
            } else {
                form.field_errors
                    .insert(field.key, ctx.fill(words.err_format, ""));
            }
        }
        if form.source_name.chars().count() > 100 {
            form.source_error = Some(t.err_source_long.to_owned());
        }
        (form, values)
    }

    /// The address the customer knows the account by (`{host}`), from the field that names
    /// it; empty for a tool without one.
    fn account_host(&self, values: &Credentials) -> String {
        self.ctx
            .tool
            .connect
            .account_field()
            .and_then(|f| Some((f.account_host?)(values.get(f.key)?)))
            .unwrap_or_default()
    }

    /// For a relink, the integration whose credentials are replaced. The account must stay
    /// the same: new credentials for another account would mix two accounts' data under one
    /// integration, so a field naming another account is marked wrong on the form.
    async fn relink_target(
        &self,
        values: &Credentials,
        form: &mut FormState,
    ) -> Result<Option<IntegrationRow>, Stop> {
        let (state, link, t) = (self.state, self.link, self.t);
        if link.purpose != LinkPurpose::Relink {
            return Ok(None);
        }
        let id = link.integration_id.clone().unwrap_or_default();
        let existing = match state.store.integration(&id).await {
            Ok(Some(row)) => row,
            Ok(None) => {
                return Err(Box::new(message_page(
                    state,
                    Some(link),
                    StatusCode::GONE,
                    t.invalid_title,
                    t.invalid_body,
                )))
            }
            Err(e) => return Err(Box::new(store_failure(state, Some(link), &e))),
        };
        let Some(field) = self.ctx.tool.connect.account_field() else {
            return Ok(Some(existing));
        };
        let stored = match state.store.credentials(&id).await {
            Ok(c) => c,
            Err(e) => return Err(Box::new(store_failure(state, Some(link), &e))),
        };
        if let (Some(current), Some(typed)) = (stored.get(field.key), values.get(field.key)) {
            if current != typed && !form.field_errors.contains_key(field.key) {
                let host = self.account_host(&stored);
                form.field_errors.insert(
                    field.key,
                    self.ctx.fill(self.ctx.guide.err_other_account, &host),
                );
            }
        }
        Ok(Some(existing))
    }

    /// The integration to check and store: the relinked one with new credentials, or a new
    /// one for the link's customer.
    fn build_integration(
        &self,
        existing: Option<&IntegrationRow>,
        values: &Credentials,
        source_name: Option<String>,
    ) -> Result<NewIntegration, Stop> {
        let (state, link, t) = (self.state, self.link, self.t);
        let mut credentials = values.clone();
        if let Some(base) = state.config.tool_base_urls.get(&link.tool) {
            credentials.0.insert("base_url".into(), json!(base));
        }
        if let Some(row) = existing {
            return Ok(NewIntegration {
                id: row.id.clone(),
                tool: row.tool.clone(),
                category: row.category,
                environment_id: row.environment_id.clone(),
                end_user: row.end_user.clone(),
                settings: row.settings.clone(),
                credentials,
            });
        }
        let mut entropy = [0u8; 24];
        rand::rng().fill_bytes(&mut entropy);
        let id = match IntegrationId::from_entropy(&link.tool, entropy) {
            Ok(id) => id.to_string(),
            Err(e) => {
                tracing::error!(error = ?e, tool = %link.tool, "cannot make an integration id");
                return Err(Box::new(message_page(
                    state,
                    Some(link),
                    StatusCode::INTERNAL_SERVER_ERROR,
                    t.failed_title,
                    t.failed_body,
                )));
            }
        };
        Ok(NewIntegration {
            id,
            tool: link.tool.clone(),
            category: link.category,
            environment_id: link.environment_id.clone(),
            end_user: EndUser {
                organization_name: link.organization_name.clone(),
                creator_email: link.end_user_email.clone(),
                origin_id: link.origin_id.clone(),
            },
            settings: IntegrationSettings {
                sync_only_created_applications: false,
                source_name,
            },
            credentials,
        })
    }

    /// Reserves an attempt on the link, checks the credentials with the tool and gives the
    /// attempt back unless the customer's input was wrong; on failure, the form again with
    /// the reason (and, at a link's first failure, the `connection-flow-failed` webhook).
    async fn reserve_and_check(
        &self,
        new: &NewIntegration,
        existing: Option<&IntegrationRow>,
        host: &str,
        mut form: FormState,
    ) -> Result<(), Stop> {
        let (state, link, now) = (self.state, self.link, self.now);
        // The attempt counts as failed from before the check until it is known not to be: a
        // count taken after the check let parallel posts all pass the lock. An attempt whose
        // request is dropped mid-check stays counted, which errs on the side of the lock.
        let attempt = match state
            .store
            .reserve_link_attempt(&link.token_hash, MAX_FAILED_ATTEMPTS, now)
            .await
        {
            Ok(Some(n)) => n,
            Ok(None) => return Err(Box::new(spent_meanwhile(state, link, now).await)),
            Err(e) => return Err(Box::new(store_failure(state, Some(link), &e))),
        };
        let checked = check_credentials(state, new, now, self.ctx, host).await;
        if !matches!(&checked, Err(failure) if failure.count_as_failure) {
            if let Err(e) = state.store.release_link_attempt(&link.token_hash).await {
                tracing::error!(error = ?e, "could not give back a connection attempt");
            }
        }
        let Err(failure) = checked else {
            return Ok(());
        };
        form.error = Some(failure.text);
        // The first number goes out again only after it was given back, so the event is
        // sent at most once per link (a first attempt given back while a second fails
        // can leave it unsent; a duplicate would be worse).
        if failure.count_as_failure && attempt == 1 {
            connection_flow_failed(state, link, existing.map(|r| r.id.as_str())).await;
        }
        Err(Box::new(self.form_again(&form)))
    }

    /// Completes the link (creating the integration, or replacing the relinked one's
    /// credentials and, if the customer changed it, its source name) and answers the token
    /// handed back to the vendor.
    async fn store_completion(
        &self,
        new: &NewIntegration,
        existing: Option<&IntegrationRow>,
        source_name: Option<String>,
    ) -> Result<Completion, Stop> {
        let (state, link, t, now) = (self.state, self.link, self.t, self.now);
        let completion = Completion {
            token: new_token(),
            expires_at: now.plus(COMPLETION_TTL),
        };
        let stored = match existing {
            None => {
                state
                    .store
                    .complete_connect_link(&link.token_hash, new, &completion, now)
                    .await
            }
            Some(row) => {
                let result = state
                    .store
                    .complete_relink(
                        &link.token_hash,
                        &row.id,
                        &new.credentials,
                        &completion,
                        now,
                    )
                    .await;
                if result.is_ok()
                    && source_name.is_some()
                    && source_name != row.settings.source_name
                {
                    let settings = IntegrationSettings {
                        source_name,
                        ..row.settings.clone()
                    };
                    if let Err(e) = state.store.update_settings(&row.id, &settings).await {
                        tracing::error!(error = ?e, "could not save the source name of a relink");
                    }
                }
                result
            }
        };
        match stored {
            Ok(()) => Ok(completion),
            Err(StoreError::Conflict(_)) => Err(Box::new(message_page(
                state,
                Some(link),
                StatusCode::GONE,
                t.used_title,
                t.used_body,
            ))),
            Err(e) => Err(Box::new(store_failure(state, Some(link), &e))),
        }
    }

    /// The done page; with a redirect URL, a `303` to it with `?token=…` appended.
    fn done_page(&self, host: &str, completion: &Completion) -> Response {
        let (state, link, ctx) = (self.state, self.link, self.ctx);
        if let Some(target) = &link.redirect_url {
            if let Ok(mut url) = url::Url::parse(target) {
                url.query_pairs_mut()
                    .append_pair("token", &completion.token);
                if let Ok(location) = HeaderValue::from_str(url.as_str()) {
                    let mut response = page_response(
                        StatusCode::SEE_OTHER,
                        page::done(ctx, host, &completion.token, &link.tool, &[]),
                        &frame_ancestors(state, Some(link)),
                        "'none'",
                    );
                    response.headers_mut().insert(header::LOCATION, location);
                    return response;
                }
            }
        }
        page_response(
            StatusCode::OK,
            page::done(
                ctx,
                host,
                &completion.token,
                &link.tool,
                &state.config.connect_embed_origins,
            ),
            &frame_ancestors(state, Some(link)),
            "'none'",
        )
    }

    /// The form again, with what was wrong (`422`).
    fn form_again(&self, form: &FormState) -> Response {
        form_page(
            self.state,
            self.link,
            self.ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            form,
        )
    }
}

/// The page for a link that could not reserve an attempt: other posts locked, used or
/// let it expire since it was read.
async fn spent_meanwhile(state: &AppState, link: &ConnectLink, now: Timestamp) -> Response {
    let current = match state.store.connect_link_by_digest(&link.token_hash).await {
        Ok(current) => current,
        Err(e) => return store_failure(state, Some(link), &e),
    };
    unusable(state, current.as_ref(), now).unwrap_or_else(|| {
        let t = Lang::for_code(&link.language).texts();
        message_page(
            state,
            Some(link),
            StatusCode::TOO_MANY_REQUESTS,
            t.locked_title,
            t.locked_body,
        )
    })
}

struct CheckFailure {
    text: String,
    /// Whether the customer's input was wrong (counts toward the lock), as opposed to the
    /// tool being unreachable.
    count_as_failure: bool,
}

async fn check_credentials(
    state: &AppState,
    new: &NewIntegration,
    now: Timestamp,
    ctx: &PageContext<'_>,
    host: &str,
) -> Result<(), CheckFailure> {
    let t = ctx.t();
    let fill = |text: &str| ctx.fill(text, host);
    let connector = match (state.connectors)(
        &new.draft_row(now),
        &new.credentials,
        &state.metrics.observer(),
    ) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e.message, "cannot build a connector for the check");
            return Err(CheckFailure {
                text: fill(t.err_unreachable),
                count_as_failure: false,
            });
        }
    };
    match tokio::time::timeout(CHECK_TIMEOUT, connector.check_credentials()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => {
            tracing::info!(kind = ?e.kind, error = %e.message, "credential check failed");
            let (text, count) = match e.kind {
                ConnectorErrorKind::AuthInvalid => (ctx.guide.err_rejected, true),
                ConnectorErrorKind::NotFound => (ctx.guide.err_account_unknown, true),
                _ => (t.err_unreachable, false),
            };
            Err(CheckFailure {
                text: fill(text),
                count_as_failure: count,
            })
        }
        Err(_) => {
            tracing::warn!(
                timeout_s = CHECK_TIMEOUT.as_secs(),
                "credential check timed out"
            );
            Err(CheckFailure {
                text: fill(t.err_unreachable),
                count_as_failure: false,
            })
        }
    }
}

/// The `connection-flow-failed` webhook, sent once per link (at its first failed attempt).
async fn connection_flow_failed(
    state: &AppState,
    link: &ConnectLink,
    integration_id: Option<&str>,
) {
    let event = Event::ConnectionFlowFailed(ConnectionFlowFailed {
        integration_tool: link.tool.clone(),
        integration_category: link.category,
        end_user: EndUser {
            organization_name: link.organization_name.clone(),
            creator_email: link.end_user_email.clone(),
            origin_id: link.origin_id.clone(),
        },
        log_url: String::new(),
    });
    let event = NewEvent::new(event, Timestamp::now()).for_integration(integration_id);
    if let Err(e) = state
        .store
        .enqueue_event_in(&link.environment_id, &event)
        .await
    {
        tracing::error!(error = ?e, "the connection-flow-failed event could not be written");
    }
}

/// Events and the first sync after a completed link.
async fn after_completion(
    state: &AppState,
    integration_id: &str,
    before: Option<&IntegrationRow>,
    now: Timestamp,
) {
    let row = match state.store.integration(integration_id).await {
        Ok(Some(row)) => row,
        Ok(None) => return,
        Err(e) => {
            tracing::error!(error = ?e, "reading the connected integration");
            return;
        }
    };
    let event = match before {
        None => state.store.enqueue_integration_created(&row, now).await,
        Some(old) if old.status != row.status => {
            let event = Event::IntegrationStateChanged(IntegrationStateChanged {
                integration_tool: row.tool.clone(),
                integration_id: row.id.clone(),
                integration_category: row.category,
                end_user: row.end_user.clone(),
                qa_status: QaStatus::Passed,
                setup_status: row.setup_status,
                state: row.status,
                updated_at: now,
            });
            state.store.enqueue_event(&NewEvent::new(event, now)).await
        }
        Some(_) => Ok(()),
    };
    if let Err(e) = event {
        tracing::error!(error = ?e, "the integration event could not be written");
    }
    if row.status != IntegrationStatus::Active {
        // A disabled integration got new credentials; it syncs once it is enabled.
        return;
    }
    match state.store.request_sync(&row.id, SyncKind::Full, now).await {
        Ok(_) => {}
        Err(e) => tracing::error!(error = ?e, "could not queue the first sync"),
    }
    let engine = state.engine.clone();
    let id = row.id.clone();
    let span = tracing::info_span!("connect_sync", integration_id = %id);
    // Owned by the engine, not the request (a shutdown cancels and records it); the
    // scheduler would also serve the queued request.
    let run = engine.spawn_run(id, SyncKind::Full);
    tokio::spawn(
        async move {
            match run.await {
                Ok(Ok(outcome)) => tracing::info!(?outcome, "sync after connecting finished"),
                Ok(Err(e)) => tracing::error!(error = ?e, "sync after connecting failed"),
                Err(e) => tracing::error!(error = ?e, "the sync task after connecting failed"),
            }
        }
        .instrument(span),
    );
}
