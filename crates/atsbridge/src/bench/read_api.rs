//! The read-API figures of `atsbridge bench` (issue 10, item 5).
//!
//! The real server (`atsbridge_server::app`, every layer included) runs in this process on a
//! loopback port. Beside it, on the same listener, a baseline route answers with the bytes of
//! one real `GET /v1/ats/applications?page_size=250` page held in memory: the fastest any
//! page can be served by this process, so the upper bound the real endpoint is compared with.
//!
//! Throughput and latency: concurrent clients walk the whole application list page by page,
//! following `data.next`, for a fixed time; then the same clients walk the baseline. Both
//! sides pay the same client cost: the whole body is read and `data.next` is parsed out of
//! it. The load alternates (real, baseline, real, baseline) so that a busy moment on this
//! shared machine hits both sides.
//!
//! Filtered pages: the first page of a filtered list, one request at a time, on the large and
//! the small store in turn; the figure compares the medians (an index keeps the cost of a page
//! independent of how many records the integration has).

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use atsbridge_model::Timestamp;
use atsbridge_server::{app, serve, AppState, ServerConfig};
use atsbridge_store::{KeyRing, Store};
use atsbridge_sync::{Engine, EngineConfig};
use axum::body::Bytes;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse as _;
use axum::routing::get;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::figure::Figure;
use crate::config::{connectors, tools};

/// A store holding one synced Sage HR integration.
#[derive(Debug, Clone)]
pub struct ReadTarget {
    /// A store URL (sqlite://… or postgres://…) holding one synced Sage HR integration.
    pub store_url: String,
    pub integration_id: String,
    /// How many applications it holds (for names/labels), e.g. 10_000 or 100_000.
    pub applications: usize,
}

/// The largest page the API serves, and the one the throughput figure walks with.
const PAGE_SIZE: usize = 250;
/// Where the in-memory baseline is served.
const BASELINE_PATH: &str = "/bench/baseline";
/// Requests before the timed ones of each filtered page.
const WARMUPS: usize = 3;
/// Goals for the read API against the in-memory page, as issue 16 sets them: pages per
/// second at least 0.3× (it aims at 0.5×), median and 99th-percentile latency under the
/// same load at most 4× and 6×.
const THROUGHPUT_GOAL: f64 = 0.3;
const P50_GOAL: f64 = 4.0;
const P99_GOAL: f64 = 6.0;
/// Goal for a filtered page on the large store over the small one (issue 10).
const FILTERED_GOAL: f64 = 1.5;

/// How long and how hard to measure.
#[derive(Debug, Clone, Copy)]
struct Plan {
    /// Load time on each route, spent in two rounds.
    phase: Duration,
    /// Concurrent clients, each on its own keep-alive connection.
    clients: usize,
    /// Timed requests per filtered page and store.
    samples: usize,
}

impl Plan {
    fn new(quick: bool) -> Self {
        Plan {
            phase: Duration::from_secs(if quick { 2 } else { 8 }),
            clients: 8,
            samples: if quick { 20 } else { 60 },
        }
    }
}

/// The read-API figures for one backend: `big` has ~100,000 applications, `small` ~10,000.
pub async fn figures(
    backend: &str,
    big: &ReadTarget,
    small: &ReadTarget,
    keys: KeyRing,
    quick: bool,
) -> anyhow::Result<Vec<Figure>> {
    let plan = Plan::new(quick);
    let client = client()?;
    let big_server = Server::start(big, keys.clone()).await?;
    let small_server = match Server::start(small, keys).await {
        Ok(s) => s,
        Err(e) => {
            big_server.stop().await;
            return Err(e);
        }
    };
    let result = measure(backend, &plan, &client, &big_server, &small_server).await;
    big_server.stop().await;
    small_server.stop().await;
    result
}

async fn measure(
    backend: &str,
    plan: &Plan,
    client: &reqwest::Client,
    big: &Server,
    small: &Server,
) -> anyhow::Result<Vec<Figure>> {
    let mut figures = throughput(backend, plan, client, big).await?;
    figures.extend(filtered(backend, plan, client, big, small).await?);
    Ok(figures)
}

/// `k` for thousands, as the figures name the sizes.
fn size_label(n: usize) -> String {
    if n >= 1000 && n % 1000 == 0 {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The load generator's HTTP client: plain HTTP/1.1 with keep-alive, no compression (the
/// server would gzip if asked; the baseline does not, and neither should the real route).
fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .no_gzip()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(60))
        .build()?)
}

/// One page as it is served.
#[derive(Debug, Clone)]
struct Baseline {
    content_type: String,
    body: Bytes,
}

