//! `atsbridge doctor` as an operator runs it: a good setup passes; a wrong master key and an
//! integration whose tool cannot be reached fail, naming the integration and what to fix.

use atsbridge_store::{KeyRing, Store};
use atsbridge_test_support::sagehr::{self, end_user, new_integration};
use atsbridge_test_support::{Sim, TempDir};
use sagehr_sim::TenantConfig;

const GOOD: &str = "sagehr:dOcToRgOoDiNtEgRaTiOn12";
const UNREACHABLE: &str = "sagehr:dOcToRcLoSeDpOrTiNtEg34";

/// Runs the doctor on `dir` with `key`; its exit success and stdout.
async fn doctor(dir: &std::path::Path, key: &str) -> (bool, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_atsbridge"))
        .arg("--data-dir")
        .arg(dir)
        .args([
            "--master-key",
            key,
            "doctor",
            "--min-free-mb",
            "1",
            "--upstream-timeout-secs",
            "5",
        ])
        .env_remove("ATSBRIDGE_DATABASE_URL")
        .env_remove("ATSBRIDGE_MASTER_KEY")
        .output()
        .await
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn line<'a>(report: &'a str, start: &str) -> &'a str {
    report
        .lines()
        .find(|l| l.contains(start))
        .unwrap_or_else(|| panic!("no line with `{start}` in:\n{report}"))
}

#[tokio::test]
async fn a_good_setup_passes_and_a_wrong_key_or_a_closed_port_fails_with_what_to_fix() {
    let sim = Sim::start(&TenantConfig::new("acme", "doctor-sim-key")).await;
    let temp = TempDir::new();
    let dir = temp.path();
    let key = KeyRing::generate_spec("k1");
    let url = format!("sqlite://{}", dir.join("atsbridge.db").display());
    let store = Store::open(&url, KeyRing::parse(&key).unwrap())
        .await
        .unwrap();
    sagehr::add_integration(
        &store,
        new_integration(GOOD, "env", end_user("Acme"), sim.credentials()),
    )
    .await;
    store.close().await;

    let (ok, report) = doctor(dir, &key).await;
    assert!(ok, "{report}");
    assert!(line(&report, "migrations").starts_with("ok"), "{report}");
    assert!(line(&report, "database").starts_with("ok"), "{report}");
    assert!(line(&report, "credentials").starts_with("ok"), "{report}");
    assert!(
        line(&report, &format!("upstream of {GOOD}")).starts_with("ok"),
        "{report}"
    );

    // Another key: the stored credentials cannot be read.
    let (ok, report) = doctor(dir, &KeyRing::generate_spec("k2")).await;
    assert!(!ok, "{report}");
    let credentials = line(&report, "credentials");
    assert!(credentials.starts_with("FAIL"), "{report}");
    assert!(credentials.contains(GOOD), "{credentials}");
    assert!(
        credentials.contains("ATSBRIDGE_MASTER_KEY"),
        "{credentials}"
    );

    // An integration whose tool listens nowhere (a loopback port just closed).
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let store = Store::open(&url, KeyRing::parse(&key).unwrap())
        .await
        .unwrap();
    let credentials = sagehr::credentials(
        "acme",
        "doctor-sim-key",
        &format!("http://127.0.0.1:{closed}/{{subdomain}}/api"),
    );
    sagehr::add_integration(
        &store,
        new_integration(UNREACHABLE, "env", end_user("Closed"), credentials),
    )
    .await;
    store.close().await;
    let (ok, report) = doctor(dir, &key).await;
    assert!(!ok, "{report}");
    assert!(
        line(&report, &format!("upstream of {GOOD}")).starts_with("ok"),
        "{report}"
    );
    let unreachable = line(&report, &format!("upstream of {UNREACHABLE}"));
    assert!(unreachable.starts_with("FAIL"), "{report}");
    assert!(
        unreachable.contains("reach"),
        "says to check reachability: {unreachable}"
    );
    drop(sim);
}
