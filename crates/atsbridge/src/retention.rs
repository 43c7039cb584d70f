//! The retention flags of `serve` and `demo` (how long each kind of data is kept) and the
//! worker they start.

use std::str::FromStr;
use std::time::Duration;

use atsbridge_store::Store;
use atsbridge_sync::{Retention, RetentionPolicy};
use clap::Args;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A number of days or hours, or `off` (also `0`): kept forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Age(Option<u64>);

impl FromStr for Age {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "off" | "never" | "0" => Ok(Age(None)),
            n => n
                .parse::<u64>()
                .map(|n| Age(Some(n)))
                .map_err(|_| format!("`{s}`: want a whole number, or `off` to keep forever")),
        }
    }
}

impl Age {
    fn times(self, unit: Duration) -> Option<Duration> {
        self.0
            .map(|n| unit.saturating_mul(u32::try_from(n).unwrap_or(u32::MAX)))
    }
}

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, Args)]
pub struct RetentionArgs {
    /// Days after a record's deletion in the tool before its personal and descriptive
    /// fields are removed (ids and timestamps stay); `off` keeps deleted records whole.
    #[arg(
        long,
        env = "ATSBRIDGE_ANONYMIZE_DELETED_AFTER_DAYS",
        default_value = "14"
    )]
    pub anonymize_deleted_after_days: Age,
    /// Days outbox events are kept once none of their webhook deliveries is pending (an
    /// undelivered event is never purged); `off` keeps them forever.
    #[arg(long, env = "ATSBRIDGE_RETAIN_EVENTS_DAYS", default_value = "30")]
    pub retain_events_days: Age,
    /// Days delivered or failed webhook deliveries are kept; `off` keeps them forever.
    #[arg(long, env = "ATSBRIDGE_RETAIN_DELIVERIES_DAYS", default_value = "30")]
    pub retain_deliveries_days: Age,
    /// Hours idempotency answers are kept (answers are replayed for 24 hours; less makes
    /// a late retry run its request again); `off` keeps them forever.
    #[arg(long, env = "ATSBRIDGE_RETAIN_IDEMPOTENCY_HOURS", default_value = "48")]
    pub retain_idempotency_hours: Age,
    /// Days connection links are kept after they were used or expired; `off` keeps them.
    #[arg(
        long,
        env = "ATSBRIDGE_RETAIN_CONNECT_LINKS_DAYS",
        default_value = "30"
    )]
    pub retain_connect_links_days: Age,
    /// Days sync runs (and their logs) are kept after they ended; each integration's latest
    /// run is always kept; `off` keeps them forever.
    #[arg(long, env = "ATSBRIDGE_RETAIN_RUNS_DAYS", default_value = "90")]
    pub retain_runs_days: Age,
    /// Minutes between retention passes (the first runs at start).
    #[arg(long, env = "ATSBRIDGE_RETENTION_INTERVAL_MINUTES", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub retention_interval_minutes: u64,
}

impl RetentionArgs {
    pub fn policy(&self) -> RetentionPolicy {
        RetentionPolicy {
            anonymize_deleted_after: self.anonymize_deleted_after_days.times(DAY),
            events: self.retain_events_days.times(DAY),
            deliveries: self.retain_deliveries_days.times(DAY),
            idempotency_keys: self.retain_idempotency_hours.times(HOUR),
            connect_links: self.retain_connect_links_days.times(DAY),
            runs: self.retain_runs_days.times(DAY),
            interval: Duration::from_secs(self.retention_interval_minutes.saturating_mul(60)),
        }
    }

    /// Starts the retention worker; it stops when `shutdown` is cancelled.
    pub fn spawn(&self, store: Store, shutdown: CancellationToken) -> JoinHandle<()> {
        tokio::spawn(Retention::new(store, self.policy()).run(shutdown))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        retention: RetentionArgs,
    }

    #[test]
    fn the_defaults_are_the_documented_policy_and_off_keeps_forever() {
        let defaults = Cli::parse_from(["x"]).retention.policy();
        assert_eq!(defaults, RetentionPolicy::default());
        let cli = Cli::parse_from([
            "x",
            "--anonymize-deleted-after-days",
            "off",
            "--retain-runs-days",
            "0",
            "--retain-events-days",
            "7",
            "--retention-interval-minutes",
            "5",
        ]);
        let policy = cli.retention.policy();
        assert_eq!(policy.anonymize_deleted_after, None);
        assert_eq!(policy.runs, None);
        assert_eq!(policy.events, Some(7 * DAY));
        assert_eq!(policy.interval, Duration::from_secs(300));
        assert!(Cli::try_parse_from(["x", "--retain-events-days", "soon"]).is_err());
    }
}
