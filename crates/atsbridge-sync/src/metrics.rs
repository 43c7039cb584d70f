//! The application's Prometheus metrics: one registry per running app (never a process
//! global, so tests can run many apps in one process), shared by the engine, the webhook
//! deliverer, the connectors (as their `UpstreamObserver`) and the HTTP API, and encoded in
//! the text exposition format by `Metrics::encode`.
//!
//! Labels name tools, models, endpoints, routes and outcomes: all bounded sets. None carries
//! a tenant, an integration id, an email or a secret; a per-integration view is the run log's.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use atsbridge_model::connector::{Observer, UpstreamAttempt, UpstreamObserver};
use atsbridge_store::{Gauges, RunRow};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

/// The content type of `Metrics::encode`'s text (OpenMetrics, which Prometheus scrapes).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    tool: String,
    category: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabels {
    tool: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RecordLabels {
    model: String,
    /// `inserted`, `updated` or `deleted`.
    change: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    tool: &'static str,
    endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamErrorLabels {
    tool: &'static str,
    endpoint: String,
    /// `no_answer`, `rate_limited`, `client_error` or `server_error`.
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WriteLabels {
    action: &'static str,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Sync runs last seconds to hours.
fn run_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.1, 3.0, 12))
}

/// API answers take milliseconds to tens of seconds (writes wait for the tool).
fn request_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.5, 14))
}

#[derive(Debug)]
struct Inner {
    registry: Registry,
    sync_runs: Family<RunLabels, Counter>,
    sync_run_duration: Histograms<ToolLabels>,
    sync_records: Family<RecordLabels, Counter>,
    upstream_requests: Family<EndpointLabels, Counter>,
    upstream_rate_limited: Family<EndpointLabels, Counter>,
    upstream_retries: Family<EndpointLabels, Counter>,
    upstream_errors: Family<UpstreamErrorLabels, Counter>,
    api_requests: Family<ApiLabels, Counter>,
    api_request_duration: Histograms<RouteLabels>,
    write_actions: Family<WriteLabels, Counter>,
    webhook_deliveries: Family<OutcomeLabels, Counter>,
    outbox_lag: Gauge<f64, AtomicU64>,
    leases_held: Gauge,
}