/// The real server for one store, with the baseline route beside it.
struct Server {
    /// `100k`, for messages and figure names.
    label: String,
    /// Applications in the store, as the caller said.
    applications: usize,
    /// `http://127.0.0.1:PORT`
    url: String,
    key: String,
    integration_id: String,
    store: Store,
    baseline: Arc<OnceLock<Baseline>>,
    shutdown: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(target: &ReadTarget, keys: KeyRing) -> anyhow::Result<Server> {
        let store = Store::open(&target.store_url, keys)
            .await
            .with_context(|| format!("opening {}", atsbridge_store::redact(&target.store_url)))?;
        let integration = store
            .integration(&target.integration_id)
            .await?
            .with_context(|| format!("the store has no integration {}", target.integration_id))?;
        let (_, key) = store
            .create_api_key(
                &integration.environment_id,
                "bench read API",
                Timestamp::now(),
            )
            .await?;
        // The engine is required by the state; nothing here asks it to sync.
        let engine = Engine::new(store.clone(), connectors(), EngineConfig::default());
        let config = ServerConfig {
            // The limiter still counts every request (its cost is part of the figure); it
            // just never says no.
            rate_limit_per_minute: u32::MAX,
            ..ServerConfig::default()
        };
        let state = AppState::new(store.clone(), connectors(), tools(), engine, config);
        let baseline: Arc<OnceLock<Baseline>> = Arc::default();
        let page = baseline.clone();
        // Routes added after `app()` sit beside its routes but outside its middleware (request
        // id, tracing, compression, error envelope, timeout, rate limit with authentication):
        // the baseline is routing plus a copy-free body, the upper bound for any page.
        let router = app(state).route(
            BASELINE_PATH,
            get(move || {
                let page = page.get().cloned();
                async move {
                    match page {
                        Some(p) => {
                            ([(header::CONTENT_TYPE, p.content_type)], p.body).into_response()
                        }
                        None => (StatusCode::SERVICE_UNAVAILABLE, "no baseline page yet")
                            .into_response(),
                    }
                }
            }),
        );
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(serve(listener, router, shutdown.clone().cancelled_owned()));
        Ok(Server {
            label: size_label(target.applications),
            applications: target.applications,
            url,
            key,
            integration_id: target.integration_id.clone(),
            store,
            baseline,
            shutdown,
            task,
        })
    }

    /// Stops serving (open requests finish) and closes the store.
    async fn stop(self) {
        self.shutdown.cancel();
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("  read API server ({}) ended with: {e}", self.label),
            Err(e) => eprintln!("  read API server ({}) failed: {e}", self.label),
        }
        self.store.close().await;
    }

    /// What a client needs to send requests to `path_and_query`.
    fn endpoint(&self, path_and_query: &str) -> Endpoint {
        Endpoint {
            url: format!("{}{path_and_query}", self.url),
            key: self.key.clone(),
            integration_id: self.integration_id.clone(),
        }
    }
}

/// A URL and the credentials sent with it (to the baseline too, so requests are the same).
#[derive(Debug, Clone)]
struct Endpoint {
    url: String,
    key: String,
    integration_id: String,
}

impl Endpoint {
    /// The URL for the page after `cursor` (`None`: the first page). Cursors are URL-safe
    /// base64, so they go into the query as they are.
    fn page_url(&self, cursor: Option<&str>) -> String {
        match cursor {
            Some(c) => format!("{}&cursor={c}", self.url),
            None => self.url.clone(),
        }
    }

    /// GETs `url` and reads the whole body; anything but 200 fails the benchmark.
    async fn get(&self, client: &reqwest::Client, url: &str) -> anyhow::Result<Fetched> {
        let response = client
            .get(url)
            .bearer_auth(&self.key)
            .header("x-integration-id", &self.integration_id)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let encoding = response.headers().get(header::CONTENT_ENCODING).cloned();
        let body = response
            .bytes()
            .await
            .with_context(|| format!("reading the body of GET {url}"))?;
        if status != StatusCode::OK {
            let text = String::from_utf8_lossy(&body[..body.len().min(500)]).into_owned();
            bail!("GET {url} answered {status} (expected 200): {text}");
        }
        if let Some(encoding) = encoding {
            bail!("GET {url} came back compressed ({encoding:?}); the benchmark compares uncompressed pages");
        }
        Ok(Fetched { content_type, body })
    }
}

struct Fetched {
    content_type: String,
    body: Bytes,
}

