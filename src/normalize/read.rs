//! A clean file's records read straight into the typed columns [`super::typed_rows`] takes:
//! each cell is read once, as its field says (a date parsed, a status looked up, a name
//! trimmed), with no text column of it in between. This is what polars' own CSV reader does
//! with a schema; the text path ([`super::rows`]) does the same work with the same functions
//! over a frame of text columns, for files read record by record.
//!
//! The survey of the date columns (SPEC §2.3: the order of day and month is decided from all
//! of a column's values) is taken here too, over every record of the batch.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use polars::prelude::*;
use polars_arrow::array::BooleanArray;
use polars_arrow::datatypes::ArrowDataType;

use super::date::{self, DateOrder, DateStats};
use super::text::{self, Bits, Dictionary, Validity, trim};
use super::{DateColumn, EXAMPLE_ROWS, email, has_time, has_time_column, status_sources};
use crate::fields::{Field, FieldKind};
use crate::ingest::parts::{Parts, TextColumn, line_of};
use crate::ingest::profile::header_key;
use crate::ingest::{Input, LINE, cells};

/// How each used column of an input is read: built once a pass over the file, from the date
/// columns' decisions.
pub struct Plan {
    /// The sinks of each of the file's fields (most have none: they are not read).
    slots: Vec<Vec<usize>>,
    sinks: Vec<SinkPlan>,
    /// The e-mail field (its column): a record whose e-mail cell is blank is no row.
    email: usize,
}

enum SinkPlan {
    /// The address as written ([`email::display_of`]).
    Email,
    /// Trimmed text (white space only is empty text; an empty cell is none).
    Text(String),
    /// A name: trimmed text (white space only is none, so that a repeated address takes its
    /// first name that is there, not a blank one), held as its code in the batch's
    /// dictionary of names ([`Survey::names`]), which the run's dictionary takes a distinct
    /// name at a time. A text column of each, coded afterwards row by row, was written and
    /// read again: coding the names here took reading ten million rows from 4.21-4.24 to
    /// 3.94-3.97 CPU-s (two paired profiled runs).
    Name(String),
    /// A date field's instants under the column's order, with the column's counts; for a
    /// consent field, also whether the value carried a time of day (`has_time`).
    Date {
        name: String,
        order: DateOrder,
        stats: Arc<DateStats>,
        has_time: Option<String>,
    },
    /// Yes/no words (value keys) as Booleans.
    Boolean {
        name: String,
        words: Arc<PlHashMap<String, bool>>,
    },
    /// A status source's rank by its words, `unknown` for a word it does not know; and its
    /// value as written where it is unknown.
    Status {
        rank: String,
        raw: String,
        ranks: Arc<PlHashMap<String, i32>>,
        unknown: i32,
    },
    /// The date survey of one of the input's date columns (index into the survey's columns).
    Survey(usize),
}