/// The metrics of one app. Cheap to clone; clones share the registry.
#[derive(Clone, Debug)]
pub struct Metrics(Arc<Inner>);

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("atsbridge");
        let sync_runs = Family::default();
        registry.register(
            "sync_runs",
            "Sync runs ended, by tool, category and final state",
            sync_runs.clone(),
        );
        let sync_run_duration: Histograms<ToolLabels> =
            Family::new_with_constructor(run_buckets as fn() -> Histogram);
        registry.register_with_unit(
            "sync_run_duration",
            "How long sync runs took, by tool",
            Unit::Seconds,
            sync_run_duration.clone(),
        );
        let sync_records = Family::default();
        registry.register(
            "sync_records",
            "Records inserted, updated or deleted by sync runs, by model",
            sync_records.clone(),
        );
        let upstream_requests = Family::default();
        registry.register(
            "upstream_requests",
            "HTTP requests sent to tools (every attempt), by tool and endpoint",
            upstream_requests.clone(),
        );
        let upstream_rate_limited = Family::default();
        registry.register(
            "upstream_rate_limited",
            "Upstream answers with status 429, by tool and endpoint",
            upstream_rate_limited.clone(),
        );
        let upstream_retries = Family::default();
        registry.register(
            "upstream_retries",
            "Upstream attempts that failed and were tried again, by tool and endpoint",
            upstream_retries.clone(),
        );
        let upstream_errors = Family::default();
        registry.register(
            "upstream_errors",
            "Upstream attempts without a successful answer, by tool, endpoint and reason",
            upstream_errors.clone(),
        );
        let api_requests = Family::default();
        registry.register(
            "api_requests",
            "HTTP API requests answered, by method, route template and status",
            api_requests.clone(),
        );
        let api_request_duration: Histograms<RouteLabels> =
            Family::new_with_constructor(request_buckets as fn() -> Histogram);
        registry.register_with_unit(
            "api_request_duration",
            "HTTP API request latency, by method and route template",
            Unit::Seconds,
            api_request_duration.clone(),
        );
        let write_actions = Family::default();
        registry.register(
            "write_actions",
            "Write actions (creates) answered, by action and outcome (`succeeded` or the error code)",
            write_actions.clone(),
        );
        let webhook_deliveries = Family::default();
        registry.register(
            "webhook_deliveries",
            "Webhook delivery attempts, by outcome (delivered, retrying, failed for good)",
            webhook_deliveries.clone(),
        );
        let outbox_lag = Gauge::<f64, AtomicU64>::default();
        registry.register_with_unit(
            "outbox_lag",
            "Age of the oldest webhook delivery still pending (0 when none), read at scrape time",
            Unit::Seconds,
            outbox_lag.clone(),
        );
        let leases_held = Gauge::default();
        registry.register(
            "leases_held",
            "Integrations whose sync lease is held by some worker, read at scrape time",
            leases_held.clone(),
        );
        Metrics(Arc::new(Inner {
            registry,
            sync_runs,
            sync_run_duration,
            sync_records,
            upstream_requests,
            upstream_rate_limited,
            upstream_retries,
            upstream_errors,
            api_requests,
            api_request_duration,
            write_actions,
            webhook_deliveries,
            outbox_lag,
            leases_held,
        }))
    }

    /// These metrics as the observer connectors report their upstream attempts to.
    pub fn observer(&self) -> Observer {
        Arc::new(self.clone())
    }

    /// A run that ended: its state, duration and record counts.
    pub fn run_ended(&self, tool: &str, category: &str, run: &RunRow, elapsed: Duration) {
        let m = &self.0;
        m.sync_runs
            .get_or_create(&RunLabels {
                tool: tool.to_owned(),
                category: category.to_owned(),
                state: run.state.as_str().to_owned(),
            })
            .inc();
        m.sync_run_duration
            .get_or_create(&ToolLabels {
                tool: tool.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
        for (change, counts) in [
            ("inserted", &run.counts.inserted),
            ("updated", &run.counts.updated),
            ("deleted", &run.counts.deleted),
        ] {
            for (model, n) in counts {
                if *n > 0 {
                    m.sync_records
                        .get_or_create(&RecordLabels {
                            model: model.clone(),
                            change,
                        })
                        .inc_by(*n);
                }
            }
        }
    }

    /// An answered API request; `route` is the matched route template, never the raw path.
    pub fn api_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let m = &self.0;
        m.api_requests
            .get_or_create(&ApiLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        m.api_request_duration
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// An answered write action: `outcome` is `succeeded` or the Kombo error code.
    pub fn write_action(&self, action: &'static str, outcome: &str) {
        self.0
            .write_actions
            .get_or_create(&WriteLabels {
                action,
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// A webhook delivery attempt: `delivered`, `retrying` or `failed`.
    pub fn webhook_delivery(&self, outcome: &'static str) {
        self.0
            .webhook_deliveries
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// The store's gauges as read for a scrape at `now_ms`.
    pub fn set_gauges(&self, gauges: &Gauges, now_ms: i64) {
        let lag_ms = gauges
            .oldest_pending_delivery_at
            .map_or(0, |at| (now_ms - at.unix_millis()).max(0));
        self.0.outbox_lag.set(lag_ms as f64 / 1000.0);
        self.0
            .leases_held
            .set(i64::try_from(gauges.leases_held).unwrap_or(i64::MAX));
    }

    /// Everything in the text exposition format (see `CONTENT_TYPE`).
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.0.registry);
        text
    }
}

impl UpstreamObserver for Metrics {
    fn attempt(&self, attempt: &UpstreamAttempt<'_>) {
        let m = &self.0;
        let labels = EndpointLabels {
            tool: attempt.tool,
            endpoint: attempt.endpoint.to_owned(),
        };
        m.upstream_requests.get_or_create(&labels).inc();
        if attempt.status == Some(429) {
            m.upstream_rate_limited.get_or_create(&labels).inc();
        }
        if attempt.will_retry {
            m.upstream_retries.get_or_create(&labels).inc();
        }
        let reason = match attempt.status {
            None => Some("no_answer"),
            Some(429) => Some("rate_limited"),
            Some(400..=499) => Some("client_error"),
            Some(500..) => Some("server_error"),
            Some(_) => None,
        };
        if let Some(reason) = reason {
            m.upstream_errors
                .get_or_create(&UpstreamErrorLabels {
                    tool: attempt.tool,
                    endpoint: labels.endpoint,
                    reason,
                })
                .inc();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_attempts_count_requests_429s_retries_and_errors() {
        let metrics = Metrics::new();
        let attempt = |status, will_retry| UpstreamAttempt {
            tool: "sagehr",
            endpoint: "GET /employees/{id}",
            status,
            will_retry,
        };
        metrics.attempt(&attempt(Some(429), true));
        metrics.attempt(&attempt(None, true));
        metrics.attempt(&attempt(Some(200), false));
        let text = metrics.encode();
        let line = |name: &str| {
            text.lines()
                .find(|l| l.starts_with(name))
                .unwrap_or_else(|| panic!("{name} in {text}"))
                .rsplit(' ')
                .next()
                .unwrap()
                .to_owned()
        };
        let labels = r#"{tool="sagehr",endpoint="GET /employees/{id}"}"#;
        assert_eq!(
            line(&format!("atsbridge_upstream_requests_total{labels}")),
            "3"
        );
        assert_eq!(
            line(&format!("atsbridge_upstream_rate_limited_total{labels}")),
            "1"
        );
        assert_eq!(
            line(&format!("atsbridge_upstream_retries_total{labels}")),
            "2"
        );
        assert_eq!(
            line(
                r#"atsbridge_upstream_errors_total{tool="sagehr",endpoint="GET /employees/{id}",reason="no_answer"}"#
            ),
            "1"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
