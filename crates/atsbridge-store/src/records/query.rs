//! The statements of list pages and lookups, built from filters (data) for one engine's
//! dialect. The engine modules run them; what each engine's planner needs is in its
//! `Dialect`, not here.

use atsbridge_model::ModelKind;

use crate::filter::{Filter, OrderColumn};
use crate::records::{model_code, Position};
use crate::{Result, StoreError};

/// The columns a record row is read with (`records::Row`).
pub(crate) const SELECT: &str = "seq, model, id, remote_id, payload, nested, changed_at, updated_at, remote_deleted_at, remote_created_at, candidate_id, job_id, current_stage_id";

/// How many ids go into one `IN (...)`: well under SQLite's parameter limit.
pub(crate) const CHUNK: usize = 400;

/// What an engine's SQL needs besides the standard.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dialect {
    /// `$1, $2, …` (PostgreSQL) or anonymous `?` bound in order of appearance (SQLite,
    /// where numbered ones are looked up by name at a cost that grows with their number).
    pub numbered: bool,
    /// Put before a value that should not steer the plan (see the engine's dialect).
    pub plain: &'static str,
    /// `ORDER BY` seq without walking the page index.
    pub seq_unindexed: &'static str,
    /// The condition on a record's `payload` for `Filter::custom_field`: JSON functions
    /// differ between the engines.
    pub custom_field: fn(&mut Params, &str, &serde_json::Value, &mut Vec<Bind>) -> String,
}

/// A value bound to a statement, in order.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Text(String),
    Int(i64),
}

/// Placeholders in order of appearance. Never reuse one: bind the value twice instead.
#[derive(Debug)]
pub(crate) struct Params {
    n: usize,
    numbered: bool,
}

impl Params {
    pub(crate) fn new(dialect: Dialect) -> Self {
        Params {
            n: 0,
            numbered: dialect.numbered,
        }
    }

    pub(crate) fn next(&mut self) -> String {
        self.n += 1;
        if self.numbered {
            format!("${}", self.n)
        } else {
            "?".to_owned()
        }
    }

    /// Placeholders for a list of `n` values.
    pub(crate) fn list(&mut self, n: usize) -> String {
        (0..n).map(|_| self.next()).collect::<Vec<_>>().join(", ")
    }
}

/// How a list statement is written for an engine and a filter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ListPlan {
    pub dialect: Dialect,
    /// Candidates filtered by `job_ids` are found by walking the candidates in page order
    /// and testing each, instead of looking up every matching candidate and sorting them
    /// (the engine decides; see SQLite's).
    pub walk_candidates: bool,
}

