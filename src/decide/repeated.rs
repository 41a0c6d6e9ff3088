//! The rows of a repeated key merged into one contact (SPEC §2.4), each key's rows a slice of
//! one order, and each contact column worked out over the slices in one pass.
//!
//! A real list repeats a few percent of its addresses. As a polars query (windows over the
//! key for the strongest evidence and the latest full sign-up, a group-by with an aggregation
//! per column, a sort) the 200 thousand repeated rows of ten million took 130-190 ms after
//! their filter, most of it on one core, and every row was numbered for the tie-break; here
//! a key's rows are put together by one stable sort of their first rows, and each column is a
//! loop over the keys or a gather of the row each key takes its value from (filter and merge
//! 93-119 ms against 160-225 ms, three runs each).

use std::fmt::Write;
use std::ops::Range;

use polars::prelude::*;

use super::col;
use super::rules::Evidence;
use crate::fields::Status;
use crate::normalize::status;
use crate::normalize::text::Dictionary;

/// How a repeated key's rows give one value of its contact.
#[derive(Debug, Clone, Copy)]
pub enum Agg {
    /// The key's first row's value.
    First,
    /// Every row's `file:line` (the file by its index in the run), joined by `;`: a code into
    /// the sources' dictionary.
    Sources,
    /// The largest value of the rows (none where no row has one).
    Max,
    /// The most restrictive status of the rows that a later full sign-up does not supersede.
    Status,
    /// The latest withdrawal or bounce of the rows that a later full sign-up does not
    /// supersede.
    Withdrawn,
    /// Whether any row's value is true.
    Any,
    /// The value of the row with the strongest evidence, the latest consent among equals, the
    /// first row among ties: every consent column comes from this one row.
    Best,
    /// The value of the first row that has one.
    FirstHeld,
}

/// Offsets that fold evidence and consent date into one comparable number (the strongest
/// evidence, the latest among equals). Any year 0–9999 fits below `EVIDENCE_STEP`.
const EVIDENCE_STEP: i64 = 1_000_000_000_000_000;
const DATE_OFFSET: i64 = 100_000_000_000_000;

/// The contacts of the repeated keys of `rows` (the [`super::prepare`]d rows of keys seen more
/// than once, in file order, with [`col::FIRST_ROW`]), one a key, ordered by
/// their first row: each `(name, from, aggregation)` of `merged` is a column of them named
/// `name`, of the rows' column `from` (the sources, the status and the withdrawal read the
/// columns they need, and have none), besides [`col::FIRST_ROW`]. The sources' text is coded
/// in `sources`.
pub fn merge(
    rows: &DataFrame,
    merged: &[(&'static str, Option<&'static str>, Agg)],
    sources: &mut Dictionary,
) -> PolarsResult<DataFrame> {
    let first_rows = numbers::<UInt32Type>(rows, col::FIRST_ROW)?;
    // The rows of each key together, in file order: the first of them is the key's first row.
    let mut order: Vec<usize> = (0..rows.height()).collect();
    order.sort_by_key(|&r| first_rows[r]);
    let mut keys: Vec<Range<usize>> = Vec::new();
    for (at, &r) in order.iter().enumerate() {
        match keys.last_mut() {
            Some(key) if first_rows[order[key.start]] == first_rows[r] => key.end = at + 1,
            _ => keys.push(at..at + 1),
        }
    }
    let facts = Facts::of(rows)?;
    let firsts: Vec<Option<IdxSize>> = keys
        .iter()
        .map(|key| Some(order[key.start] as IdxSize))
        .collect();
    let mut best = Vec::with_capacity(keys.len());
    let mut status = Vec::with_capacity(keys.len());
    let mut withdrawn = Vec::with_capacity(keys.len());
    for key in &keys {
        let key = &order[key.clone()];
        let merged = facts.merge(key);
        best.push(merged.best.map(|r| r as IdxSize));
        status.push(merged.status);
        withdrawn.push(merged.withdrawn);
    }
    // A column of the rows as one chunk, and the values at `at` of one (none at a none).
    let values = |name: &str| -> PolarsResult<Series> {
        Ok(rows.column(name)?.as_materialized_series().rechunk())
    };
    let gather = |values: Series, at: &[Option<IdxSize>]| -> PolarsResult<Column> {
        let at = IdxCa::from_iter_options(PlSmallStr::EMPTY, at.iter().copied());
        Ok(values.take(&at)?.into_column())
    };
    let mut columns = vec![Column::new(
        col::FIRST_ROW.into(),
        keys.iter()
            .map(|key| first_rows[order[key.start]])
            .collect::<Vec<_>>(),
    )];
    for &(name, from, agg) in merged {
        let from =
            || from.ok_or_else(|| polars_err!(ComputeError: "{name}: merged from no column"));
        let column = match agg {
            Agg::First => gather(values(from()?)?, &firsts)?,
            Agg::Best => gather(values(from()?)?, &best)?,
            Agg::FirstHeld => {
                let values = values(from()?)?;
                let held = values.is_not_null();
                let at: Vec<Option<IdxSize>> = keys
                    .iter()
                    .map(|key| {
                        order[key.clone()]
                            .iter()
                            .find(|&&r| held.get(r) == Some(true))
                            .map(|&r| r as IdxSize)
                    })
                    .collect();
                gather(values, &at)?
            }
            Agg::Max => max_of(rows, from()?, &keys, &order)?,
            Agg::Status => Column::new(PlSmallStr::EMPTY, &status),
            Agg::Withdrawn => Column::new(PlSmallStr::EMPTY, &withdrawn),
            Agg::Any => {
                let values = values(from()?)?;
                let values = values.bool()?;
                let any: Vec<bool> = keys
                    .iter()
                    .map(|key| {
                        order[key.clone()]
                            .iter()
                            .any(|&r| values.get(r) == Some(true))
                    })
                    .collect();
                Column::new(PlSmallStr::EMPTY, any)
            }
            Agg::Sources => {
                let (files, lines) = (
                    numbers::<UInt32Type>(rows, super::FILE)?,
                    numbers::<UInt32Type>(rows, super::LINE)?,
                );
                let mut text = String::new();
                let codes = keys
                    .iter()
                    .map(|key| {
                        text.clear();
                        for &r in &order[key.clone()] {
                            if let (Some(file), Some(line)) = (files[r], lines[r]) {
                                if !text.is_empty() {
                                    text.push(';');
                                }
                                // Writing to a String cannot fail.
                                let _ = write!(text, "{file}:{line}");
                            }
                        }
                        sources.code(&text)
                    })
                    .collect::<PolarsResult<Vec<i32>>>()?;
                Column::new(PlSmallStr::EMPTY, codes)
            }
        };
        columns.push(column.with_name(name.into()));
    }
    DataFrame::new(keys.len(), columns)
}

