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
    /// Columns (as header keys) that must all be present for the profile to match.
    pub required: &'static [&'static str],
    /// Header keys per field, preferred first. Checked before the generic names.
    pub columns: &'static [(Field, &'static [&'static str])],
    /// Header keys the generic names must never claim for this service (Mailchimp's
    /// `LAST_CHANGED` is a profile change, never a consent or activity date).
    pub never: &'static [&'static str],
    /// Status words (as value keys) → canonical status, before the generic words.
    pub statuses: &'static [(&'static str, Status)],
    /// The status is in the file name (Mailchimp's per-status files).
    pub status_from_file_name: bool,
    /// Other columns whose values say something about the status (Substack's inverted
    /// `email_disabled`, phpList's blacklist flag, Klaviyo's suppressions). A row's status is
    /// the most restrictive of all it has.
    pub status_columns: &'static [StatusColumn],
    /// Yes/no words of the service beyond the common ones, as value keys.
    pub bool_words: &'static [(&'static str, bool)],
    /// The service escapes quotes as `\"` inside quoted cells (MailPoet).
    pub backslash_escape: bool,
    /// The date order the service writes, for columns that stay ambiguous.
    pub date_order: Option<DateOrder>,
}

/// A column whose values map onto statuses.
#[derive(Debug)]
pub struct StatusColumn {
    /// The header key.
    pub header: &'static str,
    /// Value keys → status; an empty cell says nothing, an unknown value is `unknown`.
    pub values: &'static [(&'static str, Status)],
}

/// Fields left empty in a profile, for brevity below.
const NONE: Profile = Profile {
    service: "",
    label: "",
    signature: &[],
    signature_min: 0,
    required: &[],
    columns: &[],
    never: &[],
    statuses: &[],
    status_from_file_name: false,
    status_columns: &[],
    bool_words: &[],
    backslash_escape: false,
    date_order: None,
};

/// The generic profile: common English and Dutch headers (SPEC §2.2).
pub const GENERIC: Profile = Profile {
    service: "generic",
    label: "generic CSV",
    ..NONE
};

const YES_NO_UNSUBSCRIBED: &[(&str, Status)] = &[
    ("yes", Status::Unsubscribed),
    ("true", Status::Unsubscribed),
    ("1", Status::Unsubscribed),
    ("no", Status::Subscribed),
    ("false", Status::Subscribed),
    ("0", Status::Subscribed),
];

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
    status_from_file_name: true,
    ..NONE
};

/// Substack's subscriber exports (ESP-FORMATS §3): `email_disabled` says the opposite of
/// subscribed; the "all columns" export has `Subscription date` and `Email last opened at`.
pub const SUBSTACK: Profile = Profile {
    service: "substack",
    label: "Substack",
    signature: &[
        "activesubscription",
        "emaildisabled",
        "expiry",
        "stripeconnectedcustomerid",
        "subscriptiondate",
        "emaillastopenedat",
        "emailreceiveslast6months",
        "emailsopenedlast6months",
    ],
    signature_min: 2,
    columns: &[
        (Field::OptinAt, &["subscriptiondate"]),
        (Field::CreatedAt, &["createdat"]),
        (Field::LastOpenAt, &["emaillastopenedat"]),
    ],
    never: &["expiry"],
    status_columns: &[StatusColumn {
        header: "emaildisabled",
        values: YES_NO_UNSUBSCRIBED,
    }],
    ..NONE
};

/// Ghost's members export (ESP-FORMATS §4).
pub const GHOST: Profile = Profile {
    service: "ghost",
    label: "Ghost",
    signature: &[
        "subscribedtoemails",
        "complimentaryplan",
        "stripecustomerid",
        "deletedat",
        "labels",
        "tiers",
        "products",
        "note",
    ],
    signature_min: 3,
    required: &["subscribedtoemails"],
    columns: &[
        (Field::CreatedAt, &["createdat"]),
        (Field::Tags, &["labels"]),
    ],
    never: &["deletedat"],
    status_columns: &[StatusColumn {
        header: "subscribedtoemails",
        values: &[
            ("true", Status::Subscribed),
            ("false", Status::Unsubscribed),
        ],
    }],
    ..NONE
};

