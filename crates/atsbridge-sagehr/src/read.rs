//! `read_all` for Sage HR: every position (R1, paged), its detail (R2, for the hiring team
//! only it has), and every applicant of each (R3, paged), mapped as they arrive.

use std::collections::HashSet;

use atsbridge_model::connector::{
    ConnectorError, ConnectorErrorKind as Kind, ReadSummary, Record, RecordSink,
};
use futures_util::stream::{self, StreamExt as _, TryStreamExt as _};
use serde_json::Value;

use crate::connector::SageHr;
use crate::mapping::{self, SeenStage, APPLICANTS_PATH};

/// Stop following `next_page` after this many pages of one listing: a misbehaving API must
/// not keep a sync busy forever.
const MAX_PAGES: u64 = 100_000;

/// How often one position's applicant listing is read again when it changed while being
/// paged (records may have shifted between pages).
const RELIST_ATTEMPTS: u32 = 3;

impl SageHr {
    /// `Connector::read_all`: positions page by page, the applicants of a few positions at
    /// once, each position's records handed to `sink` as one batch in listing order.
    pub(crate) async fn read(
        &self,
        sink: &mut dyn RecordSink,
    ) -> Result<ReadSummary, ConnectorError> {
        let before = self.client().requests_sent();
        let mut summary = ReadSummary::default();
        let mut seen_positions = HashSet::new();
        let mut page = 1;
        let mut total = None;
        let mut stable = true;
        let mut listing = self.client().page("/recruitment/positions", page).await?;
        loop {
            let (positions, meta) = listing;
            stable &= settle(&mut total, meta.total_entries);
            let empty = positions.is_empty();
            let next_page = match meta.next_page {
                Some(next) if !empty && next > page && page < MAX_PAGES => Some(next),
                _ => None,
            };
            // A position that moved across a page boundary mid-listing would come twice.
            let fresh: Vec<Value> = positions
                .into_iter()
                .filter(|p| {
                    let id = p.get("id").map(Value::to_string).unwrap_or_default();
                    seen_positions.insert(id)
                })
                .collect();
            // Positions are read a few at a time; records reach the sink in listing order
            // and at most `concurrency` positions are held in memory at once.
            let read = async {
                let mut batches =
                    stream::iter(fresh.into_iter().map(|p| self.read_position(p, None)))
                        .buffered(self.client().concurrency());
                while let Some(read) = batches.try_next().await? {
                    // Deleted while it was read: leaving it out is the truth, and the
                    // caller confirms it gone before marking it deleted.
                    let Some(read) = read else { continue };
                    stable &= read.stable;
                    count(&mut summary, &read.records);
                    if !read.records.is_empty() {
                        sink.accept(read.records).await?;
                    }
                }
                Ok::<_, ConnectorError>(())
            };
            // The next page of positions is fetched while this one's applicants are
            // read, so a slow API does not wait for it between pages.
            let Some(next) = next_page else {
                read.await?;
                break;
            };
            let (done, fetched) = futures_util::future::join(
                read,
                self.client().page("/recruitment/positions", next),
            )
            .await;
            done?;
            listing = fetched?;
            page = next;
        }
        summary.requests = self.client().requests_sent() - before;
        summary.stable = stable;
        Ok(summary)
    }

