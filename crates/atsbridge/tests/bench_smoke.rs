//! Runs the whole `atsbridge bench` with tiny tenants (`--smoke`) and checks what it writes:
//! every figure with its fields, consistent ratios and verdicts, each section present, and
//! PostgreSQL measured when a server is configured. The figures themselves mean nothing at
//! this size; the benchmark is run for them with `--quick` or in full.

use std::process::Command;

use atsbridge_test_support::TempDir;
use serde_json::Value;

#[test]
fn the_benchmark_runs_end_to_end_and_writes_its_results() {
    let temp = TempDir::new();
    let out = temp.path();
    let mut command = Command::new(env!("CARGO_BIN_EXE_atsbridge"));
    command
        .args(["bench", "--smoke", "--out"])
        .arg(out)
        .env_remove("ATSBRIDGE_BENCH_PG_URL");
    let pg = std::env::var("ATSBRIDGE_TEST_PG_URL").ok();
    if let Some(url) = &pg {
        command.args(["--pg-url", url]);
    }
    let status = command.status().expect("run atsbridge bench");
    assert!(status.success(), "bench failed: {status}");

    let figures: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let markdown = std::fs::read_to_string(out.join("results.md")).unwrap();
    let backends: Vec<&str> = if pg.is_some() {
        vec!["sqlite", "postgres"]
    } else {
        vec!["sqlite"]
    };
    assert_eq!(figures.len(), 31 * backends.len(), "{figures:#?}");
    for f in &figures {
        for key in [
            "name", "backend", "value", "unit", "limit", "ratio", "goal", "met",
        ] {
            assert!(f.get(key).is_some(), "{key} missing in {f}");
        }
        let (value, limit) = (f["value"].as_f64().unwrap(), f["limit"].as_f64().unwrap());
        assert!(value.is_finite() && value >= 0.0, "{f}");
        if limit > 0.0 {
            let ratio = f["ratio"].as_f64().unwrap();
            assert!((ratio - value / limit).abs() < 1e-6, "{f}");
        }
        assert!(markdown.contains(f["name"].as_str().unwrap()), "{f}");
    }
    for backend in backends {
        let of = |prefix: &str| {
            figures
                .iter()
                .filter(|f| {
                    f["backend"] == backend && f["name"].as_str().unwrap().starts_with(prefix)
                })
                .count()
        };
        // Wall time, CPU time and requests, per size.
        assert_eq!(of("full sync"), 6, "{backend}");
        // The HRIS sync: wall time and requests, and what an unchanged resync writes.
        assert_eq!(of("HRIS full sync"), 2, "{backend}");
        assert_eq!(of("HRIS unchanged resync"), 1, "{backend}");
        assert_eq!(of("storing alone"), 4, "{backend}");
        assert_eq!(of("unchanged resync"), 4, "{backend}");
        assert_eq!(of("peak RSS"), 2, "{backend}");
        assert_eq!(of("database "), 2, "{backend}");
        assert_eq!(of("latency-bound sync"), 1, "{backend}");
        assert_eq!(of("read API"), 8, "{backend}");
        assert_eq!(of("50 parallel creates during a sync"), 1, "{backend}");
        // Even tiny syncs read every page exactly once and leave an unchanged resync alone,
        // and no create during a sync fails with a 5xx.
        for f in figures.iter().filter(|f| f["backend"] == backend) {
            let name = f["name"].as_str().unwrap();
            if name.contains("requests vs minimum")
                || name.contains("rows written")
                || name.contains("answers that are 5xx")
            {
                assert_eq!(f["met"], true, "{f}");
            }
        }
    }
}
