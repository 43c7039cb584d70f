//! `sagehr-sim`: serves a simulated Sage HR account on a local port.

use clap::Parser;
use sagehr_sim::{with_tenant, TenantConfig};
use tokio::net::TcpListener;

/// A local Sage HR recruitment and core-HR API with generated data, for tests and demos.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "SAGEHR_SIM_HOST", default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "SAGEHR_SIM_PORT", default_value_t = 7001)]
    port: u16,
    /// Seed of the data generator: the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Subdomain of the tenant (`https://{subdomain}.sage.hr` in real life).
    #[arg(long, default_value = "acme")]
    subdomain: String,
    /// The tenant's API key (default: derived from subdomain and seed).
    #[arg(long, env = "SAGEHR_SIM_API_KEY")]
    api_key: Option<String>,
    /// Number of positions to generate.
    #[arg(long, default_value_t = 12)]
    positions: usize,
    /// Applicants generated on every position.
    #[arg(long, default_value_t = 8)]
    applicants_per_position: usize,
    /// Employees in the core-HR data (at least 13).
    #[arg(long, default_value_t = 40)]
    employees: usize,
    /// The tenant's "today" (YYYY-MM-DD) for the core-HR data; default: the real date.
    #[arg(long, value_parser = parse_today)]
    today: Option<time::Date>,
}

fn parse_today(s: &str) -> Result<time::Date, String> {
    sagehr_sim::hris_api::parse_date(s).ok_or_else(|| format!("`{s}` is not a YYYY-MM-DD date"))
}

// Printing the address and key on stdout is this binary's interface.
#[allow(clippy::print_stdout)]
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let api_key = args
        .api_key
        .unwrap_or_else(|| format!("sim-{}-{}", args.subdomain, args.seed));
    let config = TenantConfig {
        subdomain: args.subdomain.clone(),
        api_key: api_key.clone(),
        seed: args.seed,
        positions: args.positions,
        applicants_per_position: args.applicants_per_position,
        employees: args.employees,
        today: args.today,
    };
    let sim = with_tenant(&config);
    let listener = TcpListener::bind((args.host.as_str(), args.port)).await?;
    let addr = listener.local_addr()?;
    // The two lines scripts read: where the tenant is and how to authenticate.
    println!("base_url=http://{addr}/{}/api", args.subdomain);
    println!("api_key={api_key}");
    tracing::info!(%addr, positions = args.positions, applicants_per_position = args.applicants_per_position, "sagehr-sim listening");
    sagehr_sim::serve(listener, sim, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