/// A column's values as numbers of type `T`, a row each (none where null).
fn numbers<T: PolarsNumericType>(
    rows: &DataFrame,
    name: &str,
) -> PolarsResult<Vec<Option<T::Native>>> {
    let values = rows
        .column(name)?
        .as_materialized_series()
        .cast(&T::get_static_dtype())?;
    Ok(values.unpack::<T>()?.iter().collect())
}

/// The largest value of each key's rows in column `name` (an Int32 or Int64 column).
fn max_of(
    rows: &DataFrame,
    name: &str,
    keys: &[Range<usize>],
    order: &[usize],
) -> PolarsResult<Column> {
    fn largest<T: PolarsNumericType>(
        rows: &DataFrame,
        name: &str,
        keys: &[Range<usize>],
        order: &[usize],
    ) -> PolarsResult<Column>
    where
        T::Native: Ord,
    {
        let values = numbers::<T>(rows, name)?;
        let most: Vec<Option<T::Native>> = keys
            .iter()
            .map(|key| order[key.clone()].iter().filter_map(|&r| values[r]).max())
            .collect();
        Ok(ChunkedArray::<T>::from_iter_options(PlSmallStr::EMPTY, most.into_iter()).into_column())
    }
    match rows.column(name)?.dtype() {
        DataType::Int32 => largest::<Int32Type>(rows, name, keys, order),
        DataType::Int64 => largest::<Int64Type>(rows, name, keys, order),
        other => polars_bail!(ComputeError: "{name}: no largest value of {other}"),
    }
}

/// The columns of the rows that decide which of a key's rows count: their status, evidence
/// and consent, and their withdrawal or bounce.
struct Facts {
    status: Vec<Option<i32>>,
    evidence: Vec<Option<i32>>,
    consent: Vec<Option<i64>>,
    /// A withdrawn or bounced row's withdrawal or bounce ([`col::EVENT_AT`]).
    event: Vec<Option<i64>>,
}

/// What a key's rows decide together.
struct Merged {
    /// The row its consent columns come from.
    best: Option<usize>,
    status: Option<i32>,
    withdrawn: Option<i64>,
}

impl Facts {
    fn of(rows: &DataFrame) -> PolarsResult<Facts> {
        Ok(Facts {
            status: numbers::<Int32Type>(rows, col::STATUS_RANK)?,
            evidence: numbers::<Int32Type>(rows, col::EVIDENCE)?,
            consent: numbers::<Int64Type>(rows, super::CONSENT_AT)?,
            event: numbers::<Int64Type>(rows, col::EVENT_AT)?,
        })
    }

    /// The merge of the rows `key` (in file order).
    fn merge(&self, key: &[usize]) -> Merged {
        let subscribed = status::rank_of(Status::Subscribed);
        let full = Evidence::Full.rank();
        // The latest full sign-up of a subscribed row.
        let resigned = key
            .iter()
            .filter(|&&r| self.status[r] == Some(subscribed) && self.evidence[r] == Some(full))
            .filter_map(|&r| self.consent[r])
            .max();
        let score = |r: usize| {
            self.evidence[r].map(|evidence| {
                i64::from(evidence) * EVIDENCE_STEP
                    + self.consent[r].unwrap_or(-DATE_OFFSET)
                    + DATE_OFFSET
            })
        };
        let strongest = key.iter().filter_map(|&r| score(r)).max();
        let best = strongest.and_then(|most| key.iter().copied().find(|&r| score(r) == Some(most)));
        // A withdrawal or bounce with a time is overridden by a later full sign-up of the same
        // person; one without a time never is. (Only a withdrawn or bounced row has an event.)
        let superseded =
            |r: usize| matches!((self.event[r], resigned), (Some(at), Some(later)) if at < later);
        let status = key
            .iter()
            .filter(|&&r| !superseded(r))
            .filter_map(|&r| self.status[r])
            .max();
        let withdrawn = key
            .iter()
            .filter(|&&r| !superseded(r))
            .filter_map(|&r| self.event[r])
            .max();
        Merged {
            best,
            status,
            withdrawn,
        }
    }
}
