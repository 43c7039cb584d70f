//! The operator dashboard in a real headless Chromium (chromedriver): sign in with an operator
//! key, open every page, press "Sync now" and see the new run appear with its log. Screenshots
//! of each page go to `$ATSBRIDGE_ARTIFACT_DIR/dashboard` (else
//! `target/test-artifacts/dashboard`).
//!
//! Like `connect_browser`: skipped without `chromedriver` on PATH, except under `CI=true`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use atsbridge_model::Timestamp;
use fantoccini::{Client, Locator};

use crate::connect_browser::{fill, find_on_path, open_browser, screenshot, ChromeDriver};
use crate::helpers::{spawn_app, Options, TestApp, ENVIRONMENT, INTEGRATION};

const PAGE_WAIT: Duration = Duration::from_secs(30);

const SHOTS: [&str; 8] = [
    "01-sign-in.png",
    "02-integrations.png",
    "03-integration.png",
    "04-run.png",
    "05-deliveries.png",
    "06-links.png",
    "07-integrations-after-sync.png",
    "08-delivery.png",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_in_a_browser_signs_in_shows_every_page_and_syncs() {
    let Some(chromedriver) = find_on_path("chromedriver") else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("chromedriver is not on PATH, and CI=true needs the browser test");
        }
        eprintln!("SKIPPED dashboard_browser: chromedriver is not on PATH (on Debian: apt-get install chromium chromium-driver)");
        return;
    };
    let artifacts = artifact_dir();
    let app = Arc::new(spawn_app(Options::default()).await);
    let driver = ChromeDriver::start(&chromedriver, &artifacts).await;
    let browser = open_browser(&driver).await;
    let flow = tokio::spawn(flow(app.clone(), browser.clone(), artifacts));
    let outcome = flow.await;
    if let Err(e) = browser.close().await {
        eprintln!("closing the WebDriver session failed: {e}");
    }
    drop(driver);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn wait_for(browser: &Client, css: &str) -> fantoccini::elements::Element {
    browser
        .wait()
        .at_most(PAGE_WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
}

async fn flow(app: Arc<TestApp>, browser: Client, artifacts: PathBuf) {
    browser.set_window_size(1280, 900).await.unwrap();
    let (_, key) = app
        .store
        .create_operator_key("browser", Timestamp::now())
        .await
        .unwrap();

    // A webhook, so the sync below makes a delivery to show.
    app.store
        .create_webhook(
            ENVIRONMENT,
            "http://127.0.0.1:9/hook",
            None,
            "s",
            Timestamp::now(),
        )
        .await
        .unwrap();

    // Not signed in: the sign-in page.
    browser
        .goto(&format!("{}/dashboard", app.base))
        .await
        .unwrap();
    wait_for(&browser, "input#key").await;
    assert!(browser
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/dashboard/sign-in"));
    screenshot(&browser, &artifacts, SHOTS[0]).await;
    fill(&browser, "#key", &key).await;
    browser
        .find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // Integrations, with the chart.
    let row = wait_for(&browser, &format!("tr[data-integration=\"{INTEGRATION}\"]")).await;
    assert!(row.text().await.unwrap().contains("SUCCEEDED"));
    wait_for(&browser, "figure.chart svg").await;
    screenshot(&browser, &artifacts, SHOTS[1]).await;

    // The integration; "Sync now" adds a run.
    browser
        .goto(&format!(
            "{}/dashboard/integrations/{INTEGRATION}",
            app.base
        ))
        .await
        .unwrap();
    wait_for(&browser, "#sync-now").await.click().await.unwrap();
    let deadline = tokio::time::Instant::now() + PAGE_WAIT;
    let second = loop {
        let runs = app.store.runs(INTEGRATION, 10).await.unwrap();
        if runs.len() == 2 && runs[0].ended_at.is_some() {
            break runs[0].id.clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "no second run");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    browser.refresh().await.unwrap();
    wait_for(&browser, &format!("tr[data-run=\"{second}\"]")).await;
    screenshot(&browser, &artifacts, SHOTS[2]).await;

    // The new run's page with its log.
    browser
        .find(Locator::Css(&format!(
            "a[href=\"/dashboard/runs/{second}\"]"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let log = wait_for(&browser, "ol#log").await;
    let text = log.text().await.unwrap();
    assert!(text.contains("ended SUCCEEDED"), "{text}");
    screenshot(&browser, &artifacts, SHOTS[3]).await;

    // The integrations page again, its chart now with both runs (the README's screenshot).
    browser
        .goto(&format!("{}/dashboard", app.base))
        .await
        .unwrap();
    wait_for(&browser, "figure.chart svg").await;
    let bars = browser
        .find_all(Locator::Css("svg rect.bar"))
        .await
        .unwrap();
    assert_eq!(bars.len(), 2);
    screenshot(&browser, &artifacts, SHOTS[6]).await;

    for (path, css, shot) in [
        ("/dashboard/deliveries", "table#deliveries", SHOTS[4]),
        ("/dashboard/links", "table#links", SHOTS[5]),
    ] {
        browser.goto(&format!("{}{path}", app.base)).await.unwrap();
        wait_for(&browser, css).await;
        screenshot(&browser, &artifacts, shot).await;
    }

    // One delivery, from the list.
    browser
        .goto(&format!("{}/dashboard/deliveries", app.base))
        .await
        .unwrap();
    wait_for(&browser, "table#deliveries td.mono a")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&browser, "table#attempts").await;
    let state = wait_for(&browser, "#delivery-state").await;
    assert_eq!(state.text().await.unwrap(), "PENDING");
    screenshot(&browser, &artifacts, SHOTS[7]).await;
}

/// `$ATSBRIDGE_ARTIFACT_DIR/dashboard`, else `<workspace>/target/test-artifacts/dashboard`;
/// emptied of an earlier run's screenshots.
fn artifact_dir() -> PathBuf {
    let root = std::env::var_os("ATSBRIDGE_ARTIFACT_DIR").map_or_else(
        || {
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2);
            workspace.unwrap().join("target/test-artifacts")
        },
        PathBuf::from,
    );
    let dir = root.join("dashboard");
    std::fs::create_dir_all(&dir).unwrap();
    for name in SHOTS {
        let _ = std::fs::remove_file(dir.join(name));
    }
    dir
}
