//! Service profiles (SPEC §2.2): how to recognise a service's export by its fixed system columns,
//! and how its headers and status words map onto the canonical fields.
//!
//! A profile is plain data. Adding a service is adding a `Profile` to [`PROFILES`]; nothing else
//! in the pipeline knows which service wrote a file.

use crate::fields::{Field, Status};
use crate::normalize::date::DateOrder;

/// How a profile reads one service's export.
#[derive(Debug)]
pub struct Profile {
    /// The name `--format` and the report use.
    pub service: &'static str,
    /// The name shown to people.
    pub label: &'static str,
    /// Fixed system columns (as header keys, see [`header_key`]) that identify the service.
    pub signature: &'static [&'static str],
    /// How many of `signature` must be present.
    pub signature_min: usize,
    /// Header keys per field, preferred first. Checked before the generic names.
    pub columns: &'static [(Field, &'static [&'static str])],
    /// Header keys the generic names must never claim for this service (Mailchimp's
    /// `LAST_CHANGED` is a profile change, never a consent or activity date).
    pub never: &'static [&'static str],
    /// Status words (as value keys) → canonical status, before the generic words.
    pub statuses: &'static [(&'static str, Status)],
    /// The status is in the file name (Mailchimp's per-status files).
    pub status_from_file_name: bool,
    /// The date order the service writes, for columns that stay ambiguous.
    pub date_order: Option<DateOrder>,
}

/// The generic profile: common English and Dutch headers (SPEC §2.2).
pub const GENERIC: Profile = Profile {
    service: "generic",
    label: "generic CSV",
    signature: &[],
    signature_min: 0,
    columns: &[],
    never: &[],
    statuses: &[],
    status_from_file_name: false,
    date_order: None,
};

/// Mailchimp's audience export: one CSV per status (ESP-FORMATS §2).
pub const MAILCHIMP: Profile = Profile {
    service: "mailchimp",
    label: "Mailchimp",
    signature: &[
        "memberrating",
        "optintime",
        "optinip",
        "confirmtime",
        "confirmip",
        "leid",
        "euid",
        "gmtoff",
        "dstoff",
    ],
    signature_min: 4,
    columns: &[
        (Field::Email, &["emailaddress"]),
        (Field::OptinAt, &["optintime"]),
        (Field::OptinIp, &["optinip"]),
        (Field::ConfirmAt, &["confirmtime"]),
        (Field::ConfirmIp, &["confirmip"]),
        (Field::UnsubscribedAt, &["unsubtime"]),
        (Field::CleanedAt, &["cleantime"]),
        (Field::FirstName, &["firstname", "fname"]),
        (Field::LastName, &["lastname", "lname"]),
        (Field::Country, &["cc"]),
        (Field::Tags, &["tags"]),
        (Field::Source, &["source"]),
    ],
    never: &["lastchanged"],
    statuses: &[],
    status_from_file_name: true,
    date_order: None,
};

/// Every service profile, in the order detection tries them.
pub const PROFILES: &[&Profile] = &[&MAILCHIMP];

