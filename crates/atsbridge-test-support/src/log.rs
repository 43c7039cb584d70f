//! `TEST_LOG`: tests are silent unless it is set, e.g. `TEST_LOG=debug cargo test -p
//! atsbridge-sync` or `TEST_LOG=atsbridge_sync=trace,info`. Its value is a tracing filter
//! (`tracing_subscriber::EnvFilter`'s syntax); `1` or `true` mean `debug`.

use std::sync::Once;

use tracing_subscriber::EnvFilter;

/// Installs a tracing subscriber writing to the test's captured output when `TEST_LOG` is
/// set; does nothing otherwise. Cheap to call from every helper: the first call decides.
pub fn init_test_log() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let Ok(value) = std::env::var("TEST_LOG") else {
            return;
        };
        let directives = match value.trim() {
            "" | "0" | "false" => return,
            "1" | "true" => "debug",
            other => other,
        };
        let filter = EnvFilter::try_new(directives)
            .unwrap_or_else(|e| panic!("TEST_LOG={directives:?} is not a tracing filter: {e}"));
        // `with_test_writer`: libtest captures it per test and shows it when the test fails
        // (all of it with `--nocapture`). Another subscriber already set is left in place.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    });
}
