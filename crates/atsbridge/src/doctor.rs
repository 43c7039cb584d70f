//! `atsbridge doctor`: checks a deployment with the same flags and environment as `serve`
//! — configuration, database and migrations, the master key against every stored
//! credential, free disk space, and each enabled integration's upstream — and prints one
//! line per check with what to fix. It changes nothing: a database whose migrations are
//! pending is reported, not migrated, and no key file is created.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use atsbridge_model::integration::IntegrationStatus;
use atsbridge_store::{KeyRing, Store, StoreError};
use clap::Args;

use crate::config::{connectors, StoreArgs};
use crate::serve::ServeArgs;

#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Warn when the data directory's file system has less free space than this (MiB).
    #[arg(long, env = "ATSBRIDGE_DOCTOR_MIN_FREE_MB", default_value_t = 1024)]
    pub min_free_mb: u64,
    /// Seconds each integration's upstream check may take.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub upstream_timeout_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Check {
    pub level: Level,
    pub name: String,
    pub detail: String,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Ok => "ok  ",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        write!(f, "{level}  {}: {}", self.name, self.detail)
    }
}

fn check(level: Level, name: impl Into<String>, detail: impl Into<String>) -> Check {
    Check {
        level,
        name: name.into(),
        detail: detail.into(),
    }
}

/// Runs every check, prints the report and fails (a non-zero exit) when a check failed.
pub async fn run(store_args: &StoreArgs, args: DoctorArgs) -> anyhow::Result<()> {
    let checks = checks(store_args, &args).await;
    for c in &checks {
        println!("{c}");
    }
    let failed = checks.iter().filter(|c| c.level == Level::Fail).count();
    if failed > 0 {
        anyhow::bail!("{failed} check(s) failed");
    }
    Ok(())
}

pub async fn checks(store_args: &StoreArgs, args: &DoctorArgs) -> Vec<Check> {
    let mut out = vec![configuration(args)];
    out.push(disk_space(&store_args.data_dir, args.min_free_mb));
    let keys = master_key(store_args);
    let url = store_args.database_url();
    let redacted = atsbridge_store::redact(&url);
    let status = match atsbridge_store::schema_status(&url).await {
        Ok(status) => status,
        Err(e) => {
            out.push(check(
                Level::Fail,
                "database",
                format!("{redacted} cannot be read ({}); check --database-url / ATSBRIDGE_DATABASE_URL and that the server is up", chain(&e)),
            ));
            out.push(keys.1);
            return out;
        }
    };
    if status.missing {
        out.push(check(
            Level::Warn,
            "database",
            format!("{redacted} does not exist yet; `atsbridge serve` creates it (or point --data-dir / --database-url at the existing one)"),
        ));
        out.push(keys.1);
        return out;
    }
    out.push(check(
        Level::Ok,
        "database",
        format!("{redacted} is reachable"),
    ));
    if !status.unknown.is_empty() {
        out.push(check(
            Level::Fail,
            "migrations",
            format!("the database has migration(s) {:?} this atsbridge does not know: it was written by a newer version; run that version (or newer), or restore a backup made before the upgrade", status.unknown),
        ));
    } else if !status.changed.is_empty() {
        out.push(check(
            Level::Fail,
            "migrations",
            format!("migration(s) {:?} differ from this build's or did not finish: the database was changed by hand or by another build; restore a backup or use the build that wrote it", status.changed),
        ));
    } else if !status.pending.is_empty() {
        out.push(check(
            Level::Warn,
            "migrations",
            format!("{} migration(s) pending ({:?}); `atsbridge serve` applies them at start (back up first)", status.pending.len(), status.pending),
        ));
    } else {
        out.push(check(Level::Ok, "migrations", "all applied"));
    }
    let (ring, key_check) = keys;
    out.push(key_check);
    // The store applies pending migrations when it opens: only a current schema is opened.
    if !status.current() {
        return out;
    }
    let ring = ring.unwrap_or_else(|| KeyRing::new("none", [0; 32]));
    let store = match Store::open(&url, ring).await {
        Ok(store) => store,
        Err(e) => {
            out.push(check(Level::Fail, "database", chain(&e)));
            return out;
        }
    };
    out.extend(credentials_and_upstreams(&store, args).await);
    store.close().await;
    out
}

fn configuration(args: &DoctorArgs) -> Check {
    match args.serve.server_config() {
        Ok(config) => {
            let warnings = atsbridge_server::connect::address_warnings(&config);
            if warnings.is_empty() {
                check(
                    Level::Ok,
                    "configuration",
                    "the serve flags and environment are valid",
                )
            } else {
                check(Level::Warn, "configuration", warnings.join("; "))
            }
        }
        Err(e) => check(Level::Fail, "configuration", format!("{e:#}")),
    }
}

