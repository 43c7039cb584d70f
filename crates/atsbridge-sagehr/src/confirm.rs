//! `Connector::confirm_missing` for Sage HR: telling records deleted upstream from live ones
//! that a listing skipped because it shifted while it was paged.
//!
//! A record found alive is delivered only in the form `read_all` delivers it, so its hash, and
//! so its `changed_at`, stay put. For Sage HR that form exists only for a whole position: a
//! job's `stages` come from all its applicants, and an applicant's `remote_data` is R3's list
//! form, which R5 does not give (R5 adds `position_id`, `added_by` and `referrer`). So each
//! position involved is read again whole through the same `read_position` as `read_all`: R2
//! for the job (cut down to R1's list form, plus its hiring team, as `read_all` reads it),
//! then R3's pages for its applicants. The job is
//! re-delivered even when only applicants were missing, because its stages depend on which
//! applicants the listing saw. An applicant that only R5 finds stays live but undelivered.
//!
//! Requests: R2 and R3's pages once per position involved; one R5 per application its
//! position's fresh listing still lacks (or whose job is unknown); none for an application
//! whose position is gone; and one R1 probe when a 404 confirmed anything, because a 404
//! proves a deletion only while the account itself answers (a vanished or misrouted account
//! answers 404 to every id).

use std::collections::{BTreeMap, HashMap, HashSet};

use atsbridge_model::connector::{
    Confirmed, ConnectorError, ConnectorErrorKind as Kind, Missing, Record, RecordSink,
};
use futures_util::stream::{self, StreamExt as _};
use serde_json::Value;

use crate::connector::{addressable, SageHr};
use crate::read::PositionRead;

/// Keys R2 adds to R1's list form of a position.
const DETAIL_ONLY_KEYS: [&str; 2] = ["applicants", "hiring_team"];

/// R2's position detail as R1 lists it, so the job built from it, `remote_data` included, is
/// the one `read_all` builds.
pub(crate) fn list_form(mut detail: Value) -> Value {
    if let Some(fields) = detail.as_object_mut() {
        for key in DETAIL_ONLY_KEYS {
            fields.remove(key);
        }
    }
    detail
}

async fn deliver(sink: &mut dyn RecordSink, records: Vec<Record>) -> Result<(), ConnectorError> {
    if records.is_empty() {
        return Ok(());
    }
    sink.accept(records).await
}

impl SageHr {
    pub(crate) async fn confirm(
        &self,
        missing: &Missing,
        sink: &mut dyn RecordSink,
    ) -> Result<Confirmed, ConnectorError> {
        let concurrency = self.client().concurrency();
        let mut confirmed = Confirmed::default();
        // Whether a 404, rather than an id no Sage HR record can have, confirmed anything.
        let mut answered_not_found = false;
        // The applicants of each position read whole here.
        let mut listed: HashMap<String, HashSet<String>> = HashMap::new();

        let mut jobs = Vec::with_capacity(missing.jobs.len());
        for id in &missing.jobs {
            if addressable(id) {
                // Owned, because a stream of futures over borrowed ids trips the compiler's
                // proof that the boxed future is `Send`.
                jobs.push(id.clone());
            } else {
                confirmed.jobs_gone.insert(id.clone());
            }
        }
        let mut reads = stream::iter(jobs.into_iter().map(|id| async move {
            let read = self.reread_position(&id).await;
            (id, read)
        }))
        .buffered(concurrency);
        while let Some((id, read)) = reads.next().await {
            match read? {
                None => {
                    answered_not_found = true;
                    confirmed.jobs_gone.insert(id);
                }
                Some(read) => {
                    listed.insert(id, read.applicants);
                    deliver(sink, read.records).await?;
                }
            }
        }

        // Applications of positions not read yet, by position; and those only R5 can tell.
        let mut by_job: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut lookups: Vec<String> = Vec::new();
        for (app, job) in &missing.applications {
            if !addressable(app) {
                confirmed.applications_gone.insert(app.clone());
                continue;
            }
            match job.as_deref() {
                // An applicant belongs to one position and is deleted with it.
                Some(j) if confirmed.jobs_gone.contains(j) => {
                    confirmed.applications_gone.insert(app.clone());
                }
                Some(j) => match listed.get(j) {
                    Some(applicants) => {
                        if !applicants.contains(app) {
                            lookups.push(app.clone());
                        }
                    }
                    None => by_job.entry(j.to_owned()).or_default().push(app.clone()),
                },
                None => lookups.push(app.clone()),
            }
        }

        let mut reads = stream::iter(
            by_job
                .into_iter()
                .map(|(job, apps)| async move { (apps, self.reread_position(&job).await) }),
        )
        .buffered(concurrency);
        while let Some((apps, read)) = reads.next().await {
            match read? {
                // Its position is gone (and stays out of `jobs_gone`, which only answers for
                // the jobs asked about): so are its applicants.
                None => {
                    answered_not_found = true;
                    confirmed.applications_gone.extend(apps);
                }
                Some(read) => {
                    lookups.extend(apps.into_iter().filter(|a| !read.applicants.contains(a)));
                    deliver(sink, read.records).await?;
                }
            }
        }

        let mut checks = stream::iter(lookups.into_iter().map(|id| async move {
            let exists = self.applicant_exists(&id).await;
            (id, exists)
        }))
        .buffer_unordered(concurrency);
        while let Some((id, exists)) = checks.next().await {
            if !exists? {
                answered_not_found = true;
                confirmed.applications_gone.insert(id);
            }
        }

        if answered_not_found {
            self.account_answers().await?;
        }
        tracing::info!(
            jobs_missing = missing.jobs.len(),
            jobs_gone = confirmed.jobs_gone.len(),
            applications_missing = missing.applications.len(),
            applications_gone = confirmed.applications_gone.len(),
            "confirmed which missing records are gone"
        );
        Ok(confirmed)
    }

