//! Normalise (SPEC §2.3): turn one input's string columns into the canonical, typed columns the
//! rules read — e-mail key and validity, canonical status, instants, booleans — and count what
//! could not be read.

pub mod boolean;
pub mod date;
pub mod email;
pub mod status;
pub mod text;

use std::sync::Arc;

use polars::lazy::dsl::max_horizontal;
use polars::prelude::*;

use crate::fields::{Field, FieldKind, Status};
use crate::ingest::profile::{header_key, status_words};
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
    /// The name of the row's file, as the outputs name it (with the line: `file:line`). The
    /// text `file:line` is only built for what is written, not for every row.
    pub const SOURCE_FILE: &str = "source_file";
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

/// The status-bearing columns of an input with the words each knows: the status column first,
/// then the profile's status-bearing columns (Brevo's blacklist, Substack's `email_disabled`).
fn status_sources(input: &Input) -> Vec<(&str, Vec<(String, Status)>)> {
    let mut sources = Vec::new();
    if let Some(column) = input.column_of(Field::Status) {
        sources.push((column, status_words(input.profile)));
    }
    for (column, sc) in input.status_columns() {
        let words = sc.values.iter().map(|(w, s)| (header_key(w), *s)).collect();
        sources.push((column, words));
    }
    sources
}

/// Temporary columns of [`rows`]: status source `i`'s value as written (trimmed) and its rank.
fn status_temp(i: usize) -> (String, String) {
    (format!("status_raw_{i}"), format!("status_rank_{i}"))
}

/// Each status source's value as written and the rank of the status it names: null where the
/// cell is empty, `unknown` for a value the source's words do not know.
fn status_value_exprs(input: &Input) -> Vec<Expr> {
    let unknown = status::rank_of(Status::Unknown);
    let mut exprs = Vec::new();
    for (i, (column, words)) in status_sources(input).into_iter().enumerate() {
        let (raw, rank) = status_temp(i);
        let mut ranks = PlHashMap::new();
        for (w, s) in words {
            ranks.entry(w).or_insert(status::rank_of(s));
        }
        exprs.push(text::trimmed(col(column)).alias(raw));
        exprs.push(text::lookup(col(column), ranks, Some(unknown)).alias(rank));
    }
    exprs
}

fn status_temporaries(input: &Input) -> Vec<String> {
    (0..status_sources(input).len())
        .flat_map(|i| {
            let (raw, rank) = status_temp(i);
            [raw, rank]
        })
        .collect()
}

/// The canonical status of a row, and the value as written where no profile knows it. The
/// status is the most restrictive that the status column, the profile's status-bearing columns
/// and the file name say; where none says anything, a withdrawal or bounce time decides, else
/// the row is subscribed (SPEC §2.2, §2.4).
fn status_exprs(input: &Input) -> [Expr; 2] {
    let rank = |s: Status| lit(status::rank_of(s));
    let mut candidates: Vec<(Expr, Expr)> = (0..status_sources(input).len())
        .map(|i| {
            let (raw, rank) = status_temp(i);
            (col(rank), col(raw))
        })
        .collect();
    if let StatusSource::FileName(s) | StatusSource::Columns(s) = &input.status_source {
        candidates.push((rank(*s), lit(NULL).cast(DataType::String)));
    }
    let fallback = when(col(Field::UnsubscribedAt.name()).is_not_null())
        .then(rank(Status::Unsubscribed))
        .when(col(Field::CleanedAt.name()).is_not_null())
        .then(rank(Status::Cleaned))
        .otherwise(rank(Status::Subscribed));
    let is_unknown = |r: Expr| r.eq(rank(Status::Unknown)).fill_null(lit(false));
    let (most, unknown_value) = match candidates.len() {
        0 => (fallback, lit(NULL).cast(DataType::String)),
        _ => {
            let ranks: Vec<Expr> = candidates.iter().map(|(r, _)| r.clone()).collect();
            let most = max_horizontal(ranks).unwrap_or_else(|_| lit(NULL).cast(DataType::Int32));
            let values: Vec<Expr> = candidates
                .iter()
                .map(|(r, raw)| {
                    when(is_unknown(r.clone()))
                        .then(raw.clone())
                        .otherwise(lit(NULL).cast(DataType::String))
                })
                .collect();
            (coalesce(&[most, fallback]), coalesce(&values))
        }
    };
    let unknown_value = when(is_unknown(most.clone()))
        .then(unknown_value)
        .otherwise(lit(NULL).cast(DataType::String));
    [
        status::from_rank(most).alias(Field::Status.name()),
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
        col::SOURCE_FILE,
    ]);
    names
}

