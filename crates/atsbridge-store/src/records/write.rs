//! Writing records: batches (a sync's, fenced by its lease, or an API write's, with its
//! event), deletion marks, created-application marks and planner statistics.

use atsbridge_model::{ModelKind, Timestamp};

use super::{query, Along, BatchCounts, LiveRecord, RecordInput};
use crate::events::NewEvent;
use crate::runs::Fence;
use crate::{millis, pg, sqlite, Db, Result, Store};

impl Store {
    /// Stores a batch of records in one transaction. A record whose own payload hashes the
    /// same as what is stored (and is not deleted) is not written at all.
    pub async fn apply_batch(
        &self,
        integration_id: &str,
        batch: &[RecordInput],
        now: Timestamp,
    ) -> Result<BatchCounts> {
        self.apply_batch_with(integration_id, batch, now, false)
            .await
    }

    /// `apply_batch`, tuned for an integration's first sync when `first_sync` is set:
    /// records are inserted first (`ON CONFLICT DO NOTHING`) and only those already stored
    /// (a first sync that was interrupted) are compared, instead of looking every id up;
    /// and the `updated_at` of records that embed a changed one is not moved. Nobody can
    /// read the data before the first sync completes (reads answer
    /// `INTEGRATION.SETUP_SYNC_PENDING`), so the ordering those updates keep is unobservable.
    pub async fn apply_batch_with(
        &self,
        integration_id: &str,
        batch: &[RecordInput],
        now: Timestamp,
        first_sync: bool,
    ) -> Result<BatchCounts> {
        self.apply_batch_along(integration_id, batch, now, first_sync, Along::Nothing)
            .await
    }

    /// A sync run's batch: `apply_batch_with`, committed only while the run holds its lease
    /// and with its counts added to the run's row in the same transaction (see `Fence`).
    pub async fn apply_run_batch(
        &self,
        fence: &Fence,
        batch: &[RecordInput],
        now: Timestamp,
        first_sync: bool,
    ) -> Result<BatchCounts> {
        self.apply_batch_along(
            &fence.integration_id,
            batch,
            now,
            first_sync,
            Along::Run(fence.clone()),
        )
        .await
    }

    /// `apply_batch` with the event that announces it, in the same transaction: stored and
    /// announced, or neither. The event is written even when the records were stored already
    /// (a sync got there first): it announces the write, not the rows.
    pub async fn apply_batch_announced(
        &self,
        integration_id: &str,
        batch: &[RecordInput],
        now: Timestamp,
        event: &NewEvent,
    ) -> Result<BatchCounts> {
        self.apply_batch_along(
            integration_id,
            batch,
            now,
            false,
            Along::Event(Box::new(event.clone())),
        )
        .await
    }

    async fn apply_batch_along(
        &self,
        integration_id: &str,
        batch: &[RecordInput],
        now: Timestamp,
        first_sync: bool,
        along: Along,
    ) -> Result<BatchCounts> {
        if batch.is_empty() {
            return Ok(BatchCounts::default());
        }
        let now = millis(now);
        match &self.db {
            Db::Sqlite(s) => {
                // The writer thread needs its own copy; it is small next to the writing.
                let batch = batch.to_vec();
                let integration_id = integration_id.to_owned();
                s.write("storing a batch", move |tx| {
                    sqlite::records::apply_batch(
                        tx,
                        &integration_id,
                        &batch,
                        now,
                        first_sync,
                        &along,
                    )
                })
                .await
            }
            Db::Postgres(p) => {
                let counts =
                    pg::records::apply_batch(p, integration_id, batch, now, first_sync, &along)
                        .await?;
                let inserted: u64 = counts.inserted.values().sum();
                if !first_sync && inserted > 0 && self.pg_growth.add(inserted) {
                    // The batch is committed: a failed refresh is only logged.
                    if let Err(e) = pg::records::refresh_statistics(p, &self.pg_growth).await {
                        tracing::warn!(error = %e, "could not refresh the statistics of records");
                    }
                }
                Ok(counts)
            }
        }
    }

