//! `atsbridge bench [--quick]`: sync throughput, memory and read-API speed, each compared with
//! a limit measured in the same run on the same machine (these machines are shared and
//! noisy, so absolute times mean little). Writes `bench/results.json` and `bench/results.md`.
//!
//! The simulator runs in this process; every sync and bare fetch runs in a child process
//! (`atsbridge bench-child`), so its peak memory is its own and each starts cold.

pub mod child;
pub mod creates;
pub mod figure;
pub mod read_api;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use atsbridge_store::KeyRing;
use clap::Args;
use sagehr_sim::{spawn, with_tenant, Running, TenantConfig};

use crate::admin::CategoryArg;
use serde_json::json;

use self::child::{ChildReport, Mode};
use self::figure::{markdown, Figure};

/// The key ring of every store the benchmark writes (throwaway data).
pub fn bench_keys() -> KeyRing {
    KeyRing::new("bench", [7; 32])
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// A small version (under 2 minutes) with smaller tenants and shorter load phases.
    #[arg(long)]
    pub quick: bool,
    /// Where results.json and results.md go.
    #[arg(long, default_value = "bench")]
    pub out: PathBuf,
    /// A PostgreSQL server (`postgres://…`, a role that may create databases) to measure
    /// as well; every run gets fresh databases, dropped afterwards.
    #[arg(long, env = "ATSBRIDGE_BENCH_PG_URL")]
    pub pg_url: Option<String>,
    /// Tiny tenants, for the test that runs the whole benchmark (its figures mean nothing).
    #[arg(long, hide = true)]
    pub smoke: bool,
}

/// A simulated account: positions × applicants each.
#[derive(Debug, Clone, Copy)]
pub struct Tenant {
    pub positions: usize,
    pub applicants: usize,
}

impl Tenant {
    pub fn total_applicants(self) -> usize {
        self.positions * self.applicants
    }

    /// The fewest requests that read everything at Sage HR's 100 per page: the position
    /// pages, then for each position its detail (the only source of its hiring team) and its
    /// applicant pages (one even when it has none).
    pub fn min_requests(self) -> u64 {
        let pages = |n: usize| n.div_ceil(100).max(1) as u64;
        pages(self.positions) + self.positions as u64 * (1 + pages(self.applicants))
    }

    fn label(self) -> String {
        format!(
            "{}×{} ({} applicants)",
            self.positions,
            self.applicants,
            thousands(self.total_applicants())
        )
    }
}

