//! PostgreSQL through sqlx's native driver: typed values over the binary protocol, one pool
//! per store. Several nodes share one database; rows an integration's writers touch are
//! serialized with row locks (see `records`).

pub(crate) mod connect;
pub(crate) mod dashboard;
pub(crate) mod diagnostics;
pub(crate) mod events;
pub(crate) mod gauges;
pub(crate) mod idempotency;
pub(crate) mod integrations;
pub(crate) mod keys;
pub(crate) mod operators;
pub(crate) mod records;
pub(crate) mod retention;
pub(crate) mod runs;
pub(crate) mod webhooks;

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::{db, Result};

pub(crate) async fn open(url: &str) -> Result<PgPool> {
    let options: PgConnectOptions = url.parse().map_err(db("parsing the database URL"))?;
    PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options)
        .await
        .map_err(db("connecting to the database"))
}
