//! The rules of SPEC §3 as data: ordered tables of named conditions over canonical columns,
//! each with its source. [`super::evaluate`] answers them over a frame, as bitmaps; the report
//! prints them; a later `listaudit sql` can render the same tables as SQL.
//!
//! Order matters and is a `Vec`: evidence and outcome take the first row that matches.

use std::fmt;

use serde::Serialize;

use super::col;
use crate::fields::Field;

/// Evidence of consent (SPEC §3.1), weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    None,
    Partial,
    Full,
}

impl Evidence {
    pub const ALL: [Evidence; 3] = [Evidence::None, Evidence::Partial, Evidence::Full];

    pub fn name(self) -> &'static str {
        match self {
            Evidence::None => "none",
            Evidence::Partial => "partial",
            Evidence::Full => "full",
        }
    }

    pub fn rank(self) -> i32 {
        self as i32
    }

    /// The names by rank, for spelling a column of ranks.
    pub fn names() -> Vec<String> {
        Self::ALL.iter().map(|e| e.name().to_string()).collect()
    }
}

/// A reason code of SPEC §3.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    InvalidEmail,
    Withdrawn,
    Suppressed,
    Bounced,
    Unconfirmed,
    Pending,
    Disabled,
    UnknownStatus,
    RepermissionExpired,
    Inactive,
    NoMarketingConsent,
    NoConsentProof,
    PreGdpr,
    IncompleteProof,
    NearingInactivity,
    SoftOptIn,
}

impl Reason {
    pub fn name(self) -> &'static str {
        match self {
            Reason::InvalidEmail => "invalid-email",
            Reason::Withdrawn => "withdrawn",
            Reason::Suppressed => "suppressed",
            Reason::Bounced => "bounced",
            Reason::Unconfirmed => "unconfirmed",
            Reason::Pending => "pending",
            Reason::Disabled => "disabled",
            Reason::UnknownStatus => "unknown-status",
            Reason::RepermissionExpired => "repermission-expired",
            Reason::Inactive => "inactive",
            Reason::NoMarketingConsent => "no-marketing-consent",
            Reason::NoConsentProof => "no-consent-proof",
            Reason::PreGdpr => "pre-gdpr",
            Reason::IncompleteProof => "incomplete-proof",
            Reason::NearingInactivity => "nearing-inactivity",
            Reason::SoftOptIn => "soft-opt-in",
        }
    }

    /// The boolean column that says whether a contact carries the reason.
    pub fn column(self) -> String {
        format!("reason_{}", self.name().replace('-', "_"))
    }
}

/// An outcome of SPEC §3.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Keep,
    Repermission,
    NoMarketing,
    Delete,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [
        Outcome::Keep,
        Outcome::Repermission,
        Outcome::NoMarketing,
        Outcome::Delete,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Keep => "keep",
            Outcome::Repermission => "repermission",
            Outcome::NoMarketing => "no-marketing",
            Outcome::Delete => "delete",
        }
    }

    /// The outcome as the decided contacts hold it: a number is 4 bytes a contact, where its
    /// name took 16.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The names by code, for spelling a column of codes.
    pub fn names() -> Vec<String> {
        Self::ALL.iter().map(|o| o.name().to_string()).collect()
    }
}

/// A number of days the policy sets, counted back from the start of the `--as-of` day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Days {
    /// `inactive_days`.
    Inactive,
    /// `inactive_days - reengage_days`: where `nearing-inactivity` starts.
    Reengage,
    /// `pending_max_days`.
    PendingMax,
    /// `repermission_grace_days`.
    RepermissionGrace,
}

/// A pattern a text column is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// The policy's bought-list sources.
    BoughtSource,
    /// The policy's import sources.
    ImportSource,
    /// The policy's purchase and giveaway sources.
    PurchaseSource,
    /// `unknown`, `-`, `n/a`, `none`: a source that says nothing.
    Placeholder,
    /// A syntactically valid address.
    ValidEmail,
    /// A Substack deletion request (an address whose key ends in its domain).
    DeletionRequest,
}

/// A yes/no choice of the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    SoftOptIn,
    RequireDoubleOptIn,
    NoProofDeletes,
    InactivityFromConsentDate,
}