/// Beehiiv's subscriber export (ESP-FORMATS §5).
pub const BEEHIIV: Profile = Profile {
    service: "beehiiv",
    label: "Beehiiv",
    signature: &[
        "tier",
        "freetier",
        "premiumtier",
        "acquisitionsource",
        "subscriptiondatesubstack",
        "openrate",
        "totalclicked",
        "referringsite",
        "utmsource",
        "lastopenedat",
    ],
    signature_min: 2,
    required: &["status"],
    columns: &[
        (Field::OptinAt, &["subscriptiondatesubstack"]),
        (Field::CreatedAt, &["createdat"]),
        (Field::UnsubscribedAt, &["unsubscribedat"]),
        (Field::LastOpenAt, &["lastopenedat"]),
        (
            Field::Source,
            &["acquisitionsource", "utmsource", "referringsite"],
        ),
    ],
    statuses: &[
        ("active", Status::Subscribed),
        ("inactive", Status::Unsubscribed),
        ("validating", Status::Pending),
    ],
    ..NONE
};

/// listmonk's subscribers export (ESP-FORMATS §6): Go time strings, `blocklisted`.
pub const LISTMONK: Profile = Profile {
    service: "listmonk",
    label: "listmonk",
    signature: &["uuid", "attributes", "updatedat", "createdat", "status"],
    signature_min: 4,
    required: &["uuid", "attributes"],
    columns: &[
        (Field::FirstName, &["name"]),
        (Field::CreatedAt, &["createdat"]),
    ],
    never: &["updatedat"],
    statuses: &[
        ("enabled", Status::Subscribed),
        ("disabled", Status::Disabled),
        ("blocklisted", Status::Unsubscribed),
    ],
    ..NONE
};

/// Mautic's contacts export (ESP-FORMATS §7): field aliases, `last_active`, no status.
pub const MAUTIC: Profile = Profile {
    service: "mautic",
    label: "Mautic",
    signature: &[
        "lastactive",
        "points",
        "attributiondate",
        "attribution",
        "preferredlocale",
        "stage",
        "foursquare",
        "skype",
        "firstname",
    ],
    signature_min: 3,
    required: &["lastactive"],
    columns: &[
        (Field::LastActiveAt, &["lastactive"]),
        (Field::CreatedAt, &["dateadded", "dateidentified"]),
    ],
    never: &["datemodified", "attributiondate"],
    ..NONE
};

/// MailPoet's subscribers export (ESP-FORMATS §8): BOM, `\"` escaping, one row per list.
pub const MAILPOET: Profile = Profile {
    service: "mailpoet",
    label: "MailPoet",
    signature: &[
        "subscriptionip",
        "subscriptiontime",
        "confirmationtime",
        "confirmationip",
        "globalstatus",
        "liststatus",
    ],
    signature_min: 2,
    columns: &[
        (Field::OptinAt, &["subscriptiontime"]),
        (Field::OptinIp, &["subscriptionip"]),
        (Field::ConfirmAt, &["confirmationtime"]),
        (Field::ConfirmIp, &["confirmationip"]),
        (Field::Status, &["globalstatus"]),
        (Field::Tags, &["list"]),
    ],
    statuses: &[("inactive", Status::Disabled)],
    status_columns: &[StatusColumn {
        header: "liststatus",
        values: &[
            ("subscribed", Status::Subscribed),
            ("unsubscribed", Status::Unsubscribed),
            ("unconfirmed", Status::Pending),
        ],
    }],
    backslash_escape: true,
    ..NONE
};

/// phpList 3's export (ESP-FORMATS §9): TAB-separated, 0/1 flags.
pub const PHPLIST: Profile = Profile {
    service: "phplist",
    label: "phpList",
    signature: &[
        "isthisuserconfirmed",
        "isthisuserblacklisted",
        "didthisusermanuallyconfirm",
        "numberofbouncesonthisuser",
        "entered",
        "lastmodified",
        "listmembership",
        "isthisaccountdisabled",
    ],
    signature_min: 2,
    columns: &[
        (Field::CreatedAt, &["entered"]),
        (Field::DoubleOptIn, &["isthisuserconfirmed"]),
        (Field::Tags, &["listmembership"]),
    ],
    never: &["lastmodified"],
    status_columns: &[
        StatusColumn {
            header: "isthisuserblacklisted",
            values: &[("1", Status::Unsubscribed), ("0", Status::Subscribed)],
        },
        StatusColumn {
            header: "isthisuserconfirmed",
            values: &[("0", Status::Pending), ("1", Status::Subscribed)],
        },
        StatusColumn {
            header: "isthisaccountdisabled",
            values: &[("1", Status::Disabled), ("0", Status::Subscribed)],
        },
    ],
    ..NONE
};

