//! The canonical fields every input is mapped onto (SPEC §2.2), in the user's words.
//!
//! Ingest maps a service's headers onto these; everything after ingest speaks only of them.

use std::fmt;
use std::str::FromStr;

/// One canonical field of SPEC §2.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Email,
    Status,
    DoubleOptIn,
    OptinAt,
    OptinIp,
    CreatedAt,
    ConfirmAt,
    ConfirmIp,
    Source,
    ConsentText,
    MarketingConsent,
    LastOpenAt,
    LastClickAt,
    LastActiveAt,
    LastOrderAt,
    UnsubscribedAt,
    CleanedAt,
    FirstName,
    LastName,
    Country,
    Tags,
}

impl Field {
    /// Every field, in the order of SPEC §2.2.
    pub const ALL: [Field; 21] = [
        Field::Email,
        Field::Status,
        Field::DoubleOptIn,
        Field::OptinAt,
        Field::OptinIp,
        Field::CreatedAt,
        Field::ConfirmAt,
        Field::ConfirmIp,
        Field::Source,
        Field::ConsentText,
        Field::MarketingConsent,
        Field::LastOpenAt,
        Field::LastClickAt,
        Field::LastActiveAt,
        Field::LastOrderAt,
        Field::UnsubscribedAt,
        Field::CleanedAt,
        Field::FirstName,
        Field::LastName,
        Field::Country,
        Field::Tags,
    ];

    /// The field's name, as `--map` and the report spell it; also its column name after ingest.
    pub const fn name(self) -> &'static str {
        match self {
            Field::Email => "email",
            Field::Status => "status",
            Field::DoubleOptIn => "double_opt_in",
            Field::OptinAt => "optin_at",
            Field::OptinIp => "optin_ip",
            Field::CreatedAt => "created_at",
            Field::ConfirmAt => "confirm_at",
            Field::ConfirmIp => "confirm_ip",
            Field::Source => "source",
            Field::ConsentText => "consent_text",
            Field::MarketingConsent => "marketing_consent",
            Field::LastOpenAt => "last_open_at",
            Field::LastClickAt => "last_click_at",
            Field::LastActiveAt => "last_active_at",
            Field::LastOrderAt => "last_order_at",
            Field::UnsubscribedAt => "unsubscribed_at",
            Field::CleanedAt => "cleaned_at",
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::Country => "country",
            Field::Tags => "tags",
        }
    }

    /// What kind of value the field holds, which decides how it is normalised.
    pub fn kind(self) -> FieldKind {
        match self {
            Field::OptinAt
            | Field::CreatedAt
            | Field::ConfirmAt
            | Field::LastOpenAt
            | Field::LastClickAt
            | Field::LastActiveAt
            | Field::LastOrderAt
            | Field::UnsubscribedAt
            | Field::CleanedAt => FieldKind::Date,
            Field::DoubleOptIn | Field::MarketingConsent => FieldKind::Boolean,
            _ => FieldKind::Text,
        }
    }

    /// Engagement fields: a person's own act (SPEC §3.2). Opens are one, unless the policy says not.
    pub fn is_engagement(self) -> bool {
        matches!(
            self,
            Field::LastOpenAt | Field::LastClickAt | Field::LastActiveAt | Field::LastOrderAt
        )
    }
}

/// How a field's values are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Date,
    Boolean,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Field {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Field::ALL
            .into_iter()
            .find(|field| field.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
                format!("unknown field `{s}`; the fields are: {}", names.join(", "))
            })
    }
}

/// The canonical contact statuses of SPEC §2.2, most restrictive first (SPEC §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Unsubscribed,
    Complained,
    Cleaned,
    Disabled,
    Unknown,
    Pending,
    Transactional,
    Subscribed,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Unsubscribed,
        Status::Complained,
        Status::Cleaned,
        Status::Disabled,
        Status::Unknown,
        Status::Pending,
        Status::Transactional,
        Status::Subscribed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Status::Unsubscribed => "unsubscribed",
            Status::Complained => "complained",
            Status::Cleaned => "cleaned",
            Status::Disabled => "disabled",
            Status::Unknown => "unknown",
            Status::Pending => "pending",
            Status::Transactional => "transactional",
            Status::Subscribed => "subscribed",
        }
    }

    /// How restrictive the status is when rows of one person disagree (SPEC §2.4): higher wins.
    /// Unsubscribed and complained are equally restrictive.
    pub fn restrictiveness(self) -> i32 {
        match self {
            Status::Unsubscribed | Status::Complained => 7,
            Status::Cleaned => 6,
            Status::Disabled => 5,
            Status::Unknown => 4,
            Status::Pending => 3,
            Status::Transactional => 2,
            Status::Subscribed => 1,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
