//! `--log-format json`: every line the CLI logs to stderr is one JSON object with the level,
//! the target, the message among the event's fields, and the event's own fields. With the
//! default format the same command logs text, which this test would refuse.

use std::process::Command;

use atsbridge_test_support::TempDir;
use serde_json::Value;

#[test]
fn json_logs_are_one_object_a_line_with_level_target_message_and_fields() {
    let temp = TempDir::new();
    // A fresh data directory: the CLI creates its master key file and says so in a log line.
    let output = Command::new(env!("CARGO_BIN_EXE_atsbridge"))
        .args(["--log-format", "json", "--data-dir"])
        .arg(temp.path())
        .args(["integrations", "list"])
        .env_remove("RUST_LOG")
        .env_remove("ATSBRIDGE_DATABASE_URL")
        .env_remove("ATSBRIDGE_MASTER_KEY")
        .output()
        .expect("the CLI runs");
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    // Besides its logs the command prints a hint for people on stderr (not a log line).
    let (logs, said): (Vec<&str>, Vec<&str>) = stderr.lines().partition(|l| l.starts_with('{'));
    assert!(
        said.iter().all(|l| !l.contains("INFO")),
        "a log line in text form: {said:?}"
    );
    let lines: Vec<Value> = logs
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let key_line = lines
        .iter()
        .find(|l| {
            l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("master key file"))
        })
        .unwrap_or_else(|| panic!("no line about the master key in {stderr}"));
    assert_eq!(key_line["level"], "INFO", "{key_line}");
    assert_eq!(key_line["target"], "atsbridge::config", "{key_line}");
    assert!(
        key_line["fields"]["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("master.key")),
        "the event's own fields are kept: {key_line}"
    );
    assert!(key_line["timestamp"].is_string(), "{key_line}");
}
