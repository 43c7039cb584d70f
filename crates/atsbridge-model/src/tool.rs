//! What atsbridge knows about a tool, said by its connector: label, logos, what it covers
//! (per model and field, for reads and writes), and which filters it cannot apply. The server
//! serves tools through these descriptors only, so a second tool is a connector crate and a
//! registry entry, not edits across the server.

use crate::id::ModelKind;
use crate::integration::{Category, CoverageStatus};

/// A read model or write action of a tool and how well it is covered, field by field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    /// Kombo's id, e.g. `ats_jobs` or `ats_create_application`.
    pub id: &'static str,
    pub label: &'static str,
    pub status: CoverageStatus,
    pub fields: &'static [(&'static str, CoverageStatus)],
}

/// A tool as its connector describes it.
#[derive(Debug, Clone, Copy)]
pub struct ToolDescriptor {
    /// The id integrations carry (`sagehr`), as Kombo spells it.
    pub slug: &'static str,
    pub label: &'static str,
    pub category: Category,
    /// SVG images for `tool.logo_url` and `tool.icon_url`.
    pub logo_svg: &'static str,
    pub icon_svg: &'static str,
    /// The models the tool has, with their fields.
    pub read_models: &'static [Coverage],
    /// Models of the category the tool has nothing for: `(id, label)`, reported UNSUPPORTED.
    pub missing_models: &'static [(&'static str, &'static str)],
    pub write_actions: &'static [Coverage],
    /// List filters on fields the tool does not have, by model: what
    /// `ignore_unsupported_filters=true` drops. Without the flag such a filter matches no
    /// record, as Kombo does.
    pub unsupported_filters: &'static [(ModelKind, &'static str)],
    /// What the hosted connection page asks for and says.
    pub connect: &'static ConnectGuide,
}

/// The tools a server offers, by slug: what the CLI wires in, so the server knows no tool by
/// name.
#[derive(Debug, Clone, Default)]
pub struct Tools(Vec<&'static ToolDescriptor>);

impl Tools {
    pub fn new(descriptors: impl IntoIterator<Item = &'static ToolDescriptor>) -> Self {
        Tools(descriptors.into_iter().collect())
    }

    /// The tool with this slug in this category (a tool may offer several, each its own
    /// descriptor).
    pub fn get(&self, slug: &str, category: Category) -> Option<&'static ToolDescriptor> {
        self.0
            .iter()
            .copied()
            .find(|d| d.slug == slug && d.category == category)
    }

    /// The first registered descriptor with this slug, whatever its category: for what all
    /// of a tool's categories share (its logos).
    pub fn by_slug(&self, slug: &str) -> Option<&'static ToolDescriptor> {
        self.0.iter().copied().find(|d| d.slug == slug)
    }

    /// The tools of one category, in registration order.
    pub fn in_category(
        &self,
        category: Category,
    ) -> impl Iterator<Item = &'static ToolDescriptor> + '_ {
        self.0
            .iter()
            .copied()
            .filter(move |d| d.category == category)
    }
}

/// How a customer connects a tool on the hosted page: the credential fields they fill in and
/// the guide that tells them where to find them, in each language the tool has texts for.
#[derive(Debug, Clone, Copy)]
pub struct ConnectGuide {
    /// In the order the form shows them.
    pub fields: &'static [CredentialField],
    /// The first is the fallback for a language without texts.
    pub texts: &'static [GuideTexts],
}

impl ConnectGuide {
    /// The texts for a link's language (`en`, `de`, …), else the first.
    pub fn texts(&self, lang: &str) -> &'static GuideTexts {
        self.texts
            .iter()
            .find(|t| t.lang == lang)
            .or_else(|| self.texts.first())
            .expect("a connect guide has texts in at least one language")
    }

    /// The field that names the account (a relink must keep its value), if any.
    pub fn account_field(&self) -> Option<&'static CredentialField> {
        self.fields.iter().find(|f| f.account_host.is_some())
    }
}

/// One credential the customer types in. Its `key` is the form field's name and the key it is
/// stored under; the connector reads it from there.
#[derive(Debug, Clone, Copy)]
pub struct CredentialField {
    pub key: &'static str,
    /// Typed into a password input, never shown again (not even after a failed attempt).
    pub secret: bool,
    /// The input's `maxlength`.
    pub max_len: usize,
    /// Shown after the input, e.g. the domain a subdomain belongs to.
    pub suffix: Option<&'static str>,
    /// What the customer typed (not empty after trimming) as it is stored: `None` when it
    /// cannot be one, and the form then says the field's `err_format`.
    pub normalize: fn(&str) -> Option<String>,
    /// For the field that names the account: its stored value as the address the customer
    /// knows the account by (`{host}` in the texts).
    pub account_host: Option<fn(&str) -> String>,
}

/// The words of one credential field, in one language.
#[derive(Debug, Clone, Copy)]
pub struct FieldTexts {
    pub label: &'static str,
    pub hint: &'static str,
    pub err_missing: &'static str,
    pub err_format: &'static str,
}

/// A tool's part of the connection page in one language. `{app}`, `{org}`, `{host}` and
/// `{tool}` are filled in by the page.
#[derive(Debug, Clone, Copy)]
pub struct GuideTexts {
    /// The language code (`en`, `de`).
    pub lang: &'static str,
    /// What connecting lets the vendor do.
    pub intro_connect: &'static str,
    pub intro_relink: &'static str,
    pub prerequisites: &'static [&'static str],
    /// The heading of `steps` ("Create an API key").
    pub create_credentials: &'static str,
    pub steps: &'static [&'static str],
    /// A warning shown under the steps.
    pub steps_note: Option<&'static str>,
    /// A section on finding the account's address: heading and text.
    pub find_account: Option<(&'static str, &'static str)>,
    /// In the order of `ConnectGuide::fields`.
    pub fields: &'static [FieldTexts],
    /// Under the form, when the page is served over https, and when it is not.
    pub privacy: &'static str,
    pub privacy_plain: &'static str,
    /// A relink's account field names another account than the integration's.
    pub err_other_account: &'static str,
    /// The tool rejected the credentials.
    pub err_rejected: &'static str,
    /// No account answers at the address.
    pub err_account_unknown: &'static str,
}