impl Plan {
    /// The plan for `input` (a contacts file) whose date columns are read as `dates` say.
    pub fn new(input: &Input, dates: &[DateColumn]) -> Plan {
        let mut slots: Vec<Vec<usize>> = vec![Vec::new(); input.columns.len()];
        let mut sinks = Vec::new();
        let mut add = |index: usize, sink: SinkPlan| {
            slots[index].push(sinks.len());
            sinks.push(sink);
            sinks.len() - 1
        };
        let mut email = usize::MAX;
        for m in &input.mapping {
            let name = m.field.name().to_string();
            match (m.field, m.field.kind()) {
                (Field::Email, _) => {
                    add(m.index, SinkPlan::Email);
                    email = m.index;
                }
                (Field::Status, _) => {}
                (field, _) if super::UNREAD.contains(&field) => {}
                // A value the user declared for the field fills its blanks as text.
                (Field::FirstName | Field::LastName, _)
                    if !input.assumed.iter().any(|(f, _)| *f == m.field) =>
                {
                    add(m.index, SinkPlan::Name(name));
                }
                (_, FieldKind::Text) => {
                    add(m.index, SinkPlan::Text(name));
                }
                (field, FieldKind::Boolean) => {
                    let words = super::boolean::words(input.profile.bool_words)
                        .into_iter()
                        .map(|(w, v)| (w, v != 0))
                        .collect();
                    add(
                        m.index,
                        SinkPlan::Boolean {
                            name: field.name().to_string(),
                            words: Arc::new(words),
                        },
                    );
                }
                (field, FieldKind::Date) => {
                    let (order, stats) = match dates.iter().find(|d| d.field == field) {
                        Some(d) => (d.order, d.stats.clone()),
                        None => (DateOrder::DayFirst, Arc::new(DateStats::default())),
                    };
                    add(
                        m.index,
                        SinkPlan::Date {
                            name,
                            order,
                            stats,
                            has_time: super::CONSENT_FIELDS
                                .contains(&field)
                                .then(|| has_time_column(field)),
                        },
                    );
                }
            }
        }
        for (i, (column, words)) in status_sources(input).into_iter().enumerate() {
            let Some(index) = input.columns.iter().position(|c| c == column) else {
                continue;
            };
            let (raw, rank) = super::status_temp(i);
            let mut ranks = PlHashMap::new();
            for (w, s) in words {
                ranks.entry(w).or_insert(super::status::rank_of(s));
            }
            add(
                index,
                SinkPlan::Status {
                    rank,
                    raw,
                    ranks: Arc::new(ranks),
                    unknown: super::status::rank_of(crate::fields::Status::Unknown),
                },
            );
        }
        for (i, column) in super::DateSurvey::new(input).columns.iter().enumerate() {
            if let Some(index) = input.columns.iter().position(|c| *c == column.column) {
                add(index, SinkPlan::Survey(i));
            }
        }
        Plan {
            slots,
            sinks,
            email,
        }
    }
}

/// What one batch's records say beside its columns: about the date columns, for
/// [`super::DateSurvey::add_found`] (the records a rejected row aside, those the record-level
/// pass would have read), the records with no address, and the names its codes stand for.
#[derive(Debug, Default)]
pub struct Survey {
    /// Per column of the survey, in order.
    pub found: Vec<Found>,
    /// The records read, the rejected ones aside.
    pub rows: u64,
    /// Every record of the batch.
    pub records: u64,
    /// The records whose e-mail cell is empty, which ingest rejects: (line, raw text). The
    /// audit takes those of a file read without the structure check (the check found the
    /// others').
    pub no_email: Vec<(u64, String)>,
    /// The values of the batch's name columns ([`SinkPlan::Name`]), by their codes there:
    /// [`Dictionary::recode`] gives them the codes of the whole run.
    pub names: Vec<String>,
}

/// What one date column's values in a batch say: the largest first and second number of its
/// day-month values, and its first two values (trimmed, not empty) with the row of the
/// batch each stands on (the survey keeps those of the file's first rows).
#[derive(Debug, Default, Clone)]
pub struct Found {
    pub first: Option<i32>,
    pub second: Option<i32>,
    pub examples: Vec<(u64, String)>,
}

