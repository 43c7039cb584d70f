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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

/// The tools a server offers, by slug: what the CLI wires in, so the server knows no tool by
/// name.
#[derive(Debug, Clone, Default)]
pub struct Tools(Vec<&'static ToolDescriptor>);

impl Tools {
    pub fn new(descriptors: impl IntoIterator<Item = &'static ToolDescriptor>) -> Self {
        Tools(descriptors.into_iter().collect())
    }

    /// The tool with this slug.
    pub fn get(&self, slug: &str) -> Option<&'static ToolDescriptor> {
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
