//! The connect page in a real headless Chromium, driven through chromedriver: create a link,
//! enter a wrong Sage HR key, then the right one, and check that the integration it created
//! finishes its first sync and serves the simulator's jobs. Screenshots of the three pages go to
//! `$ATSBRIDGE_ARTIFACT_DIR/connect` (else `target/test-artifacts/connect`).
//!
//! Needs `chromedriver` and `chromium` on PATH (`.ci/run` installs both); without them the test
//! is skipped, except under `CI=true`, where it fails.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{send, spawn_app, Options, TestApp, SIM_KEY};

const POSITIONS: usize = 5;
/// How long a page may take to answer a form submission (the right key makes the server call
/// the simulator before it answers).
const PAGE_WAIT: Duration = Duration::from_secs(30);
/// How long the first sync of the new integration may take.
const SYNC_WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_page_in_a_browser_creates_an_integration_that_syncs() {
    let Some(chromedriver) = find_on_path("chromedriver") else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "chromedriver is not on PATH, and CI=true needs the browser test (.ci/run \
                 installs the Debian packages chromium and chromium-driver)"
            );
        }
        eprintln!(
            "SKIPPED connect_browser: chromedriver is not on PATH (on Debian: apt-get install \
             chromium chromium-driver)"
        );
        return;
    };
    let artifacts = artifact_dir();
    let app = Arc::new(
        spawn_app(Options {
            positions: POSITIONS,
            applicants: 2,
            sync: false,
            ..Default::default()
        })
        .await,
    );
    let driver = ChromeDriver::start(&chromedriver, &artifacts).await;
    let browser = open_browser(&driver).await;

    // The flow runs in its own task so that a failed assertion still lets the session close.
    let flow = tokio::spawn(connect_flow(app.clone(), browser.clone(), artifacts));
    let outcome = flow.await;
    if let Err(e) = browser.close().await {
        eprintln!("closing the WebDriver session failed: {e}");
    }
    drop(driver);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn connect_flow(app: Arc<TestApp>, browser: Client, artifacts: PathBuf) {
    let link = create_link(&app).await;

    // The guide and the form.
    browser.goto(&link).await.unwrap();
    let form = browser
        .wait()
        .at_most(PAGE_WAIT)
        .for_element(Locator::Css("form#connect-form"))
        .await
        .unwrap();
    assert_eq!(
        form.attr("method").await.unwrap().map(|m| m.to_lowercase()),
        Some("post".to_owned())
    );
    let api_key = browser.find(Locator::Css("#api_key")).await.unwrap();
    assert_eq!(
        api_key.attr("type").await.unwrap().as_deref(),
        Some("password")
    );
    browser.find(Locator::Css("#source_name")).await.unwrap();
    screenshot(&browser, &artifacts, "01-guide.png").await;

    // A wrong key: the form comes back with an error, the subdomain kept and the key cleared.
    fill(&browser, "#subdomain", "acme").await;
    fill(&browser, "#api_key", "wrong-key").await;
    submit(&browser).await;
    let error = browser
        .wait()
        .at_most(PAGE_WAIT)
        .for_element(Locator::Css("#form-error"))
        .await
        .unwrap();
    let message = error.text().await.unwrap();
    assert!(!message.trim().is_empty(), "#form-error has no message");
    assert_eq!(error.attr("role").await.unwrap().as_deref(), Some("alert"));
    assert_eq!(value_of(&browser, "#subdomain").await, "acme");
    assert_eq!(value_of(&browser, "#api_key").await, "");
    screenshot(&browser, &artifacts, "02-wrong-key.png").await;
    eprintln!("connect_browser: wrong key answered {:?}", message.trim());

    // The right key: the done page carries the completion token.
    fill(&browser, "#api_key", SIM_KEY).await;
    submit(&browser).await;
    let done = browser
        .wait()
        .at_most(PAGE_WAIT)
        .for_element(Locator::Css("#connect-done"))
        .await
        .unwrap();
    let token = done.attr("data-token").await.unwrap().unwrap_or_default();
    assert!(!token.is_empty(), "#connect-done has no data-token");
    screenshot(&browser, &artifacts, "03-done.png").await;

    // The integration behind the token.
    let (status, body) = send(
        app.http
            .get(format!(
                "{}/v1/connect/integration-by-token/{token}",
                app.base
            ))
            .bearer_auth(&app.key),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "success", "{body}");
    let data = &body["data"];
    assert_eq!(data["tool"], "sagehr", "{body}");
    assert_eq!(data["end_user_organization_name"], "Globex", "{body}");
    assert_eq!(data["end_user_email"], "it@globex.example", "{body}");
    assert_eq!(data["end_user_origin_id"], Value::Null, "{body}");
    assert!(
        matches!(
            data["setup_status"].as_str(),
            Some("FINAL_SYNC_PENDING" | "COMPLETED")
        ),
        "{body}"
    );
    let id = data["id"].as_str().unwrap_or_default().to_owned();
    assert!(id.starts_with("sagehr:"), "{body}");

    // Its first sync runs in the background: 409 until it is done, then the simulator's jobs.
    let jobs = jobs_after_first_sync(&app, &id).await;
    let positions = sim_positions(&app).await;
    assert_eq!(positions.len(), POSITIONS);
    assert_eq!(jobs.len(), positions.len(), "{jobs:?}");
    let names = |rows: &[Value], id: &str, name: &str| -> BTreeMap<String, Value> {
        rows.iter()
            .map(|r| (text(&r[id]), r[name].clone()))
            .collect()
    };
    assert_eq!(
        names(&jobs, "remote_id", "name"),
        names(&positions, "id", "title")
    );
}

