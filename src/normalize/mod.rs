//! Normalise (SPEC §2.3): turn one input's string columns into the canonical, typed columns the
//! rules read — e-mail key and validity, canonical status, instants, booleans — and count what
//! could not be read.

pub mod boolean;
pub mod columns;
pub mod date;
pub mod email;
pub mod read;
pub mod status;
pub mod text;

use std::sync::Arc;

use polars::lazy::dsl::max_horizontal;
use polars::prelude::*;
use polars_arrow::array::{Array, BooleanArray, PrimitiveArray};
use polars_arrow::bitmap::Bitmap;

use crate::fields::{Field, FieldKind, Status};
use crate::ingest::profile::{header_key, status_words};
use crate::ingest::{Input, Role, StatusSource};
use crate::policy::Policy;
use date::{DateOrder, DateStats};

/// Canonical row columns that are not fields.
pub mod col {
    /// Index of the input file (into the run's list of inputs). The outputs name a row by its
    /// file's name and line (`file:line`), spelled only for what is written: a name on every
    /// row cost more memory than any other column.
    pub const FILE: &str = "file";
    /// Line in the file the row starts on.
    pub const LINE: &str = "line";
    /// The e-mail key (lower-case address).
    pub const KEY: &str = "key";
    /// The canonical status as its rank ([`super::status::rank_of`]): how rows and contacts
    /// hold it, and what a rule on the status reads.
    pub const STATUS_RANK: &str = "status_rank";
    /// The status value as written, where no profile knows it.
    pub const STATUS_UNKNOWN_VALUE: &str = "status_unknown_value";
    /// The consent instant (SPEC §3.1) and the header it came from.
    pub const CONSENT_AT: &str = "consent_at";
    /// The header as a number, spelled by `consent_column_names`.
    pub const CONSENT_COLUMN: &str = "consent_column";
    /// Whether the consent value carried a time of day.
    pub const CONSENT_HAS_TIME: &str = "consent_has_time";
    /// Whether the row's file has an engagement column.
    pub const ENGAGEMENT_FILE: &str = "engagement_file";
}

/// One date column of an input as it is read: its order, and the count of its values for the
/// report.
#[derive(Debug)]
pub struct DateColumn {
    pub file: String,
    pub header: String,
    pub field: Field,
    pub order: DateOrder,
    pub stats: Arc<DateStats>,
}

