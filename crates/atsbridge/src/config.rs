//! Where atsbridge keeps its data and how it opens the store: flags and environment from
//! one place.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use atsbridge_model::connector::Connector;
use atsbridge_sagehr::{Config, SageHr};
use atsbridge_store::{Credentials, KeyRing, Store};
use atsbridge_sync::ConnectorFactory;
use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory for the embedded database and the master key file.
    #[arg(
        long,
        env = "ATSBRIDGE_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// `sqlite://FILE` or `postgres://USER:PASSWORD@HOST/DB` (default: SQLite in the data
    /// directory).
    #[arg(
        long,
        env = "ATSBRIDGE_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// The credentials encryption key(s) as `id:base64` (32 bytes), comma-separated, the first
    /// current. Default: a key file in the data directory, created on first start.
    #[arg(
        long,
        env = "ATSBRIDGE_MASTER_KEY",
        global = true,
        hide_env_values = true
    )]
    pub master_key: Option<String>,
}

impl StoreArgs {
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("atsbridge.db").display()))
    }

    pub async fn open(&self) -> anyhow::Result<Store> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating {}", self.data_dir.display()))?;
        let keys = match &self.master_key {
            Some(spec) => KeyRing::parse(spec)?,
            None => KeyRing::parse(&key_file(&self.data_dir.join("master.key"))?)?,
        };
        let url = self.database_url();
        Store::open(&url, keys)
            .await
            .with_context(|| format!("opening the database {}", atsbridge_store::redact(&url)))
    }
}

/// Reads the key file, creating it (mode 0600) with a new random key the first time.
fn key_file(path: &Path) -> anyhow::Result<String> {
    if let Ok(spec) = std::fs::read_to_string(path) {
        return Ok(spec.trim().to_owned());
    }
    let spec = KeyRing::generate_spec("k1");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    use std::io::Write as _;
    let mut file = options
        .open(path)
        .with_context(|| format!("creating the key file {}", path.display()))?;
    file.write_all(spec.as_bytes())?;
    tracing::info!(path = %path.display(), "created a new master key file; keep it safe, the stored credentials cannot be read without it");
    Ok(spec)
}

/// Builds connectors for stored integrations. Adding a tool is one more match arm.
pub fn connectors() -> ConnectorFactory {
    Arc::new(|row, credentials: &Credentials| match row.tool.as_str() {
        "sagehr" => {
            let config = Config::from_credentials(&credentials.0);
            Ok(Box::new(SageHr::new(&row.id, &config)?) as Box<dyn Connector>)
        }
        other => Err(atsbridge_model::connector::ConnectorError::new(
            atsbridge_model::connector::ConnectorErrorKind::Unknown,
            format!("no connector for tool `{other}`"),
        )),
    })
}