/// The key ring `serve` would use, without creating a key file.
fn master_key(store_args: &StoreArgs) -> (Option<KeyRing>, Check) {
    let (spec, source) = match &store_args.master_key {
        Some(spec) => (
            spec.clone(),
            "--master-key / ATSBRIDGE_MASTER_KEY".to_owned(),
        ),
        None => {
            let path = store_args.data_dir.join("master.key");
            match std::fs::read_to_string(&path) {
                Ok(spec) => (spec.trim().to_owned(), path.display().to_string()),
                Err(_) => {
                    return (
                        None,
                        check(
                            Level::Warn,
                            "master key",
                            format!("no --master-key / ATSBRIDGE_MASTER_KEY and no key file {}; `atsbridge serve` creates one, but credentials stored with another key cannot be read", path.display()),
                        ),
                    )
                }
            }
        }
    };
    match KeyRing::parse(&spec) {
        Ok(ring) => (
            Some(ring),
            check(Level::Ok, "master key", format!("read from {source}")),
        ),
        Err(e) => (
            None,
            check(
                Level::Fail,
                "master key",
                format!(
                    "{source} is not a key ring (`id:base64` of 32 bytes, comma-separated): {e}"
                ),
            ),
        ),
    }
}

async fn credentials_and_upstreams(store: &Store, args: &DoctorArgs) -> Vec<Check> {
    let mut out = Vec::new();
    let integrations = match store.integrations(None).await {
        Ok(list) => list,
        Err(e) => return vec![check(Level::Fail, "integrations", chain(&e))],
    };
    let mut unreadable = Vec::new();
    let mut readable = Vec::new();
    for row in integrations {
        match store.credentials(&row.id).await {
            Ok(credentials) => readable.push((row, credentials)),
            Err(StoreError::Crypto(_) | StoreError::Corrupt(_)) => unreadable.push(row.id),
            Err(e) => out.push(check(
                Level::Fail,
                format!("credentials of {}", row.id),
                chain(&e),
            )),
        }
    }
    if unreadable.is_empty() {
        out.push(check(
            Level::Ok,
            "credentials",
            format!(
                "the master key decrypts the credentials of all {} integration(s)",
                readable.len()
            ),
        ));
    } else {
        out.push(check(
            Level::Fail,
            "credentials",
            format!("the master key cannot decrypt the credentials of {}: set --master-key / ATSBRIDGE_MASTER_KEY to the key they were stored with (list an old key after the current one while rotating), or reconnect them", unreadable.join(", ")),
        ));
    }
    let factory = connectors();
    let timeout = Duration::from_secs(args.upstream_timeout_secs);
    for (row, credentials) in readable {
        if row.status == IntegrationStatus::Inactive {
            continue;
        }
        let name = format!("upstream of {} ({})", row.id, row.tool);
        let connector = match factory(
            &row,
            &credentials,
            &atsbridge_model::connector::NoObserver::shared(),
        ) {
            Ok(c) => c,
            Err(e) => {
                out.push(check(
                    Level::Fail,
                    name,
                    format!("cannot build its connector: {e}"),
                ));
                continue;
            }
        };
        out.push(match tokio::time::timeout(timeout, connector.check_credentials()).await {
            Ok(Ok(())) => check(Level::Ok, name, "reachable; the credentials are accepted"),
            Ok(Err(e)) => check(
                Level::Fail,
                name,
                format!("{e}; check the tool's address and that this host can reach it, or reconnect the integration with new credentials"),
            ),
            Err(_) => check(
                Level::Fail,
                name,
                format!("no answer within {}s; check that this host can reach the tool (proxy, firewall, DNS)", timeout.as_secs()),
            ),
        });
    }
    out
}

/// Free space of the file system holding `dir`, from POSIX `df -P` (no platform calls of
/// our own); a warning under `min_mb`.
fn disk_space(dir: &Path, min_mb: u64) -> Check {
    // The directory may not exist yet; its nearest existing ancestor is on the same disk.
    let existing = dir
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("."));
    let output = std::process::Command::new("df")
        .arg("-Pk")
        .arg(existing)
        .output();
    let free_kb = output.ok().filter(|o| o.status.success()).and_then(|o| {
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        // "Filesystem 1024-blocks Used Available Capacity Mounted on", then one line.
        text.lines()
            .nth(1)
            .and_then(|line| line.split_whitespace().nth(3))
            .and_then(|n| n.parse::<u64>().ok())
    });
    match free_kb {
        None => check(
            Level::Warn,
            "disk space",
            format!("could not read the free space of {} (`df -P` failed)", existing.display()),
        ),
        Some(kb) if kb / 1024 < min_mb => check(
            Level::Warn,
            "disk space",
            format!("{} MiB free on the file system of {}, under {min_mb} MiB; free space or move --data-dir", kb / 1024, existing.display()),
        ),
        Some(kb) => check(
            Level::Ok,
            "disk space",
            format!("{} MiB free on the file system of {}", kb / 1024, existing.display()),
        ),
    }
}

/// An error with its causes, for one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
