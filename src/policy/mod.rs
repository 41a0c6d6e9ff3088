//! The policy: every number and choice the rules of SPEC §3 use, where each value came from,
//! and why it is what it is.
//!
//! Layers, as ruff_workspace has them: a preset ([`presets`]) gives every value with its reason
//! and source; a policy file ([`file`]) overrides any of them, checked key by key; the result is
//! one [`Policy`] the pipeline reads, plus the [`Origin`] of each value for the report and for
//! `listaudit policy`.

pub mod explain;
pub mod file;
pub mod presets;

use chrono::NaiveDate;
use serde::Serialize;

use crate::normalize::date::DateOrder;
pub use presets::Preset;

/// What happens to a contact without any proof of consent (SPEC §3.3 row 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoProof {
    Delete,
    Repermission,
}

/// How inactivity is judged for a contact whose exports carry no engagement column (SPEC §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InactivityWithoutData {
    /// Not judged; the report says which export would fix it.
    NotAssessed,
    /// Measured from the consent date.
    ConsentDate,
}

/// The effective policy of a run. Field names are the policy file's keys.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    /// The preset the values started from.
    pub preset: Preset,
    pub inactive_days: u32,
    pub opens_count: bool,
    pub gdpr_cutoff: NaiveDate,
    pub pending_max_days: u32,
    pub repermission_grace_days: u32,
    pub reengage_days: u32,
    pub import_artifact_min: u32,
    pub require_double_opt_in: bool,
    pub no_proof: NoProof,
    pub soft_opt_in: bool,
    pub inactivity_without_data: InactivityWithoutData,
    pub date_order: DateOrder,
    pub max_reject_pct: f64,
    pub bought_sources: String,
    pub import_sources: String,
    pub purchase_sources: String,
}

/// Every key of a policy, in the order `listaudit policy` prints them.
pub const KEYS: [&str; 17] = [
    "inactive_days",
    "opens_count",
    "gdpr_cutoff",
    "pending_max_days",
    "repermission_grace_days",
    "reengage_days",
    "import_artifact_min",
    "require_double_opt_in",
    "no_proof",
    "soft_opt_in",
    "inactivity_without_data",
    "date_order",
    "max_reject_pct",
    "bought_sources",
    "import_sources",
    "purchase_sources",
    // The preset itself comes first in the file but last here: it is where the others start.
    "preset",
];

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "from")]
pub enum Origin {
    Preset { preset: Preset },
    File { file: String, line: usize },
}

/// A policy with the origin of each of its values.
#[derive(Debug, Clone, Serialize)]
pub struct Resolved {
    pub policy: Policy,
    /// (key, origin), in [`KEYS`] order without `preset`.
    pub origins: Vec<(&'static str, Origin)>,
}

impl Policy {
    /// The Dutch preset, the default (SPEC §3.4).
    pub fn nl() -> Policy {
        Preset::Nl.policy()
    }

    /// The value of one key, as the policy file writes it.
    pub fn toml_value(&self, key: &str) -> Option<String> {
        let quoted = |s: &str| toml::Value::String(s.to_string()).to_string();
        Some(match key {
            "preset" => quoted(self.preset.name()),
            "inactive_days" => self.inactive_days.to_string(),
            "opens_count" => self.opens_count.to_string(),
            "gdpr_cutoff" => self.gdpr_cutoff.format("%Y-%m-%d").to_string(),
            "pending_max_days" => self.pending_max_days.to_string(),
            "repermission_grace_days" => self.repermission_grace_days.to_string(),
            "reengage_days" => self.reengage_days.to_string(),
            "import_artifact_min" => self.import_artifact_min.to_string(),
            "require_double_opt_in" => self.require_double_opt_in.to_string(),
            "no_proof" => quoted(match self.no_proof {
                NoProof::Delete => "delete",
                NoProof::Repermission => "repermission",
            }),
            "soft_opt_in" => self.soft_opt_in.to_string(),
            "inactivity_without_data" => quoted(match self.inactivity_without_data {
                InactivityWithoutData::NotAssessed => "not-assessed",
                InactivityWithoutData::ConsentDate => "consent-date",
            }),
            "date_order" => quoted(self.date_order.name()),
            "max_reject_pct" => toml::Value::Float(self.max_reject_pct).to_string(),
            "bought_sources" => quoted(&self.bought_sources),
            "import_sources" => quoted(&self.import_sources),
            "purchase_sources" => quoted(&self.purchase_sources),
            _ => return None,
        })
    }
}

impl Resolved {
    /// A preset's values, all of them from the preset.
    pub fn from_preset(preset: Preset) -> Resolved {
        Resolved {
            policy: preset.policy(),
            origins: KEYS
                .iter()
                .filter(|k| **k != "preset")
                .map(|k| (*k, Origin::Preset { preset }))
                .collect(),
        }
    }

    /// The effective policy as TOML that `--policy` takes back unchanged, each value with its
    /// reason and where it came from.
    pub fn to_toml(&self) -> String {
        let p = &self.policy;
        let mut out = String::new();
        out.push_str("# listaudit policy: the values in force, each with its reason and source.\n");
        out.push_str("# Save this file, change what you need, and pass it back with --policy.\n");
        out.push_str(&format!(
            "preset = {}\n",
            p.toml_value("preset").unwrap_or_default()
        ));
        for (key, origin) in &self.origins {
            out.push('\n');
            let reason = presets::reason(key, p.preset);
            out.push_str(&format!("# {reason}\n"));
            match origin {
                Origin::Preset { preset } => {
                    out.push_str(&format!("# (preset {})\n", preset.name()))
                }
                Origin::File { file, line } => {
                    out.push_str(&format!("# (set in {file}, line {line})\n"))
                }
            }
            out.push_str(&format!(
                "{key} = {}\n",
                p.toml_value(key).unwrap_or_default()
            ));
        }
        out
    }
}

/// A source regex of the policy as a case-insensitive, whole-word pattern.
pub fn whole_words(alternatives: &str) -> String {
    format!(r"(?i)\b(?:{alternatives})\b")
}
