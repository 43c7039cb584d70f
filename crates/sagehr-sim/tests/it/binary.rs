//! The `sagehr-sim` binary prints where its tenant is and serves it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use reqwest::StatusCode;

#[tokio::test]
async fn the_binary_prints_base_url_and_key_and_serves_them() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sagehr-sim"))
        .args([
            "--port",
            "0",
            "--seed",
            "3",
            "--subdomain",
            "initech",
            "--positions",
            "4",
            "--applicants-per-position",
            "2",
        ])
        .env_remove("SAGEHR_SIM_API_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sagehr-sim");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base_url = lines.next().unwrap().unwrap();
    let api_key = lines.next().unwrap().unwrap();
    let base_url = base_url
        .strip_prefix("base_url=")
        .expect("base_url line")
        .to_owned();
    let api_key = api_key
        .strip_prefix("api_key=")
        .expect("api_key line")
        .to_owned();
    assert!(
        base_url.starts_with("http://127.0.0.1:") && base_url.ends_with("/initech/api"),
        "{base_url}"
    );
    assert_eq!(api_key, "sim-initech-3");

    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let response = client
        .get(format!("{base_url}/recruitment/positions"))
        .header("X-Auth-Token", &api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["meta"]["total_entries"], 4);
    child.kill().unwrap();
    child.wait().unwrap();
}
