//! A sync run's log as the dashboard shows it (`run_logs`): what was read and written per
//! model, what was asked about and deleted, how many requests were retried, and why the run
//! failed. Lines are collected while the run works and written in three batches: the start
//! line at once (so a running run, or one whose worker died, shows who started it), what the
//! reading said when it returns, and the totals just before the run is recorded as ended. A
//! run costs three small writes, never one per record or request; a worker that dies mid-run
//! leaves its start line (the run is then ended by `reap_abandoned`, whose reason is the
//! run's `error`).

use std::collections::{BTreeMap, BTreeSet};

use atsbridge_store::{LogLevel, LogLine, RunCounts, Store};

use crate::engine::Clock;

/// The lines of one run, in order.
#[derive(Debug)]
pub(crate) struct RunLog {
    clock: Clock,
    lines: Vec<LogLine>,
    /// How many of `lines` are in the store already.
    written: usize,
}

impl RunLog {
    pub(crate) fn new(clock: Clock) -> Self {
        RunLog {
            clock,
            lines: Vec::new(),
            written: 0,
        }
    }

    pub(crate) fn line(&mut self, level: LogLevel, message: impl Into<String>) {
        self.lines.push(LogLine {
            at: self.clock.now(),
            level,
            message: message.into(),
        });
    }

    pub(crate) fn info(&mut self, message: impl Into<String>) {
        self.line(LogLevel::Info, message);
    }

    /// One line per model: how many records were read, and of them how many were inserted,
    /// updated and unchanged.
    pub(crate) fn counts(&mut self, counts: &RunCounts) {
        let models: BTreeSet<&String> = counts
            .inserted
            .keys()
            .chain(counts.updated.keys())
            .chain(counts.unchanged.keys())
            .collect();
        if models.is_empty() {
            self.info("read nothing");
        }
        let of = |map: &BTreeMap<String, u64>, model: &String| map.get(model).copied().unwrap_or(0);
        for model in models {
            let (inserted, updated, unchanged) = (
                of(&counts.inserted, model),
                of(&counts.updated, model),
                of(&counts.unchanged, model),
            );
            self.info(format!(
                "read {} {model}: {inserted} inserted, {updated} updated, {unchanged} unchanged",
                inserted + updated + unchanged
            ));
        }
    }

    /// One line per model with deleted records, or one saying none were.
    pub(crate) fn deleted(&mut self, deleted: &BTreeMap<String, u64>) {
        if deleted.values().all(|n| *n == 0) {
            self.info("deleted nothing: every stored record was seen or still exists");
        }
        for (model, n) in deleted.iter().filter(|(_, n)| **n > 0) {
            self.info(format!(
                "marked {n} {model} deleted (confirmed gone upstream)"
            ));
        }
    }

    /// Writes the lines not written yet, numbered after those that were; a failure is
    /// logged, not the run's (the run's row says how it ended), and those lines are not
    /// tried again, so a later batch never reuses their numbers.
    pub(crate) async fn flush(&mut self, store: &Store, run_id: &str) {
        let new = &self.lines[self.written..];
        if new.is_empty() {
            return;
        }
        let first_seq = self.written as i64;
        self.written = self.lines.len();
        if let Err(e) = store.append_run_log(run_id, first_seq, new).await {
            tracing::warn!(%run_id, error = %e, "writing the run log failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_one_line_per_model_with_its_total() {
        let mut log = RunLog::new(Clock::default());
        let mut counts = RunCounts::default();
        counts.inserted.insert("jobs".into(), 2);
        counts.unchanged.insert("jobs".into(), 3);
        counts.updated.insert("candidates".into(), 1);
        log.counts(&counts);
        let messages: Vec<&str> = log.lines.iter().map(|l| l.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "read 1 candidates: 0 inserted, 1 updated, 0 unchanged",
                "read 5 jobs: 2 inserted, 0 updated, 3 unchanged"
            ]
        );
    }
}