/// Reads the records of `batch` into the typed columns [`super::typed_rows`] takes, and what
/// they say of the date columns. A record whose e-mail cell is blank is left out (ingest
/// rejected it). `None` when the batch's file was not checked and is not clean after all
/// (see [`Parts::checked`]): it is to be checked and read again.
pub fn batch(batch: &Parts, plan: &Plan) -> PolarsResult<Option<(DataFrame, Survey)>> {
    let map = batch.map()?;
    let start = batch.splits.first().map_or(batch.len, |s| s.offset);
    let bytes = map
        .get(start as usize..batch.len as usize)
        .ok_or_else(|| changed(batch))?;
    // Not clean (or changed since the check): a checked file's parts are not read again.
    let unclean = || match batch.checked {
        true => Err(changed(batch)),
        false => Ok(None),
    };
    let rows = usize::try_from(batch.records).unwrap_or(0);
    let surveys = plan
        .sinks
        .iter()
        .filter(|s| matches!(s, SinkPlan::Survey(_)))
        .count();
    let mut reader = Reader {
        plan,
        sinks: plan.sinks.iter().map(|s| Sink::new(s, rows)).collect(),
        survey: Survey {
            found: vec![Found::default(); surveys],
            rows: 0,
            records: 0,
            no_email: Vec::new(),
            names: Vec::new(),
        },
        surveyed: vec![("", false); surveys],
        pending: 0,
        lines: Vec::with_capacity(rows),
        index: batch.splits.first().map_or(0, |s| s.record),
        record_lines: batch.record_lines.as_deref().map(Vec::as_slice),
        no_email: false,
        blank_email: false,
        scratch: String::new(),
        names: Dictionary::default(),
        failed: None,
    };
    match cells::split(bytes, batch.shape(), &mut reader) {
        Ok(records) => reader.survey.records = records,
        Err(_) => return unclean(),
    }
    if let Some(failed) = reader.failed {
        return Err(failed);
    }
    reader.survey.names = reader.names.into_names();
    let mut columns = vec![Column::new(LINE.into(), reader.lines)];
    for (sink, plan) in reader.sinks.into_iter().zip(&plan.sinks) {
        sink.finish(plan, &mut columns);
    }
    let height = columns[0].len();
    Ok(Some((DataFrame::new(height, columns)?, reader.survey)))
}

fn changed(batch: &Parts) -> PolarsError {
    polars_err!(ComputeError: "{}: the file changed while it was read", batch.path.display())
}

struct Reader<'a> {
    plan: &'a Plan,
    sinks: Vec<Sink>,
    survey: Survey,
    /// The current record's cells of the surveyed columns (and whether each is escaped):
    /// surveyed when the record ends, unless it is rejected.
    surveyed: Vec<(&'a str, bool)>,
    /// Which of `surveyed` hold a cell of the current record, a bit each: a survey is taken
    /// of each date field the file maps ([`super::DateSurvey::new`]), and of the
    /// [`Field::ALL`] 21 fields fewer than 64 are dates. Most records have none: a plain ISO
    /// date is not surveyed.
    pending: u64,
    lines: Vec<IdxSize>,
    /// The record being read, counted from the file's first data record.
    index: u64,
    record_lines: Option<&'a [u32]>,
    /// The current record's e-mail cell is empty or ASCII white space: ingest rejected it, and
    /// the record-level pass never reads it.
    no_email: bool,
    /// The current record's e-mail is blank (white space of any kind): it is no row.
    blank_email: bool,
    scratch: String,
    /// The batch's names ([`SinkPlan::Name`]).
    names: Dictionary,
    /// What stopped a value being read (a name with no code left), for [`batch`] to return.
    failed: Option<PolarsError>,
}

impl<'a> cells::Cells<'a> for Reader<'a> {
    #[inline(always)]
    fn cell(&mut self, field: usize, raw: &'a str, escaped: bool) {
        let slots = &self.plan.slots[field];
        if slots.is_empty() {
            return;
        }
        if field == self.plan.email {
            self.no_email = raw.bytes().all(|b| b.is_ascii_whitespace());
        }
        let text = if escaped {
            cells::unescape(raw, &mut self.scratch)
        } else {
            raw
        };
        // Whether the field's date sink read the value as plain ISO (its sinks come before its
        // survey's).
        let mut iso = false;
        for &sink in slots {
            match &mut self.sinks[sink] {
                Sink::Email(column) => {
                    self.blank_email |= trim(text).is_empty();
                    let display = email::display_of(text);
                    column.push_text((!text.is_empty()).then_some(display.as_ref()));
                }
                // A plain ISO date says nothing of the order of day and month: it is surveyed
                // only while its column's examples are taken. (Each of ten million rows' four
                // date values was surveyed, 0.1 CPU-s.)
                Sink::Survey(i) => {
                    if !iso || wants_example(&self.survey.found[*i], self.survey.rows) {
                        self.surveyed[*i] = (raw, escaped);
                        self.pending |= 1 << *i;
                    }
                }
                Sink::Name { codes, validity } => {
                    // A name of white space only is none: a later row's name is taken instead.
                    let code = match trim(text) {
                        "" => None,
                        name => self
                            .names
                            .code(name)
                            .map_err(|e| self.failed.get_or_insert(e))
                            .ok(),
                    };
                    codes.push(code.unwrap_or(0));
                    validity.push(code.is_some());
                }
                sink => iso |= sink.push(text),
            }
        }
    }

    fn end(&mut self, record: &'a str) -> bool {
        if self.no_email {
            let line = line_of(self.record_lines, self.index);
            let raw = record.to_string();
            self.survey.no_email.push((u64::from(line), raw));
        } else {
            let row = self.survey.rows;
            crate::normalize::columns::each_bit(self.pending, |i| {
                let (text, escaped) = self.surveyed[i];
                let text = if escaped {
                    cells::unescape(text, &mut self.scratch)
                } else {
                    text
                };
                survey(&mut self.survey.found[i], text, row);
            });
            self.survey.rows += 1;
        }
        if self.blank_email {
            for sink in &mut self.sinks {
                sink.pop();
            }
        } else {
            self.lines
                .push(line_of(self.record_lines, self.index) as IdxSize);
        }
        self.pending = 0;
        (self.no_email, self.blank_email) = (false, false);
        self.index += 1;
        true
    }
}