/// A condition over one contact's (or row's) canonical columns.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// A boolean column is true.
    True(&'static str),
    /// A boolean column is false (explicitly; missing is neither).
    False(&'static str),
    /// A column holds a value.
    Present(&'static str),
    /// A text column holds one of these values.
    OneOf(&'static str, &'static [&'static str]),
    /// A text column holds this value.
    Is(&'static str, &'static str),
    /// A text column matches a pattern (whole words, any case).
    Matches(&'static str, Pattern),
    /// An instant is later than another.
    Later(&'static str, &'static str),
    /// An instant lies before the start of the as-of day minus some days.
    OlderThan(&'static str, Days),
    /// An instant lies on or before the start of the as-of day minus some days.
    OnOrBefore(&'static str, Days),
    /// An instant lies before the policy's `gdpr_cutoff`.
    BeforeGdpr(&'static str),
    /// A policy switch is on.
    Policy(Switch),
    /// The contact carries a reason.
    Has(Reason),
    /// At least `import_artifact_min` contacts for which `flag` holds share the value of `by`.
    SharedByMany {
        flag: &'static str,
        by: &'static str,
    },
    Not(Box<Cond>),
    All(Vec<Cond>),
    Any(Vec<Cond>),
}

/// Shorthands that keep the tables readable.
pub fn not(c: Cond) -> Cond {
    Cond::Not(Box::new(c))
}

pub fn all<const N: usize>(cs: [Cond; N]) -> Cond {
    Cond::All(cs.into())
}

pub fn any<const N: usize>(cs: [Cond; N]) -> Cond {
    Cond::Any(cs.into())
}

/// A named boolean column derived from others.
#[derive(Debug, Clone)]
pub struct Derived {
    pub name: &'static str,
    pub when: Cond,
    pub source: &'static str,
}

/// One row of a first-match table.
#[derive(Debug, Clone)]
pub struct Row<T> {
    pub value: T,
    pub when: Cond,
    pub source: &'static str,
}

const WITHDRAWN: &[&str] = &["unsubscribed", "complained"];

/// Per-row facts the evidence table reads (SPEC §3.1).
pub fn row_facts() -> Vec<Derived> {
    use Field as F;
    vec![
        Derived {
            name: col::HAS_IP,
            when: any([
                Cond::Present(F::OptinIp.name()),
                Cond::Present(F::ConfirmIp.name()),
            ]),
            source: "SPEC §3.1: an opt-in or confirm IP shows where the sign-up came from",
        },
        Derived {
            name: col::DOI_CONFIRMED,
            when: any([
                Cond::True(F::DoubleOptIn.name()),
                Cond::Later(F::ConfirmAt.name(), F::OptinAt.name()),
                all([
                    Cond::Present(F::ConfirmAt.name()),
                    Cond::Present(F::ConfirmIp.name()),
                ]),
            ]),
            source: "SPEC §3.1: confirm_at strictly after optin_at, confirm_at with its own IP, or the service's confirmed flag; a lone confirm_at is not one",
        },
        Derived {
            name: col::BOUGHT_SOURCE,
            when: Cond::Matches(F::Source.name(), Pattern::BoughtSource),
            source: "SPEC §3.1: a bought or rented list is never consent",
        },
        Derived {
            name: col::IMPORT_SOURCE,
            when: Cond::Matches(F::Source.name(), Pattern::ImportSource),
            source: "SPEC §3.1: an import shows no sign-up",
        },
        Derived {
            name: col::PURCHASE_SOURCE,
            when: Cond::Matches(F::Source.name(), Pattern::PurchaseSource),
            source: "SPEC §3.2: a purchase or a free download is no consent for newsletters",
        },
        Derived {
            name: col::MEANINGFUL_SOURCE,
            when: all([
                Cond::Present(F::Source.name()),
                not(Cond::Matches(F::Source.name(), Pattern::Placeholder)),
                not(Cond::True(col::BOUGHT_SOURCE)),
                not(Cond::True(col::IMPORT_SOURCE)),
            ]),
            source: "SPEC §3.1: not empty, not a placeholder, not bought, not an import",
        },
    ]
}

/// Evidence of consent per row, first match wins (SPEC §3.1).
pub fn evidence_table() -> Vec<Row<Evidence>> {
    use Field as F;
    vec![
        Row {
            value: Evidence::None,
            when: Cond::True(col::BOUGHT_SOURCE),
            source: "SPEC §3.1: a bought list, whatever else the row says (GDPR Art. 7(1))",
        },
        Row {
            value: Evidence::None,
            when: all([
                not(Cond::Present(col::CONSENT_AT)),
                not(Cond::True(F::MarketingConsent.name())),
                not(Cond::True(F::DoubleOptIn.name())),
            ]),
            source: "SPEC §3.1: no consent date and no recorded opt-in (GDPR Art. 7(1): the controller must be able to demonstrate consent)",
        },
        Row {
            value: Evidence::Full,
            when: all([
                Cond::Present(col::CONSENT_AT),
                Cond::True(col::DOI_CONFIRMED),
            ]),
            source: "SPEC §3.1: a date and a double opt-in confirmation, even after an import (BGH I ZR 164/09)",
        },
        Row {
            value: Evidence::Partial,
            when: Cond::True(col::IMPORT_SOURCE),
            source: "SPEC §3.1: an import without a double opt-in confirmation; an IP may be the importer's",
        },
        Row {
            value: Evidence::Full,
            when: all([
                Cond::Present(col::CONSENT_AT),
                not(Cond::Policy(Switch::RequireDoubleOptIn)),
                any([
                    Cond::True(col::HAS_IP),
                    Cond::True(col::MEANINGFUL_SOURCE),
                    Cond::Present(F::ConsentText.name()),
                ]),
            ]),
            source: "SPEC §3.1: a date plus how or where (IP, meaningful source or consent text); EDPB 05/2020 §108",
        },
        Row {
            value: Evidence::Partial,
            when: any([
                Cond::Present(col::CONSENT_AT),
                Cond::True(F::MarketingConsent.name()),
                Cond::True(F::DoubleOptIn.name()),
            ]),
            source: "SPEC §3.1: a date without how or where, or a recorded opt-in without a date",
        },
    ]
}

/// Per-contact facts the reasons read, after the merge of SPEC §2.4.
pub fn contact_facts() -> Vec<Derived> {
    use Field as F;
    vec![
        Derived {
            name: col::ARTIFACT_CANDIDATE,
            when: all([
                Cond::Present(col::CONSENT_AT),
                Cond::True(col::CONSENT_HAS_TIME),
                not(Cond::True(col::HAS_IP)),
                not(Cond::True(col::DOI_CONFIRMED)),
            ]),
            source: "SPEC §3.1: a consent time of day, no opt-in or confirm IP, no double opt-in",
        },
        Derived {
            name: col::IMPORT_ARTIFACT,
            when: Cond::SharedByMany {
                flag: col::ARTIFACT_CANDIDATE,
                by: col::CONSENT_SECOND,
            },
            source: "SPEC §3.1: import_artifact_min contacts sharing one consent second are the account owner's bulk import, not sign-ups",
        },
        Derived {
            name: col::INACTIVITY_ASSESSABLE,
            when: any([
                Cond::True(col::ENGAGEMENT_DATA),
                Cond::Policy(Switch::InactivityFromConsentDate),
            ]),
            source: "SPEC §3.2: a row from a file with an engagement column, or an --activity file",
        },
        Derived {
            name: col::CUSTOMER,
            when: all([
                any([
                    Cond::Is(F::Status.name(), "transactional"),
                    Cond::True(col::PURCHASE_SOURCE),
                ]),
                not(Cond::False(F::MarketingConsent.name())),
            ]),
            source: "SPEC §3.3 row 2: transactional or purchase source, not marketing_consent = no",
        },
    ]
}

/// The reason codes, in the order of SPEC §3.2.
pub fn reason_table() -> Vec<Row<Reason>> {
    use Field as F;
    let status = F::Status.name();
    vec![
        Row {
            value: Reason::InvalidEmail,
            when: not(Cond::Matches(F::Email.name(), Pattern::ValidEmail)),
            source: "SPEC §2.3: an address that can never be delivered",
        },
        Row {
            value: Reason::Withdrawn,
            when: any([
                Cond::OneOf(status, WITHDRAWN),
                Cond::Matches(F::Email.name(), Pattern::DeletionRequest),
            ]),
            source: "GDPR Art. 7(3) withdrawal, Art. 21(3) objection to direct marketing, Art. 17 erasure request",
        },
        Row {
            value: Reason::Suppressed,
            when: all([
                Cond::Present(col::SUPPRESSED_SINCE),
                not(Cond::OneOf(
                    status,
                    &["unsubscribed", "complained", "cleaned"],
                )),
                not(Cond::Matches(F::Email.name(), Pattern::DeletionRequest)),
                not(all([
                    Cond::Is(col::EVIDENCE, "full"),
                    Cond::Later(col::CONSENT_AT, col::SUPPRESSED_SINCE),
                ])),
            ]),
            source: "GDPR Art. 21(3): an objection to direct marketing is absolute; re-imported after opting out, without a fresh full opt-in since (SPEC §8)",
        },
        Row {
            value: Reason::Bounced,
            when: Cond::Is(status, "cleaned"),
            source: "SPEC §3.2: cleaned or hard-bounced; GDPR Art. 5(1)(d) accuracy",
        },
        Row {
            value: Reason::Unconfirmed,
            when: all([
                Cond::Is(status, "pending"),
                Cond::OlderThan(col::PENDING_SINCE, Days::PendingMax),
            ]),
            source: "SPEC §3.2: a double opt-in never confirmed within pending_max_days is no consent",
        },
        Row {
            value: Reason::Pending,
            when: all([
                Cond::Is(status, "pending"),
                not(Cond::OlderThan(col::PENDING_SINCE, Days::PendingMax)),
            ]),
            source: "SPEC §3.2: a double opt-in still waiting for its confirmation",
        },
        Row {
            value: Reason::Disabled,
            when: Cond::Is(status, "disabled"),
            source: "SPEC §2.2: the service stopped mailing them without a withdrawal",
        },
        Row {
            value: Reason::UnknownStatus,
            when: Cond::Is(status, "unknown"),
            source: "SPEC §2.2: never keep for mailing what the tool does not understand",
        },
        Row {
            value: Reason::RepermissionExpired,
            when: all([
                Cond::OnOrBefore(col::SENT_ON, Days::RepermissionGrace),
                not(Cond::True(col::RENEWED)),
            ]),
            source: "SPEC §8: asked for re-permission repermission_grace_days ago without answering; CNIL: no positive answer, delete",
        },
        Row {
            value: Reason::Inactive,
            when: all([
                Cond::True(col::INACTIVITY_ASSESSABLE),
                Cond::OlderThan(col::ACTIVITY_REF, Days::Inactive),
            ]),
            source: "GDPR Art. 5(1)(e) storage limitation; NL practice two years, CNIL three",
        },
        Row {
            value: Reason::NoMarketingConsent,
            when: any([
                Cond::Is(status, "transactional"),
                Cond::False(F::MarketingConsent.name()),
                all([
                    Cond::True(col::PURCHASE_SOURCE),
                    not(Cond::True(F::MarketingConsent.name())),
                ]),
            ]),
            source: "ePrivacy Art. 13; Tw 11.7: a purchase or a free download is no consent for newsletters",
        },
        Row {
            value: Reason::NoConsentProof,
            when: Cond::Is(col::EVIDENCE, "none"),
            source: "GDPR Art. 7(1); Tw 11.7: the sender must prove consent",
        },
        Row {
            value: Reason::PreGdpr,
            when: Cond::BeforeGdpr(col::CONSENT_AT),
            source: "EDPB 05/2020 §166: consents from before the GDPR without references must be renewed",
        },
        Row {
            value: Reason::IncompleteProof,
            when: Cond::Is(col::EVIDENCE, "partial"),
            source: "GDPR Art. 7(1); EDPB 05/2020 §108: who, when, how and what they were told",
        },
        Row {
            value: Reason::NearingInactivity,
            when: all([
                Cond::True(col::INACTIVITY_ASSESSABLE),
                not(Cond::Has(Reason::Inactive)),
                Cond::OlderThan(col::ACTIVITY_REF, Days::Reengage),
            ]),
            source: "SPEC §3.2: will be inactive within reengage_days; a re-engagement mail can still help",
        },
        Row {
            value: Reason::SoftOptIn,
            when: all([
                Cond::Policy(Switch::SoftOptIn),
                Cond::True(col::CUSTOMER),
                // An order date or the customer's creation date.
                Cond::True(col::CUSTOMER_DATE),
            ]),
            source: "ePrivacy Art. 13(2), Tw 11.7(3): own similar products, with an opt-out at purchase and in every mail",
        },
    ]
}

/// The outcomes, first match wins (SPEC §3.3).
pub fn outcome_table() -> Vec<Row<Outcome>> {
    vec![
        Row {
            value: Outcome::Delete,
            when: any([
                Cond::Has(Reason::InvalidEmail),
                Cond::Has(Reason::Withdrawn),
                Cond::Has(Reason::Suppressed),
                Cond::Has(Reason::Bounced),
                Cond::Has(Reason::Unconfirmed),
                Cond::Has(Reason::RepermissionExpired),
                Cond::Has(Reason::Inactive),
            ]),
            source: "SPEC §3.3 row 1; GDPR Art. 17, 21(3), 5(1)(e)",
        },
        Row {
            value: Outcome::Keep,
            when: Cond::Has(Reason::SoftOptIn),
            source: "SPEC §3.3 row 2; ePrivacy Art. 13(2)",
        },
        Row {
            value: Outcome::NoMarketing,
            when: any([
                Cond::Has(Reason::NoMarketingConsent),
                Cond::Has(Reason::Pending),
                Cond::Has(Reason::Disabled),
                Cond::Has(Reason::UnknownStatus),
            ]),
            source: "SPEC §3.3 row 3: service mail only; never a re-permission mail (ICO, Honda 2017)",
        },
        Row {
            value: Outcome::Delete,
            when: all([
                Cond::Has(Reason::NoConsentProof),
                any([
                    Cond::Policy(Switch::NoProofDeletes),
                    Cond::True(col::BOUGHT_SOURCE),
                ]),
            ]),
            source: "SPEC §3.3 row 4; GDPR Art. 7(1): asking for consent by e-mail is itself marketing (ICO, Flybe 2017)",
        },
        Row {
            value: Outcome::Repermission,
            when: any([
                Cond::Has(Reason::PreGdpr),
                Cond::Has(Reason::IncompleteProof),
                Cond::Has(Reason::NoConsentProof),
            ]),
            source: "SPEC §3.3 row 5; EDPB 05/2020 §166",
        },
        Row {
            value: Outcome::Keep,
            when: Cond::All(Vec::new()),
            source: "SPEC §3.3 row 6",
        },
    ]
}

/// Contacts that also go to the suppression list (SPEC §3.3 row 1).
pub fn suppress_rule() -> Cond {
    any([Cond::Has(Reason::Withdrawn), Cond::Has(Reason::Bounced)])
}

impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, cs: &[Cond], op: &str| -> fmt::Result {
            if cs.is_empty() {
                return f.write_str(if op == " AND " { "always" } else { "never" });
            }
            for (i, c) in cs.iter().enumerate() {
                if i > 0 {
                    f.write_str(op)?;
                }
                match c {
                    Cond::All(_) | Cond::Any(_) => write!(f, "({c})")?,
                    _ => write!(f, "{c}")?,
                }
            }
            Ok(())
        };
        match self {
            Cond::True(c) => write!(f, "{c}"),
            Cond::False(c) => write!(f, "{c} = no"),
            Cond::Present(c) => write!(f, "{c} is present"),
            Cond::OneOf(c, vs) => write!(f, "{c} in ({})", vs.join(", ")),
            Cond::Is(c, v) => write!(f, "{c} = {v}"),
            Cond::Matches(c, p) => write!(f, "{c} matches {p:?}"),
            Cond::Later(a, b) => write!(f, "{a} after {b}"),
            Cond::OlderThan(c, d) => write!(f, "{c} older than {d:?} days"),
            Cond::OnOrBefore(c, d) => write!(f, "{c} at least {d:?} days ago"),
            Cond::BeforeGdpr(c) => write!(f, "{c} before gdpr_cutoff"),
            Cond::Policy(s) => write!(f, "policy {s:?}"),
            Cond::Has(r) => write!(f, "{}", r.name()),
            Cond::SharedByMany { flag, by } => {
                write!(f, "{flag} and import_artifact_min such contacts share {by}")
            }
            Cond::Not(c) => match **c {
                Cond::All(_) | Cond::Any(_) => write!(f, "not ({c})"),
                _ => write!(f, "not {c}"),
            },
            Cond::All(cs) => list(f, cs, " AND "),
            Cond::Any(cs) => list(f, cs, " OR "),
        }
    }
}
