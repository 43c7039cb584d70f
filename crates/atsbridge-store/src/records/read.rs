//! Reading records: pages (parsed or as stored), records by id or candidate, candidates'
//! summaries, counts, and the applications created through atsbridge.

use std::collections::{BTreeMap, BTreeSet};

use atsbridge_model::{ModelKind, Timestamp};

use super::{
    ApplicationsPage, CandidateSummary, PageQuery, Position, RawRecord, Row, StoredRecord,
};
use crate::filter::{Filter, OrderColumn};
use crate::{millis, pg, sqlite, Db, Result, Store};

impl Store {
    /// One page of a model's records matching `filter`, in `seq` order after `after_seq`.
    /// Returns at most `limit` records and whether more follow.
    pub async fn list(
        &self,
        integration_id: &str,
        model: ModelKind,
        filter: &Filter,
        after_seq: Option<i64>,
        limit: u32,
    ) -> Result<(Vec<StoredRecord>, bool)> {
        let after = after_seq.map(|seq| Position { seq, key: None });
        let (rows, more) = self
            .page_rows(integration_id, model, filter, after, limit, None)
            .await?;
        Ok((
            rows.into_iter().map(Row::stored).collect::<Result<_>>()?,
            more,
        ))
    }

    /// A page of records after `after` (the last record of the previous page); what the API
    /// serves.
    ///
    /// With `updated_after` the page is ordered by `(updated_at, seq)` and continues after
    /// the position's `updated_at`, so the filter walks only the matching rows on the
    /// `updated_at` index however many older rows there are. A record updated while a
    /// client pages moves behind the cursor and is served again: incremental readers see
    /// every change, none is skipped. `remote_created_after` orders by `remote_created_at`
    /// the same way (matches are usually the newest rows, which a walk in `seq` order
    /// reaches last). Other pages are ordered by `seq`.
    pub async fn list_after(
        &self,
        integration_id: &str,
        model: ModelKind,
        filter: &Filter,
        after: Option<Position>,
        limit: u32,
    ) -> Result<(Vec<StoredRecord>, bool)> {
        let key = filter.order_column(model);
        let (rows, more) = self
            .page_rows(integration_id, model, filter, after, limit, key)
            .await?;
        Ok((
            rows.into_iter().map(Row::stored).collect::<Result<_>>()?,
            more,
        ))
    }

    /// `list_after` with each record's JSON left as stored, for serving it unparsed.
    pub async fn list_raw_after(
        &self,
        integration_id: &str,
        model: ModelKind,
        filter: &Filter,
        after: Option<Position>,
        limit: u32,
    ) -> Result<(Vec<RawRecord>, bool)> {
        let key = filter.order_column(model);
        let (rows, more) = self
            .page_rows(integration_id, model, filter, after, limit, key)
            .await?;
        Ok((rows.into_iter().map(Row::raw).collect::<Result<_>>()?, more))
    }

    async fn page_rows(
        &self,
        integration_id: &str,
        model: ModelKind,
        filter: &Filter,
        after: Option<Position>,
        limit: u32,
        key: Option<OrderColumn>,
    ) -> Result<(Vec<Row>, bool)> {
        let q = PageQuery {
            integration_id: integration_id.to_owned(),
            model,
            filter: filter.clone(),
            after,
            limit,
            key,
        };
        let mut rows = match &self.db {
            Db::Sqlite(s) => {
                s.read("listing records", move |tx| sqlite::records::page(tx, &q))
                    .await?
            }
            Db::Postgres(p) => pg::records::page(p, &q).await?,
        };
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        Ok((rows, more))
    }

    /// A page of applications (as `list_raw_after`) with the records its nested objects are
    /// made from: its candidates' summaries, its jobs and its current stages. SQLite reads
    /// them in one read transaction on one reader (a page and three lookups used to cost four
    /// trips to the blocking pool); PostgreSQL runs the three lookups at once.
    pub async fn applications_page(
        &self,
        integration_id: &str,
        filter: &Filter,
        after: Option<Position>,
        limit: u32,
    ) -> Result<ApplicationsPage> {
        let model = ModelKind::Application;
        let q = PageQuery {
            integration_id: integration_id.to_owned(),
            model,
            filter: filter.clone(),
            after,
            limit,
            key: filter.order_column(model),
        };
        match &self.db {
            Db::Sqlite(s) => {
                s.read("listing applications", move |tx| {
                    let rows = sqlite::records::page(tx, &q)?;
                    let (rows, more, related) = RelatedIds::of_page(rows, limit);
                    let id = &q.integration_id;
                    let candidates = sqlite::records::summaries(tx, id, &related.candidates)?;
                    let jobs =
                        sqlite::records::by_column(tx, id, ModelKind::Job, "id", &related.jobs)?;
                    let stages = sqlite::records::by_column(
                        tx,
                        id,
                        ModelKind::ApplicationStage,
                        "id",
                        &related.stages,
                    )?;
                    ApplicationsPage::new(rows, more, candidates, jobs, stages)
                })
                .await
            }
            Db::Postgres(p) => {
                let rows = pg::records::page(p, &q).await?;
                let (rows, more, related) = RelatedIds::of_page(rows, limit);
                let by_id = |model, ids: &[String]| {
                    let ids = ids.to_vec();
                    async move {
                        if ids.is_empty() {
                            return Ok(Vec::new());
                        }
                        pg::records::by_column(p, integration_id, model, "id", &ids).await
                    }
                };
                let (candidates, jobs, stages) = tokio::try_join!(
                    async {
                        if related.candidates.is_empty() {
                            return Ok(Vec::new());
                        }
                        pg::records::summaries(p, integration_id, &related.candidates).await
                    },
                    by_id(ModelKind::Job, &related.jobs),
                    by_id(ModelKind::ApplicationStage, &related.stages),
                )?;
                ApplicationsPage::new(rows, more, candidates, jobs, stages)
            }
        }
    }