/// Whether a date value carries a time of day (`10:54`), or is an epoch number, which always
/// has one.
fn has_time(value: &str) -> bool {
    let digits = value.trim();
    if (9..=13).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    value.as_bytes().windows(4).any(|w| {
        w[0].is_ascii_digit() && w[1] == b':' && w[2].is_ascii_digit() && w[3].is_ascii_digit()
    })
}

/// A field's value where the user declared it with `--assume`: the export's own value where it
/// has one, else the declared one.
fn assumed(input: &Input, field: Field, expr: Expr) -> Expr {
    let Some((_, value)) = input.assumed.iter().rev().find(|(f, _)| *f == field) else {
        return expr;
    };
    let declared = match field.kind() {
        FieldKind::Text => lit(value.clone()),
        FieldKind::Boolean => match boolean::parse_literal(value) {
            Some(b) => lit(b),
            None => lit(NULL).cast(DataType::Boolean),
        },
        FieldKind::Date => match date::parse(value, DateOrder::DayFirst) {
            Some(p) => lit(p.millis),
            None => lit(NULL).cast(DataType::Int64),
        },
    };
    coalesce(&[expr, declared])
}

/// The fields the consent date may come from (SPEC §3.1).
const CONSENT_FIELDS: [Field; 3] = [Field::OptinAt, Field::ConfirmAt, Field::CreatedAt];

/// A temporary column: whether the raw value of a consent field carried a time of day.
fn has_time_column(field: Field) -> String {
    format!("{}_has_time", field.name())
}