    /// Every applicant of one position, read to the end, and whether the listing held still
    /// while it was read (it is read again from the start when it did not).
    async fn applicants_of(&self, position_id: &str) -> Result<(Vec<Value>, bool), ConnectorError> {
        let path = format!("/recruitment/positions/{position_id}/applicants");
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (records, stable) = self.list_all(&path).await?;
            if stable || attempt >= RELIST_ATTEMPTS {
                if !stable {
                    tracing::warn!(position_id, "applicant listing kept changing while read");
                }
                return Ok((records, stable));
            }
        }
    }

    /// All pages of a listing, following `meta.next_page` with the reference's guards: stop
    /// on an empty page or a `next_page` that does not move forward. `stable` is false when
    /// the total changed between pages.
    async fn list_all(&self, path: &str) -> Result<(Vec<Value>, bool), ConnectorError> {
        let mut out = Vec::new();
        let mut page = 1;
        let mut total = None;
        let mut stable = true;
        loop {
            let (data, meta) = self.client().page(path, page).await?;
            stable &= settle(&mut total, meta.total_entries);
            let empty = data.is_empty();
            out.extend(data);
            match meta.next_page {
                Some(next) if !empty && next > page && page < MAX_PAGES => page = next,
                _ => return Ok((out, stable)),
            }
        }
    }

    /// One position with its applicants, as records: the job, its stages, then a candidate
    /// and an application per applicant. `raw` is the position in R1's list form; `detail`
    /// its R2 answer when the caller has it (read here otherwise, alongside the applicants,
    /// for the hiring team only R2 gives). `None` when R2 or the applicant listing answers
    /// 404: the position was deleted after it was listed.
    pub(crate) async fn read_position(
        &self,
        raw: Value,
        detail: Option<Value>,
    ) -> Result<Option<PositionRead>, ConnectorError> {
        let scope = self.scope();
        let Some(position_id) =
            crate::wire::parse::<crate::wire::Position>(&raw).and_then(|p| p.id)
        else {
            tracing::warn!(record = %raw, "skipping a position without an id");
            return Ok(Some(PositionRead::default()));
        };
        let detail = async {
            match detail {
                Some(detail) => Ok(Some(detail)),
                None => self.position_detail(&position_id).await,
            }
        };
        let (detail, listing) =
            futures_util::future::join(detail, self.applicants_of(&position_id)).await;
        let gone = |e: &ConnectorError| {
            tracing::info!(position_id, error = %e, "position deleted while it was read; skipped");
        };
        let (applicants, stable) = match listing {
            Ok(listing) => listing,
            Err(e) if e.kind == Kind::NotFound => {
                gone(&e);
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let Some(detail) = detail? else {
            tracing::info!(position_id, "position deleted while it was read; skipped");
            return Ok(None);
        };
        let hiring_team = detail.get("hiring_team").unwrap_or(&Value::Null);
        let mut records = Vec::with_capacity(applicants.len() * 2 + 8);
        let mut seen: Vec<SeenStage> = Vec::new();
        let mut applicant_ids = HashSet::with_capacity(applicants.len());
        for raw_applicant in &applicants {
            let Some(m) = mapping::applicant(scope, raw_applicant, &position_id, APPLICANTS_PATH)
            else {
                tracing::warn!(position_id, record = %raw_applicant, "skipping an applicant without an id");
                continue;
            };
            seen.extend(m.stage);
            if let Some(id) = &m.application.core.remote_id {
                applicant_ids.insert(id.clone());
            }
            records.push(Record::Candidate(m.candidate));
            records.push(Record::Application(m.application));
        }
        let stages = mapping::job_stages(scope, &seen);
        let mut head = Vec::with_capacity(stages.len() + 1);
        let mut stage_ids = HashSet::new();
        for s in &seen {
            if stage_ids.insert(s.remote_id.clone()) {
                head.push(Record::ApplicationStage {
                    stage: mapping::application_stage(scope, s),
                    job_remote_id: position_id.clone(),
                });
            }
        }
        let Some(job) = mapping::job(scope, &raw, stages, hiring_team) else {
            return Ok(Some(PositionRead {
                stable,
                ..PositionRead::default()
            }));
        };
        head.insert(0, Record::Job(job));
        head.extend(records);
        Ok(Some(PositionRead {
            records: head,
            stable,
            applicants: applicant_ids,
        }))
    }
}

/// A position read whole by `SageHr::read_position`.
#[derive(Debug)]
pub(crate) struct PositionRead {
    pub records: Vec<Record>,
    /// Whether its applicant listing held still while it was paged.
    pub stable: bool,
    /// Remote ids of the applicants delivered.
    pub applicants: HashSet<String>,
}

impl Default for PositionRead {
    fn default() -> Self {
        PositionRead {
            records: vec![],
            stable: true,
            applicants: HashSet::new(),
        }
    }
}

/// Remembers the first total seen; false once a later page reports another.
fn settle(total: &mut Option<u64>, now: Option<u64>) -> bool {
    match (*total, now) {
        (None, n) => {
            *total = n;
            true
        }
        (Some(t), Some(n)) => t == n,
        (Some(_), None) => true,
    }
}

fn count(summary: &mut ReadSummary, records: &[Record]) {
    for r in records {
        *summary.records.entry(r.model().as_str()).or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_that_change_mark_a_listing_unstable() {
        let mut total = None;
        assert!(settle(&mut total, Some(3)));
        assert!(settle(&mut total, Some(3)));
        assert!(!settle(&mut total, Some(2)));
    }
}