/// All the client parses of a page: `data.next` (every other field is skipped unparsed).
#[derive(Deserialize)]
struct NextOnly {
    data: NextData,
}

#[derive(Deserialize)]
struct NextData {
    next: Option<String>,
}

fn next_of(body: &[u8]) -> anyhow::Result<Option<String>> {
    let page: NextOnly =
        serde_json::from_slice(body).context("the page is not a Kombo list response")?;
    Ok(page.data.next)
}

/// The results of a page, parsed fully (only outside the timed loops).
fn results_of(body: &[u8]) -> anyhow::Result<Vec<serde_json::Value>> {
    #[derive(Deserialize)]
    struct Full {
        data: FullData,
    }
    #[derive(Deserialize)]
    struct FullData {
        results: Vec<serde_json::Value>,
    }
    let page: Full =
        serde_json::from_slice(body).context("the page is not a Kombo list response")?;
    Ok(page.data.results)
}

/// What a load phase measured.
#[derive(Debug, Default)]
struct Load {
    pages: u64,
    elapsed: Duration,
    /// Every request's latency (until its whole body was read), sorted after `finish`.
    latencies: Vec<Duration>,
}

impl Load {
    fn add(&mut self, other: Load) {
        self.pages += other.pages;
        self.elapsed += other.elapsed;
        self.latencies.extend(other.latencies);
    }

    fn finish(&mut self) {
        self.latencies.sort_unstable();
    }

    fn pages_per_second(&self) -> f64 {
        self.pages as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `q` quantile (0–1) of the sorted latencies, in milliseconds.
    fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let n = self.latencies.len();
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        ms(self.latencies[rank - 1])
    }
}

