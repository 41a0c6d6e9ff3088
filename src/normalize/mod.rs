//! Normalise (SPEC §2.3): turn one input's string columns into the canonical, typed columns the
//! rules read — e-mail key and validity, canonical status, instants, booleans — and count what
//! could not be read.

pub mod boolean;
pub mod date;
pub mod email;

use std::sync::Arc;

use polars::lazy::dsl::max_horizontal;
use polars::prelude::*;

use crate::fields::{Field, FieldKind, Status};
use crate::ingest::profile::status_words;
use crate::ingest::{Input, Role, StatusSource};
use crate::policy::Policy;
use date::{DateOrder, DateStats};

/// Canonical row columns that are not fields.
pub mod col {
    /// Index of the input file (into the run's list of inputs).
    pub const FILE: &str = "file";
    /// Line in the file the row starts on.
    pub const LINE: &str = "line";
    /// The e-mail key (lower-case address).
    pub const KEY: &str = "key";
    /// The status value as written, where no profile knows it.
    pub const STATUS_UNKNOWN_VALUE: &str = "status_unknown_value";
    /// The consent instant (SPEC §3.1) and the header it came from.
    pub const CONSENT_AT: &str = "consent_at";
    pub const CONSENT_COLUMN: &str = "consent_column";
    /// Whether the consent value carried a time of day.
    pub const CONSENT_HAS_TIME: &str = "consent_has_time";
    /// Whether the row's file has an engagement column.
    pub const ENGAGEMENT_FILE: &str = "engagement_file";
    /// `file:line` of the row, as the outputs name it.
    pub const SOURCE_REF: &str = "source_ref";
}

/// The count of one date column's values, for the report.
#[derive(Debug)]
pub struct DateColumn {
    pub file: String,
    pub header: String,
    pub field: Field,
    pub order: DateOrder,
    pub stats: Arc<DateStats>,
}

fn null_of(kind: FieldKind) -> Expr {
    let dtype = match kind {
        FieldKind::Text => DataType::String,
        FieldKind::Date => DataType::Int64,
        FieldKind::Boolean => DataType::Boolean,
    };
    lit(NULL).cast(dtype)
}

/// A value key: lower-case without spaces, `-` and `_`, as status words are matched.
fn value_key(expr: Expr) -> Expr {
    expr.str()
        .strip_chars(lit(NULL))
        .str()
        .to_lowercase()
        .str()
        .replace_all(lit(r"[\s_\-]"), lit(""), false)
}

/// Temporary columns of [`rows`].
const STATUS_RAW: &str = "status_raw";
const STATUS_KEY: &str = "status_key";

/// The status value as written (trimmed) and as a value key, for [`status_exprs`].
fn status_value_exprs(input: &Input) -> [Expr; 2] {
    match input.column_of(Field::Status) {
        Some(column) => [
            col(column).str().strip_chars(lit(NULL)).alias(STATUS_RAW),
            value_key(col(column)).alias(STATUS_KEY),
        ],
        None => [
            lit(NULL).cast(DataType::String).alias(STATUS_RAW),
            lit(NULL).cast(DataType::String).alias(STATUS_KEY),
        ],
    }
}

/// The canonical status of a row, and the value as written where no profile knows it. A row
/// without a status value takes the file's (from its name), else its withdrawal or bounce time,
/// else subscribed (SPEC §2.2, §2.4).
fn status_exprs(input: &Input) -> [Expr; 2] {
    let unsub = col(Field::UnsubscribedAt.name());
    let cleaned = col(Field::CleanedAt.name());
    let fallback = match &input.status_source {
        StatusSource::FileName(s) | StatusSource::Columns(s) => lit(s.name()),
        _ => when(unsub.is_not_null())
            .then(lit(Status::Unsubscribed.name()))
            .when(cleaned.is_not_null())
            .then(lit(Status::Cleaned.name()))
            .otherwise(lit(Status::Subscribed.name())),
    };
    let (words, statuses): (Vec<String>, Vec<&str>) = status_words(input.profile)
        .into_iter()
        .map(|(word, status)| (word, status.name()))
        .unzip();
    let known = col(STATUS_KEY).replace_strict(
        lit(Series::new("words".into(), words)),
        lit(Series::new("statuses".into(), statuses)),
        Some(lit(Status::Unknown.name())),
        Some(DataType::String),
    );
    let empty = col(STATUS_RAW)
        .is_null()
        .or(col(STATUS_RAW).str().len_bytes().eq(lit(0)));
    let status = when(empty).then(fallback).otherwise(known);
    let unknown_value = when(status.clone().eq(lit(Status::Unknown.name())))
        .then(col(STATUS_RAW))
        .otherwise(lit(NULL).cast(DataType::String));
    [
        status.alias(Field::Status.name()),
        unknown_value.alias(col::STATUS_UNKNOWN_VALUE),
    ]
}