impl DateColumn {
    /// The date columns of `input` read as `decisions` say, each with a fresh count.
    pub fn of(input: &Input, decisions: &[DateDecision]) -> Vec<DateColumn> {
        decisions
            .iter()
            .map(|d| DateColumn {
                file: input.name.clone(),
                header: d.header.clone(),
                field: d.field,
                order: d.order,
                stats: Arc::new(DateStats::default()),
            })
            .collect()
    }
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
pub(crate) fn status_sources(input: &Input) -> Vec<(&str, Vec<(String, Status)>)> {
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
pub(crate) fn status_temp(i: usize) -> (String, String) {
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

/// The canonical status of each row, and the value as written where no profile knows it. The
/// status is the most restrictive that the status column, the profile's status-bearing columns
/// and the file name say; where none says anything, a withdrawal or bounce time decides, else
/// the row is subscribed (SPEC §2.2, §2.4). The value as written is the first source's that
/// says `unknown` and has one, where the status is `unknown`.
fn status_columns(input: &Input, rows: &DataFrame) -> PolarsResult<[Column; 2]> {
    let height = rows.height();
    let unknown = status::rank_of(Status::Unknown);
    let mut most = vec![i32::MIN; height];
    let mut ranked = Bitmap::new_zeroed(height);
    let mut said = Vec::new();
    for i in 0..status_sources(input).len() {
        let (raw, rank) = status_temp(i);
        if let Some(ranks) = columns::held::<Int32Type>(rows, &rank)? {
            let holds = columns::present(&ranks);
            columns::raise(&mut most, ranks.values(), &holds);
            ranked = &ranked | &holds;
            said.push((ranks, raw));
        }
    }
    if let StatusSource::FileName(s) | StatusSource::Columns(s) = &input.status_source {
        let rank = status::rank_of(*s);
        most.iter_mut().for_each(|m| *m = (*m).max(rank));
        ranked = Bitmap::new_with_value(true, height);
    }
    if ranked.unset_bits() > 0 {
        let unsubscribed = columns::held::<Int64Type>(rows, Field::UnsubscribedAt.name())?;
        let cleaned = columns::held::<Int64Type>(rows, Field::CleanedAt.name())?;
        let has = |at: &Option<PrimitiveArray<i64>>, row: usize| {
            at.as_ref().is_some_and(|at| at.is_valid(row))
        };
        columns::each_set(&!&ranked, |row| {
            most[row] = status::rank_of(if has(&unsubscribed, row) {
                Status::Unsubscribed
            } else if has(&cleaned, row) {
                Status::Cleaned
            } else {
                Status::Subscribed
            });
        });
    }
    let unknowns = columns::bits_where(&most, |rank| rank == unknown);
    let written = if unknowns.set_bits() == 0 {
        // A constant: a column of nulls cost 16 bytes a row, zeroed.
        Column::new_scalar(
            col::STATUS_UNKNOWN_VALUE.into(),
            Scalar::null(DataType::String),
            height,
        )
    } else {
        let raws = said
            .iter()
            .map(|(ranks, raw)| Ok((ranks, rows.column(raw)?.str()?.rechunk())))
            .collect::<PolarsResult<Vec<_>>>()?;
        let value = |row: usize| {
            raws.iter().find_map(|(ranks, raw)| {
                (ranks.get(row) == Some(unknown))
                    .then(|| raw.get(row))
                    .flatten()
            })
        };
        let mut written = vec![None; height];
        columns::each_set(&unknowns, |row| written[row] = value(row));
        StringChunked::from_iter_options(col::STATUS_UNKNOWN_VALUE.into(), written.into_iter())
            .into_column()
    };
    Ok([
        Int32Chunked::from_vec(col::STATUS_RANK.into(), most).into_column(),
        written,
    ])
}

/// Frames of one schema, one after the other (their chunks are kept, not copied). A column
/// that is the same constant in every frame (see [`as_constants`]) stays a constant;
/// polars' own stacking writes it out.
pub fn stack(frames: Vec<DataFrame>) -> PolarsResult<DataFrame> {
    let height: usize = frames.iter().map(DataFrame::height).sum();
    let Some(first) = frames.first() else {
        return Ok(DataFrame::empty());
    };
    let constant = |column: &Column| match column {
        Column::Scalar(c) => Some(c.scalar().clone()),
        _ => None,
    };
    let constants: Vec<(usize, PlSmallStr, Scalar)> = first
        .columns()
        .iter()
        .enumerate()
        .filter_map(|(i, column)| {
            let value = constant(column)?;
            frames
                .iter()
                .all(|f| f.columns().get(i).and_then(constant).as_ref() == Some(&value))
                .then(|| (i, column.name().clone(), value))
        })
        .collect();
    let mut frames = frames
        .into_iter()
        .map(|frame| frame.drop_many(constants.iter().map(|(_, name, _)| name.clone())));
    let Some(mut all) = frames.next() else {
        return Ok(DataFrame::empty());
    };
    for frame in frames {
        all.vstack_mut_owned(frame)?;
    }
    for (i, name, value) in constants {
        all.insert_column(i, Column::new_scalar(name, value, height))?;
    }
    Ok(all)
}

/// `frame` with each column that holds one value on every row held as one constant: a column
/// still takes its full width a row (8 bytes for a time) when every row has the same value, or
/// none. A list without a column for a field (no order dates, no unknown status) would hold all
/// of those nulls, and every row of a file holds its file's number.
pub fn as_constants(mut frame: DataFrame) -> PolarsResult<DataFrame> {
    let height = frame.height();
    let mut constants = Vec::new();
    for column in frame.columns() {
        if !matches!(column, Column::Scalar(_))
            && let Some(value) = single_value(column)?
        {
            constants.push((column.name().clone(), value));
        }
    }
    for (name, value) in constants {
        frame.with_column(Column::new_scalar(name, value, height))?;
    }
    Ok(frame)
}

/// The one value every row of `column` holds (a null one if every row is null), if it has
/// rows and they do. A text column is only tested for being all null: comparing text costs
/// a pass over it, and no text column of the rows is one value.
pub fn single_value(column: &Column) -> PolarsResult<Option<Scalar>> {
    if let Column::Scalar(constant) = column {
        return Ok(Some(constant.scalar().clone()));
    }
    let height = column.len();
    if height == 0 {
        return Ok(None);
    }
    if column.null_count() == height {
        return Ok(Some(Scalar::null(column.dtype().clone())));
    }
    let dtype = column.dtype();
    if column.null_count() > 0 || !(dtype.is_primitive_numeric() || dtype.is_bool()) {
        return Ok(None);
    }
    let series = column.as_materialized_series();
    let (min, max) = (series.min_reduce()?, series.max_reduce()?);
    Ok((min == max).then_some(min))
}

/// The row columns every contacts frame has, in order, after [`rows`].
pub fn row_columns() -> Vec<&'static str> {
    // No key: it is the address's key (`email::key`), and a column of it took 16 bytes a row
    // for the whole run; the merge and the joins spell it where they need it.
    let mut names = vec![col::FILE, col::LINE, Field::Email.name()];
    names.extend(
        Field::ALL
            .iter()
            .filter(|f| !matches!(f, Field::Email | Field::Status))
            .map(|f| f.name()),
    );
    names.extend([
        col::STATUS_RANK,
        col::STATUS_UNKNOWN_VALUE,
        col::CONSENT_AT,
        col::CONSENT_COLUMN,
        col::CONSENT_HAS_TIME,
        col::ENGAGEMENT_FILE,
    ]);
    names
}

/// Whether a date value carries a time of day (`10:54`), or is an epoch number, which always
/// has one.
pub(crate) fn has_time(value: &str) -> bool {
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
pub(crate) const CONSENT_FIELDS: [Field; 3] = [Field::OptinAt, Field::ConfirmAt, Field::CreatedAt];

/// [`col::CONSENT_COLUMN`] is the consent date's column as a number, spelled by
/// [`consent_column_names`]; a text column of headers cost 16 bytes a row. This one is a
/// renewal's (SPEC §8), spelled `re-permission`.
pub const REPERMISSION_COLUMN: u32 = 0;

/// The number of `field`'s header in input `file`.
fn consent_column_code(file: u32, field: Field) -> u32 {
    let at = CONSENT_FIELDS.iter().position(|f| *f == field).unwrap_or(0) as u32;
    1 + file * CONSENT_FIELDS.len() as u32 + at
}

/// What each [`col::CONSENT_COLUMN`] number spells, for `inputs` in the run's order.
pub fn consent_column_names(inputs: &[Input]) -> Vec<String> {
    let mut names = vec!["re-permission".to_string()];
    for input in inputs {
        for field in CONSENT_FIELDS {
            names.push(input.header_of(field).unwrap_or_default().to_string());
        }
    }
    names
}

/// A temporary column: whether the raw value of a consent field carried a time of day.
pub(crate) fn has_time_column(field: Field) -> String {
    format!("{}_has_time", field.name())
}

/// Rows of one contacts input (all of them, or a batch) as canonical rows; `file` is the input's
/// index in the run, `dates` its date columns ([`DateColumn::of`]). Rows whose e-mail cell is
/// empty were already rejected by ingest and are dropped here.
pub fn rows(
    input: &Input,
    frame: LazyFrame,
    file: u32,
    dates: &[DateColumn],
) -> PolarsResult<LazyFrame> {
    debug_assert_eq!(input.role, Role::Contacts);
    let email_col = input.column_of(Field::Email).unwrap_or("");
    let converted = |field: Field, column: &str| match field.kind() {
        FieldKind::Text => text::trimmed(col(column)),
        FieldKind::Boolean => boolean::parse_expr(col(column), input.profile.bool_words),
        FieldKind::Date => match dates.iter().find(|d| d.field == field) {
            Some(d) => date::parse_expr(col(column), d.order, d.stats.clone()),
            // Every mapped date column has a decision; read day-first if not.
            None => date::parse_expr(
                col(column),
                DateOrder::DayFirst,
                Arc::new(DateStats::default()),
            ),
        },
    };
    let has_time = |column: &str| text::test(col(column), has_time).fill_null(lit(false));
    let exprs = row_exprs(
        input,
        file,
        email::display(col(email_col)),
        status_value_exprs(input),
        converted,
        has_time,
    );
    combined(
        input,
        file,
        frame.filter(text::filled(col(email_col))).select(exprs),
    )
}

/// The fields a list may have that no rule, output or report reads: the rows hold none of them
/// ([`row_exprs`]), and the typed reader leaves their cells unread (on ten million rows with
/// tags on half of them, reading took 2.47-2.57 s against 2.58-2.62 s, paired). They are
/// still found and shown by `inspect`, as the mapping of the list's columns.
pub const UNREAD: [Field; 1] = [Field::Tags];

/// [`rows`] of a batch that [`read::batch`] read: its cells are already what `rows` makes of
/// a text column, under the same names.
pub fn typed_rows(input: &Input, frame: LazyFrame, file: u32) -> PolarsResult<LazyFrame> {
    let status = (0..status_sources(input).len())
        .flat_map(|i| {
            let (raw, rank) = status_temp(i);
            [col(raw), col(rank)]
        })
        .collect();
    let exprs = row_exprs(
        input,
        file,
        col(Field::Email.name()),
        status,
        |field, _| col(field.name()),
        |column| {
            let field = CONSENT_FIELDS
                .into_iter()
                .find(|f| input.column_of(*f) == Some(column));
            field.map_or(lit(false), |f| col(has_time_column(f)))
        },
    );
    combined(input, file, frame.select(exprs))
}

/// The expressions of a row's fields, before they are combined: `email`, the status sources'
/// values and ranks, each field's value from its column (`value`, with what the user
/// declared where the file has none), and whether each consent value carries a time of day
/// (`has_time` of its column).
fn row_exprs(
    input: &Input,
    file: u32,
    email: Expr,
    status: Vec<Expr>,
    value: impl Fn(Field, &str) -> Expr,
    has_time: impl Fn(&str) -> Expr,
) -> Vec<Expr> {
    let mut exprs: Vec<Expr> = vec![
        lit(file).cast(DataType::UInt32).alias(col::FILE),
        col(col::LINE).cast(DataType::UInt32).alias(col::LINE),
        email.alias(Field::Email.name()),
    ];
    exprs.extend(status);
    for field in Field::ALL {
        if matches!(field, Field::Email | Field::Status) {
            continue;
        }
        let expr = match input.column_of(field) {
            Some(column) if !UNREAD.contains(&field) => value(field, column),
            _ => null_of(field.kind()),
        };
        exprs.push(assumed(input, field, expr).alias(field.name()));
    }
    for field in CONSENT_FIELDS {
        let expr = match input.column_of(field) {
            Some(column) => has_time(column),
            None => lit(false),
        };
        exprs.push(expr.alias(has_time_column(field)));
    }
    exprs.push(lit(input.has_engagement()).alias(col::ENGAGEMENT_FILE));
    exprs
}

/// The canonical row columns from [`row_exprs`]: the status and the consent date worked out
/// (a pass over the batch each), the temporary columns dropped. As polars expressions (a
/// maximum across the status sources, `when`/`then` chains) they took 0.34 of the 0.8 CPU-s
/// that preparing ten million rows cost.
fn combined(input: &Input, file: u32, frame: LazyFrame) -> PolarsResult<LazyFrame> {
    let mut rows = frame.collect()?;
    let [rank, written] = status_columns(input, &rows)?;
    let consent = consent_columns(input, file, &rows)?;
    for column in [rank, written].into_iter().chain(consent) {
        rows.with_column(column)?;
    }
    Ok(rows.select(row_columns())?.lazy())
}

/// The consent date (SPEC §3.1): the later of `optin_at` and `confirm_at`, else `created_at`;
/// with the header it came from and whether that value carried a time of day.
fn consent_columns(input: &Input, file: u32, rows: &DataFrame) -> PolarsResult<[Column; 3]> {
    let height = rows.height();
    let none = || Bitmap::new_zeroed(height);
    let [optin, confirm, created] = [Field::OptinAt, Field::ConfirmAt, Field::CreatedAt]
        .map(|field| columns::held::<Int64Type>(rows, field.name()));
    let (optin, confirm, created) = (optin?, confirm?, created?);
    let known = |at: &Option<PrimitiveArray<i64>>| at.as_ref().map_or_else(none, columns::present);
    // The confirmation wins where there is one, later than the opt-in or without one.
    let confirm_wins = match (&confirm, &optin) {
        (Some(confirmed), Some(opted)) => {
            let later: Bitmap = confirmed
                .values()
                .iter()
                .zip(opted.values().iter())
                .map(|(c, o)| c > o)
                .collect();
            &known(&confirm) & &(&!&known(&optin) | &later)
        }
        (Some(_), None) => known(&confirm),
        (None, _) => none(),
    };
    let from_optin = &known(&optin) & &!&confirm_wins;
    let from_created = &(&known(&created) & &!&confirm_wins) & &!&from_optin;
    let branches = [
        (Field::ConfirmAt, &confirm_wins, &confirm),
        (Field::OptinAt, &from_optin, &optin),
        (Field::CreatedAt, &from_created, &created),
    ];
    let at = columns::first_held(height, branches.map(|(_, rows, at)| (rows, at)));
    let mut codes = vec![0u32; height];
    let mut coded = none();
    let mut has_time = none();
    let mut time_unknown = none();
    for (field, taken, _) in branches {
        if input.header_of(field).is_some() {
            let code = consent_column_code(file, field);
            columns::each_set(taken, |row| codes[row] = code);
            coded = &coded | taken;
        }
        let times = rows
            .column(&has_time_column(field))?
            .as_materialized_series();
        for array in times.bool()?.rechunk().downcast_iter() {
            has_time = &has_time | &(taken & array.values());
            if let Some(valid) = array.validity() {
                time_unknown = &time_unknown | &(taken & &!valid);
            }
        }
    }
    let codes = PrimitiveArray::new(ArrowDataType::UInt32, codes.into(), Some(coded));
    let time_valid = (time_unknown.set_bits() > 0).then(|| !&time_unknown);
    let has_time = BooleanArray::new(ArrowDataType::Boolean, has_time, time_valid);
    Ok([
        Int64Chunked::with_chunk(col::CONSENT_AT.into(), at).into_column(),
        UInt32Chunked::with_chunk(col::CONSENT_COLUMN.into(), codes).into_column(),
        BooleanChunked::with_chunk(col::CONSENT_HAS_TIME.into(), has_time).into_column(),
    ])
}

/// Activity column names after [`activity`].
pub mod activity_col {
    pub const KEY: &str = "key";
    pub const OPEN: &str = "activity_open_at";
    pub const OTHER: &str = "activity_other_at";
}

/// Rows of an `--activity` input as (key, latest open, latest other engagement) rows; `dates`
/// are its date columns ([`DateColumn::of`]).
pub fn activity(input: &Input, frame: LazyFrame, dates: &[DateColumn]) -> LazyFrame {
    let email_col = input.column_of(Field::Email).unwrap_or("");
    let mut opens = Vec::new();
    let mut others = Vec::new();
    for m in input.mapping.iter().filter(|m| m.field.is_engagement()) {
        let Some(d) = dates.iter().find(|d| d.field == m.field) else {
            continue;
        };
        let parsed = date::parse_expr(
            col(input.columns[m.index].as_str()),
            d.order,
            d.stats.clone(),
        );
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
    frame.filter(present).select([
        email::key(email::display(col(email_col))).alias(activity_col::KEY),
        latest(opens).alias(activity_col::OPEN),
        latest(others).alias(activity_col::OTHER),
    ])
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
pub(crate) const EXAMPLE_ROWS: i64 = 10_000;

/// `dd-mm-yyyy`, `mm/dd/yy` and the like: the first two numbers, to decide their order.
pub const DAY_MONTH: &str = r"^\s*'?(\d{1,2})[-/.](\d{1,2})[-/.]\d{2,4}";

/// The first two numbers of a day-month value ([`DAY_MONTH`]), each as a number where its
/// digits make one (none for a value of another form). An ASCII value is read byte by byte;
/// any other by the pattern itself, whose digits and white space are Unicode's.
pub fn day_month(value: &str) -> (Option<i32>, Option<i32>) {
    // Three digits first (an ISO date's year, epoch seconds) are no day or month: most date
    // columns hold only such values, and each is surveyed.
    if value
        .as_bytes()
        .get(..3)
        .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
    {
        return (None, None);
    }
    if !value.is_ascii() {
        static PATTERN: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
        let pattern = PATTERN.get_or_init(|| regex::Regex::new(DAY_MONTH).ok());
        let Some(captures) = pattern.as_ref().and_then(|p| p.captures(value)) else {
            return (None, None);
        };
        let number = |g: usize| captures.get(g).and_then(|m| m.as_str().parse::<i32>().ok());
        return (number(1), number(2));
    }
    day_month_ascii(value.as_bytes()).map_or((None, None), |(a, b)| (Some(a), Some(b)))
}

fn day_month_ascii(b: &[u8]) -> Option<(i32, i32)> {
    let mut at = b
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
        .unwrap_or(b.len());
    if b.get(at) == Some(&b'\'') {
        at += 1;
    }
    // Up to `max` digits from `at`, then a separator when `sep`: the number and where it ends.
    let number = |at: usize, max: usize, sep: bool| -> Option<(i32, usize)> {
        let digits = b[at..]
            .iter()
            .take(max)
            .take_while(|c| c.is_ascii_digit())
            .count();
        let min = if sep { 1 } else { 2 };
        if digits < min || (sep && !matches!(b.get(at + digits), Some(b'-' | b'/' | b'.'))) {
            return None;
        }
        let n = b[at..at + digits]
            .iter()
            .fold(0i32, |n, d| n * 10 + i32::from(d - b'0'));
        Some((n, at + digits + usize::from(sep)))
    };
    let (first, at) = number(at, 2, true)?;
    let (second, at) = number(at, 2, true)?;
    number(at, 4, false)?;
    Some((first, second))
}

/// Decides the order of day and month for every date column of an input from all its values:
/// any first part above 12 means day-first, any second part above 12 month-first; a column that
/// stays ambiguous follows the profile, else the policy's `date_order`.
pub fn date_decisions(input: &Input, policy: &Policy) -> PolarsResult<Vec<DateDecision>> {
    let mut survey = DateSurvey::new(input);
    for batch in input.batches()? {
        survey.add(batch)?;
    }
    Ok(survey.decisions(input, policy))
}

/// What the values of an input's date columns say about their order of day and month, gathered
/// batch by batch, so that a large file is decided from all its values without holding them.
pub struct DateSurvey {
    pub(crate) columns: Vec<Surveyed>,
    /// Rows seen so far.
    rows: i64,
}

pub(crate) struct Surveyed {
    field: Field,
    header: String,
    /// The frame column.
    pub(crate) column: String,
    /// The largest first and second number of its day-month values.
    first: Option<i32>,
    second: Option<i32>,
    /// Up to two values from the first rows, trimmed.
    examples: Vec<String>,
}

impl DateSurvey {
    /// A survey of the date columns of `input` that the audit reads.
    pub fn new(input: &Input) -> DateSurvey {
        let columns = input
            .mapping
            .iter()
            .filter(|m| m.field.kind() == FieldKind::Date)
            .filter(|m| input.role == Role::Contacts || m.field.is_engagement())
            .map(|m| Surveyed {
                field: m.field,
                header: m.header.clone(),
                column: input.columns[m.index].clone(),
                first: None,
                second: None,
                examples: Vec::new(),
            })
            .collect();
        DateSurvey { columns, rows: 0 }
    }

    /// Adds the values of `frame`, the input's next rows.
    pub fn add(&mut self, frame: LazyFrame) -> PolarsResult<()> {
        if self.columns.is_empty() {
            return Ok(());
        }
        // First, cheaply: which columns hold any day-month value at all (most hold ISO dates),
        // and examples from the first rows. Then the order query, only for the columns that
        // need it.
        let head = (EXAMPLE_ROWS - self.rows).max(0);
        let mut exprs = vec![len().alias("rows")];
        for (i, c) in self.columns.iter().enumerate() {
            exprs.push(
                col(c.column.as_str())
                    .str()
                    .contains(lit(DAY_MONTH_START), false)
                    .any(true)
                    .alias(format!("day_month_{i}")),
            );
            let head = col(c.column.as_str())
                .slice(lit(0), lit(head))
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
        let stats = frame.clone().select(exprs).collect()?;
        let mut orders = Vec::new();
        for (i, c) in self.columns.iter_mut().enumerate() {
            for example in ["a", "b"] {
                let value = stats
                    .column(&format!("example_{example}_{i}"))?
                    .str()?
                    .get(0);
                if let Some(value) = value
                    && c.examples.len() < 2
                {
                    c.examples.push(value.to_string());
                }
            }
            if stats.column(&format!("day_month_{i}"))?.bool()?.get(0) == Some(true) {
                let part = |g: usize| {
                    col(c.column.as_str())
                        .str()
                        .extract(lit(DAY_MONTH), g)
                        .cast(DataType::Int32)
                        .max()
                };
                orders.push(part(1).alias(format!("first_{i}")));
                orders.push(part(2).alias(format!("second_{i}")));
            }
        }
        let rows = stats.column("rows")?.cast(&DataType::Int64)?;
        self.rows += rows.i64()?.get(0).unwrap_or(0);
        if orders.is_empty() {
            return Ok(());
        }
        let parts = frame.select(orders).collect()?;
        for (i, c) in self.columns.iter_mut().enumerate() {
            let int = |name: String| -> PolarsResult<Option<i32>> {
                match parts.column(&name) {
                    Ok(c) => Ok(c.i32()?.get(0)),
                    Err(_) => Ok(None),
                }
            };
            c.first = c.first.max(int(format!("first_{i}"))?);
            c.second = c.second.max(int(format!("second_{i}"))?);
        }
        Ok(())
    }

    /// Adds what [`read::batch`] found in the input's next rows.
    pub fn add_found(&mut self, survey: &read::Survey) {
        for (c, found) in self.columns.iter_mut().zip(&survey.found) {
            c.first = c.first.max(found.first);
            c.second = c.second.max(found.second);
            for (row, example) in &found.examples {
                if c.examples.len() < 2 && self.rows + (*row as i64) < EXAMPLE_ROWS {
                    c.examples.push(example.clone());
                }
            }
        }
        self.rows += survey.rows as i64;
    }

    /// The decision for every column, from the values added so far.
    pub fn decisions(&self, input: &Input, policy: &Policy) -> Vec<DateDecision> {
        let fallback = input.profile.date_order.unwrap_or(policy.date_order);
        let fallback_why = if input.profile.date_order.is_some() {
            format!("ambiguous, so {}'s order", input.profile.label)
        } else {
            "ambiguous, so the policy's date_order".to_string()
        };
        self.columns
            .iter()
            .map(|c| {
                let (order, reason) = match (
                    c.first.is_some_and(|v| v > 12),
                    c.second.is_some_and(|v| v > 12),
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
                    (false, false) if c.first.is_some() => (fallback, fallback_why.clone()),
                    (false, false) => (fallback, NO_DAY_MONTH.to_string()),
                };
                let format = c
                    .examples
                    .first()
                    .map_or_else(|| "no values".to_string(), |v| date::describe(v, order));
                DateDecision {
                    field: c.field,
                    header: c.header.clone(),
                    order,
                    reason,
                    format,
                    examples: c.examples.clone(),
                }
            })
            .collect()
    }
}
