//! Where atsbridge keeps its data and how it opens the store: flags and environment from
//! one place.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use atsbridge_model::connector::{Connector, Observer};
use atsbridge_model::integration::Category;
use atsbridge_model::tool::Tools;
use atsbridge_sagehr::hris::{HrisConfig, SageHrHris};
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
        create_private_dir(&self.data_dir)?;
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

/// Creates `dir` (and missing parents) readable by its owner only (0700 on Unix): it holds
/// the database, with candidates' personal data, and the master key. An existing directory
/// is left as it is, with a warning when others may read it.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    let existed = dir.is_dir();
    builder
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    if existed {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
        if open_to_others(mode) {
            tracing::warn!(
                path = %dir.display(),
                mode = format!("{mode:o}"),
                "the data directory is open to other users of this machine, and it holds candidates' personal data; `chmod 700` it"
            );
        }
    }
    Ok(())
}

/// Whether `mode` gives anyone but the owner any access.
fn open_to_others(mode: u32) -> bool {
    mode & 0o077 != 0
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

/// The tools served, each as its connector crate describes it. Adding a tool is one more
/// entry here and one more arm in `connectors`.
pub fn tools() -> Tools {
    Tools::new([
        &atsbridge_sagehr::descriptor::DESCRIPTOR,
        &atsbridge_sagehr::descriptor_hris::DESCRIPTOR,
    ])
}

/// Builds connectors for stored integrations. Adding a tool is one more match arm.
pub fn connectors() -> ConnectorFactory {
    Arc::new(|row, credentials: &Credentials, observer: &Observer| {
        match (row.tool.as_str(), row.category) {
            ("sagehr", Category::Ats) => {
                let mut config = Config::from_credentials(&credentials.0);
                config.observer = observer.clone();
                Ok(Box::new(SageHr::new(&row.id, &config)?) as Box<dyn Connector>)
            }
            ("sagehr", Category::Hris) => {
                let mut config = Config::from_credentials(&credentials.0);
                config.observer = observer.clone();
                Ok(
                    Box::new(SageHrHris::new(&row.id, &config, HrisConfig::default())?)
                        as Box<dyn Connector>,
                )
            }
            (other, category) => Err(atsbridge_model::connector::ConnectorError::new(
                atsbridge_model::connector::ConnectorErrorKind::Unknown,
                format!("no {} connector for tool `{other}`", category.as_str()),
            )),
        }
    })
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn the_data_directory_is_created_private() {
        let root = std::env::temp_dir().join(format!(
            "atsbridge-data-dir-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        let dir = root.join("nested").join("data");
        create_private_dir(&dir).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let (inner, parent) = (mode(&dir), mode(dir.parent().unwrap()));
        // Existing directories are left as they are.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&dir).unwrap();
        let kept = mode(&dir);
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(inner, 0o700, "{inner:o}");
        assert_eq!(parent, 0o700, "{parent:o}");
        assert_eq!(kept, 0o755);
        assert!(open_to_others(0o755) && open_to_others(0o710) && !open_to_others(0o700));
    }
}
