use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use sagehr_sim::{spawn, with_tenant, Running, TenantConfig};
use serde_json::Value;

pub const KEY: &str = "test-key";

pub struct TestSim {
    pub running: Running,
    pub client: Client,
}

pub async fn start(positions: usize, applicants_per_position: usize) -> TestSim {
    let mut config = TenantConfig::new("acme", KEY);
    config.positions = positions;
    config.applicants_per_position = applicants_per_position;
    start_with(&config).await
}

pub async fn start_with(config: &TenantConfig) -> TestSim {
    let running = spawn(with_tenant(config))
        .await
        .expect("bind a loopback port");
    let client = Client::builder().no_proxy().build().expect("client");
    TestSim { running, client }
}

impl TestSim {
    /// A request to the `acme` tenant's API with the right key.
    pub fn api(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.running.base_url("acme")))
            .header("X-Auth-Token", KEY)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        json(self.api(Method::GET, path).send().await.expect("request")).await
    }

    /// A request to the control API.
    pub fn control(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}/_sim/{path}", self.running.url()))
    }

    pub async fn control_json(
        &self,
        method: Method,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        json(
            self.control(method, path)
                .json(&body)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    /// Every position, read page by page at 100.
    pub async fn all_positions(&self, query: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let (status, body) = self
                .get(&format!(
                    "/recruitment/positions?per_page=100&page={page}{query}"
                ))
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            out.extend(body["data"].as_array().unwrap().iter().cloned());
            match body["meta"]["next_page"].as_u64() {
                Some(next) => page = next as usize,
                None => return out,
            }
        }
    }

    /// An open position (published or internal) and a closed one.
    pub async fn open_and_closed(&self) -> (Value, Value) {
        let all = self.all_positions("").await;
        let open = all
            .iter()
            .find(|p| p["status"] == "published")
            .cloned()
            .expect("a published position");
        let closed = all
            .iter()
            .find(|p| p["status"] == "completed")
            .cloned()
            .expect("a completed position");
        (open, closed)
    }
}

pub async fn json(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

pub fn is_date(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 10
            && s.chars().enumerate().all(|(i, c)| {
                if i == 4 || i == 7 {
                    c == '-'
                } else {
                    c.is_ascii_digit()
                }
            })
    })
}

pub fn is_datetime(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 20
            && is_date(&Value::String(s[..10].to_owned()))
            && &s[10..11] == "T"
            && s.ends_with('Z')
    })
}