/// The row columns every contacts frame has, in order, after [`rows`].
pub fn row_columns() -> Vec<&'static str> {
    let mut names = vec![col::FILE, col::LINE, Field::Email.name(), col::KEY];
    names.extend(
        Field::ALL
            .iter()
            .filter(|f| **f != Field::Email)
            .map(|f| f.name()),
    );
    names.extend([
        col::STATUS_UNKNOWN_VALUE,
        col::CONSENT_AT,
        col::CONSENT_COLUMN,
        col::CONSENT_HAS_TIME,
        col::ENGAGEMENT_FILE,
        col::SOURCE_REF,
    ]);
    names
}

/// A time of day in a date value (`10:54`), or an epoch number, which always has one.
const HAS_TIME: &str = r"\d:\d\d|^\s*\d{9,13}\s*$";

/// The fields the consent date may come from (SPEC §3.1).
const CONSENT_FIELDS: [Field; 3] = [Field::OptinAt, Field::ConfirmAt, Field::CreatedAt];

/// A temporary column: whether the raw value of a consent field carried a time of day.
fn has_time_column(field: Field) -> String {
    format!("{}_has_time", field.name())
}

/// One contacts input as canonical rows; `file` is its index in the run. Rows whose e-mail cell
/// is empty were already rejected by ingest and are dropped here.
pub fn rows(input: &Input, file: u32, policy: &Policy) -> (LazyFrame, Vec<DateColumn>) {
    debug_assert_eq!(input.role, Role::Contacts);
    let mut dates = Vec::new();
    let email_col = input.column_of(Field::Email).unwrap_or("");
    let mut exprs: Vec<Expr> = vec![
        lit(file).alias(col::FILE),
        col(col::LINE).cast(DataType::UInt32).alias(col::LINE),
        email::display(col(email_col)).alias(Field::Email.name()),
    ];
    exprs.extend(status_value_exprs(input));
    for field in Field::ALL {
        if matches!(field, Field::Email | Field::Status) {
            continue;
        }
        let expr = match input.column_of(field) {
            None => null_of(field.kind()),
            Some(column) => match field.kind() {
                FieldKind::Text => col(column).str().strip_chars(lit(NULL)),
                FieldKind::Boolean => boolean::parse_expr(col(column), false),
                FieldKind::Date => {
                    let order = input.profile.date_order.unwrap_or(policy.date_order);
                    let stats = Arc::new(DateStats::default());
                    dates.push(DateColumn {
                        file: input.name.clone(),
                        header: input.header_of(field).unwrap_or(column).to_string(),
                        field,
                        order,
                        stats: stats.clone(),
                    });
                    date::parse_expr(col(column), order, stats)
                }
            },
        };
        exprs.push(expr.alias(field.name()));
    }
    for field in CONSENT_FIELDS {
        let has_time = match input.column_of(field) {
            Some(column) => col(column)
                .str()
                .contains(lit(HAS_TIME), false)
                .fill_null(lit(false)),
            None => lit(false),
        };
        exprs.push(has_time.alias(has_time_column(field)));
    }
    exprs.push(lit(input.has_engagement()).alias(col::ENGAGEMENT_FILE));
    exprs.push(
        concat_str(
            [
                lit(format!("{}:", input.name)),
                col(col::LINE).cast(DataType::String),
            ],
            "",
            false,
        )
        .alias(col::SOURCE_REF),
    );
    let mut temporary: Vec<String> = CONSENT_FIELDS.map(has_time_column).to_vec();
    temporary.extend([STATUS_RAW.to_string(), STATUS_KEY.to_string()]);
    let frame = input
        .frame
        .clone()
        .filter(
            col(email_col)
                .str()
                .strip_chars(lit(NULL))
                .str()
                .len_bytes()
                .gt(lit(0)),
        )
        .select(exprs)
        .with_columns(status_exprs(input))
        .with_column(email::key(col(Field::Email.name())).alias(col::KEY))
        .with_columns(consent_exprs(input))
        .drop(cols(temporary))
        .select(row_columns().into_iter().map(col).collect::<Vec<_>>());
    (frame, dates)
}