    /// Records of a model by id (any state), for assembling nested objects.
    pub async fn by_ids(
        &self,
        integration_id: &str,
        model: ModelKind,
        ids: &[String],
    ) -> Result<Vec<StoredRecord>> {
        self.by_column(integration_id, model, "id", ids)
            .await?
            .into_iter()
            .map(Row::stored)
            .collect()
    }

    /// Applications of the given candidates (any state).
    pub async fn applications_of(
        &self,
        integration_id: &str,
        candidate_ids: &[String],
    ) -> Result<Vec<StoredRecord>> {
        self.by_column(
            integration_id,
            ModelKind::Application,
            "candidate_id",
            candidate_ids,
        )
        .await?
        .into_iter()
        .map(Row::stored)
        .collect()
    }

    /// `by_ids` with each record's JSON left as stored.
    pub async fn by_ids_raw(
        &self,
        integration_id: &str,
        model: ModelKind,
        ids: &[String],
    ) -> Result<Vec<RawRecord>> {
        self.by_column(integration_id, model, "id", ids)
            .await?
            .into_iter()
            .map(Row::raw)
            .collect()
    }

    /// HRIS records of `model` that belong to one of these employees (employments, absences,
    /// time-off balances: the owner column, see `records::input::hris_columns`), any state.
    pub async fn owned_by(
        &self,
        integration_id: &str,
        model: ModelKind,
        employee_ids: &[String],
    ) -> Result<Vec<RawRecord>> {
        self.by_column(integration_id, model, "candidate_id", employee_ids)
            .await?
            .into_iter()
            .map(Row::raw)
            .collect()
    }

    /// Records of `model` whose `column` is one of `values`, in `seq` order per chunk of
    /// values.
    async fn by_column(
        &self,
        integration_id: &str,
        model: ModelKind,
        column: &'static str,
        values: &[String],
    ) -> Result<Vec<Row>> {
        if values.is_empty() {
            return Ok(Vec::new());
        }
        match &self.db {
            Db::Sqlite(s) => {
                let (integration_id, values) = (integration_id.to_owned(), values.to_vec());
                s.read("reading records", move |tx| {
                    sqlite::records::by_column(tx, &integration_id, model, column, &values)
                })
                .await
            }
            Db::Postgres(p) => {
                pg::records::by_column(p, integration_id, model, column, values).await
            }
        }
    }

    /// The summaries of the given candidates (see `CandidateSummary`), for a page of
    /// applications.
    pub async fn candidate_summaries(
        &self,
        integration_id: &str,
        ids: &[String],
    ) -> Result<Vec<CandidateSummary>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        match &self.db {
            Db::Sqlite(s) => {
                let (integration_id, ids) = (integration_id.to_owned(), ids.to_vec());
                s.read("reading candidates' summaries", move |tx| {
                    sqlite::records::summaries(tx, &integration_id, &ids)
                })
                .await
            }
            Db::Postgres(p) => pg::records::summaries(p, integration_id, ids).await,
        }
    }

    /// How many live records an integration has per model.
    pub async fn counts(&self, integration_id: &str) -> Result<BTreeMap<String, i64>> {
        match &self.db {
            Db::Sqlite(s) => {
                let integration_id = integration_id.to_owned();
                s.read("counting records", move |tx| {
                    sqlite::records::counts(tx, &integration_id)
                })
                .await
            }
            Db::Postgres(p) => pg::records::counts(p, integration_id).await,
        }
    }

    /// How many records of an integration were written (`changed_at`) or moved
    /// (`updated_at`) at or after `since`: what a run touched.
    pub async fn records_changed_since(
        &self,
        integration_id: &str,
        since: Timestamp,
    ) -> Result<u64> {
        let since = millis(since);
        match &self.db {
            Db::Sqlite(s) => {
                let integration_id = integration_id.to_owned();
                s.read("counting changed records", move |tx| {
                    sqlite::records::changed_since(tx, &integration_id, since)
                })
                .await
            }
            Db::Postgres(p) => pg::records::changed_since(p, integration_id, since).await,
        }
    }

    /// Remote ids of the applications created through atsbridge.
    pub async fn created_remote_ids(&self, integration_id: &str) -> Result<BTreeSet<String>> {
        match &self.db {
            Db::Sqlite(s) => {
                let integration_id = integration_id.to_owned();
                s.read("reading created applications", move |tx| {
                    sqlite::records::created_remote_ids(tx, &integration_id)
                })
                .await
            }
            Db::Postgres(p) => pg::records::created_remote_ids(p, integration_id).await,
        }
    }
}

/// The distinct ids a page of applications points to.
struct RelatedIds {
    candidates: Vec<String>,
    jobs: Vec<String>,
    stages: Vec<String>,
}

impl RelatedIds {
    /// The page's rows (at most `limit`), whether more follow, and the ids they point to.
    fn of_page(mut rows: Vec<Row>, limit: u32) -> (Vec<Row>, bool, RelatedIds) {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let distinct = |column: fn(&Row) -> Option<&String>| -> Vec<String> {
            rows.iter()
                .filter_map(column)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .cloned()
                .collect()
        };
        let related = RelatedIds {
            candidates: distinct(|r| r.candidate_id.as_ref()),
            jobs: distinct(|r| r.job_id.as_ref()),
            stages: distinct(|r| r.current_stage_id.as_ref()),
        };
        (rows, more, related)
    }
}