    /// Live (not deleted) record ids of a model after `after_seq`, a page at a time, with the
    /// parent's remote id for stages. The sync engine pages through these to find records a
    /// complete run did not see.
    pub async fn live_ids(
        &self,
        integration_id: &str,
        model: ModelKind,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String, Option<String>)>> {
        Ok(self
            .live_records(integration_id, model, after_seq, limit)
            .await?
            .into_iter()
            .map(|r| (r.seq, r.id, r.parent_remote_id))
            .collect())
    }

    /// `live_ids` with each record's remote id and when its payload last changed.
    pub async fn live_records(
        &self,
        integration_id: &str,
        model: ModelKind,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<LiveRecord>> {
        match &self.db {
            Db::Sqlite(s) => {
                let integration_id = integration_id.to_owned();
                s.read("listing live records", move |tx| {
                    sqlite::records::live_records(tx, &integration_id, model, after_seq, limit)
                })
                .await
            }
            Db::Postgres(p) => {
                pg::records::live_records(p, integration_id, model, after_seq, limit).await
            }
        }
    }

    /// Marks records deleted (`remote_deleted_at` and `changed_at` = now) and moves the
    /// `updated_at` of what they are nested in. Returns how many were marked.
    pub async fn mark_deleted(
        &self,
        integration_id: &str,
        model: ModelKind,
        ids: &[String],
        now: Timestamp,
    ) -> Result<u64> {
        self.mark_deleted_along(integration_id, model, ids, now, None)
            .await
    }

    /// A sync run's deletions: `mark_deleted`, fenced by the run's lease and counted in its
    /// row in the same transactions (see `Fence`).
    pub async fn mark_deleted_in_run(
        &self,
        fence: &Fence,
        model: ModelKind,
        ids: &[String],
        now: Timestamp,
    ) -> Result<u64> {
        self.mark_deleted_along(&fence.integration_id, model, ids, now, Some(fence))
            .await
    }

    async fn mark_deleted_along(
        &self,
        integration_id: &str,
        model: ModelKind,
        ids: &[String],
        now: Timestamp,
        fence: Option<&Fence>,
    ) -> Result<u64> {
        let now = millis(now);
        let mut marked = 0;
        for chunk in ids.chunks(query::CHUNK) {
            marked += match &self.db {
                Db::Sqlite(s) => {
                    let (integration_id, chunk) = (integration_id.to_owned(), chunk.to_vec());
                    let fence = fence.cloned();
                    s.write("marking deletions", move |tx| {
                        sqlite::records::mark_deleted(
                            tx,
                            &integration_id,
                            model,
                            &chunk,
                            now,
                            fence.as_ref(),
                        )
                    })
                    .await?
                }
                Db::Postgres(p) => {
                    pg::records::mark_deleted(p, integration_id, model, chunk, now, fence).await?
                }
            };
        }
        Ok(marked)
    }

    /// Refreshes the query planner's statistics after a large change. Without them SQLite
    /// walks the page index for selective list filters (hundreds of milliseconds at a million
    /// records in the query benchmark). PostgreSQL's autovacuum gets there by itself, but
    /// not soon enough: in `atsbridge bench` the resync right after a first sync of 43k
    /// records took 13.8 s instead of 2 s, and list filters 87 ms instead of 7 ms, on plans
    /// made for an empty table.
    pub async fn refresh_statistics(&self) -> Result<()> {
        match &self.db {
            Db::Sqlite(s) => {
                s.write("refreshing statistics", sqlite::records::refresh_statistics)
                    .await
            }
            Db::Postgres(p) => pg::records::refresh_statistics(p, &self.pg_growth).await,
        }
    }

    /// Remembers that an application was created through atsbridge.
    pub async fn mark_created(
        &self,
        integration_id: &str,
        remote_id: &str,
        now: Timestamp,
    ) -> Result<()> {
        let now = millis(now);
        match &self.db {
            Db::Sqlite(s) => {
                let (integration_id, remote_id) = (integration_id.to_owned(), remote_id.to_owned());
                s.write("remembering a created application", move |tx| {
                    sqlite::records::mark_created(tx, &integration_id, &remote_id, now)
                })
                .await
            }
            Db::Postgres(p) => pg::records::mark_created(p, integration_id, remote_id, now).await,
        }
    }
}
