//! Operator diagnostics (`crate::diagnostics`) on SQLite.

use std::collections::HashMap;
use std::time::Instant;

use rusqlite::{params_from_iter, StatementStatus, Transaction};

use super::records::page_statement;
use super::sq;
use crate::diagnostics::PagePlan;
use crate::records::PageQuery;
use crate::Result;

/// `EXPLAIN QUERY PLAN` of the page's statement with its values bound: with the statistics
/// of `ANALYZE` SQLite plans for the values (see `records::DIALECT`), so they must be the
/// page's. Steps are indented under the step they belong to (a subquery's under it).
pub(crate) fn explain_page(tx: &Transaction<'_>, q: &PageQuery) -> Result<PagePlan> {
    let op = "explaining a page";
    let (sql, binds) = page_statement(tx, q)?;
    // Not through the statement cache: an explanation is asked for once.
    let mut statement = tx
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .map_err(sq(op))?;
    let steps = statement
        .query_map(params_from_iter(binds.iter()), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(3)?,
            ))
        })
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(sq(op))?;
    // Parents come before their children.
    let mut depth: HashMap<i64, usize> = HashMap::new();
    let plan = steps
        .into_iter()
        .map(|(id, parent, detail)| {
            let d = depth.get(&parent).map_or(0, |d| d + 1);
            depth.insert(id, d);
            format!("{}{detail}", "  ".repeat(d))
        })
        .collect();
    Ok(PagePlan {
        sql,
        plan,
        generic_plan: None,
    })
}

/// Runs the page's statement to its end and reports its counters, SQLite's nearest thing
/// to `EXPLAIN ANALYZE`: rows stepped over by full scans and sorts are what a missing index
/// costs.
pub(crate) fn analyze_page(tx: &Transaction<'_>, q: &PageQuery) -> Result<Vec<String>> {
    let op = "analyzing a page";
    let started = Instant::now();
    let (sql, binds) = page_statement(tx, q)?;
    // Prepared anew, so that the counters are this run's alone.
    let mut statement = tx.prepare(&sql).map_err(sq(op))?;
    let prepared = started.elapsed();
    let mut n = 0u64;
    {
        let mut rows = statement
            .query(params_from_iter(binds.iter()))
            .map_err(sq(op))?;
        while rows.next().map_err(sq(op))?.is_some() {
            n += 1;
        }
    }
    let elapsed = started.elapsed();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    let status = |s| statement.get_status(s);
    Ok(vec![
        format!(
            "rows: {n}; {:.3} ms, {:.3} ms of it choosing and preparing the statement",
            ms(elapsed),
            ms(prepared)
        ),
        format!("full scan steps: {}", status(StatementStatus::FullscanStep)),
        format!("sorts: {}", status(StatementStatus::Sort)),
        format!(
            "rows put into automatic indexes: {}",
            status(StatementStatus::AutoIndex)
        ),
        format!("virtual machine steps: {}", status(StatementStatus::VmStep)),
    ])
}

/// `ANALYZE`: SQLite keeps no old row versions, so after a bulk load there is nothing to
/// vacuum, only the statistics its planner needs.
pub(crate) fn maintain(tx: &Transaction<'_>) -> Result<()> {
    tx.execute_batch("ANALYZE")
        .map_err(sq("maintaining the database"))
}

pub(crate) fn database_bytes(tx: &Transaction<'_>) -> Result<u64> {
    let op = "measuring the database";
    let pragma = |name| {
        tx.pragma_query_value(None, name, |r| r.get::<_, i64>(0))
            .map_err(sq(op))
    };
    let (pages, page_size) = (pragma("page_count")?, pragma("page_size")?);
    Ok(u64::try_from(pages * page_size).unwrap_or(0))
}