/// Header names every profile understands, preferred first (SPEC §2.2, generic profile).
pub const GENERIC_COLUMNS: &[(Field, &[&str])] = &[
    (
        Field::Email,
        &[
            "email",
            "emailaddress",
            "emailadres",
            "emailadresse",
            "mail",
            "mailadres",
        ],
    ),
    (
        Field::FirstName,
        &[
            "firstname",
            "voornaam",
            "fname",
            "givenname",
            "name",
            "naam",
        ],
    ),
    (
        Field::LastName,
        &["lastname", "achternaam", "surname", "lname", "familyname"],
    ),
    (Field::Status, &["status", "state"]),
    (
        Field::OptinAt,
        &[
            "optinat",
            "optindate",
            "optintime",
            "signupdate",
            "signupat",
            "subscribedat",
            "subscriptiondate",
            "aanmelddatum",
            "inschrijfdatum",
            "aangemeldop",
        ],
    ),
    (
        Field::CreatedAt,
        &[
            "createdat",
            "created",
            "createdon",
            "dateadded",
            "aangemaaktop",
        ],
    ),
    (
        Field::OptinIp,
        &["optinip", "signupip", "ip", "ipaddress", "ipadres"],
    ),
    (
        Field::ConfirmAt,
        &[
            "confirmedat",
            "confirmat",
            "confirmtime",
            "confirmationtime",
            "bevestigdop",
        ],
    ),
    (Field::ConfirmIp, &["confirmip", "confirmationip"]),
    (
        Field::Source,
        &["source", "bron", "herkomst", "signupsource"],
    ),
    (
        Field::ConsentText,
        &["consenttext", "consentwording", "formversion"],
    ),
    (
        Field::MarketingConsent,
        &[
            "marketingconsent",
            "acceptsmarketing",
            "acceptsemailmarketing",
        ],
    ),
    (Field::DoubleOptIn, &["doubleoptin", "confirmed", "doi"]),
    (
        Field::LastOpenAt,
        &["lastopen", "lastopened", "lastopenat", "laatstgeopend"],
    ),
    (
        Field::LastClickAt,
        &["lastclick", "lastclicked", "lastclickat", "laatstgeklikt"],
    ),
    (
        Field::LastActiveAt,
        &[
            "lastactivity",
            "lastactive",
            "lastactiveat",
            "laatsteactiviteit",
        ],
    ),
    (
        Field::LastOrderAt,
        &["lastorder", "lastorderat", "laatstebestelling"],
    ),
    (
        Field::UnsubscribedAt,
        &["unsubscribedat", "unsubscribedate", "afgemeldop"],
    ),
    (Field::CleanedAt, &["cleanedat", "bouncedat"]),
    (Field::Country, &["country", "land", "countrycode"]),
    (Field::Tags, &["tags", "labels"]),
];

/// Status words every profile understands (as value keys), including the Dutch ones.
pub const GENERIC_STATUSES: &[(&str, Status)] = &[
    ("subscribed", Status::Subscribed),
    ("active", Status::Subscribed),
    ("actief", Status::Subscribed),
    ("ingeschreven", Status::Subscribed),
    ("unsubscribed", Status::Unsubscribed),
    ("uitgeschreven", Status::Unsubscribed),
    ("afgemeld", Status::Unsubscribed),
    ("optedout", Status::Unsubscribed),
    ("blocklisted", Status::Unsubscribed),
    ("blacklisted", Status::Unsubscribed),
    ("complained", Status::Complained),
    ("spam", Status::Complained),
    ("cleaned", Status::Cleaned),
    ("bounced", Status::Cleaned),
    ("hardbounce", Status::Cleaned),
    ("gebounced", Status::Cleaned),
    ("ongeldig", Status::Cleaned),
    ("pending", Status::Pending),
    ("unconfirmed", Status::Pending),
    ("onbevestigd", Status::Pending),
    ("transactional", Status::Transactional),
    ("nonsubscribed", Status::Transactional),
    ("disabled", Status::Disabled),
];

/// The key a header is matched by: lower-case, accents folded, without spaces, `-`, `_` and `.`.
pub fn header_key(header: &str) -> String {
    header
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '_' | '.'))
        .flat_map(char::to_lowercase)
        .map(fold_accent)
        .collect()
}

/// The Latin letters with accents that Dutch, German and French headers use, without them.
fn fold_accent(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'ç' => 'c',
        'ñ' => 'n',
        'ý' | 'ÿ' => 'y',
        other => other,
    }
}