/// Adds a date value, on the batch's surveyed row `row`, to what its column's values say
/// (see [`super::DateSurvey::add`]).
fn survey(found: &mut Found, value: &str, row: u64) {
    let (first, second) = super::day_month(value);
    found.first = found.first.max(first);
    found.second = found.second.max(second);
    if wants_example(found, row) {
        let trimmed = value.trim();
        if !trimmed.is_empty() {
            found.examples.push((row, trimmed.to_string()));
        }
    }
}

/// Whether a date column's value on the batch's surveyed row `row` may be one of its examples.
fn wants_example(found: &Found, row: u64) -> bool {
    found.examples.len() < 2 && row < EXAMPLE_ROWS as u64
}

/// A column being read. Each record pushes one value to each sink of its fields (a survey
/// holds none); a record that is no row takes it back ([`Sink::pop`]).
enum Sink {
    Email(TextColumn),
    Text(TextColumn),
    /// The codes of a name column (pushed by [`Reader`], which holds the names).
    Name {
        codes: Vec<i32>,
        validity: Validity,
    },
    Date {
        values: Vec<i64>,
        validity: Validity,
        has_time: Option<Bits>,
        order: DateOrder,
        /// The counts of the values pushed, and of the last one (to take it back).
        counts: [u64; 3],
        last: [u64; 3],
    },
    Boolean {
        values: Bits,
        validity: Validity,
        memo: Memo<Option<bool>>,
    },
    Status {
        ranks: Vec<i32>,
        validity: Validity,
        /// The values as written where no word of the source knows them; made at the first
        /// such value (a list has few or none: a column of nulls cost 16 bytes a row).
        raw: Option<TextColumn>,
        memo: Memo<Option<i32>>,
        unknown: i32,
    },
    Survey(usize),
}

/// Answers per distinct value, for a column of a few distinct values (a status, a yes/no).
struct Memo<T> {
    seen: PlHashMap<Box<str>, T>,
    /// A value of up to 12 bytes by its number ([`text::short_key_of`]): no text hashed or
    /// compared (most statuses are that short).
    short: PlHashMap<u128, T>,
    work: Box<dyn Fn(&str) -> T + Send + Sync>,
}

impl<T: Copy> Memo<Option<T>> {
    /// A blank cell is none; any other is `of` what `table` holds for its words (see
    /// [`header_key`]), if anything.
    fn looked_up<W: Send + Sync + 'static>(
        table: Arc<PlHashMap<String, W>>,
        of: impl Fn(Option<&W>) -> Option<T> + Send + Sync + 'static,
    ) -> Self {
        Memo {
            seen: PlHashMap::new(),
            short: PlHashMap::new(),
            work: Box::new(move |v: &str| {
                if trim(v).is_empty() {
                    None
                } else {
                    of(table.get(&header_key(v)))
                }
            }),
        }
    }
}

