//! A simulated Sage HR account for a test: started on a loopback port with one generated
//! tenant, its control calls (`/_sim/{subdomain}/…`: faults, changes, keys, stats), and its
//! listings read the way Sage HR serves them.

use atsbridge_store::Credentials;
use reqwest::{Client, Method};
use sagehr_sim::{spawn, with_tenant, Running, TenantConfig};
use serde_json::{json, Value};

/// A simulator serving one tenant; dropping it stops the server.
#[derive(Debug)]
pub struct Sim {
    pub running: Running,
    /// The tenant's subdomain and API key.
    pub subdomain: String,
    pub key: String,
    http: Client,
}

impl Sim {
    /// A simulator with the tenant `config` generates (the same one for the same config).
    pub async fn start(config: &TenantConfig) -> Sim {
        crate::init_test_log();
        let running = spawn(with_tenant(config))
            .await
            .expect("bind the simulator to a loopback port");
        Sim {
            running,
            subdomain: config.subdomain.clone(),
            key: config.api_key.clone(),
            http: crate::http(),
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        self.running.url()
    }

    /// The base URL of a tenant's API (`…/{subdomain}/api`).
    pub fn base_url(&self, subdomain: &str) -> String {
        self.running.base_url(subdomain)
    }

    /// The connector's `base_url` setting aimed at this simulator: `{subdomain}` is left for
    /// the connector to fill in, as in `https://{subdomain}.sage.hr/api`.
    pub fn base_url_template(&self) -> String {
        format!("{}/{{subdomain}}/api", self.url())
    }

    /// Credentials of the tenant: its subdomain, its key and this simulator as the base URL.
    pub fn credentials(&self) -> Credentials {
        crate::sagehr::credentials(&self.subdomain, &self.key, &self.base_url_template())
    }

    /// `http://127.0.0.1:PORT/_sim/{subdomain}`, where the tenant's control calls go.
    pub fn control_url(&self) -> String {
        format!("{}/_sim/{}", self.url(), self.subdomain)
    }

    /// A control call (`path` under `control_url`); it must succeed. Its JSON answer, or
    /// `null` for none.
    pub async fn control(&self, method: Method, path: &str, body: Value) -> Value {
        control_at(&self.http, &self.control_url(), method, path, body).await
    }

    /// Adds a fault (`{"kind": "server_error", "count": 2}`, … see `sagehr_sim::faults`).
    pub async fn fault(&self, fault: Value) {
        self.control(Method::POST, "faults", fault).await;
    }

    /// Every API request from now on takes `ms` milliseconds longer.
    pub async fn slow_down(&self, ms: u64) {
        self.fault(json!({"kind": "latency", "ratio": 1.0, "latency_ms": ms}))
            .await;
    }

    /// Every row of a listing of the tenant's API (`path` under it), all pages, in the order
    /// Sage HR gives them.
    pub async fn upstream_rows(&self, path: &str) -> Vec<Value> {
        let mut out = Vec::new();
        for page in 1.. {
            let body: Value = self
                .http
                .get(format!(
                    "{}{path}?per_page=100&page={page}",
                    self.base_url(&self.subdomain)
                ))
                .header("X-Auth-Token", &self.key)
                .send()
                .await
                .expect("a simulator listing")
                .json()
                .await
                .expect("a JSON listing");
            let data = body["data"].as_array().cloned().unwrap_or_default();
            let more = body["meta"]["next_page"].as_u64().is_some() && !data.is_empty();
            out.extend(data);
            if !more {
                break;
            }
        }
        out
    }

    /// The ids of `upstream_rows`.
    pub async fn upstream_ids(&self, path: &str) -> Vec<u64> {
        self.upstream_rows(path)
            .await
            .iter()
            .map(|r| r["id"].as_u64().expect("a numeric id"))
            .collect()
    }
}

/// A control call to a simulator known only by its tenant's control URL (a simulator in
/// another process, e.g. the demo's): `path` under `control_url`; it must succeed.
pub async fn control_at(
    http: &Client,
    control_url: &str,
    method: Method,
    path: &str,
    body: Value,
) -> Value {
    let r = http
        .request(method, format!("{control_url}/{path}"))
        .json(&body)
        .send()
        .await
        .expect("a simulator control call");
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap_or(Value::Null)
}