/// Shopify's customers export (ESP-FORMATS §10): yes/no marketing consent, no dates at all.
pub const SHOPIFY: Profile = Profile {
    service: "shopify",
    label: "Shopify customers",
    signature: &[
        "customerid",
        "acceptsemailmarketing",
        "acceptsmarketing",
        "acceptssmsmarketing",
        "totalspent",
        "totalorders",
        "taxexempt",
        "defaultaddresscompany",
        "defaultaddresscountrycode",
    ],
    signature_min: 3,
    columns: &[
        (
            Field::MarketingConsent,
            &["acceptsemailmarketing", "acceptsmarketing"],
        ),
        (
            Field::Country,
            &["defaultaddresscountrycode", "countrycode"],
        ),
    ],
    status_columns: &[
        StatusColumn {
            header: "acceptsemailmarketing",
            values: &[("yes", Status::Subscribed), ("no", Status::Transactional)],
        },
        StatusColumn {
            header: "acceptsmarketing",
            values: &[("yes", Status::Subscribed), ("no", Status::Transactional)],
        },
    ],
    ..NONE
};

/// Klaviyo's profile export (ESP-FORMATS §11).
pub const KLAVIYO: Profile = Profile {
    service: "klaviyo",
    label: "Klaviyo",
    signature: &[
        "klaviyoid",
        "emailmarketingconsent",
        "emailmarketingconsenttimestamp",
        "profilecreatedon",
        "emailsuppressions",
        "predictedcustomerlifetimevalue",
        "firstactive",
    ],
    signature_min: 2,
    columns: &[
        (Field::MarketingConsent, &["emailmarketingconsent"]),
        (Field::OptinAt, &["emailmarketingconsenttimestamp"]),
        (Field::CreatedAt, &["profilecreatedon", "dateadded"]),
        (Field::OptinIp, &["ipaddress"]),
        (Field::LastOpenAt, &["lastopen"]),
        (Field::LastClickAt, &["lastclick"]),
        (Field::LastActiveAt, &["lastactive"]),
    ],
    never: &["firstactive"],
    status_columns: &[
        StatusColumn {
            header: "emailmarketingconsent",
            values: &[
                ("subscribed", Status::Subscribed),
                ("unsubscribed", Status::Unsubscribed),
                ("neversubscribed", Status::Transactional),
            ],
        },
        StatusColumn {
            header: "emailsuppressions",
            values: &[
                ("unsubscribe", Status::Unsubscribed),
                ("unsubscribed", Status::Unsubscribed),
                ("spamcomplaint", Status::Complained),
                ("hardbounce", Status::Cleaned),
                ("invalidemail", Status::Cleaned),
                ("usersuppressed", Status::Disabled),
            ],
        },
    ],
    bool_words: &[
        ("subscribed", true),
        ("unsubscribed", false),
        ("neversubscribed", false),
    ],
    ..NONE
};

/// Brevo's (Sendinblue's) contacts export (ESP-FORMATS §12): `;`, day-first dates, a
/// blacklist flag.
pub const BREVO: Profile = Profile {
    service: "brevo",
    label: "Brevo (Sendinblue)",
    signature: &[
        "emailblacklisted",
        "smsblacklisted",
        "addedtime",
        "modifiedtime",
    ],
    signature_min: 2,
    columns: &[(Field::CreatedAt, &["addedtime"])],
    never: &["modifiedtime"],
    status_columns: &[StatusColumn {
        header: "emailblacklisted",
        values: YES_NO_UNSUBSCRIBED,
    }],
    date_order: Some(DateOrder::DayFirst),
    ..NONE
};

