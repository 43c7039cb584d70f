//! `read_all` for Sage HR's core-HR API, with the fewest requests the API allows:
//!
//! - teams (H12, paged) and policies (H15, whole) with each policy's detail (H16, one call
//!   per policy, for `only_full_days`), read side by side;
//! - active (H1) then terminated (H3) employees, paged, with `position_history` (the job
//!   title each compensation row was paid for); for each employee its compensation rows
//!   (H11), its custom fields (H9: Sage HR has no company-wide listing of their values)
//!   and, for active employees only, its balances (H17), a few employees at once;
//! - leave requests (H18) over the configured range in windows of 60 days, read side by side
//!   and de-duplicated by id (a request across a window edge is listed in both).

use std::collections::{HashMap, HashSet};

use atsbridge_model::connector::{
    ConnectorError, ConnectorErrorKind as Kind, ReadSummary, Record, RecordSink,
};
use atsbridge_model::hris::{AbsenceType, PlainDate};
use futures_util::stream::{self, StreamExt as _, TryStreamExt as _};
use serde_json::Value;
use time::Duration;

use super::mapping::{self, HrisScope};
use super::SageHrHris;
use crate::wire::Meta;

/// Stop following `next_page` after this many pages of one listing.
const MAX_PAGES: u64 = 100_000;

/// Days in one H18 window, first and last included: Sage HR refuses windows of 65 days or
/// more (`to − from`), and 60 leaves a margin.
pub const WINDOW_DAYS: i64 = 60;

/// The history flag the employee listings are read with; `read_employee` asks for the same
/// so that both give the same `remote_data`.
pub(crate) const HISTORY: (&str, &str) = ("position_history", "true");

fn history() -> Vec<(&'static str, String)> {
    vec![(HISTORY.0, HISTORY.1.to_owned())]
}

impl SageHrHris {
    pub(crate) async fn read(
        &self,
        sink: &mut dyn RecordSink,
    ) -> Result<ReadSummary, ConnectorError> {
        let before = self.client().requests_sent();
        let scope = self.scope();
        let mut summary = ReadSummary {
            stable: true,
            ..ReadSummary::default()
        };

        let (teams, types) =
            futures_util::future::join(self.list_all("/teams", vec![]), self.absence_types(scope))
                .await;
        let (teams, teams_stable) = teams?;
        summary.stable &= teams_stable;
        let groups: Vec<Record> = teams
            .iter()
            .filter_map(|t| mapping::group(scope, t))
            .map(Record::Group)
            .collect();
        deliver(sink, &mut summary, groups).await?;
        let types = types?;
        deliver(
            sink,
            &mut summary,
            types.iter().cloned().map(Record::AbsenceType).collect(),
        )
        .await?;
        let types: HashMap<String, AbsenceType> = types
            .into_iter()
            .map(|t| (t.remote_id.clone(), t))
            .collect();

        let mut seen = HashSet::new();
        for (path, terminated) in [
            (mapping::EMPLOYEES_PATH, false),
            (mapping::TERMINATED_PATH, true),
        ] {
            let mut page = 1;
            let mut total = None;
            loop {
                let (rows, meta) = self.page(path, page, &history()).await?;
                summary.stable &= settle(&mut total, meta.total_entries);
                let empty = rows.is_empty();
                // An employee terminated while the read ran can be in both lists; the first
                // sighting wins, so each is delivered once.
                let fresh: Vec<Value> = rows
                    .into_iter()
                    .filter(|r| seen.insert(mapping::text(r, "id").unwrap_or_default()))
                    .collect();
                let mut batch = Vec::new();
                let types = &types;
                let mut each = stream::iter(
                    fresh
                        .into_iter()
                        .map(|raw| self.employee_records(scope, raw, terminated, types)),
                )
                .buffered(self.client().concurrency());
                while let Some(records) = each.try_next().await? {
                    batch.extend(records);
                }
                deliver(sink, &mut summary, batch).await?;
                match meta.next_page {
                    Some(next) if !empty && next > page && page < MAX_PAGES => page = next,
                    _ => break,
                }
            }
        }

        let (from, to) = self.hris.absences_range(scope.today);
        let unit_of = |policy: &str| types.get(policy).and_then(|t| t.unit);
        let mut delivered = HashSet::new();
        let mut windows = stream::iter(windows(from, to).into_iter().map(|(a, b)| {
            self.list_all(
                mapping::REQUESTS_PATH,
                vec![("from", a.to_string()), ("to", b.to_string())],
            )
        }))
        .buffered(self.client().concurrency());
        while let Some((requests, stable)) = windows.try_next().await? {
            summary.stable &= stable;
            let batch: Vec<Record> = requests
                .iter()
                .filter(|r| delivered.insert(mapping::text(r, "id").unwrap_or_default()))
                .filter_map(|r| mapping::absence(scope, r, unit_of))
                .map(Record::Absence)
                .collect();
            deliver(sink, &mut summary, batch).await?;
        }
        summary.absences_window = Some((from, to));
        summary.requests = self.client().requests_sent() - before;
        Ok(summary)
    }