impl<T: Copy> Memo<T> {
    fn get(&mut self, value: &str) -> T {
        let work = || (self.work)(value);
        match text::short_key_of(value.as_bytes()) {
            Some(key) => text::remembered(&mut self.short, &key, || key, work),
            None => text::remembered(&mut self.seen, value, || value.into(), work),
        }
    }
}

impl Sink {
    fn new(plan: &SinkPlan, rows: usize) -> Sink {
        match plan {
            SinkPlan::Email => Sink::Email(TextColumn::with_capacity(rows)),
            SinkPlan::Text(_) => Sink::Text(TextColumn::with_capacity(rows)),
            SinkPlan::Name(_) => Sink::Name {
                codes: Vec::with_capacity(rows),
                validity: Validity::with_capacity(rows),
            },
            SinkPlan::Date {
                order, has_time, ..
            } => Sink::Date {
                values: Vec::with_capacity(rows),
                validity: Validity::with_capacity(rows),
                has_time: has_time.as_ref().map(|_| Bits::with_capacity(rows)),
                order: *order,
                counts: [0; 3],
                last: [0; 3],
            },
            SinkPlan::Boolean { words, .. } => {
                let words = words.clone();
                Sink::Boolean {
                    values: Bits::with_capacity(rows),
                    validity: Validity::with_capacity(rows),
                    memo: Memo::looked_up(words, |word| word.copied()),
                }
            }
            SinkPlan::Status { ranks, unknown, .. } => {
                let (ranks_of, unknown) = (ranks.clone(), *unknown);
                Sink::Status {
                    ranks: Vec::with_capacity(rows),
                    validity: Validity::with_capacity(rows),
                    raw: None,
                    memo: Memo::looked_up(ranks_of, move |rank| {
                        Some(rank.copied().unwrap_or(unknown))
                    }),
                    unknown,
                }
            }
            SinkPlan::Survey(i) => Sink::Survey(*i),
        }
    }

    /// Adds the value of a cell, `text` as written (unquoted); whether it is a date read as
    /// plain ISO ([`date::parse_iso`]). The e-mail and the names are pushed by [`Reader`],
    /// which knows whether the row is one and holds the names.
    fn push(&mut self, text: &str) -> bool {
        match self {
            Sink::Text(column) => column.push_text((!text.is_empty()).then(|| trim(text))),
            Sink::Date {
                values,
                validity,
                has_time: with_time,
                order,
                counts,
                last,
            } => {
                // Most values are plain ISO, read in one step.
                let iso = date::parse_iso(text.as_bytes());
                if let Some(bits) = with_time {
                    // A plain ISO value has a time where it has one to read; any other value
                    // is looked at (one the parser cannot read may still carry a time).
                    bits.push(match iso {
                        Some(parsed) => parsed.has_time,
                        None => !text.is_empty() && has_time(text),
                    });
                }
                // (a value is there, it was read, its instant, it was read as UTC), as plain
                // values: the parsed value merged from either parser and copied whole was a
                // 16-byte load of two 8-byte stores, which the processor cannot forward (a
                // tenth of this function's samples).
                let (present, read, millis, naive) = match iso {
                    Some(p) => (true, true, p.millis, p.naive),
                    None if trim(text).is_empty() => (false, false, 0, false),
                    None => match date::parse_general(text, *order) {
                        Some(p) => (true, true, p.millis, p.naive),
                        None => (true, false, 0, false),
                    },
                };
                *last = [
                    u64::from(present),
                    u64::from(present && !read),
                    u64::from(read && naive),
                ];
                for (count, one) in counts.iter_mut().zip(*last) {
                    *count += one;
                }
                values.push(millis);
                validity.push(read);
                return iso.is_some();
            }
            Sink::Boolean {
                values,
                validity,
                memo,
            } => {
                let value = if text.is_empty() {
                    None
                } else {
                    memo.get(text)
                };
                values.push(value == Some(true));
                validity.push(value.is_some());
            }
            Sink::Status {
                ranks,
                validity,
                raw,
                memo,
                unknown,
            } => {
                let rank = if text.is_empty() {
                    None
                } else {
                    memo.get(text)
                };
                // The value as written is read only where no word of the source knows it.
                if rank == Some(*unknown) && raw.is_none() {
                    let mut column = TextColumn::with_capacity(ranks.capacity());
                    ranks.iter().for_each(|_| column.push_text(None::<&str>));
                    *raw = Some(column);
                }
                if let Some(raw) = raw {
                    raw.push_text((rank == Some(*unknown)).then(|| trim(text)));
                }
                ranks.push(rank.unwrap_or(0));
                validity.push(rank.is_some());
            }
            Sink::Email(_) | Sink::Name { .. } | Sink::Survey(_) => {}
        }
        false
    }

