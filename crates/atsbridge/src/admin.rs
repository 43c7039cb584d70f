//! Admin subcommands: keys, integrations, sync.

use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{bail, Context as _};
use atsbridge_model::connector::NoObserver;
use atsbridge_model::integration::{Category, EndUser};
use atsbridge_model::{IntegrationId, Timestamp};
use atsbridge_store::{Credentials, IntegrationSettings, NewIntegration, RunRow, Store};
use atsbridge_sync::{Engine, EngineConfig, Outcome};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use rand::RngCore as _;
use tokio_util::sync::CancellationToken;

use crate::config::{connectors, StoreArgs};

pub const DEFAULT_ENVIRONMENT: &str = "default";

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create an API key (or, with `--operator`, an operator key for the dashboard); its
    /// secret is printed once.
    Create {
        #[arg(long, default_value = DEFAULT_ENVIRONMENT)]
        environment: String,
        #[arg(long, default_value = "cli")]
        label: String,
        /// An operator key: signs in to `/dashboard` (every environment), cannot call `/v1`.
        #[arg(long, conflicts_with = "environment")]
        operator: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum IntegrationsCommand {
    /// Connect an ATS account.
    Add(AddArgs),
    /// List integrations.
    List {
        #[arg(long)]
        environment: Option<String>,
    },
    /// Change an integration's settings; what is not given stays as it is.
    Set {
        integration_id: String,
        /// The source written into Sage HR for applications created through atsbridge when
        /// a request names none; `""` removes it.
        #[arg(long)]
        source_name: Option<String>,
        /// Sync only candidates and applications created through atsbridge.
        #[arg(long)]
        only_created: Option<bool>,
    },
}

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Subscribe a URL to events; prints the webhook id and its signing secret (shown once).
    Add {
        #[arg(long)]
        url: String,
        /// Comma-separated event types (default: all).
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
        #[arg(long, default_value = DEFAULT_ENVIRONMENT)]
        environment: String,
        /// Accept a loopback or private address (for local receivers).
        #[arg(long, env = "ATSBRIDGE_ALLOW_PRIVATE_WEBHOOK_URLS")]
        allow_private: bool,
    },
    /// List the webhooks of an environment.
    List {
        #[arg(long, default_value = DEFAULT_ENVIRONMENT)]
        environment: String,
    },
    /// Remove a webhook; its pending deliveries are marked failed.
    Remove {
        webhook_id: String,
        #[arg(long, default_value = DEFAULT_ENVIRONMENT)]
        environment: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct AddArgs {
    /// The tool: `sagehr`.
    pub tool: String,
    /// The account's subdomain (`acme` for acme.sage.hr).
    #[arg(long)]
    pub subdomain: String,
    /// The environment variable that holds the Sage HR API key (so it stays out of the
    /// shell history).
    #[arg(long)]
    pub api_key_env: String,
    /// The API's base URL template (default `https://{subdomain}.sage.hr/api`).
    #[arg(long)]
    pub base_url: Option<String>,
    #[arg(long, default_value = "My customer")]
    pub organization: String,
    #[arg(long, default_value = DEFAULT_ENVIRONMENT)]
    pub environment: String,
    /// The source written into Sage HR for applications created through atsbridge.
    #[arg(long)]
    pub source_name: Option<String>,
    /// Sync only candidates and applications created through atsbridge.
    #[arg(long)]
    pub only_created: bool,
    /// Skip checking the credentials against Sage HR.
    #[arg(long)]
    pub no_check: bool,
    /// The Kombo category the integration serves: `ats` (jobs, candidates, applications)
    /// or `hris` (employees, groups, absences, …). A customer who wants both has two
    /// integrations.
    #[arg(long, value_enum, default_value_t = CategoryArg::Ats)]
    pub category: CategoryArg,
}

/// `--category`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CategoryArg {
    Ats,
    Hris,
}

impl From<CategoryArg> for Category {
    fn from(c: CategoryArg) -> Category {
        match c {
            CategoryArg::Ats => Category::Ats,
            CategoryArg::Hris => Category::Hris,
        }
    }
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    pub integration_id: String,
    /// Run the sync here and wait for it (with progress), instead of queueing it for a
    /// running `atsbridge serve`.
    #[arg(long)]
    pub wait: bool,
}

pub async fn keys(store_args: &StoreArgs, command: KeysCommand) -> anyhow::Result<()> {
    let store = store_args.open().await?;
    match command {
        KeysCommand::Create {
            label, operator, ..
        } if operator => {
            let (key, secret) = store.create_operator_key(&label, Timestamp::now()).await?;
            eprintln!(
                "created operator key {}; sign in at <server>/dashboard with it; the secret is shown once:",
                key.id
            );
            println!("{secret}");
        }
        KeysCommand::Create {
            environment, label, ..
        } => {
            let (key, secret) = store
                .create_api_key(&environment, &label, Timestamp::now())
                .await?;
            eprintln!(
                "created API key {} in environment `{}`; the secret is shown once:",
                key.id, key.environment_id
            );
            println!("{secret}");
        }
    }
    Ok(())
}

/// Connects an integration and returns its id.
pub async fn add_integration(
    store: &Store,
    args: &AddArgs,
    api_key: String,
) -> anyhow::Result<String> {
    if args.tool != "sagehr" {
        bail!("unknown tool `{}`; atsbridge connects `sagehr`", args.tool);
    }
    let mut entropy = [0u8; 24];
    rand::rng().fill_bytes(&mut entropy);
    let id = IntegrationId::from_entropy("sagehr", entropy)?.to_string();
    let credentials = Credentials(
        atsbridge_sagehr::Credentials {
            subdomain: args.subdomain.clone(),
            api_key,
            base_url: args.base_url.clone(),
        }
        .to_map(),
    );
    let new = NewIntegration {
        id: id.clone(),
        tool: args.tool.clone(),
        category: args.category.into(),
        environment_id: args.environment.clone(),
        end_user: EndUser {
            organization_name: args.organization.clone(),
            creator_email: None,
            origin_id: None,
        },
        settings: IntegrationSettings {
            sync_only_created_applications: args.only_created,
            source_name: args.source_name.clone(),
        },
        credentials,
    };
    if !args.no_check {
        let row = new.draft_row(Timestamp::now());
        let connector = (connectors())(&row, &new.credentials, &NoObserver::shared())?;
        connector.check_credentials().await.with_context(|| {
            format!(
                "Sage HR did not accept these credentials for `{}`",
                args.subdomain
            )
        })?;
    }
    let row = store.create_integration(new, Timestamp::now()).await?;
    store
        .enqueue_integration_created(&row, Timestamp::now())
        .await?;
    Ok(id)
}

pub async fn integrations(
    store_args: &StoreArgs,
    command: IntegrationsCommand,
) -> anyhow::Result<()> {
    let store = store_args.open().await?;
    match command {
        IntegrationsCommand::Add(args) => {
            let api_key = std::env::var(&args.api_key_env).with_context(|| {
                format!("the environment variable {} is not set", args.api_key_env)
            })?;
            let id = add_integration(&store, &args, api_key).await?;
            eprintln!("connected; the first sync runs with `atsbridge sync {id} --wait` or within seconds under `atsbridge serve`");
            println!("{id}");
        }
        IntegrationsCommand::Set {
            integration_id,
            source_name,
            only_created,
        } => {
            let Some(row) = store.integration(&integration_id).await? else {
                bail!("no integration `{integration_id}`");
            };
            let mut settings = row.settings.clone();
            if let Some(name) = source_name {
                let name = name.trim();
                settings.source_name = (!name.is_empty()).then(|| name.to_owned());
            }
            if let Some(only) = only_created {
                settings.sync_only_created_applications = only;
            }
            store.update_settings(&row.id, &settings).await?;
            println!(
                "source_name={} only_created={}",
                settings.source_name.as_deref().unwrap_or("(none)"),
                settings.sync_only_created_applications
            );
        }
        IntegrationsCommand::List { environment } => {
            let rows = store.integrations(environment.as_deref()).await?;
            if rows.is_empty() {
                eprintln!("no integrations yet: `atsbridge integrations add sagehr --subdomain S --api-key-env VAR`");
            }
            println!(
                "{:<32} {:<10} {:<9} {:<19} {:<12} ORGANIZATION",
                "ID", "TOOL", "STATUS", "SETUP", "ENVIRONMENT"
            );
            for r in rows {
                println!(
                    "{:<32} {:<10} {:<9} {:<19} {:<12} {}",
                    r.id,
                    r.tool,
                    r.status.as_str(),
                    r.setup_status.as_str(),
                    r.environment_id,
                    r.end_user.organization_name
                );
            }
        }
    }
    Ok(())
}

/// Subscribes `url` in `environment`; returns the webhook id and its secret.
pub async fn add_webhook(
    store: &Store,
    environment: &str,
    url: &str,
    events: Vec<String>,
    allow_private: bool,
) -> anyhow::Result<(String, String)> {
    let url = atsbridge_sync::webhooks::validate_url(url, allow_private)
        .await
        .map_err(|e| anyhow::anyhow!("{e} (use --allow-private for local receivers)"))?;
    let events = atsbridge_server::webhooks::check_events(Some(events))
        .map_err(|e| anyhow::anyhow!("--events: {e}"))?;
    let secret = atsbridge_store::webhooks::generate_secret();
    let hook = store
        .create_webhook(
            environment,
            url.as_str(),
            events.as_deref(),
            &secret,
            Timestamp::now(),
        )
        .await?;
    Ok((hook.id, secret))
}

pub async fn webhooks(store_args: &StoreArgs, command: WebhooksCommand) -> anyhow::Result<()> {
    let store = store_args.open().await?;
    match command {
        WebhooksCommand::Add {
            url,
            events,
            environment,
            allow_private,
        } => {
            let (id, secret) =
                add_webhook(&store, &environment, &url, events, allow_private).await?;
            eprintln!("created webhook {id}; its signing secret is shown once:");
            println!("{id} {secret}");
        }
        WebhooksCommand::List { environment } => {
            println!("{:<28} {:<40} EVENTS", "ID", "URL");
            for w in store.webhooks(&environment).await? {
                let events = w.events.map_or_else(|| "*".to_owned(), |e| e.join(","));
                println!("{:<28} {:<40} {events}", w.id, w.url);
            }
        }
        WebhooksCommand::Remove {
            webhook_id,
            environment,
        } => {
            if !store
                .remove_webhook(&environment, &webhook_id, Timestamp::now())
                .await?
            {
                bail!("no webhook `{webhook_id}` in environment `{environment}`");
            }
            eprintln!("removed webhook {webhook_id}");
        }
    }
    Ok(())
}

/// Runs one sync with a progress bar and returns its run.
pub async fn sync_with_progress(engine: &Engine, integration_id: &str) -> anyhow::Result<RunRow> {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let counter = engine.progress();
    let start = counter.load(Ordering::Relaxed);
    let ticker = {
        let bar = bar.clone();
        let counter = counter.clone();
        tokio::spawn(async move {
            loop {
                bar.set_message(format!(
                    "syncing: {} records read",
                    counter.load(Ordering::Relaxed) - start
                ));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    // Ctrl-C ends the run as CANCELLED (recorded, lease released) instead of abandoning it.
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let on_signal = tokio::spawn(async move {
        crate::serve::shutdown_signal().await;
        stop.cancel();
    });
    let outcome = engine
        .run_once(
            integration_id,
            atsbridge_model::integration::SyncKind::Full,
            &cancel,
        )
        .await;
    on_signal.abort();
    ticker.abort();
    let run = match outcome? {
        Outcome::Ran(run) => *run,
        Outcome::Busy => {
            bar.finish_and_clear();
            bail!("another atsbridge process is syncing {integration_id} right now");
        }
        Outcome::Skipped(why) => {
            bar.finish_and_clear();
            bail!("not synced: {why}");
        }
    };
    bar.finish_with_message(format!(
        "{}: {} records read, inserted {:?}, updated {:?}, deleted {:?}, {} upstream requests",
        run.state.as_str(),
        counter.load(Ordering::Relaxed) - start,
        run.counts.inserted,
        run.counts.updated,
        run.counts.deleted,
        run.upstream_requests
    ));
    Ok(run)
}

pub async fn sync(store_args: &StoreArgs, args: SyncArgs) -> anyhow::Result<()> {
    let store = store_args.open().await?;
    if store.integration(&args.integration_id).await?.is_none() {
        bail!(
            "no integration `{}` (see `atsbridge integrations list`)",
            args.integration_id
        );
    }
    if !args.wait {
        let queued = store
            .request_sync(
                &args.integration_id,
                atsbridge_model::integration::SyncKind::Full,
                Timestamp::now(),
            )
            .await?;
        eprintln!(
            "{}",
            if queued {
                "sync queued; a running `atsbridge serve` starts it within seconds"
            } else {
                "a sync is already queued"
            }
        );
        return Ok(());
    }
    let engine = Engine::new(store, connectors(), EngineConfig::default());
    let run = sync_with_progress(&engine, &args.integration_id).await?;
    if let Some(error) = &run.error {
        bail!("the sync ended {}: {error}", run.state.as_str());
    }
    Ok(())
}
