//! The jurisdiction presets of SPEC §3.4 (`../shared/research/LEGAL.md` B.4 and C.3), each value
//! with a one-line reason and its source.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::Serialize;

use super::{InactivityWithoutData, NoProof, Policy};
use crate::normalize::date::DateOrder;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    Nl,
    Eu,
    De,
    Fr,
    Uk,
}

impl Preset {
    pub const ALL: [Preset; 5] = [Preset::Nl, Preset::Eu, Preset::De, Preset::Fr, Preset::Uk];

    pub fn name(self) -> &'static str {
        match self {
            Preset::Nl => "nl",
            Preset::Eu => "eu",
            Preset::De => "de",
            Preset::Fr => "fr",
            Preset::Uk => "uk",
        }
    }

    /// The preset of a country code (ISO 3166-1 alpha-2, as Mailchimp's `CC`), where one exists.
    pub fn of_country(code: &str) -> Option<Preset> {
        match code.trim().to_ascii_uppercase().as_str() {
            "NL" => Some(Preset::Nl),
            "DE" => Some(Preset::De),
            "FR" => Some(Preset::Fr),
            "GB" | "UK" => Some(Preset::Uk),
            _ => None,
        }
    }

    /// Every value of the preset.
    pub fn policy(self) -> Policy {
        let mut p = Policy {
            preset: self,
            inactive_days: 730,
            opens_count: true,
            gdpr_cutoff: NaiveDate::from_ymd_opt(2018, 5, 25).unwrap_or_default(),
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
        };
        match self {
            Preset::Nl | Preset::Eu | Preset::Uk => {}
            Preset::De => {
                p.require_double_opt_in = true;
                p.bought_sources.push_str("|gekauft|gemietet");
                p.import_sources.push_str("|importiert|manuell");
                p.purchase_sources
                    .push_str("|gewinnspiel|bestellung|kauf|kasse");
            }
            Preset::Fr => {
                p.inactive_days = 1095;
                p.opens_count = false;
                p.bought_sources.push_str("|acheté|achete|loué|loue");
                p.import_sources.push_str("|importé|importe|manuel");
                p.purchase_sources
                    .push_str("|jeu concours|commande|achat|caisse");
            }
        }
        p
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Preset {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("unknown preset `{s}`; the presets are: nl, eu, de, fr, uk"))
    }
}

/// The one-line reason, with its source, for a key's value under a preset.
pub fn reason(key: &str, preset: Preset) -> &'static str {
    match (key, preset) {
        ("inactive_days", Preset::Fr) => {
            "Three years without a click, order or reply ends the basis for mailing (CNIL, référentiel prospection; LEGAL.md B.4)."
        }
        ("inactive_days", Preset::De) => {
            "Two years: German courts treat 1.5-4 years of silence as stale consent (BGH III ZR 196/17 accepted two years; AG München 161 C 12736/22; LEGAL.md B.3)."
        }
        ("inactive_days", Preset::Uk) => {
            "Two years: the ICO asks for consent to be refreshed at appropriate intervals (PECR reg. 22, ICO direct marketing guidance; LEGAL.md B.4)."
        }
        ("inactive_days", _) => {
            "Two years without interaction is seen as the end of a reasonable retention period in the Netherlands (GDPR Art. 5(1)(e); market practice, LEGAL.md B.4)."
        }
        ("opens_count", Preset::Fr) => {
            "Opens do not count as activity: they may be accidental or machine-made (CNIL; LEGAL.md B.4)."
        }
        ("opens_count", _) => {
            "Opens count as activity, as the mailing services measure it (controller's choice, LEGAL.md B.4; Apple Mail Privacy Protection inflates them)."
        }
        ("gdpr_cutoff", _) => {
            "Consents from before the GDPR applied (Art. 99(2): 25 May 2018) of which no references are kept must be renewed (EDPB Guidelines 05/2020 §166)."
        }
        ("pending_max_days", _) => {
            "A double opt-in not confirmed within 30 days never became consent (listmonk and Mailchimp purge practice; LEGAL.md A.3)."
        }
        ("repermission_grace_days", _) => {
            "Contacts asked for re-permission who do not answer within 30 days are deleted (CNIL: no positive answer, delete; LEGAL.md C.2 R7)."
        }
        ("reengage_days", _) => {
            "Contacts within 60 days of the inactivity limit are listed for a re-engagement mail (LEGAL.md C.2 R7)."
        }
        ("import_artifact_min", _) => {
            "20 or more contacts sharing one consent second without IP or confirmation are a bulk import by the account owner, not sign-ups (Mailchimp export samples; LEGAL.md C.2 R9)."
        }
        ("require_double_opt_in", Preset::De) => {
            "Full proof needs a double opt-in confirmation: the advertiser must document each consent (BGH 10.02.2011, I ZR 164/09; UWG § 7)."
        }
        ("require_double_opt_in", _) => {
            "Full proof needs a date and how or where, not necessarily a double opt-in (GDPR Art. 7(1); EDPB 05/2020 §108)."
        }
        ("no_proof", _) => {
            "Contacts without any proof of consent are deleted, not asked again: asking by e-mail is itself marketing (ICO fines on Flybe and Honda, 2017; Telecommunicatiewet 11.7)."
        }
        ("soft_opt_in", _) => {
            "Off: turning it on is your statement that customers were offered an opt-out at purchase and in every mail (ePrivacy Directive Art. 13(2); Telecommunicatiewet 11.7(3))."
        }
        ("inactivity_without_data", _) => {
            "Without engagement data inactivity is not judged, and the report says which export would fix it (SPEC §3.2)."
        }
        ("date_order", Preset::Uk) => {
            "Ambiguous dates such as 03/04/2021 are read day first, as British exports write them."
        }
        ("date_order", _) => {
            "Ambiguous dates such as 03/04/2021 are read day first, as European exports write them."
        }
        ("max_reject_pct", _) => {
            "More than 5% unreadable rows means the file was probably read wrongly (wrong delimiter or encoding): the run stops (SPEC §2.1)."
        }
        ("bought_sources", _) => {
            "A bought or rented list is never consent (GDPR Art. 7(1); Brevo and Mailchimp anti-spam policies)."
        }
        ("import_sources", _) => {
            "An import shows no sign-up: partial proof at best, unless a double opt-in confirmation follows (SPEC §3.1)."
        }
        ("purchase_sources", _) => {
            "A purchase or a free download is no consent for newsletters (GDPR Art. 7(4), Recital 43; AP on prize draws)."
        }
        _ => "",
    }
}