/// `clients` tasks walking `endpoint`'s pages until `duration` has passed; a walk that reaches
/// the last page starts over from the first.
async fn load(
    client: &reqwest::Client,
    endpoint: &Endpoint,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Load> {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let client = client.clone();
        let endpoint = endpoint.clone();
        tasks.push(tokio::spawn(async move {
            let mut cursor: Option<String> = None;
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let url = endpoint.page_url(cursor.as_deref());
                let sent = Instant::now();
                let page = endpoint.get(&client, &url).await?;
                latencies.push(sent.elapsed());
                cursor = next_of(&page.body)?;
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut result = Load::default();
    let mut failure = None;
    for task in tasks {
        match task.await {
            Ok(Ok(latencies)) => result.latencies.extend(latencies),
            Ok(Err(e)) => failure = failure.or(Some(e)),
            Err(e) => failure = failure.or(Some(anyhow::Error::new(e))),
        }
    }
    if let Some(e) = failure {
        return Err(e.context(format!("load on {}", endpoint.url)));
    }
    result.elapsed = started.elapsed();
    result.pages = result.latencies.len() as u64;
    Ok(result)
}

/// Pages per second and p50/p99 of the application list under load, against the baseline.
async fn throughput(
    backend: &str,
    plan: &Plan,
    client: &reqwest::Client,
    server: &Server,
) -> anyhow::Result<Vec<Figure>> {
    let size = &server.label;
    let real = server.endpoint(&format!("/v1/ats/applications?page_size={PAGE_SIZE}"));
    let baseline = server.endpoint(&format!("{BASELINE_PATH}?page_size={PAGE_SIZE}"));

    // The baseline page: one from the middle of the list (the walk there warms the caches).
    let started = Instant::now();
    let mut cursor: Option<String> = None;
    let mut pages = 0usize;
    let middle = loop {
        let page = real.get(client, &real.page_url(cursor.as_deref())).await?;
        pages += 1;
        let next = next_of(&page.body)?;
        if pages * PAGE_SIZE * 2 >= server.applications || next.is_none() {
            break page;
        }
        cursor = next;
    };
    let results = results_of(&middle.body)?.len();
    if results != PAGE_SIZE {
        bail!(
            "the baseline page (page {pages} of the application list, {size}) has {results} results, not {PAGE_SIZE}: is the store synced?"
        );
    }
    eprintln!(
        "[{backend}] read API {size}: baseline = page {pages} of the application list ({} KiB), reached in {:.1} s",
        middle.body.len() / 1024,
        started.elapsed().as_secs_f64()
    );
    // `set` fails only if already set, and this is the one place that sets it.
    let _ = server.baseline.set(Baseline {
        content_type: middle.content_type,
        body: middle.body,
    });

    // Connections opened, code paths warm.
    let warm = Duration::from_millis(250);
    load(client, &real, plan.clients, warm).await?;
    load(client, &baseline, plan.clients, warm).await?;

    let mut real_load = Load::default();
    let mut baseline_load = Load::default();
    for round in 1..=2 {
        eprintln!(
            "[{backend}] read API {size}: {} clients walking page_size={PAGE_SIZE}, round {round} of 2 ({:.0} s real, {:.0} s baseline)",
            plan.clients,
            plan.phase.as_secs_f64() / 2.0,
            plan.phase.as_secs_f64() / 2.0
        );
        real_load.add(load(client, &real, plan.clients, plan.phase / 2).await?);
        baseline_load.add(load(client, &baseline, plan.clients, plan.phase / 2).await?);
    }
    real_load.finish();
    baseline_load.finish();
    let store_alone = store_alone(server, plan.clients, plan.phase / 2).await?;
    eprintln!(
        "[{backend}] read API {size}: the store's reads alone {store_alone:.0} pages/s ({} at once, no HTTP)",
        plan.clients
    );
    eprintln!(
        "[{backend}] read API {size}: real {:.0} pages/s (p50 {:.2} ms, p99 {:.2} ms), baseline {:.0} pages/s (p50 {:.2} ms, p99 {:.2} ms)",
        real_load.pages_per_second(),
        real_load.quantile_ms(0.5),
        real_load.quantile_ms(0.99),
        baseline_load.pages_per_second(),
        baseline_load.quantile_ms(0.5),
        baseline_load.quantile_ms(0.99),
    );
    Ok(vec![
        // What bounds the figure below: the same pages read from the store as the handler
        // reads them, without HTTP, routing or rendering.
        Figure::bound(
            format!("read API: the store's reads alone (page and nested records, no HTTP), pages/s ({size})"),
            backend,
            round(store_alone, 1),
            "pages/s",
            round(baseline_load.pages_per_second(), 1),
        ),
        Figure::at_least(
            format!("read API: applications page_size={PAGE_SIZE}, pages/s ({size})"),
            backend,
            round(real_load.pages_per_second(), 1),
            "pages/s",
            round(baseline_load.pages_per_second(), 1),
            THROUGHPUT_GOAL,
        ),
        Figure::at_most(
            format!("read API: p50 latency ({size})"),
            backend,
            round(real_load.quantile_ms(0.5), 3),
            "ms",
            round(baseline_load.quantile_ms(0.5), 3),
            P50_GOAL,
        ),
        Figure::at_most(
            format!("read API: p99 latency ({size})"),
            backend,
            round(real_load.quantile_ms(0.99), 3),
            "ms",
            round(baseline_load.quantile_ms(0.99), 3),
            P99_GOAL,
        ),
    ])
}

/// One filtered list request: its name in the figure and its path with query, per store.
struct FilteredPage {
    name: &'static str,
    path: String,
}

/// The filtered pages of one store. Values come from that store's data, chosen so that both
/// stores match a comparable share of records:
/// - `updated_after`: the median `updated_at` of the live applications, so about half match.
///   A fresh sync stamps each batch with its own time, so the values spread over the sync;
///   read from the store because the API shows `changed_at`, which can be older.
/// - `job_ids`: the first job of the list (every job has the same number of applicants).
/// - `outcomes=DECLINED`: about a tenth of the simulator's applications, spread over the list.
/// - jobs `statuses=OPEN`: the issue's `statuses` filter is a job filter (applications have
///   `outcomes` instead); about two thirds of the simulator's positions are open.
async fn filtered_pages(
    client: &reqwest::Client,
    server: &Server,
) -> anyhow::Result<Vec<FilteredPage>> {
    let median = median_updated_at(server).await?;
    let updated_after = Timestamp::from_unix_millis(median - 1)?.to_string();
    let jobs = server.endpoint("/v1/ats/jobs?page_size=1");
    let first_job = results_of(&jobs.get(client, &jobs.url).await?.body)?
        .first()
        .and_then(|job| job.get("id"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .context("the store has no jobs")?;
    Ok(vec![
        FilteredPage {
            name: "applications updated_after (half match)",
            path: format!("/v1/ats/applications?updated_after={updated_after}"),
        },
        FilteredPage {
            name: "applications job_ids (one job)",
            path: format!("/v1/ats/applications?job_ids={first_job}"),
        },
        FilteredPage {
            name: "applications outcomes=DECLINED",
            path: "/v1/ats/applications?outcomes=DECLINED".to_owned(),
        },
        FilteredPage {
            name: "jobs statuses=OPEN",
            path: "/v1/ats/jobs?statuses=OPEN".to_owned(),
        },
    ])
}

/// The median `updated_at` (Unix milliseconds) of the integration's live applications, read
/// through the store's pages (unparsed).
async fn median_updated_at(server: &Server) -> anyhow::Result<i64> {
    let filter = atsbridge_store::Filter::default();
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let (page, more) = server
            .store
            .list_raw_after(
                &server.integration_id,
                atsbridge_model::ModelKind::Application,
                &filter,
                after,
                5_000,
            )
            .await
            .context("reading the applications")?;
        after = page.last().map(|r| atsbridge_store::Position {
            seq: r.seq,
            key: None,
        });
        all.extend(page.iter().map(|r| r.updated_at.unix_millis()));
        if !more {
            break;
        }
    }
    if all.is_empty() {
        bail!("the store ({}) has no applications", server.label);
    }
    all.sort_unstable();
    Ok(all[all.len() / 2])
}

/// The first page of each filter, timed on both stores in turn; figure: the large store's
/// median over the small store's.
async fn filtered(
    backend: &str,
    plan: &Plan,
    client: &reqwest::Client,
    big: &Server,
    small: &Server,
) -> anyhow::Result<Vec<Figure>> {
    let big_pages = filtered_pages(client, big).await?;
    let small_pages = filtered_pages(client, small).await?;
    let mut figures = Vec::new();
    for (b, s) in big_pages.iter().zip(&small_pages) {
        // Both pages full and of the same size: the smaller of the two first pages at 250,
        // so the figure compares finding records, not serializing more of them.
        let probe = |server: &Server, page: &FilteredPage| {
            server.endpoint(&format!("{}&page_size={PAGE_SIZE}", page.path))
        };
        let (pb, ps) = (probe(big, b), probe(small, s));
        let big_count = results_of(&pb.get(client, &pb.url).await?.body)?.len();
        let small_count = results_of(&ps.get(client, &ps.url).await?.body)?.len();
        let page_size = big_count.min(small_count);
        if page_size == 0 {
            bail!(
                "the filter `{}` matches nothing ({big_count} records at {}, {small_count} at {})",
                b.name,
                big.label,
                small.label
            );
        }
        let eb = big.endpoint(&format!("{}&page_size={page_size}", b.path));
        let es = small.endpoint(&format!("{}&page_size={page_size}", s.path));
        let mut big_times = Vec::with_capacity(plan.samples);
        let mut small_times = Vec::with_capacity(plan.samples);
        for i in 0..WARMUPS + plan.samples {
            // Alternating, so a busy moment slows both sides.
            let t = Instant::now();
            eb.get(client, &eb.url).await?;
            let tb = t.elapsed();
            let t = Instant::now();
            es.get(client, &es.url).await?;
            let ts = t.elapsed();
            if i >= WARMUPS {
                big_times.push(tb);
                small_times.push(ts);
            }
        }
        let (mb, msm) = (median_ms(&mut big_times), median_ms(&mut small_times));
        eprintln!(
            "[{backend}] read API filtered {} (page_size={page_size}): {:.2} ms at {}, {:.2} ms at {} (median of {})",
            b.name, mb, big.label, msm, small.label, plan.samples
        );
        figures.push(Figure::at_most(
            format!(
                "read API: filtered page {}, {} vs {}",
                b.name, big.label, small.label
            ),
            backend,
            round(mb, 3),
            "ms",
            round(msm, 3),
            FILTERED_GOAL,
        ));
    }
    Ok(figures)
}

fn median_ms(times: &mut [Duration]) -> f64 {
    times.sort_unstable();
    times.get(times.len() / 2).copied().map_or(0.0, ms)
}

/// Pages per second of `Store::applications_page` alone (what the applications handler
/// reads), `clients` walks at once for `duration`, each walk starting over at the end.
async fn store_alone(server: &Server, clients: usize, duration: Duration) -> anyhow::Result<f64> {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (store, id) = (server.store.clone(), server.integration_id.clone());
        tasks.push(tokio::spawn(async move {
            let filter = atsbridge_store::Filter::default();
            let (mut after, mut pages) = (None, 0u64);
            while Instant::now() < deadline {
                let page = store
                    .applications_page(&id, &filter, after, PAGE_SIZE as u32)
                    .await?;
                pages += 1;
                after =
                    page.records
                        .last()
                        .filter(|_| page.more)
                        .map(|r| atsbridge_store::Position {
                            seq: r.seq,
                            key: None,
                        });
            }
            anyhow::Ok(pages)
        }));
    }
    let mut pages = 0;
    for task in tasks {
        pages += task.await??;
    }
    Ok(pages as f64 / started.elapsed().as_secs_f64().max(1e-9))
}
