//! Operator diagnostics: how the database runs a list page, what maintenance after a bulk
//! load costs, and how large the database is.
//!
//! Nothing outside this crate runs SQL against the store, so whoever needs to see why a page
//! is slow (the query benchmark, an operator comparing plans after an upgrade) asks here.
//! Every plan is of the statement the store itself runs for that page: built by the same
//! code, with the same engine-specific choices, and bound to the same values.

use atsbridge_model::ModelKind;

use crate::filter::Filter;
use crate::records::{PageQuery, Position};
use crate::{pg, sqlite, Db, Result, Store};

/// Which list method's page: they differ in their order only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageOrder {
    /// `Store::list`: by `seq` whatever the filter (a position's `key` is ignored).
    Seq,
    /// `Store::list_after` and `list_raw_after`: by the filter's order column
    /// (`Filter::order_column`) and then `seq`.
    Filter,
}

/// How the database plans a list page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagePlan {
    /// The statement, with its placeholders.
    pub sql: String,
    /// The plan for the values of this page: SQLite's `EXPLAIN QUERY PLAN` (one line per
    /// step) or PostgreSQL's `EXPLAIN`, which is what a statement's first executions run.
    pub plan: Vec<String>,
    /// PostgreSQL's generic plan: what a prepared statement (the store keeps them prepared)
    /// may switch to after five executions, whatever the values. `None` on SQLite, which
    /// plans every statement for its values.
    pub generic_plan: Option<Vec<String>>,
}

impl Store {
    /// The statement the store runs for a page and how the database plans it. Nothing is
    /// read but what choosing the statement needs (on SQLite, a count that decides how
    /// candidates are found by job).
    pub async fn explain_page(
        &self,
        integration_id: &str,
        model: ModelKind,
        filter: &Filter,
        order: PageOrder,
        after: Option<Position>,
        limit: u32,
    ) -> Result<PagePlan> {
        let q = page_query(integration_id, model, filter, order, after, limit);
        match &self.db {
            Db::Sqlite(s) => {
                s.read("explaining a page", move |tx| {
                    sqlite::diagnostics::explain_page(tx, &q)
                })
                .await
            }
            Db::Postgres(p) => pg::diagnostics::explain_page(p, &q).await,
        }
    }

    /// Runs a page's statement and reports what it cost, for a page that is slow:
    /// PostgreSQL's `EXPLAIN (ANALYZE, BUFFERS)`; on SQLite, which has no such thing, the
    /// rows, the time and the statement's counters (rows stepped over by full scans, sorts,
    /// automatic indexes, virtual machine steps).
    pub async fn explain_analyze_page(
        &self,
        integration_id: &str,
        model: ModelKind,
        filter: &Filter,
        order: PageOrder,
        after: Option<Position>,
        limit: u32,
    ) -> Result<Vec<String>> {
        let q = page_query(integration_id, model, filter, order, after, limit);
        match &self.db {
            Db::Sqlite(s) => {
                s.read("analyzing a page", move |tx| {
                    sqlite::diagnostics::analyze_page(tx, &q)
                })
                .await
            }
            Db::Postgres(p) => pg::diagnostics::analyze_page(p, &q).await,
        }
    }

    /// What the database's own maintenance does after a bulk load, done now: PostgreSQL's
    /// `VACUUM ANALYZE` of the records (autovacuum gets there on its own, minutes later, and
    /// until then index-only scans read the table); SQLite's `ANALYZE`. For benchmarks and
    /// operators who want plans of a settled database right after loading one.
    pub async fn maintain(&self) -> Result<()> {
        match &self.db {
            Db::Sqlite(s) => {
                s.write("maintaining the database", sqlite::diagnostics::maintain)
                    .await
            }
            Db::Postgres(p) => pg::diagnostics::maintain(p).await,
        }
    }

    /// The database's size in bytes: PostgreSQL's `pg_database_size`; SQLite's pages (free
    /// ones included, the write-ahead log's latest versions counted once).
    pub async fn database_bytes(&self) -> Result<u64> {
        match &self.db {
            Db::Sqlite(s) => {
                s.read(
                    "measuring the database",
                    sqlite::diagnostics::database_bytes,
                )
                .await
            }
            Db::Postgres(p) => pg::diagnostics::database_bytes(p).await,
        }
    }
}

