//! The policy: every number and choice the rules of SPEC §3 use, with the preset it came from.
//!
//! The `nl` preset is the default (SPEC §3.4). Each value is documented with its source; the
//! report embeds the whole policy so that a run can be explained later.

use chrono::NaiveDate;
use serde::Serialize;

use crate::normalize::date::DateOrder;

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

/// The effective policy of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Policy {
    /// The preset the values came from.
    pub preset: &'static str,
    /// Days without engagement after which a contact is `inactive`. NL market practice: two
    /// years (LEGAL.md B.4); CNIL uses three.
    pub inactive_days: u32,
    /// Whether an open counts as engagement (CNIL: it does not).
    pub opens_count: bool,
    /// Consents from before this day are `pre-gdpr` (GDPR applicable from 2018-05-25, Art. 99(2);
    /// EDPB 05/2020 §166: old consents without references must be renewed).
    pub gdpr_cutoff: NaiveDate,
    /// A pending double opt-in older than this is `unconfirmed` (listmonk/Mailchimp practice).
    pub pending_max_days: u32,
    /// Days after a re-permission send without renewal before `repermission-expired` (SPEC §8).
    pub repermission_grace_days: u32,
    /// How far ahead `nearing-inactivity` looks.
    pub reengage_days: u32,
    /// How many contacts sharing one consent second make it an import artefact (SPEC §3.1).
    pub import_artifact_min: u32,
    /// Whether `full` evidence needs a double opt-in confirmation (German case law, BGH I ZR 164/09).
    pub require_double_opt_in: bool,
    /// What to do with contacts without proof of consent.
    pub no_proof: NoProof,
    /// The user's statement that customers were offered an opt-out at purchase and in every mail
    /// (ePrivacy Art. 13(2)); off by default.
    pub soft_opt_in: bool,
    /// How to judge inactivity without engagement data.
    pub inactivity_without_data: InactivityWithoutData,
    /// The order of day and month in a column that stays ambiguous.
    pub date_order: DateOrder,
    /// More rows of a file rejected for their form than this percentage fails the run (SPEC §2.1).
    pub max_reject_pct: f64,
    /// Sources that are bought or rented lists: never consent (SPEC §3.1).
    pub bought_sources: String,
    /// Sources that are imports: partial evidence at best without a double opt-in.
    pub import_sources: String,
    /// Sources that only covered a purchase or a giveaway: no consent for newsletters.
    pub purchase_sources: String,
}

impl Policy {
    /// The Dutch preset, the default (SPEC §3.4).
    pub fn nl() -> Policy {
        Policy {
            preset: "nl",
            inactive_days: 730,
            opens_count: true,
            gdpr_cutoff: NaiveDate::from_ymd_opt(2018, 5, 25).expect("a valid date"),
            pending_max_days: 30,
            repermission_grace_days: 30,
            reengage_days: 60,
            import_artifact_min: 20,
            require_double_opt_in: false,
            no_proof: NoProof::Delete,
            soft_opt_in: false,
            inactivity_without_data: InactivityWithoutData::NotAssessed,
            date_order: DateOrder::DayFirst,
            max_reject_pct: 5.0,
            bought_sources: "purchased|bought|rented|gekocht|gehuurd".into(),
            import_sources: "import|imported|manual|handmatig|list import".into(),
            purchase_sources: "giveaway|freebie|weggever|lead ?magnet|checkout|order|bestelling|purchase|aankoop|webshop|shopify|kassa".into(),
        }
    }
}

/// A source regex of the policy as a case-insensitive, whole-word pattern.
pub fn whole_words(alternatives: &str) -> String {
    format!(r"(?i)\b(?:{alternatives})\b")
}
