//! A normal stop is not a crash: `atsbridge demo` (the same wiring as `serve`) stopped with
//! SIGTERM while a force-sync runs ends that run as CANCELLED, announces it and releases its
//! lease before it exits, so another node can take over at once.

#![cfg(unix)]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use atsbridge_store::{KeyRing, RunState, Store};
use serde_json::{json, Value};

async fn wait_for_file(path: &Path, child: &mut tokio::process::Child) -> Value {
    for _ in 0..600 {
        if let Ok(text) = std::fs::read_to_string(path) {
            if let Ok(v) = serde_json::from_str(&text) {
                return v;
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the demo exited early: {status}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the demo did not become ready");
}

#[tokio::test]
async fn sigterm_during_a_force_sync_cancels_records_and_releases_its_run() {
    let dir = std::env::temp_dir().join(format!("atsbridge-sigterm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
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
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let info = wait_for_file(&dir.join("demo.json"), &mut child).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let s = |k: &str| info[k].as_str().unwrap().to_owned();
    // Every Sage HR request now takes 300 ms: the run is still going when the stop comes.
    let r = http
        .post(format!("{}/faults", s("sim_control_url")))
        .json(&json!({"kind": "latency", "ratio": 1.0, "latency_ms": 300}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
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
    tokio::time::sleep(Duration::from_millis(500)).await;

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
    let _ = std::fs::remove_dir_all(&dir);
}