/// `POST /v1/connect/create-link`; the link must point at this server.
async fn create_link(app: &TestApp) -> String {
    let (status, body) = send(
        app.http
            .post(format!("{}/v1/connect/create-link", app.base))
            .bearer_auth(&app.key)
            .json(&json!({
                "end_user_email": "it@globex.example",
                "end_user_organization_name": "Globex",
                "integration_category": "ATS",
                "integration_tool": "sagehr",
                "language": "en",
            })),
    )
    .await;
    assert_eq!(status, 200, "create-link: {body}");
    assert_eq!(body["status"], "success", "{body}");
    let link = body["data"]["link"].as_str().unwrap_or_default().to_owned();
    assert!(
        link.starts_with(&format!("{}/connect/", app.base)),
        "the link {link:?} is not on {}",
        app.base
    );
    link
}

/// Polls `GET /v1/ats/jobs` for the integration until its first sync is done.
async fn jobs_after_first_sync(app: &TestApp, integration: &str) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let (status, body) = send(
            app.http
                .get(format!("{}/v1/ats/jobs", app.base))
                .bearer_auth(&app.key)
                .header("X-Integration-Id", integration),
        )
        .await;
        match status {
            200 => {
                assert_eq!(body["data"]["next"], Value::Null, "{body}");
                return body["data"]["results"].as_array().cloned().unwrap();
            }
            409 => assert_eq!(
                body["error"]["code"], "INTEGRATION.SETUP_SYNC_PENDING",
                "{body}"
            ),
            _ => panic!("GET /v1/ats/jobs answered {status}: {body}"),
        }
        assert!(
            started.elapsed() < SYNC_WAIT,
            "the first sync did not finish in {SYNC_WAIT:?}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The simulator's positions, straight from its Sage HR API.
async fn sim_positions(app: &TestApp) -> Vec<Value> {
    let (status, body) = send(
        app.http
            .request(
                Method::GET,
                format!(
                    "{}/acme/api/recruitment/positions?per_page=100",
                    app.sim.url()
                ),
            )
            .header("X-Auth-Token", SIM_KEY),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["meta"]["next_page"], Value::Null, "{body}");
    body["data"].as_array().cloned().unwrap()
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

pub(crate) async fn fill(browser: &Client, css: &str, value: &str) {
    let input = browser.find(Locator::Css(css)).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

async fn value_of(browser: &Client, css: &str) -> String {
    let input = browser.find(Locator::Css(css)).await.unwrap();
    input.prop("value").await.unwrap().unwrap_or_default()
}

async fn submit(browser: &Client) {
    browser
        .find(Locator::Css("#connect-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

pub(crate) async fn screenshot(browser: &Client, dir: &Path, name: &str) {
    let png = browser.screenshot().await.unwrap();
    let path = dir.join(name);
    std::fs::write(&path, &png).unwrap();
    let written = std::fs::metadata(&path).unwrap().len();
    assert!(
        written > 0 && png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        path.display()
    );
    eprintln!("connect_browser: screenshot {}", path.display());
}

/// `$ATSBRIDGE_ARTIFACT_DIR/connect`, else `<workspace>/target/test-artifacts/connect`; emptied
/// of the screenshots of an earlier run.
fn artifact_dir() -> PathBuf {
    let root = std::env::var_os("ATSBRIDGE_ARTIFACT_DIR").map_or_else(
        || {
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2);
            workspace.unwrap().join("target/test-artifacts")
        },
        PathBuf::from,
    );
    let dir = root.join("connect");
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["01-guide.png", "02-wrong-key.png", "03-done.png"] {
        let _ = std::fs::remove_file(dir.join(name));
    }
    dir
}

pub(crate) fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A chromedriver child process on a free loopback port, shut down on drop.
pub(crate) struct ChromeDriver {
    child: Child,
    addr: SocketAddr,
}

impl ChromeDriver {
    pub(crate) async fn start(program: &Path, log_dir: &Path) -> ChromeDriver {
        let addr = TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr())
            .unwrap();
        let child = Command::new(program)
            .arg(format!("--port={}", addr.port()))
            .arg(format!(
                "--log-path={}",
                log_dir.join("chromedriver.log").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
        let mut driver = ChromeDriver { child, addr };
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let started = Instant::now();
        loop {
            if let Some(status) = driver.child.try_wait().unwrap() {
                panic!(
                    "chromedriver exited at start ({status}); see {}",
                    log_dir.display()
                );
            }
            let ready = http
                .get(format!("{}/status", driver.url()))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .ok()
                .filter(|r| r.status().is_success());
            if let Some(response) = ready {
                let status: Value = response.json().await.unwrap_or_default();
                if status["value"]["ready"] == true {
                    return driver;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not answer /status on {addr} within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `GET /shutdown` over a plain socket (`Drop` cannot await).
    fn ask_shutdown(&self) -> std::io::Result<()> {
        let mut s = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1))?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        s.write_all(b"GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
        // Chromedriver may drop the connection as it exits: the request went out, that is enough.
        let _ = s.read_to_end(&mut Vec::new());
        Ok(())
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // `/shutdown` ends chromedriver with its browsers; a kill would leave Chromium behind.
        let asked = self.ask_shutdown();
        let deadline = Instant::now() + Duration::from_secs(5);
        while asked.is_ok() && Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A WebDriver session with headless Chromium (as root in CI, hence no sandbox).
pub(crate) async fn open_browser(driver: &ChromeDriver) -> Client {
    let mut options = json!({
        "args": [
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--window-size=1280,2800",
            "--no-proxy-server",
        ],
    });
    if let Some(chromium) = find_on_path("chromium") {
        options["binary"] = json!(chromium);
    }
    let mut capabilities = Capabilities::new();
    capabilities.insert("goog:chromeOptions".into(), options);
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url())
        .await
        .unwrap_or_else(|e| panic!("starting a Chromium session through chromedriver: {e}"))
}