    /// A position read whole by id, as `read_all` reads a listed one; `None` when it is gone.
    async fn reread_position(&self, id: &str) -> Result<Option<PositionRead>, ConnectorError> {
        let Some(detail) = self.position_detail(id).await? else {
            return Ok(None);
        };
        if let Some(read) = self
            .read_position(list_form(detail.clone()), Some(detail))
            .await?
        {
            return Ok(Some(read));
        }
        // Its applicants answered 404 after R2 found it: deleted in between, which R2 must
        // now say too before anything is taken for gone.
        match self.position_detail(id).await? {
            None => Ok(None),
            Some(_) => Err(ConnectorError::new(
                Kind::Unknown,
                format!(
                    "position {id} is found by id, but its applicant listing answers 404; \
                     nothing is confirmed gone"
                ),
            )),
        }
    }

    /// R2's `data`; `None` on 404.
    pub(crate) async fn position_detail(&self, id: &str) -> Result<Option<Value>, ConnectorError> {
        let path = format!("/recruitment/positions/{id}");
        let mut body = match self.client().get_json(&path, &[]).await {
            Ok(body) => body,
            Err(e) if e.kind == Kind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        match body.get_mut("data").map(Value::take) {
            Some(detail @ Value::Object(_)) => Ok(Some(detail)),
            _ => Err(ConnectorError::new(
                Kind::Unknown,
                format!("GET {path}: the answer has no `data` object"),
            )),
        }
    }

    /// R5: whether the applicant exists.
    async fn applicant_exists(&self, id: &str) -> Result<bool, ConnectorError> {
        let path = format!("/recruitment/applicants/{id}");
        match self.client().get_json(&path, &[]).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind == Kind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn account_answers(&self) -> Result<(), ConnectorError> {
        self.client()
            .get_json("/recruitment/positions", &[("per_page", "1".into())])
            .await
            .map(drop)
            .map_err(|e| {
                ConnectorError::new(
                    e.kind.clone(),
                    format!(
                        "records answered 404, but the account itself does not answer ({e}); \
                         nothing is confirmed gone"
                    ),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_detail_form_loses_only_what_r2_adds() {
        let detail = json!({"id": 7, "title": "CEO", "applicants_count": 1,
            "applicants": [{"id": 8, "full_name": "A B", "email": null}],
            "hiring_team": [{"id": 1, "full_name": "C D", "role": "hiring_manager"}]});
        assert_eq!(
            list_form(detail),
            json!({"id": 7, "title": "CEO", "applicants_count": 1})
        );
        assert_eq!(list_form(json!(null)), json!(null));
    }
}