fn thousands(n: usize) -> String {
    if n >= 1000 && n % 1000 == 0 {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

struct Sizes {
    /// The two full-sync tenants (issue: 500×40 and 2,000×50).
    sync: [Tenant; 2],
    /// The small tenant of the memory and read-API comparisons (10k applicants); the
    /// large one is `sync[1]`.
    small: Tenant,
    /// The latency-bound sync.
    latency: Tenant,
    latency_ms: u64,
    /// Employees of the HRIS tenant (with about two years of leave each).
    hris_employees: usize,
}

impl Sizes {
    fn new(quick: bool, smoke: bool) -> Self {
        let t = |positions, applicants| Tenant {
            positions,
            applicants,
        };
        if smoke {
            Sizes {
                // The read API needs at least one full page (250) of applications.
                sync: [t(6, 3), t(10, 30)],
                small: t(4, 3),
                latency: t(4, 2),
                latency_ms: 5,
                hris_employees: 60,
            }
        } else if quick {
            Sizes {
                sync: [t(100, 20), t(250, 40)],
                small: t(50, 20),
                latency: t(60, 10),
                latency_ms: 50,
                hris_employees: 500,
            }
        } else {
            Sizes {
                sync: [t(500, 40), t(2000, 50)],
                small: t(250, 40),
                latency: t(500, 40),
                latency_ms: 50,
                hris_employees: 5_000,
            }
        }
    }
}

const SIM_KEY: &str = "bench-key";

async fn simulator(tenant: Tenant, seed: u64) -> anyhow::Result<Running> {
    let config = TenantConfig {
        seed,
        positions: tenant.positions,
        applicants_per_position: tenant.applicants,
        ..TenantConfig::new("acme", SIM_KEY)
    };
    Ok(spawn(with_tenant(&config)).await?)
}

/// Runs `atsbridge bench-child` for the ATS integration and reads its report.
async fn child(mode: Mode, sim: &Running, store_url: Option<&str>) -> anyhow::Result<ChildReport> {
    child_as(mode, CategoryArg::Ats, sim, store_url).await
}

/// Runs `atsbridge bench-child` for an integration of `category` and reads its report.
async fn child_as(
    mode: Mode,
    category: CategoryArg,
    sim: &Running,
    store_url: Option<&str>,
) -> anyhow::Result<ChildReport> {
    let exe = std::env::current_exe().context("locating the atsbridge binary")?;
    let mut command = tokio::process::Command::new(exe);
    command
        .arg("bench-child")
        .arg("--mode")
        .arg(match mode {
            Mode::Fetch => "fetch",
            Mode::Sync => "sync",
            Mode::Store => "store",
        })
        .arg("--base-url")
        .arg(format!("{}/{{subdomain}}/api", sim.url()))
        .arg("--subdomain")
        .arg("acme")
        .arg("--api-key")
        .arg(SIM_KEY)
        .arg("--category")
        .arg(match category {
            CategoryArg::Ats => "ats",
            CategoryArg::Hris => "hris",
        })
        .env("RUST_LOG", "warn,sqlx=error")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true);
    if let Some(url) = store_url {
        command.arg("--store-url").arg(url);
    }
    let output = command.output().await.context("running bench-child")?;
    if !output.status.success() {
        bail!("bench-child ({mode:?}) failed: {}", output.status);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).with_context(|| format!("bench-child printed `{line}`"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Fresh stores for one backend, removed when the benchmark ends.
struct Stores {
    backend: Backend,
    dir: PathBuf,
    pg_url: Option<String>,
    made: Vec<String>,
}

impl Stores {
    async fn fresh(&mut self, label: &str) -> anyhow::Result<String> {
        let n = self.made.len();
        match self.backend {
            Backend::Sqlite => {
                let path = self.dir.join(format!("{label}-{n}.db"));
                self.made.push(path.display().to_string());
                Ok(format!("sqlite://{}", path.display()))
            }
            Backend::Postgres => {
                let server = self.pg_url.as_deref().context("no PostgreSQL URL")?;
                let name = format!("atsb_bench_{}_{n}_{label}", std::process::id());
                let url = atsbridge_store::create_postgres_database(server, &name).await?;
                self.made.push(name);
                Ok(url)
            }
        }
    }

    async fn clean(&mut self) {
        for made in self.made.drain(..) {
            match self.backend {
                Backend::Sqlite => {
                    for suffix in ["", "-wal", "-shm"] {
                        let _ = std::fs::remove_file(format!("{made}{suffix}"));
                    }
                }
                Backend::Postgres => {
                    if let Some(server) = &self.pg_url {
                        if let Err(e) = atsbridge_store::drop_postgres_database(server, &made).await
                        {
                            eprintln!("could not drop {made}: {e}");
                        }
                    }
                }
            }
        }
    }
}

fn mib(kib: u64) -> f64 {
    (kib as f64 / 1024.0 * 10.0).round() / 10.0
}

fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

async fn backend_figures(
    backend: Backend,
    sizes: &Sizes,
    sims: &Sims,
    stores: &mut Stores,
    quick: bool,
) -> anyhow::Result<Vec<Figure>> {
    let b = backend.name();
    let mut figures = Vec::new();
    let mut big_store = None;
    for (tenant, sim) in sizes.sync.iter().zip(&sims.sync) {
        let label = tenant.label();
        eprintln!("[{b}] full sync {label}: bare fetch, sync + resync, bare fetch");
        let fetch_before = child(Mode::Fetch, sim, None).await?;
        let url = stores.fresh("sync").await?;
        let sync = child(Mode::Sync, sim, Some(&url)).await?;
        let fetch_after = child(Mode::Fetch, sim, None).await?;
        let floor = fetch_before.first_s.min(fetch_after.first_s);
        let store_url = stores.fresh("store").await?;
        let stored = child(Mode::Store, sim, Some(&store_url)).await?;
        eprintln!(
            "[{b}]   fetch {:.2}s / {:.2}s, first sync {:.2}s ({} records, {} requests), resync {:.2}s, peak RSS {} MiB",
            fetch_before.first_s,
            fetch_after.first_s,
            sync.first_s,
            sync.records,
            sync.requests,
            sync.resync_s,
            mib(sync.peak_rss_kib_first)
        );
        figures.push(Figure::at_most(
            format!("full sync {label}: wall time vs bare fetch"),
            b,
            round(sync.first_s, 3),
            "s",
            round(floor, 3),
            // Issue 16: at most 1.5× (it aims at 1.3×).
            1.5,
        ));
        eprintln!(
            "[{b}]   CPU: fetch {:.2}s, first sync {:.2}s; storing alone: converting {:.2}s, writing {:.2}s",
            fetch_before.cpu_s.min(fetch_after.cpu_s),
            sync.cpu_s,
            stored.convert_s,
            stored.write_s,
        );
        // What bounds the ratio above: the CPU the sync's process spends beside the fetch's,
        // and the two parts of storing timed alone (the records fetched beforehand).
        figures.push(Figure::bound(
            format!("full sync {label}: CPU time vs bare fetch's"),
            b,
            round(sync.cpu_s, 2),
            "s",
            round(fetch_before.cpu_s.min(fetch_after.cpu_s), 2),
        ));
        figures.push(Figure::bound(
            format!("storing alone {label}: converting the fetched records vs bare fetch"),
            b,
            round(stored.convert_s, 3),
            "s",
            round(floor, 3),
        ));
        figures.push(Figure::bound(
            format!("storing alone {label}: writing them (first sync, 2,000 a transaction) vs bare fetch"),
            b,
            round(stored.write_s, 3),
            "s",
            round(floor, 3),
        ));
        figures.push(Figure::at_most(
            format!("full sync {label}: upstream requests vs minimum"),
            b,
            sync.requests as f64,
            "requests",
            tenant.min_requests() as f64,
            1.0,
        ));
        figures.push(Figure::absolute_at_most(
            format!("unchanged resync {label}: rows written"),
            b,
            sync.resync_rows_written.max(sync.resync_rows_moved) as f64,
            "rows",
            0.0,
        ));
        figures.push(Figure::at_most(
            format!("unchanged resync {label}: time vs first sync"),
            b,
            round(sync.resync_s, 3),
            "s",
            round(sync.first_s, 3),
            // Issue 16: an unchanged resync reads and compares, it writes nothing, so it
            // should cost a quarter of the first sync at most.
            0.25,
        ));
        figures.push(Figure::at_most(
            format!("database {label}: bytes per record vs its JSON bytes"),
            b,
            round(sync.db_bytes as f64 / sync.stored_records.max(1) as f64, 1),
            "bytes",
            round(
                sync.json_bytes as f64 / sync.stored_records.max(1) as f64,
                1,
            ),
            1.5,
        ));
        if tenant.total_applicants() == sizes.sync[1].total_applicants() {
            big_store = Some((url, sync));
        }
    }
    let (big_url, big_sync) = big_store.context("the large sync ran")?;

    eprintln!("[{b}] memory: sync of {}", sizes.small.label());
    let small_url = stores.fresh("small").await?;
    let small_sync = child(Mode::Sync, &sims.small, Some(&small_url)).await?;
    let big_label = thousands(sizes.sync[1].total_applicants());
    let small_label = thousands(sizes.small.total_applicants());
    figures.push(Figure::absolute_at_most(
        format!("peak RSS, sync of {big_label} applicants"),
        b,
        mib(big_sync.peak_rss_kib_first),
        "MiB",
        150.0,
    ));
    figures.push(Figure::at_most(
        format!("peak RSS, {big_label} vs {small_label} applicants"),
        b,
        mib(big_sync.peak_rss_kib_first),
        "MiB",
        mib(small_sync.peak_rss_kib_first),
        1.5,
    ));

    eprintln!(
        "[{b}] latency-bound sync {} with {} ms per request",
        sizes.latency.label(),
        sizes.latency_ms
    );
    let url = stores.fresh("latency").await?;
    let slow = child(Mode::Sync, &sims.latency, Some(&url)).await?;
    // The connector keeps 4 requests in flight per account.
    let bound = slow.requests as f64 * sizes.latency_ms as f64 / 1000.0 / 4.0;
    figures.push(Figure::at_most(
        format!(
            "latency-bound sync {} at {} ms/request: wall time vs requests × latency ÷ 4",
            sizes.latency.label(),
            sizes.latency_ms
        ),
        b,
        round(slow.first_s, 3),
        "s",
        round(bound, 3),
        1.2,
    ));

    eprintln!("[{b}] read API");
    let read = read_api::figures(
        b,
        &read_api::ReadTarget {
            store_url: big_url,
            integration_id: child::INTEGRATION.into(),
            applications: sizes.sync[1].total_applicants(),
        },
        &read_api::ReadTarget {
            store_url: small_url,
            integration_id: child::INTEGRATION.into(),
            applications: sizes.small.total_applicants(),
        },
        bench_keys(),
        quick,
    )
    .await?;
    figures.extend(read);

    eprintln!("[{b}] 50 parallel creates during a sync");
    figures.push(creates::figure(b, stores).await?);

    let label = format!("{} employees", thousands(sizes.hris_employees));
    eprintln!("[{b}] HRIS full sync ({label}, two years of leave): bare fetch, sync");
    let fetch = child_as(Mode::Fetch, CategoryArg::Hris, &sims.hris, None).await?;
    let url = stores.fresh("hris").await?;
    let sync = child_as(Mode::Sync, CategoryArg::Hris, &sims.hris, Some(&url)).await?;
    let minimum = hris_min_requests(&sims.hris).await?;
    eprintln!(
        "[{b}]   fetch {:.2}s ({} requests), first sync {:.2}s ({} records, {} requests; minimum {minimum}), resync {:.2}s",
        fetch.first_s, fetch.requests, sync.first_s, sync.records, sync.requests, sync.resync_s
    );
    figures.push(Figure::at_most(
        format!("HRIS full sync ({label}): wall time vs bare fetch"),
        b,
        round(sync.first_s, 3),
        "s",
        round(fetch.first_s, 3),
        1.5,
    ));
    figures.push(Figure::at_most(
        format!("HRIS full sync ({label}): upstream requests vs minimum"),
        b,
        sync.requests as f64,
        "requests",
        minimum as f64,
        1.0,
    ));
    figures.push(Figure::absolute_at_most(
        format!("HRIS unchanged resync ({label}): rows written"),
        b,
        sync.resync_rows_written.max(sync.resync_rows_moved) as f64,
        "rows",
        0.0,
    ));
    Ok(figures)
}

/// The fewest requests a complete HRIS read of the simulated account can make, from the
/// account's own totals: every page of active and terminated employees and of teams, the
/// policy list and each policy's detail, each employee's compensations, each active
/// employee's balances, and every page of each leave window the read covers (the
/// connector's default range, in its 60-day windows).
async fn hris_min_requests(sim: &Running) -> anyhow::Result<u64> {
    let http = reqwest::Client::builder().no_proxy().build()?;
    let get = |path: String| {
        let http = http.clone();
        let url = format!("{}/acme/api{path}", sim.url());
        async move {
            let body: serde_json::Value = http
                .get(url)
                .header("X-Auth-Token", SIM_KEY)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            anyhow::Ok(body)
        }
    };
    let total = |body: &serde_json::Value| body["meta"]["total_entries"].as_u64().unwrap_or(0);
    let pages = |n: u64| n.div_ceil(50).max(1);
    let active = total(&get("/employees?page=1".into()).await?);
    let terminated = total(&get("/terminated-employees?page=1".into()).await?);
    let teams = total(&get("/teams?page=1".into()).await?);
    let policies = get("/leave-management/policies".into()).await?["data"]
        .as_array()
        .map_or(0, Vec::len) as u64;
    // The connector's own range and windows, so the minimum counts what it must list.
    let today = atsbridge_model::hris::PlainDate(
        atsbridge_model::Timestamp::now().offset_date_time().date(),
    );
    let (from, to) = atsbridge_sagehr::hris::HrisConfig::default().absences_range(today);
    let mut windows = 0;
    for (first, last) in atsbridge_sagehr::hris::windows(from, to) {
        let body = get(format!(
            "/leave-management/requests?page=1&from={first}&to={last}"
        ))
        .await?;
        windows += pages(total(&body));
    }
    Ok(pages(active)
        + pages(terminated)
        + pages(teams)
        + 1
        + policies
        // H11 and H9 for every employee, H17 for active ones.
        + 2 * (active + terminated)
        + active
        + windows)
}

struct Sims {
    sync: Vec<Running>,
    small: Running,
    latency: Running,
    /// The HRIS tenant: employees with two years of leave, and a token recruitment part.
    hris: Running,
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let sizes = Sizes::new(args.quick, args.smoke);
    eprintln!(
        "atsbridge bench{}: generating the simulated accounts",
        if args.quick { " --quick" } else { "" }
    );
    let mut sync_sims = Vec::new();
    for (i, tenant) in sizes.sync.iter().enumerate() {
        sync_sims.push(simulator(*tenant, 11 + i as u64).await?);
    }
    let sims = Sims {
        sync: sync_sims,
        small: simulator(sizes.small, 21).await?,
        latency: simulator(sizes.latency, 31).await?,
        hris: spawn(with_tenant(&TenantConfig {
            seed: 41,
            positions: 1,
            applicants_per_position: 1,
            employees: sizes.hris_employees,
            ..TenantConfig::new("acme", SIM_KEY)
        }))
        .await?,
    };
    let faults = reqwest::Client::builder()
        .no_proxy()
        .build()?
        .post(format!("{}/_sim/acme/faults", sims.latency.url()))
        .json(&json!({"kind": "latency", "latency_ms": sizes.latency_ms}))
        .send()
        .await?;
    if !faults.status().is_success() {
        bail!(
            "the simulator refused the latency fault: {}",
            faults.status()
        );
    }

    let mut backends = vec![Backend::Sqlite];
    match &args.pg_url {
        Some(_) => backends.push(Backend::Postgres),
        None => eprintln!(
            "*** PostgreSQL is not measured: set ATSBRIDGE_BENCH_PG_URL or --pg-url (e.g. from scripts/pg-test-cluster) ***"
        ),
    }
    let dir = std::env::temp_dir().join(format!("atsbridge-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut figures = Vec::new();
    for backend in backends {
        let mut stores = Stores {
            backend,
            dir: dir.clone(),
            pg_url: args.pg_url.clone(),
            made: Vec::new(),
        };
        let result = backend_figures(
            backend,
            &sizes,
            &sims,
            &mut stores,
            args.quick || args.smoke,
        )
        .await;
        stores.clean().await;
        figures.extend(result?);
    }
    let _ = std::fs::remove_dir_all(&dir);
    for sim in [sims.small, sims.latency, sims.hris]
        .into_iter()
        .chain(sims.sync)
    {
        sim.shutdown().await;
    }

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let json_path = args.out.join("results.json");
    std::fs::write(&json_path, serde_json::to_string_pretty(&figures)? + "\n")?;
    let table = markdown(&figures);
    let elapsed = started.elapsed();
    let md = format!(
        "# atsbridge bench{}\n\n{table}\nMeasured in {:.0} s on {} cores. Reproduce: `cargo run --release -p atsbridge -- bench{}`.\n",
        if args.quick { " --quick" } else { "" },
        elapsed.as_secs_f64(),
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        if args.quick { " --quick" } else { "" },
    );
    std::fs::write(args.out.join("results.md"), &md)?;
    #[allow(clippy::print_stdout)]
    {
        println!("{table}");
    }
    let missed = figures.iter().filter(|f| !f.met).count();
    eprintln!(
        "{} figures, {missed} goals missed, in {:.0?}; written to {} and results.md",
        figures.len(),
        Duration::from_secs(elapsed.as_secs()),
        json_path.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_minimum_counts_every_page() {
        let t = |positions, applicants| Tenant {
            positions,
            applicants,
        };
        // 1 page of positions, then a detail and one applicant page per position.
        assert_eq!(t(100, 20).min_requests(), 201);
        // 101 positions need 2 pages; 101 applicants need 2 pages each, plus the detail (the
        // connector test measures exactly 305 requests for this tenant).
        assert_eq!(t(101, 101).min_requests(), 305);
        // A position without applicants still costs its detail and one (empty) page.
        assert_eq!(t(3, 0).min_requests(), 7);
        assert_eq!(t(2000, 50).min_requests(), 4020);
    }
}