/// A list page's statement (selecting `SELECT`) and its values.
pub(crate) fn list_query(
    plan: ListPlan,
    ikey: i64,
    model: ModelKind,
    filter: &Filter,
    after: Option<Position>,
    limit: u32,
    key: Option<OrderColumn>,
) -> Result<(String, Vec<Bind>)> {
    let d = plan.dialect;
    let mut p = Params::new(d);
    let mut sql = format!(
        "SELECT {SELECT} FROM records WHERE ikey = {}{} AND model = {}",
        d.plain,
        p.next(),
        model_code(model)
    );
    let mut binds: Vec<Bind> = vec![Bind::Int(ikey)];
    let eq_list = |sql: &mut String,
                   binds: &mut Vec<Bind>,
                   p: &mut Params,
                   column: &str,
                   values: &Option<Vec<String>>| {
        if let Some(values) = values {
            if values.is_empty() {
                sql.push_str(" AND 1 = 0");
            } else {
                sql.push_str(&format!(" AND {column} IN ({})", p.list(values.len())));
                binds.extend(values.iter().cloned().map(Bind::Text));
            }
        }
    };
    match (after, key) {
        (Some(Position { seq, key: Some(k) }), Some(order)) => {
            let column = order.column();
            let (a, b, c, d) = (p.next(), p.next(), p.next(), p.next());
            // The first condition gives the index range its start; the second is the
            // exact keyset position.
            sql.push_str(&format!(
                " AND {column} >= {a} AND ({column} > {b} OR ({column} = {c} AND seq > {d}))"
            ));
            binds.extend([Bind::Int(k), Bind::Int(k), Bind::Int(k), Bind::Int(seq)]);
        }
        (Some(_), Some(_)) => {
            // A cursor made before these pages were ordered by that column: continuing
            // it by seq in the new order could skip records.
            return Err(StoreError::InvalidCursor(
                    "it predates this server's ordering of filtered pages; start again from the first page".into(),
                ));
        }
        (Some(Position { seq, .. }), None) => {
            sql.push_str(&format!(" AND seq > {}", p.next()));
            binds.push(Bind::Int(seq));
        }
        (None, _) => {}
    }
    eq_list(&mut sql, &mut binds, &mut p, "id", &filter.ids);
    eq_list(
        &mut sql,
        &mut binds,
        &mut p,
        "remote_id",
        &filter.remote_ids,
    );
    if let Some(t) = filter.updated_after {
        sql.push_str(&format!(" AND updated_at > {}", p.next()));
        binds.push(Bind::Int(t));
    }
    // Deleted rows are few; the page index serves this check without one of its own.
    if !filter.include_deleted {
        sql.push_str(" AND remote_deleted_at IS NULL");
    }
    match model {
        ModelKind::Job => {
            eq_list(&mut sql, &mut binds, &mut p, "status", &filter.statuses);
            eq_list(
                &mut sql,
                &mut binds,
                &mut p,
                "employment_type",
                &filter.employment_types,
            );
            eq_list(
                &mut sql,
                &mut binds,
                &mut p,
                "visibility",
                &filter.visibilities,
            );
            eq_list(&mut sql, &mut binds, &mut p, "job_code", &filter.job_codes);
            if let Some(url) = &filter.post_url {
                sql.push_str(&format!(" AND post_url = {}", p.next()));
                binds.push(Bind::Text(url.clone()));
            }
            if let Some(needle) = &filter.name_contains {
                // A substring match cannot use a B-tree index; it scans the integration's
                // jobs, which number in the thousands, not millions.
                sql.push_str(&format!(" AND name_lower LIKE {} ESCAPE '\\'", p.next()));
                binds.push(Bind::Text(format!(
                    "%{}%",
                    escape_like(&needle.to_lowercase())
                )));
            }
            if let Some(t) = filter.remote_created_after {
                sql.push_str(&format!(" AND remote_created_at >= {}", p.next()));
                binds.push(Bind::Int(start_of_day(t)));
            }
        }
        ModelKind::Candidate => {
            for (column, value) in [
                ("email_lower", &filter.email),
                ("first_name_lower", &filter.first_name),
                ("last_name_lower", &filter.last_name),
            ] {
                if let Some(v) = value {
                    sql.push_str(&format!(" AND {column} = {}", p.next()));
                    binds.push(Bind::Text(v.trim().to_lowercase()));
                }
            }
            if let Some(jobs) = &filter.job_ids {
                if jobs.is_empty() {
                    sql.push_str(" AND 1 = 0");
                } else {
                    let inner_integration = p.next();
                    let list = p.list(jobs.len());
                    if plan.walk_candidates {
                        // Per candidate walked: its applications on the (integration,
                        // candidate, job) index, the job tested from the index entry.
                        sql.push_str(&format!(
                            " AND EXISTS (SELECT 1 FROM records a WHERE a.ikey = {inner_integration} AND a.model = 3 AND a.candidate_id = records.id AND {}a.job_id IN ({list}))",
                            d.plain
                        ));
                    } else {
                        sql.push_str(&format!(
                            " AND id IN (SELECT candidate_id FROM records WHERE ikey = {inner_integration} AND model = 3 AND job_id IN ({list}))"
                        ));
                    }
                    binds.push(Bind::Int(ikey));
                    binds.extend(jobs.iter().cloned().map(Bind::Text));
                }
            }
        }
        ModelKind::Application => {
            eq_list(&mut sql, &mut binds, &mut p, "outcome", &filter.outcomes);
            eq_list(&mut sql, &mut binds, &mut p, "job_id", &filter.job_ids);
            eq_list(
                &mut sql,
                &mut binds,
                &mut p,
                "job_remote_id",
                &filter.job_remote_ids,
            );
            eq_list(
                &mut sql,
                &mut binds,
                &mut p,
                "current_stage_id",
                &filter.current_stage_ids,
            );
            if let Some(t) = filter.remote_created_after {
                sql.push_str(&format!(" AND remote_created_at >= {}", p.next()));
                binds.push(Bind::Int(start_of_day(t)));
            }
        }
        // HRIS records keep their filter values in the ATS-named columns
        // (`records::input::hris_columns` says which holds what).
        ModelKind::Employee => {
            eq_list(
                &mut sql,
                &mut binds,
                &mut p,
                "status",
                &filter.employment_statuses,
            );
            eq_list(&mut sql, &mut binds, &mut p, "job_id", &filter.group_ids);
            let emails = filter
                .work_emails
                .as_ref()
                .map(|e| e.iter().map(|e| e.trim().to_lowercase()).collect());
            eq_list(&mut sql, &mut binds, &mut p, "email_lower", &emails);
            if !filter.absent_fields.is_empty() {
                sql.push_str(" AND 1 = 0");
            }
            if let Some((key, value)) = &filter.custom_field {
                let condition = (d.custom_field)(&mut p, key, value, &mut binds);
                sql.push_str(&format!(" AND {condition}"));
            }
        }
        ModelKind::Group => {
            if let Some(types) = &filter.group_types {
                let named: Vec<String> = types.iter().flatten().cloned().collect();
                let mut any = Vec::new();
                if !named.is_empty() {
                    any.push(format!("status IN ({})", p.list(named.len())));
                    binds.extend(named.into_iter().map(Bind::Text));
                }
                if types.iter().any(Option::is_none) {
                    any.push("status IS NULL".to_owned());
                }
                if any.is_empty() {
                    sql.push_str(" AND 1 = 0");
                } else {
                    sql.push_str(&format!(" AND ({})", any.join(" OR ")));
                }
            }
            if let Some(needle) = &filter.name_contains {
                sql.push_str(&format!(" AND name_lower LIKE {} ESCAPE '\\'", p.next()));
                binds.push(Bind::Text(format!(
                    "%{}%",
                    escape_like(&needle.to_lowercase())
                )));
            }
        }
        ModelKind::Absence | ModelKind::TimeOffBalance => {
            if let Some(employee) = &filter.employee_id {
                sql.push_str(&format!(" AND candidate_id = {}", p.next()));
                binds.push(Bind::Text(employee.clone()));
            }
            if model == ModelKind::Absence {
                eq_list(&mut sql, &mut binds, &mut p, "job_id", &filter.type_ids);
                // Days are `yyyy-MM-dd` text: ordered as the days are.
                if let Some(from) = &filter.date_from {
                    sql.push_str(&format!(" AND post_url >= {}", p.next()));
                    binds.push(Bind::Text(from.clone()));
                }
                if let Some(until) = &filter.date_until {
                    sql.push_str(&format!(" AND job_code <= {}", p.next()));
                    binds.push(Bind::Text(until.clone()));
                }
            }
        }
        ModelKind::ApplicationStage | ModelKind::Employment | ModelKind::AbsenceType => {}
    }
    // With an id list the result is at most as long as the list: sorting it is cheaper than
    // walking the page index and testing every row.
    let order = if let Some(column) = key {
        format!("{}, seq", column.column())
    } else if filter.ids.is_some() || filter.remote_ids.is_some() {
        d.seq_unindexed.to_owned()
    } else {
        "seq".to_owned()
    };
    sql.push_str(&format!(" ORDER BY {order} LIMIT {}", p.next()));
    binds.push(Bind::Int(i64::from(limit) + 1));
    Ok((sql, binds))
}

/// The statement counting the applications of some jobs (SQLite's `walk_candidates`
/// choice).
pub(crate) fn applications_of_jobs_count(
    dialect: Dialect,
    ikey: i64,
    jobs: &[String],
) -> (String, Vec<Bind>) {
    let mut p = Params::new(dialect);
    let sql = format!(
        "SELECT COUNT(*) FROM records WHERE ikey = {} AND model = 3 AND job_id IN ({})",
        p.next(),
        p.list(jobs.len())
    );
    let mut binds = vec![Bind::Int(ikey)];
    binds.extend(jobs.iter().cloned().map(Bind::Text));
    (sql, binds)
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Kombo's `remote_created_after` counts whole days.
fn start_of_day(ms: i64) -> i64 {
    ms - ms.rem_euclid(86_400_000)
}
