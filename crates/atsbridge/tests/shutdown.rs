//! A normal stop is not a crash: `atsbridge demo` (the same wiring as `serve`) stopped with
//! SIGTERM while a force-sync runs ends that run as CANCELLED, announces it and releases its
//! lease before it exits, so another node can take over at once.

#![cfg(unix)]

use std::process::Stdio;
use std::time::Duration;

use atsbridge_store::{KeyRing, RunState, Store};
use atsbridge_test_support::sim::control_at;
use atsbridge_test_support::TempDir;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt as _, BufReader};

/// Waits for the demo to say it is serving (on stdout, after it wrote `demo.json`); the rest
/// of its output is drained in the background so it never blocks on a full pipe.
async fn until_serving(child: &mut tokio::process::Child) {
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let serving = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("atsbridge is serving") {
                return true;
            }
        }
        false
    })
    .await
    .expect("the demo becomes ready within 60 s");
    assert!(serving, "the demo exited early: {:?}", child.try_wait());
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
}

#[tokio::test]
async fn sigterm_during_a_force_sync_cancels_records_and_releases_its_run() {
    let temp = TempDir::new();
    let dir = temp.path();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_atsbridge"))
        .args([
            "demo",
            "--port",
            "0",
            "--positions",
            "40",
            "--applicants-per-position",
            "4",
            "--data-dir",
        ])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    until_serving(&mut child).await;
    let info: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("demo.json")).unwrap()).unwrap();
    let http = atsbridge_test_support::http();
    let s = |k: &str| info[k].as_str().unwrap().to_owned();
    // Every Sage HR request now takes 300 ms: the run is still going when the stop comes.
    control_at(
        &http,
        &s("sim_control_url"),
        Method::POST,
        "faults",
        json!({"kind": "latency", "ratio": 1.0, "latency_ms": 300}),
    )
    .await;
    let answer: Value = http
        .post(format!("{}/force-sync", s("base_url")))
        .bearer_auth(s("api_key"))
        .header("X-Integration-Id", s("integration_id"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sync_id = answer["data"]["sync_id"]
        .as_str()
        .expect("a sync id")
        .to_owned();
    // The answer names the run only once its row is there (RUNNING): it is going now, and
    // at 300 ms a request it cannot end before the stop comes.

    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("the demo stops within 30 s")
        .unwrap();
    assert!(status.success(), "{status}");

    let store = Store::open(
        &format!("sqlite://{}", dir.join("demo.db").display()),
        KeyRing::new("read-only", [7; 32]),
    )
    .await
    .unwrap();
    let run = store.run(&sync_id).await.unwrap().expect("the forced run");
    assert_eq!(run.state, RunState::Cancelled, "{run:?}");
    assert!(run.ended_at.is_some());
    let integration = s("integration_id");
    let events = store.events(0, 10_000).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.payload["sync_id"] == sync_id.as_str()
                && e.payload["sync_state"] == "CANCELLED"),
        "the cancelled run is announced"
    );
    let now = atsbridge_model::Timestamp::now();
    assert!(
        store
            .try_lease(&integration, "next-node", now, now)
            .await
            .unwrap(),
        "the lease was released, not left to lapse"
    );
    store.close().await;
}