/// One contacts input as canonical rows; `file` is its index in the run. Rows whose e-mail cell
/// is empty were already rejected by ingest and are dropped here.
pub fn rows(input: &Input, file: u32, decisions: &[DateDecision]) -> (LazyFrame, Vec<DateColumn>) {
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
                FieldKind::Text => text::trimmed(col(column)),
                FieldKind::Boolean => boolean::parse_expr(col(column), input.profile.bool_words),
                FieldKind::Date => {
                    let decision = decisions.iter().find(|d| d.field == field);
                    let order = decision.map_or(DateOrder::DayFirst, |d| d.order);
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
        exprs.push(assumed(input, field, expr).alias(field.name()));
    }
    for field in CONSENT_FIELDS {
        let has_time = match input.column_of(field) {
            Some(column) => text::test(col(column), false, has_time).fill_null(lit(false)),
            None => lit(false),
        };
        exprs.push(has_time.alias(has_time_column(field)));
    }
    exprs.push(lit(input.has_engagement()).alias(col::ENGAGEMENT_FILE));
    exprs.push(lit(input.name.clone()).alias(col::SOURCE_FILE));
    let mut temporary: Vec<String> = CONSENT_FIELDS.map(has_time_column).to_vec();
    temporary.extend(status_temporaries(input));
    let frame = input
        .frame
        .clone()
        .filter(text::filled(col(email_col)))
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
pub fn activity(input: &Input, decisions: &[DateDecision]) -> (LazyFrame, Vec<DateColumn>) {
    let mut dates = Vec::new();
    let email_col = input.column_of(Field::Email).unwrap_or("");
    let mut opens = Vec::new();
    let mut others = Vec::new();
    for m in input.mapping.iter().filter(|m| m.field.is_engagement()) {
        let stats = Arc::new(DateStats::default());
        let order = decisions
            .iter()
            .find(|d| d.field == m.field)
            .map_or(DateOrder::DayFirst, |d| d.order);
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
    let present = text::filled(col(email_col));
    let frame = input.frame.clone().filter(present).select([
        email::key(email::display(col(email_col))).alias(activity_col::KEY),
        latest(opens).alias(activity_col::OPEN),
        latest(others).alias(activity_col::OTHER),
    ]);
    (frame, dates)
}

/// How one date column is read, decided from all its values (SPEC §2.3).
#[derive(Debug, Clone)]
pub struct DateDecision {
    pub field: Field,
    pub header: String,
    pub order: DateOrder,
    /// Why that order, in words.
    pub reason: String,
    /// The form the values take, from the first one.
    pub format: String,
    /// Up to two values as written.
    pub examples: Vec<String>,
}

/// The reason of a column whose values have no day-month order to decide.
pub const NO_DAY_MONTH: &str = "no day-month values";

/// The start of a day-month value, to find the columns that hold any.
const DAY_MONTH_START: &str = r"^\s*'?\d{1,2}[-/.]";

/// Examples for `inspect` and the report come from the first rows.
const EXAMPLE_ROWS: i64 = 10_000;

/// `dd-mm-yyyy`, `mm/dd/yy` and the like: the first two numbers, to decide their order.
const DAY_MONTH: &str = r"^\s*'?(\d{1,2})[-/.](\d{1,2})[-/.]\d{2,4}";

/// Decides the order of day and month for every date column of an input from all its values:
/// any first part above 12 means day-first, any second part above 12 month-first; a column that
/// stays ambiguous follows the profile, else the policy's `date_order`.
pub fn date_decisions(input: &Input, policy: &Policy) -> PolarsResult<Vec<DateDecision>> {
    let dated: Vec<&crate::ingest::profile::Mapped> = input
        .mapping
        .iter()
        .filter(|m| m.field.kind() == FieldKind::Date)
        .filter(|m| input.role == Role::Contacts || m.field.is_engagement())
        .collect();
    if dated.is_empty() {
        return Ok(Vec::new());
    }
    // First, cheaply: which columns hold any day-month value at all (most hold ISO dates), and
    // two examples from the first rows. Then the order query, only for the columns that need it.
    let column = |m: &crate::ingest::profile::Mapped| col(input.columns[m.index].as_str());
    let mut exprs = Vec::new();
    for (i, m) in dated.iter().enumerate() {
        exprs.push(
            column(m)
                .str()
                .contains(lit(DAY_MONTH_START), false)
                .any(true)
                .alias(format!("day_month_{i}")),
        );
        let head = column(m)
            .slice(lit(0), lit(EXAMPLE_ROWS))
            .str()
            .strip_chars(lit(NULL));
        let present = head.clone().filter(head.str().len_bytes().gt(lit(0)));
        exprs.push(present.clone().first().alias(format!("example_a_{i}")));
        exprs.push(
            present
                .slice(lit(1), lit(1))
                .first()
                .alias(format!("example_b_{i}")),
        );
    }
    let stats = input.frame.clone().select(exprs).collect()?;
    let flag = |name: &str| -> PolarsResult<bool> {
        Ok(stats.column(name)?.bool()?.get(0).unwrap_or(false))
    };
    let text = |name: &str| -> PolarsResult<Option<String>> {
        Ok(stats.column(name)?.str()?.get(0).map(str::to_string))
    };
    let mut orders = Vec::new();
    for (i, m) in dated.iter().enumerate() {
        if flag(&format!("day_month_{i}"))? {
            let part = |g: usize| {
                column(m)
                    .str()
                    .extract(lit(DAY_MONTH), g)
                    .cast(DataType::Int32)
                    .max()
            };
            orders.push(part(1).alias(format!("first_{i}")));
            orders.push(part(2).alias(format!("second_{i}")));
        }
    }
    let parts = if orders.is_empty() {
        DataFrame::empty()
    } else {
        input.frame.clone().select(orders).collect()?
    };
    let int = |name: &str| -> PolarsResult<Option<i32>> {
        match parts.column(name) {
            Ok(c) => Ok(c.i32()?.get(0)),
            Err(_) => Ok(None),
        }
    };
    let fallback = input.profile.date_order.unwrap_or(policy.date_order);
    let fallback_why = if input.profile.date_order.is_some() {
        format!("ambiguous, so {}'s order", input.profile.label)
    } else {
        "ambiguous, so the policy's date_order".to_string()
    };
    let mut decisions = Vec::new();
    for (i, m) in dated.iter().enumerate() {
        let first = int(&format!("first_{i}"))?;
        let second = int(&format!("second_{i}"))?;
        let (order, reason) = match (
            first.is_some_and(|v| v > 12),
            second.is_some_and(|v| v > 12),
        ) {
            (true, false) => (
                DateOrder::DayFirst,
                "day first: a first number above 12".to_string(),
            ),
            (false, true) => (
                DateOrder::MonthFirst,
                "month first: a second number above 12".to_string(),
            ),
            (true, true) => (
                fallback,
                format!(
                    "both numbers above 12 in some values: {fallback_why}; values that do not fit are not read"
                ),
            ),
            (false, false) if first.is_some() => (fallback, fallback_why.clone()),
            (false, false) => (fallback, NO_DAY_MONTH.to_string()),
        };
        let examples: Vec<String> = [
            text(&format!("example_a_{i}"))?,
            text(&format!("example_b_{i}"))?,
        ]
        .into_iter()
        .flatten()
        .collect();
        let format = examples
            .first()
            .map_or_else(|| "no values".to_string(), |v| date::describe(v, order));
        decisions.push(DateDecision {
            field: m.field,
            header: m.header.clone(),
            order,
            reason,
            format,
            examples,
        });
    }
    Ok(decisions)
}