/// The consent date (SPEC §3.1): the later of `optin_at` and `confirm_at`, else `created_at`;
/// with the header it came from and whether that value carried a time of day.
fn consent_exprs(input: &Input) -> Vec<Expr> {
    let optin = col(Field::OptinAt.name());
    let confirm = col(Field::ConfirmAt.name());
    let created = col(Field::CreatedAt.name());
    let header = |field: Field| match input.header_of(field) {
        Some(h) => lit(h.to_string()),
        None => lit(NULL).cast(DataType::String),
    };
    let raw_has_time = |field: Field| col(has_time_column(field));
    let confirm_wins = confirm.clone().is_not_null().and(
        optin
            .clone()
            .is_null()
            .or(confirm.clone().gt(optin.clone())),
    );
    let pick = |confirm_v: Expr, optin_v: Expr, created_v: Expr| {
        when(confirm_wins.clone())
            .then(confirm_v)
            .when(optin.clone().is_not_null())
            .then(optin_v)
            .when(created.clone().is_not_null())
            .then(created_v.clone())
            .otherwise(created_v)
    };
    vec![
        pick(confirm.clone(), optin.clone(), created.clone()).alias(col::CONSENT_AT),
        when(confirm_wins.clone())
            .then(header(Field::ConfirmAt))
            .when(optin.clone().is_not_null())
            .then(header(Field::OptinAt))
            .when(created.clone().is_not_null())
            .then(header(Field::CreatedAt))
            .otherwise(lit(NULL).cast(DataType::String))
            .alias(col::CONSENT_COLUMN),
        when(confirm_wins)
            .then(raw_has_time(Field::ConfirmAt))
            .when(optin.is_not_null())
            .then(raw_has_time(Field::OptinAt))
            .when(created.is_not_null())
            .then(raw_has_time(Field::CreatedAt))
            .otherwise(lit(false))
            .alias(col::CONSENT_HAS_TIME),
    ]
}

/// Activity column names after [`activity`].
pub mod activity_col {
    pub const KEY: &str = "key";
    pub const OPEN: &str = "activity_open_at";
    pub const OTHER: &str = "activity_other_at";
}

/// An `--activity` input as (key, latest open, latest other engagement) rows.
pub fn activity(input: &Input, policy: &Policy) -> (LazyFrame, Vec<DateColumn>) {
    let mut dates = Vec::new();
    let email_col = input.column_of(Field::Email).unwrap_or("");
    let mut opens = Vec::new();
    let mut others = Vec::new();
    for m in input.mapping.iter().filter(|m| m.field.is_engagement()) {
        let stats = Arc::new(DateStats::default());
        let order = input.profile.date_order.unwrap_or(policy.date_order);
        dates.push(DateColumn {
            file: input.name.clone(),
            header: m.header.clone(),
            field: m.field,
            order,
            stats: stats.clone(),
        });
        let parsed = date::parse_expr(col(input.columns[m.index].as_str()), order, stats);
        if m.field == Field::LastOpenAt {
            opens.push(parsed);
        } else {
            others.push(parsed);
        }
    }
    let latest = |exprs: Vec<Expr>| {
        if exprs.is_empty() {
            lit(NULL).cast(DataType::Int64)
        } else {
            max_horizontal(exprs).unwrap_or_else(|_| lit(NULL).cast(DataType::Int64))
        }
    };
    let present = col(email_col)
        .str()
        .strip_chars(lit(NULL))
        .str()
        .len_bytes()
        .gt(lit(0));
    let frame = input.frame.clone().filter(present).select([
        email::key(email::display(col(email_col))).alias(activity_col::KEY),
        latest(opens).alias(activity_col::OPEN),
        latest(others).alias(activity_col::OTHER),
    ]);
    (frame, dates)
}
