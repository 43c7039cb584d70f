//! Operator diagnostics (`crate::diagnostics`) on PostgreSQL.

use sqlx::{Executor as _, PgConnection, PgPool, Row as _};

use crate::diagnostics::PagePlan;
use crate::records::query::Bind;
use crate::records::PageQuery;
use crate::{db, Result};

/// The prepared statement the generic plan is read from (one per session, and the
/// session's own).
const PREPARED: &str = "atsb_diagnostics";

/// Rows of the first column of `sql` with `binds` bound, as text (what `EXPLAIN` returns).
async fn lines(
    pool: &PgPool,
    sql: &str,
    binds: &[Bind],
    operation: &'static str,
) -> Result<Vec<String>> {
    // Not kept prepared: an explanation is asked for once.
    let mut q = sqlx::query(sql).persistent(false);
    for b in binds {
        q = match b {
            Bind::Text(s) => q.bind(s.clone()),
            Bind::Int(i) => q.bind(*i),
        };
    }
    let rows = q.fetch_all(pool).await.map_err(db(operation))?;
    rows.iter()
        .map(|r| r.try_get::<String, _>(0).map_err(db(operation)))
        .collect()
}

/// `EXPLAIN` with the values bound (the custom plan of a first execution) and the generic
/// plan beside it.
pub(crate) async fn explain_page(pool: &PgPool, q: &PageQuery) -> Result<PagePlan> {
    let op = "explaining a page";
    let (sql, binds) = super::records::page_statement(pool, q).await?;
    let plan = lines(pool, &format!("EXPLAIN {sql}"), &binds, op).await?;
    let mut conn = pool.acquire().await.map_err(db(op))?;
    let generic = generic_plan(&mut conn, &sql, &binds).await;
    if generic.is_err() {
        // It may have left the prepared statement or the plan setting in its session.
        conn.close_on_drop();
    }
    Ok(PagePlan {
        sql,
        plan,
        generic_plan: Some(generic?),
    })
}

/// The plan a prepared statement settles on when the planner finds the generic plan no
/// worse than the custom ones, forced. PostgreSQL 15 cannot explain a generic plan of a
/// statement with parameters directly (16 has `EXPLAIN (GENERIC_PLAN)`); `EXECUTE` of a
/// prepared statement can, and takes its values as literals only.
async fn generic_plan(conn: &mut PgConnection, sql: &str, binds: &[Bind]) -> Result<Vec<String>> {
    let op = "explaining a page's generic plan";
    let prepare = format!("PREPARE {PREPARED} AS {sql}");
    conn.execute(sqlx::raw_sql(&prepare))
        .await
        .map_err(db(op))?;
    let values: Vec<String> = binds.iter().map(literal).collect();
    let explain = format!(
        "SET plan_cache_mode = force_generic_plan; EXPLAIN EXECUTE {PREPARED}({})",
        values.join(", ")
    );
    let rows = conn
        .fetch_all(sqlx::raw_sql(&explain))
        .await
        .map_err(db(op))?;
    let clean_up = format!("DEALLOCATE {PREPARED}; RESET plan_cache_mode");
    conn.execute(sqlx::raw_sql(&clean_up))
        .await
        .map_err(db(op))?;
    rows.iter()
        .map(|r| r.try_get::<String, _>(0).map_err(db(op)))
        .collect()
}

/// A value as an SQL literal. `E'…'` reads the same whatever `standard_conforming_strings`
/// says, so a backslash or a quote in a filter value stays part of the value.
fn literal(b: &Bind) -> String {
    match b {
        Bind::Int(i) => i.to_string(),
        Bind::Text(s) => format!("E'{}'", s.replace('\\', "\\\\").replace('\'', "''")),
    }
}

/// `EXPLAIN (ANALYZE, BUFFERS)` with the values bound: the custom plan, run, with the time
/// and the pages each step read.
pub(crate) async fn analyze_page(pool: &PgPool, q: &PageQuery) -> Result<Vec<String>> {
    let (sql, binds) = super::records::page_statement(pool, q).await?;
    lines(
        pool,
        &format!("EXPLAIN (ANALYZE, BUFFERS) {sql}"),
        &binds,
        "analyzing a page",
    )
    .await
}

/// `VACUUM ANALYZE` of the records: the statistics, and the visibility map that lets
/// index-only scans skip the table.
pub(crate) async fn maintain(pool: &PgPool) -> Result<()> {
    // Sent as it is: VACUUM runs alone, outside a transaction block, and once.
    pool.execute(sqlx::raw_sql("VACUUM ANALYZE records"))
        .await
        .map_err(db("maintaining the database"))?;
    Ok(())
}

pub(crate) async fn database_bytes(pool: &PgPool) -> Result<u64> {
    let bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(pool)
        .await
        .map_err(db("measuring the database"))?;
    Ok(u64::try_from(bytes).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::{literal, Bind};

    #[test]
    fn literals_keep_quotes_and_backslashes() {
        assert_eq!(literal(&Bind::Int(-3)), "-3");
        assert_eq!(
            literal(&Bind::Text(r"%o'neil\_x%".into())),
            r"E'%o''neil\\_x%'"
        );
    }
}
