//! `atsbridge`, the command-line entry point: it wires the crates together and runs them.
// The CLI's output is its interface.
#![allow(clippy::print_stdout)]

mod admin;
mod bench;
mod config;
mod demo;
mod doctor;
mod retention;
mod serve;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::StoreArgs;

/// Self-hostable, Kombo-compatible unified ATS API with a Sage HR connector.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    store: StoreArgs,
    /// How logs are written to stderr: `text` for people, `json` (one object a line:
    /// timestamp, level, target, fields with the message, the current span and its parents)
    /// for log collectors.
    #[arg(long, global = true, env = "ATSBRIDGE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API and run scheduled syncs.
    Serve(serve::ServeArgs),
    /// Start a local Sage HR simulator, connect it, sync it and serve the API.
    Demo(demo::DemoArgs),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(admin::KeysCommand),
    /// Manage integrations.
    #[command(subcommand)]
    Integrations(admin::IntegrationsCommand),
    /// Manage webhook subscriptions.
    #[command(subcommand)]
    Webhooks(admin::WebhooksCommand),
    /// Check the configuration, database, migrations, master key, disk space and each
    /// integration's upstream; print what to fix (exits non-zero when a check fails).
    Doctor(doctor::DoctorArgs),
    /// Sync one integration now (or queue a sync for the running server).
    Sync(admin::SyncArgs),
    /// Measure sync throughput, memory and read-API speed against limits measured in the
    /// same run; writes bench/results.json and bench/results.md.
    Bench(bench::BenchArgs),
    /// One measured sync or fetch of `bench`, in its own process (internal).
    #[command(hide = true)]
    BenchChild(bench::child::ChildArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The benchmark's servers would log every request of its load phases.
    let default_filter = match cli.command {
        Command::Bench(_) | Command::BenchChild(_) => "warn",
        _ => "info,sqlx=warn",
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .init(),
    }
    match cli.command {
        Command::Serve(args) => serve::run(&cli.store, args).await,
        Command::Demo(args) => demo::run(args, cli.store.data_dir.clone()).await,
        Command::Keys(command) => admin::keys(&cli.store, command).await,
        Command::Integrations(command) => admin::integrations(&cli.store, command).await,
        Command::Webhooks(command) => admin::webhooks(&cli.store, command).await,
        Command::Sync(args) => admin::sync(&cli.store, args).await,
        Command::Doctor(args) => doctor::run(&cli.store, args).await,
        Command::Bench(args) => bench::run(args).await,
        Command::BenchChild(args) => bench::child::run(args).await,
    }
}
