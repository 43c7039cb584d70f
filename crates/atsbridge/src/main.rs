//! `atsbridge`, the command-line entry point: it wires the crates together and runs them.

use clap::{Parser, Subcommand};

/// Self-hostable, Kombo-compatible unified ATS API with a Sage HR connector.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start a local Sage HR simulator, sync it and serve the Kombo-compatible API.
    Demo,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Demo => anyhow::bail!(
            "the demo is not built yet: it needs the simulator, the connector, the store and \
             the API server, which are still being written (see the README's status section)"
        ),
    }
}