/// Kit's (ConvertKit's) subscriber export (ESP-FORMATS §13; layout not confirmed).
pub const KIT: Profile = Profile {
    service: "kit",
    label: "Kit (ConvertKit)",
    signature: &[
        "state",
        "createdat",
        "emailaddress",
        "firstname",
        "confirmedat",
    ],
    signature_min: 3,
    required: &["state"],
    columns: &[
        (Field::Status, &["state"]),
        // Kit creates the subscriber at sign-up; `confirmed_at` follows a double opt-in.
        (Field::OptinAt, &["createdat"]),
        (Field::ConfirmAt, &["confirmedat"]),
    ],
    statuses: &[
        ("active", Status::Subscribed),
        ("confirmed", Status::Subscribed),
        ("cold", Status::Subscribed),
        ("inactive", Status::Unsubscribed),
        ("cancelled", Status::Unsubscribed),
        ("canceled", Status::Unsubscribed),
    ],
    ..NONE
};

/// ActiveCampaign's contacts export (ESP-FORMATS §14; layout not confirmed).
pub const ACTIVECAMPAIGN: Profile = Profile {
    service: "activecampaign",
    label: "ActiveCampaign",
    signature: &[
        "datecreated",
        "dateupdated",
        "ip",
        "status",
        "phone",
        "tags",
        "organization",
    ],
    signature_min: 4,
    required: &["datecreated"],
    columns: &[
        (Field::CreatedAt, &["datecreated"]),
        (Field::OptinIp, &["ip"]),
    ],
    never: &["dateupdated"],
    statuses: &[
        ("active", Status::Subscribed),
        ("0", Status::Pending),
        ("1", Status::Subscribed),
        ("2", Status::Unsubscribed),
        ("3", Status::Cleaned),
    ],
    ..NONE
};

/// Laposta's member export (ESP-FORMATS §19; from the API's member object, UI export not
/// confirmed).
pub const LAPOSTA: Profile = Profile {
    service: "laposta",
    label: "Laposta",
    signature: &["memberid", "listid", "signupdate", "sourceurl", "modified"],
    signature_min: 2,
    required: &["signupdate"],
    columns: &[
        (Field::Status, &["state", "status"]),
        (Field::OptinAt, &["signupdate"]),
        (Field::OptinIp, &["ip"]),
        (Field::Source, &["sourceurl"]),
    ],
    never: &["modified"],
    date_order: Some(DateOrder::DayFirst),
    ..NONE
};

/// MailerLite's subscriber export (ESP-FORMATS §17; layout not confirmed): the address is
/// headed `Subscriber`.
pub const MAILERLITE: Profile = Profile {
    service: "mailerlite",
    label: "MailerLite",
    signature: &["subscriber", "groups", "subscribed", "lastname", "name"],
    signature_min: 3,
    required: &["subscriber"],
    columns: &[
        (Field::Email, &["subscriber"]),
        (Field::OptinAt, &["subscribed"]),
        (Field::Tags, &["groups"]),
    ],
    ..NONE
};

/// Every service profile, in the order detection tries them (the first of equal matches wins).
pub const PROFILES: &[&Profile] = &[
    &MAILCHIMP,
    &SUBSTACK,
    &GHOST,
    &BEEHIIV,
    &LISTMONK,
    &MAUTIC,
    &MAILPOET,
    &PHPLIST,
    &SHOPIFY,
    &KLAVIYO,
    &BREVO,
    &KIT,
    &ACTIVECAMPAIGN,
    &LAPOSTA,
    &MAILERLITE,
];

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

/// The key a header is matched by: lower-case letters and digits only, accents folded
/// (`E-mailadres` and `Subscription Date (Substack)` become `emailadres` and
/// `subscriptiondatesubstack`).
pub fn header_key(header: &str) -> String {
    header
        .trim()
        .chars()
        .flat_map(char::to_lowercase)
        .map(fold_accent)
        .filter(|c| c.is_alphanumeric())
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
        let required = profile.required.iter().all(|r| keys.iter().any(|k| k == r));
        let better = best
            .as_ref()
            .is_none_or(|(_, seen)| matched.len() > seen.len());
        if required && matched.len() >= profile.signature_min && better {
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