/// The page as the list method of `order` asks the engine for it.
fn page_query(
    integration_id: &str,
    model: ModelKind,
    filter: &Filter,
    order: PageOrder,
    after: Option<Position>,
    limit: u32,
) -> PageQuery {
    PageQuery {
        integration_id: integration_id.to_owned(),
        model,
        filter: filter.clone(),
        after: match order {
            PageOrder::Seq => after.map(|p| Position {
                seq: p.seq,
                key: None,
            }),
            PageOrder::Filter => after,
        },
        limit,
        key: match order {
            PageOrder::Seq => None,
            PageOrder::Filter => filter.order_column(model),
        },
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use atsbridge_model::ModelKind;

    use super::PageOrder;
    use crate::{Backend, Filter, Position, Store};

    /// Plans need no rows: an empty store is planned like any other.
    async fn explains(store: &Store) {
        let pg = store.backend() == Backend::Postgres;
        let outcomes = Filter {
            outcomes: Some(vec!["HIRED".into()]),
            ..Filter::default()
        };
        let p = store
            .explain_page(
                "i",
                ModelKind::Application,
                &outcomes,
                PageOrder::Filter,
                None,
                100,
            )
            .await
            .unwrap();
        assert!(p.sql.starts_with("SELECT seq, model"), "{}", p.sql);
        assert!(p.sql.contains(" ORDER BY seq LIMIT "), "{}", p.sql);
        assert!(!p.plan.is_empty());
        assert_eq!(p.generic_plan.is_some_and(|g| !g.is_empty()), pg);

        // The two list methods' orders of one filtered page.
        let updated = Filter {
            updated_after: Some(1),
            ..Filter::default()
        };
        let after = Some(Position {
            seq: 5,
            key: Some(9),
        });
        let by_seq = store
            .explain_page(
                "i",
                ModelKind::Candidate,
                &updated,
                PageOrder::Seq,
                after,
                10,
            )
            .await
            .unwrap();
        assert!(by_seq.sql.contains(" AND seq > "), "{}", by_seq.sql);
        assert!(by_seq.sql.contains("ORDER BY seq LIMIT"), "{}", by_seq.sql);
        let by_key = store
            .explain_page(
                "i",
                ModelKind::Candidate,
                &updated,
                PageOrder::Filter,
                after,
                10,
            )
            .await
            .unwrap();
        assert!(
            by_key.sql.contains("ORDER BY updated_at, seq LIMIT"),
            "{}",
            by_key.sql
        );

        // Values that would break out of an SQL literal stay values (PostgreSQL's generic
        // plan writes them as literals); SQLite decides how candidates are found by job.
        let awkward = Filter {
            name_contains: Some(r"o'neil\_%".into()),
            ..Filter::default()
        };
        store
            .explain_page("i'x", ModelKind::Job, &awkward, PageOrder::Filter, None, 10)
            .await
            .unwrap();
        let by_job = Filter {
            job_ids: Some(vec!["j1".into(), "j2".into()]),
            ..Filter::default()
        };
        let p = store
            .explain_page(
                "i",
                ModelKind::Candidate,
                &by_job,
                PageOrder::Filter,
                None,
                10,
            )
            .await
            .unwrap();
        assert!(
            p.sql.contains(" AND id IN (SELECT candidate_id"),
            "{}",
            p.sql
        );

        let analyzed = store
            .explain_analyze_page(
                "i",
                ModelKind::Application,
                &outcomes,
                PageOrder::Filter,
                None,
                100,
            )
            .await
            .unwrap();
        if pg {
            assert!(
                analyzed.iter().any(|l| l.contains("actual time")),
                "{analyzed:?}"
            );
        } else {
            assert!(analyzed[0].starts_with("rows: 0;"), "{analyzed:?}");
        }

        store.maintain().await.unwrap();
        assert!(store.database_bytes().await.unwrap() > 0);
        // A failed or finished generic plan leaves no session state behind: again works.
        for _ in 0..3 {
            store
                .explain_page("i", ModelKind::Job, &awkward, PageOrder::Filter, None, 10)
                .await
                .unwrap();
        }
    }

    #[tokio::test]
    async fn pages_are_explained_on_sqlite() {
        let (store, _dir) = crate::testing::sqlite().await;
        explains(&store).await;
        store.close().await;
    }

    #[tokio::test]
    async fn pages_are_explained_on_postgres() {
        let Ok(server) = std::env::var("ATSBRIDGE_TEST_PG_URL") else {
            eprintln!("\n*** SKIPPING: ATSBRIDGE_TEST_PG_URL is not set ***\n");
            return;
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!("atsb_t_diagnostics_{}_{nanos}", std::process::id());
        let url = crate::create_postgres_database(&server, &name)
            .await
            .unwrap();
        let store = Store::open(&url, crate::testing::keys()).await.unwrap();
        // On its own task, so that the database is dropped when it fails as well.
        let checked = tokio::spawn({
            let store = store.clone();
            async move { explains(&store).await }
        })
        .await;
        store.close().await;
        crate::drop_postgres_database(&server, &name).await.unwrap();
        if let Err(e) = checked {
            std::panic::resume_unwind(e.into_panic());
        }
    }
}