    /// Takes back the value last pushed.
    fn pop(&mut self) {
        match self {
            Sink::Email(column) | Sink::Text(column) => column.pop(),
            Sink::Name { codes, validity } => {
                codes.pop();
                validity.pop();
            }
            Sink::Date {
                values,
                validity,
                has_time,
                counts,
                last,
                ..
            } => {
                values.pop();
                validity.pop();
                if let Some(bits) = has_time {
                    bits.pop();
                }
                for (count, one) in counts.iter_mut().zip(*last) {
                    *count -= one;
                }
                *last = [0; 3];
            }
            Sink::Boolean {
                values, validity, ..
            } => {
                values.pop();
                validity.pop();
            }
            Sink::Status {
                ranks,
                validity,
                raw,
                ..
            } => {
                ranks.pop();
                validity.pop();
                if let Some(raw) = raw {
                    raw.pop();
                }
            }
            Sink::Survey(_) => {}
        }
    }

    /// The sink's columns, named as `plan` says, added to `columns`.
    fn finish(self, plan: &SinkPlan, columns: &mut Vec<Column>) {
        match (self, plan) {
            (Sink::Email(column), _) => {
                columns.push(column.finish(Field::Email.name()).into_column());
            }
            (Sink::Text(column), SinkPlan::Text(name)) => {
                columns.push(column.finish(name).into_column());
            }
            (Sink::Name { codes, validity }, SinkPlan::Name(name)) => {
                columns.push(
                    Int32Chunked::from_vec_validity(name.into(), codes, validity.finish())
                        .into_column(),
                );
            }
            (
                Sink::Date {
                    values,
                    validity,
                    has_time,
                    counts,
                    ..
                },
                SinkPlan::Date {
                    name,
                    stats,
                    has_time: time_name,
                    ..
                },
            ) => {
                stats.values.fetch_add(counts[0], Ordering::Relaxed);
                stats.unparseable.fetch_add(counts[1], Ordering::Relaxed);
                stats.naive.fetch_add(counts[2], Ordering::Relaxed);
                columns.push(
                    Int64Chunked::from_vec_validity(name.into(), values, validity.finish())
                        .into_column(),
                );
                if let (Some(bits), Some(time_name)) = (has_time, time_name) {
                    let array = BooleanArray::new(ArrowDataType::Boolean, bits.finish(), None);
                    columns.push(BooleanChunked::with_chunk(time_name.into(), array).into_column());
                }
            }
            (
                Sink::Boolean {
                    values, validity, ..
                },
                SinkPlan::Boolean { name, .. },
            ) => {
                let array =
                    BooleanArray::new(ArrowDataType::Boolean, values.finish(), validity.finish());
                columns.push(BooleanChunked::with_chunk(name.into(), array).into_column());
            }
            (
                Sink::Status {
                    ranks,
                    validity,
                    raw: raw_column,
                    ..
                },
                SinkPlan::Status { rank, raw, .. },
            ) => {
                let rows = ranks.len();
                columns.push(
                    Int32Chunked::from_vec_validity(rank.into(), ranks, validity.finish())
                        .into_column(),
                );
                columns.push(match raw_column {
                    Some(column) => column.finish(raw).into_column(),
                    None => Column::new_scalar(raw.into(), Scalar::null(DataType::String), rows),
                });
            }
            _ => {}
        }
    }
}