/// Which profile an export's headers match, and the signature columns that decided it.
pub fn detect(headers: &[String]) -> (&'static Profile, Vec<String>) {
    let keys: Vec<String> = headers.iter().map(|h| header_key(h)).collect();
    let mut best: Option<(&'static Profile, Vec<String>)> = None;
    for profile in PROFILES {
        let matched: Vec<String> = headers
            .iter()
            .zip(&keys)
            .filter(|(_, key)| profile.signature.contains(&key.as_str()))
            .map(|(header, _)| header.clone())
            .collect();
        let better = best
            .as_ref()
            .is_none_or(|(_, seen)| matched.len() > seen.len());
        if matched.len() >= profile.signature_min && better {
            best = Some((profile, matched));
        }
    }
    best.unwrap_or((&GENERIC, Vec::new()))
}

/// Finds a profile by its `--format` name.
pub fn by_name(name: &str) -> Option<&'static Profile> {
    std::iter::once(&GENERIC)
        .chain(PROFILES.iter().copied())
        .find(|p| p.service == name)
}

/// The status word in a Mailchimp file name, wherever it stands (`nonsubscribed` and
/// `unsubscribed` are tried before `subscribed`, which they contain).
pub fn status_from_file_name(file_name: &str) -> Option<Status> {
    let name = file_name.to_lowercase().replace(['-', '_', ' '], "");
    [
        ("nonsubscribed", Status::Transactional),
        ("unsubscribed", Status::Unsubscribed),
        ("cleaned", Status::Cleaned),
        ("subscribed", Status::Subscribed),
    ]
    .into_iter()
    .find(|(word, _)| name.contains(word))
    .map(|(_, status)| status)
}

/// One field's column in one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    pub field: Field,
    /// Index of the column in the file.
    pub index: usize,
    /// The header as written in the file.
    pub header: String,
    /// Whether `--map` chose it.
    pub by_user: bool,
}

/// Maps headers onto fields: `--map` overrides first, then the profile's names, then the generic
/// names. Each column serves at most one field.
pub fn map_columns(
    profile: &Profile,
    headers: &[String],
    overrides: &[(Field, String)],
) -> Vec<Mapped> {
    let keys: Vec<String> = headers.iter().map(|h| header_key(h)).collect();
    let mut mapped: Vec<Mapped> = Vec::new();
    let taken = |mapped: &[Mapped], index: usize| mapped.iter().any(|m| m.index == index);
    for (field, column) in overrides {
        let index = headers
            .iter()
            .position(|h| h == column)
            .or_else(|| keys.iter().position(|k| *k == header_key(column)));
        if let Some(index) = index
            && !mapped.iter().any(|m| m.field == *field)
        {
            mapped.push(Mapped {
                field: *field,
                index,
                header: headers[index].clone(),
                by_user: true,
            });
        }
    }
    for field in Field::ALL {
        if mapped.iter().any(|m| m.field == field) {
            continue;
        }
        let names = profile
            .columns
            .iter()
            .chain(GENERIC_COLUMNS)
            .filter(|(f, _)| *f == field)
            .flat_map(|(_, names)| names.iter());
        for name in names {
            if profile.never.contains(name) {
                continue;
            }
            if let Some(index) = keys
                .iter()
                .enumerate()
                .position(|(i, k)| k == name && !taken(&mapped, i))
            {
                mapped.push(Mapped {
                    field,
                    index,
                    header: headers[index].clone(),
                    by_user: false,
                });
                break;
            }
        }
    }
    mapped.sort_by_key(|m| m.field);
    mapped
}

/// The status words a profile understands, as value keys: its own first, then the generic words
/// it does not redefine.
pub fn status_words(profile: &Profile) -> Vec<(String, Status)> {
    let own: Vec<(String, Status)> = profile
        .statuses
        .iter()
        .map(|(w, s)| (header_key(w), *s))
        .collect();
    let generic = GENERIC_STATUSES
        .iter()
        .map(|(w, s)| (header_key(w), *s))
        .filter(|(w, _)| !own.iter().any(|(o, _)| o == w));
    own.iter().cloned().chain(generic).collect()
}