    /// Every policy (H15) with its detail (H16), mapped.
    pub(super) async fn absence_types(
        &self,
        scope: HrisScope<'_>,
    ) -> Result<Vec<AbsenceType>, ConnectorError> {
        let body = self.client().get_json(mapping::POLICIES_PATH, &[]).await?;
        let policies = data_list(&body, mapping::POLICIES_PATH)?;
        let details = stream::iter(policies.clone().into_iter().map(|p| async move {
            let Some(id) = mapping::text(&p, "id") else {
                return Ok(None);
            };
            match self
                .client()
                .get_json(&format!("{}/{id}", mapping::POLICIES_PATH), &[])
                .await
            {
                // H16 wraps its one policy in a list.
                Ok(body) => Ok(body.pointer("/data/0").cloned()),
                // Deleted since it was listed: mapped from the listing alone.
                Err(e) if e.kind == Kind::NotFound => Ok(None),
                Err(e) => Err(e),
            }
        }))
        .buffered(self.client().concurrency())
        .try_collect::<Vec<Option<Value>>>()
        .await?;
        Ok(policies
            .iter()
            .zip(&details)
            .filter_map(|(p, d)| mapping::absence_type(scope, p, d.as_ref()))
            .collect())
    }

    /// One employee with its employments and (active employees only) balances. Empty when
    /// the employee was deleted while the read ran (its H11 or H17 answers 404).
    async fn employee_records(
        &self,
        scope: HrisScope<'_>,
        raw: Value,
        terminated: bool,
        types: &HashMap<String, AbsenceType>,
    ) -> Result<Vec<Record>, ConnectorError> {
        let raw = &raw;
        let Some(mut employee) = mapping::employee(scope, raw, terminated) else {
            tracing::warn!(record = %raw, "skipping an employee without an id");
            return Ok(vec![]);
        };
        let id = &employee.core.remote_id.clone();
        let balances = async {
            if terminated {
                return Ok(Value::Null);
            }
            self.client()
                .get_json(&format!("/employees/{id}/leave-management/balances"), &[])
                .await
        };
        let (compensations, balances, custom) = futures_util::future::join3(
            self.list_all(&format!("/employees/{id}/compensations"), vec![]),
            balances,
            self.custom_fields(id),
        )
        .await;
        let gone = |e: &ConnectorError| e.kind == Kind::NotFound;
        let (compensations, balances, custom) = match (compensations, balances, custom) {
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) if gone(&e) => {
                tracing::info!(employee = %id, "employee deleted while it was read; skipped");
                return Ok(vec![]);
            }
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return Err(e),
            (Ok((c, _)), Ok(b), Ok(f)) => (c, b, f),
        };
        mapping::with_custom_fields(scope, &mut employee, &custom);
        let mut records = vec![];
        for e in mapping::employments(scope, raw, &compensations) {
            records.push(Record::Employment(e));
        }
        if !terminated {
            for row in data_list(&balances, "balances")? {
                if let Some(b) = mapping::balance(scope, id, &row, types) {
                    records.push(Record::TimeOffBalance(b));
                }
            }
        }
        records.insert(0, Record::Employee(employee));
        Ok(records)
    }

    /// An employee's custom field values (H9: one list, no pages).
    pub(super) async fn custom_fields(&self, id: &str) -> Result<Vec<Value>, ConnectorError> {
        let path = format!("/employees/{id}/custom-fields");
        let body = self.client().get_json(&path, &[]).await?;
        data_list(&body, &path)
    }

    /// One page of a core-HR listing (a fixed 50 rows; no `per_page`).
    async fn page(
        &self,
        path: &str,
        page: u64,
        extra: &[(&'static str, String)],
    ) -> Result<(Vec<Value>, Meta), ConnectorError> {
        let mut query = vec![("page", page.to_string())];
        query.extend(extra.iter().cloned());
        let body = self.client().get_json(path, &query).await?;
        let data = data_list(&body, path)?;
        let meta = body
            .get("meta")
            .and_then(|m| serde_json::from_value(m.clone()).ok())
            .unwrap_or_default();
        Ok((data, meta))
    }

    /// All pages of a listing, following `meta.next_page` and stopping on an empty page or a
    /// `next_page` that does not move forward. `stable` is false when the total changed.
    pub(super) async fn list_all(
        &self,
        path: &str,
        query: Vec<(&'static str, String)>,
    ) -> Result<(Vec<Value>, bool), ConnectorError> {
        let mut out = Vec::new();
        let mut page = 1;
        let mut total = None;
        let mut stable = true;
        loop {
            let (data, meta) = self.page(path, page, &query).await?;
            stable &= settle(&mut total, meta.total_entries);
            let empty = data.is_empty();
            out.extend(data);
            match meta.next_page {
                Some(next) if !empty && next > page && page < MAX_PAGES => page = next,
                _ => return Ok((out, stable)),
            }
        }
    }
}

/// The H18 windows covering `from..=to`, each at most `WINDOW_DAYS` days long.
pub fn windows(from: PlainDate, to: PlainDate) -> Vec<(PlainDate, PlainDate)> {
    let mut out = vec![];
    let mut start = from.0;
    while start <= to.0 {
        let end = (start + Duration::days(WINDOW_DAYS - 1)).min(to.0);
        out.push((PlainDate(start), PlainDate(end)));
        start = end + Duration::days(1);
    }
    out
}

pub(super) fn data_list(body: &Value, what: &str) -> Result<Vec<Value>, ConnectorError> {
    match body.get("data") {
        Some(Value::Array(items)) => Ok(items.clone()),
        _ => Err(ConnectorError::new(
            Kind::Unknown,
            format!("GET {what}: the answer has no `data` list"),
        )),
    }
}

async fn deliver(
    sink: &mut dyn RecordSink,
    summary: &mut ReadSummary,
    records: Vec<Record>,
) -> Result<(), ConnectorError> {
    if records.is_empty() {
        return Ok(());
    }
    for r in &records {
        *summary.records.entry(r.model().as_str()).or_default() += 1;
    }
    sink.accept(records).await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_range_without_gaps_or_overlap() {
        let d = |s| PlainDate::parse(s).unwrap();
        let w = windows(d("2026-01-01"), d("2026-03-05"));
        assert_eq!(
            w,
            vec![
                (d("2026-01-01"), d("2026-03-01")),
                (d("2026-03-02"), d("2026-03-05")),
            ]
        );
        assert_eq!(windows(d("2026-01-01"), d("2026-01-01")).len(), 1);
        // 731 days: a year back and a year ahead of today.
        assert_eq!(windows(d("2025-06-15"), d("2027-06-15")).len(), 13);
    }
}
