//! Evaluates the rule tables of [`super::rules`] over a frame of rows or contacts.

use polars::prelude::*;
use polars_arrow::array::{BooleanArray, PrimitiveArray};
use polars_arrow::bitmap::{Bitmap, MutableBitmap};

use super::col;
use super::rules::{Cond, Days, Derived, Evidence, Pattern, Row, Switch};
use crate::fields;
use crate::normalize::columns::{self, bits_where, each_set, held, present};
use crate::normalize::date::start_of_day_millis;
use crate::normalize::status;
use crate::normalize::{email, text};
use crate::policy::{InactivityWithoutData, NoProof, Policy, whole_words};

const MS_PER_DAY: i64 = 86_400_000;

/// What a condition is compiled against: the policy and the start of the `--as-of` day.
pub struct Context<'a> {
    pub policy: &'a Policy,
    /// Milliseconds since the epoch at 00:00 UTC of the as-of day.
    pub as_of: i64,
}

impl Context<'_> {
    fn days(&self, days: Days) -> i64 {
        let p = self.policy;
        let n = match days {
            Days::Inactive => i64::from(p.inactive_days),
            Days::Reengage => i64::from(p.inactive_days) - i64::from(p.reengage_days),
            Days::PendingMax => i64::from(p.pending_max_days),
            Days::RepermissionGrace => i64::from(p.repermission_grace_days),
        };
        self.as_of - n * MS_PER_DAY
    }

    /// The pattern as a test of one value, and whether the column it tests repeats a few
    /// values (a source), so that each distinct value is tested once; none for the tests of an
    /// address itself ([`ADDRESS_PATTERNS`]), which are answered together.
    fn matcher(&self, pattern: Pattern) -> PolarsResult<Option<(Matcher, bool)>> {
        let p = self.policy;
        let regex = |pattern: &str| -> PolarsResult<Matcher> {
            let regex = regex::Regex::new(pattern).map_err(|e| polars_err!(ComputeError: "{e}"))?;
            Ok(Box::new(move |v: &str| regex.is_match(v)))
        };
        Ok(Some(match pattern {
            Pattern::BoughtSource => (regex(&whole_words(&p.bought_sources))?, true),
            Pattern::ImportSource => (regex(&whole_words(&p.import_sources))?, true),
            Pattern::PurchaseSource => (regex(&whole_words(&p.purchase_sources))?, true),
            Pattern::Placeholder => (regex(r"(?i)^\s*(?:unknown|-|n/a|none)\s*$")?, true),
            Pattern::ValidEmail | Pattern::DeletionRequest => return Ok(None),
        }))
    }

    fn switch(&self, switch: Switch) -> bool {
        let p = self.policy;
        match switch {
            Switch::SoftOptIn => p.soft_opt_in,
            Switch::RequireDoubleOptIn => p.require_double_opt_in,
            Switch::NoProofDeletes => p.no_proof == NoProof::Delete,
            Switch::InactivityFromConsentDate => {
                p.inactivity_without_data == InactivityWithoutData::ConsentDate
            }
        }
    }

    fn gdpr_cutoff(&self) -> i64 {
        use chrono::Datelike;
        let d = self.policy.gdpr_cutoff;
        start_of_day_millis(d.year(), d.month(), d.day())
    }
}

/// A test of one text value.
type Matcher = Box<dyn Fn(&str) -> bool + Send + Sync>;

/// The tests of an address itself, in the order [`address_tests`] answers them: both are
/// answered in one pass over the addresses (each a pass of its own, through a `dyn` call per
/// value, took 0.27 of the 0.71 CPU-s that judging ten million contacts cost).
const ADDRESS_PATTERNS: [Pattern; 2] = [Pattern::ValidEmail, Pattern::DeletionRequest];

/// An address's answers to [`ADDRESS_PATTERNS`].
fn address_tests(address: &str) -> [bool; 2] {
    [
        email::is_valid_address(address),
        email::is_deletion_request(address),
    ]
}

/// Rows per piece of [`shared_by_at_least`] at the least: a shorter part is one piece.
pub const SHARE_PART_ROWS: usize = 1 << 16;

/// Whether at least `min` of the rows among `parts` (each part's values, and the rows of them
/// counted) share each row's `key` of its value: each part's answer (false for a row not
/// counted). The parts are one list (the contacts' chunks, counted together). Most values on a
/// list are their own (consent seconds), so a first pass counts into a small table of
/// saturating counters by hash, which can only overcount; only the values whose counter
/// reaches `min` are then counted exactly. A hash table of every value cost more than all the
/// reasons together. Only the counted rows are visited.
///
/// The rows are cut into a piece per core, none longer than that and none shorter than
/// `part_rows` but a part's last: each pass runs on the pieces side by side, and the pieces'
/// counters are added up between passes. On one core it took 0.1 s of ten million contacts,
/// with the other core idle.
pub fn shared_by_at_least(
    parts: &[(&[i64], Bitmap)],
    key: impl Fn(i64) -> i64 + Sync,
    min: u32,
    part_rows: usize,
) -> Vec<Bitmap> {
    let counted: usize = parts.iter().map(|(_, rows)| rows.set_bits()).sum();
    let total: usize = parts.iter().map(|(_, rows)| rows.len()).sum();
    // About four values a counter: few counters reach `min` by chance.
    let bits = (usize::BITS - counted.leading_zeros())
        .saturating_sub(2)
        .clamp(16, 26);
    let slot = |v: i64| ((v as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize;
    let per = total
        .div_ceil(crate::parallel::cores())
        .max(part_rows)
        .next_multiple_of(8);
    // Each piece as its part and its rows in the part.
    let pieces: Vec<(usize, std::ops::Range<usize>)> = parts
        .iter()
        .enumerate()
        .flat_map(|(i, (_, rows))| {
            (0..rows.len())
                .step_by(per)
                .map(move |at| (i, at..rows.len().min(at + per)))
        })
        .collect();
    let mut counted = crate::parallel::map(pieces.clone(), |(i, piece)| {
        let mut counters = vec![0u8; 1 << bits];
        each_key(&parts[i].1, parts[i].0, &key, &piece, |_, v| {
            let counter = &mut counters[slot(v)];
            *counter = counter.saturating_add(1);
        });
        counters
    });
    let mut counters = counted.pop().unwrap_or_else(|| vec![0u8; 1 << bits]);
    for other in counted {
        for (counter, n) in counters.iter_mut().zip(other) {
            *counter = counter.saturating_add(n);
        }
    }
    let reach = |v: i64| u32::from(counters[slot(v)]) >= min.min(255);
    let mut counts: PlHashMap<i64, u32> = PlHashMap::new();
    for piece_counts in crate::parallel::map(pieces.clone(), |(i, piece)| {
        let mut counts: PlHashMap<i64, u32> = PlHashMap::new();
        each_key(&parts[i].1, parts[i].0, &key, &piece, |_, v| {
            if reach(v) {
                *counts.entry(v).or_insert(0) += 1;
            }
        });
        counts
    }) {
        for (v, n) in piece_counts {
            *counts.entry(v).or_insert(0) += n;
        }
    }
    // Each piece's answers as bits, eight to a byte. The counter rules out most values
    // without a lookup.
    let answers = crate::parallel::map(pieces.clone(), |(i, piece)| {
        let mut shared = vec![0u8; piece.len().div_ceil(8)];
        each_key(&parts[i].1, parts[i].0, &key, &piece, |row, v| {
            if reach(v) && counts.get(&v).is_some_and(|n| *n >= min) {
                let at = row - piece.start;
                shared[at / 8] |= 1 << (at % 8);
            }
        });
        Bitmap::from_u8_vec(shared, piece.len())
    });
    let mut shared: Vec<MutableBitmap> = parts
        .iter()
        .map(|(_, rows)| MutableBitmap::with_capacity(rows.len()))
        .collect();
    for ((i, _), answer) in pieces.iter().zip(answers) {
        shared[*i].extend_from_bitmap(&answer);
    }
    shared.into_iter().map(Bitmap::from).collect()
}

/// `f` of each row of `part` that is among `rows`, with the key of its value.
fn each_key(
    rows: &Bitmap,
    values: &[i64],
    key: &impl Fn(i64) -> i64,
    part: &std::ops::Range<usize>,
    mut f: impl FnMut(usize, i64),
) {
    each_set(&rows.clone().sliced(part.start, part.len()), |i| {
        let row = part.start + i;
        f(row, key(values[row]));
    });
}

/// The column a condition on `column`'s `values` reads, and the values as that column holds
/// them: the status and the evidence are held as their ranks (a number is 4 bytes a contact,
/// where a name took 16), found in the same tables the writer spells them by; every other
/// column as its text.
fn coded(column: &'static str, values: &[&str]) -> PolarsResult<(&'static str, Series)> {
    let (column, names) = if column == fields::Field::Status.name() {
        (col::STATUS_RANK, status::names_by_rank())
    } else if column == col::EVIDENCE {
        (col::EVIDENCE, Evidence::names())
    } else {
        return Ok((column, Series::new("values".into(), values.to_vec())));
    };
    let ranks = values
        .iter()
        .map(|v| {
            names
                .iter()
                .position(|name| name == v)
                .and_then(|rank| i32::try_from(rank).ok())
                .ok_or_else(|| polars_err!(ComputeError: "no {column} `{v}`"))
        })
        .collect::<PolarsResult<Vec<i32>>>()?;
    Ok((column, Series::new("values".into(), ranks)))
}

/// What a first-match table gives a row that none of its rows matches.
pub enum Otherwise<'a> {
    Value(i32),
    /// The row's own value in this column.
    Column(&'a Int32Chunked),
}

/// The rule tables evaluated over one frame of rows or contacts. Each condition's answer is a
/// bitmap, a bit a row, set where the condition holds: a condition is never null, and one that
/// reads a missing value does not hold. Compiled to polars expressions, each step of each
/// condition made a fresh column, each answer had its nulls filled, each first-match table was
/// a chain of `when`/`then`/`otherwise` over whole columns, and the deletion-request test ran
/// once for each reason that asks it; on ten million contacts the reasons and the outcome took
/// 0.76–1.03 s and the contact facts 0.43–0.53 s, against 0.41 s and 0.22 s as bitmaps.
pub struct Rules<'a, 'c> {
    frame: &'a DataFrame,
    cx: &'a Context<'c>,
    /// The columns worked out so far, in order; later conditions read them by name.
    derived: Vec<(PlSmallStr, Bitmap)>,
    /// The answers of text tests, which look at each value: the withdrawal and the suppression
    /// reasons both ask whether an address is a deletion request. The frame's columns do not
    /// change while it is evaluated, so an answer stays true.
    tested: Vec<(Cond, Bitmap)>,
    /// The values of the text columns whose tests are worked out once per distinct value.
    numbered: Vec<(&'static str, text::Numbered<'a>)>,
}

impl<'a, 'c> Rules<'a, 'c> {
    pub fn over(frame: &'a DataFrame, cx: &'a Context<'c>) -> Self {
        Rules {
            frame,
            cx,
            derived: Vec::new(),
            tested: Vec::new(),
            numbered: Vec::new(),
        }
    }

    /// Adds a column of `answer`s under `name`, which later conditions may read.
    pub fn derive(&mut self, name: impl Into<PlSmallStr>, answer: Bitmap) {
        self.derived.push((name.into(), answer));
    }

    /// The columns worked out, in the order they were.
    pub fn into_columns(self) -> Vec<Column> {
        self.derived
            .into_iter()
            .map(|(name, answer)| {
                let array = BooleanArray::new(ArrowDataType::Boolean, answer, None);
                BooleanChunked::with_chunk(name, array).into_column()
            })
            .collect()
    }

    /// The condition's answer for every row.
    pub fn answer(&mut self, cond: &Cond) -> PolarsResult<Bitmap> {
        let rows = self.frame.height();
        let cx = self.cx;
        let reads = match cond {
            Cond::True(c)
            | Cond::False(c)
            | Cond::Present(c)
            | Cond::OneOf(c, _)
            | Cond::Is(c, _)
            | Cond::Matches(c, _)
            | Cond::OlderThan(c, _)
            | Cond::OnOrBefore(c, _)
            | Cond::BeforeGdpr(c) => [Some(*c), None],
            Cond::Later(a, b) => [Some(*a), Some(*b)],
            _ => [None, None],
        };
        if reads.into_iter().flatten().any(|c| self.missing(c)) {
            return Ok(Bitmap::new_zeroed(rows));
        }
        Ok(match cond {
            Cond::True(c) => self.bools(c)?,
            Cond::False(c) => {
                let values = self.series(c, &DataType::Boolean)?;
                let values: &BooleanChunked = values.bool()?;
                known_true(&!values)
            }
            Cond::Present(c) => holds_value(self.frame.column(c)?)?,
            Cond::OneOf(c, values) => self.one_of(c, values)?,
            Cond::Is(c, v) => self.one_of(c, &[*v])?,
            Cond::Matches(c, p) => {
                if let Some((_, answer)) = self.tested.iter().find(|(t, _)| t == cond) {
                    return Ok(answer.clone());
                }
                let Some((matcher, repeats)) = cx.matcher(*p)? else {
                    // An address's tests in one pass over it, every answer kept.
                    let values = self.series(c, &DataType::String)?;
                    let answers = text::tested_each(values.str()?, address_tests)?;
                    for (pattern, answer) in ADDRESS_PATTERNS.into_iter().zip(answers) {
                        self.tested
                            .push((Cond::Matches(c, pattern), known_true(&answer)));
                    }
                    return self.answer(cond);
                };
                let answer = match self.numbered(c, repeats) {
                    Some(numbered) => numbered.test(&matcher),
                    None => {
                        let values = self.series(c, &DataType::String)?;
                        known_true(&text::tested(values.str()?, &matcher)?)
                    }
                };
                self.tested.push((cond.clone(), answer.clone()));
                answer
            }
            Cond::Later(a, b) => known_true(&self.instants(a)?.gt(&self.instants(b)?)),
            Cond::OlderThan(c, d) => self.before(c, cx.days(*d), false)?,
            Cond::OnOrBefore(c, d) => self.before(c, cx.days(*d), true)?,
            Cond::BeforeGdpr(c) => self.before(c, cx.gdpr_cutoff(), false)?,
            Cond::Policy(s) => Bitmap::new_with_value(cx.switch(*s), rows),
            Cond::Has(r) => self.bools(&r.column())?,
            Cond::SharedByMany { flag, by } => {
                // A consent second is the consent time truncated, worked out for the flagged
                // rows only: as a polars column of every contact it took 0.09 s of the 0.11 s
                // that the shares themselves take on ten million contacts.
                let (column, key): (&str, fn(i64) -> i64) = match *by {
                    col::CONSENT_SECOND => (col::CONSENT_AT, |at| at - at.rem_euclid(1000)),
                    by => (by, |v| v),
                };
                // Read chunk by chunk: the contacts keep the chunks their rows were read in,
                // and one array of them was a copy of the column (80 MB of ten million).
                let Some(values) = columns::numbers::<Int64Type>(self.frame, column)? else {
                    return Ok(Bitmap::new_zeroed(rows));
                };
                let flagged = self.bools(flag)?;
                let mut at = 0;
                let parts: Vec<(&[i64], Bitmap)> = values
                    .downcast_iter()
                    .map(|array| {
                        let flagged = flagged.clone().sliced(at, array.len());
                        at += array.len();
                        (array.values().as_slice(), &flagged & &present(array))
                    })
                    .collect();
                let min = cx.policy.import_artifact_min;
                joined(shared_by_at_least(&parts, key, min, SHARE_PART_ROWS).into_iter())
            }
            Cond::Not(c) => !&self.answer(c)?,
            // Once no row is left to decide, the rest is not asked.
            Cond::All(cs) => {
                let mut all = Bitmap::new_with_value(true, rows);
                for c in cs {
                    if all.set_bits() == 0 {
                        break;
                    }
                    all = &all & &self.answer(c)?;
                }
                all
            }
            Cond::Any(cs) => {
                let mut any = Bitmap::new_zeroed(rows);
                for c in cs {
                    if any.unset_bits() == 0 {
                        break;
                    }
                    any = &any | &self.answer(c)?;
                }
                any
            }
        })
    }

    /// A first-match table's `value` of the row that matches first, else `otherwise`.
    pub fn first_match<T>(
        &mut self,
        table: &[Row<T>],
        value: impl Fn(&T) -> i32,
        otherwise: Otherwise<'_>,
    ) -> PolarsResult<Int32Chunked> {
        let rows = self.frame.height();
        let (mut values, validity) = match otherwise {
            Otherwise::Value(v) => (vec![v; rows], None),
            Otherwise::Column(column) => {
                let mut values = Vec::with_capacity(rows);
                for array in column.downcast_iter() {
                    values.extend_from_slice(array.values());
                }
                let validity = (column.null_count() > 0).then(|| known_true(&column.is_not_null()));
                (values, validity)
            }
        };
        let mut decided = Bitmap::new_zeroed(rows);
        for row in table {
            let first = &self.answer(&row.when)? & &!&decided;
            let v = value(&row.value);
            each_set(&first, |i| values[i] = v);
            decided = &decided | &first;
        }
        let validity = validity.map(|valid| &valid | &decided);
        let array = PrimitiveArray::new(ArrowDataType::Int32, values.into(), validity);
        Ok(Int32Chunked::with_chunk(PlSmallStr::EMPTY, array))
    }

    /// The values of the text column `name`, numbered once for all its tests, where `repeats`
    /// says it repeats a few values; none for a column of other values, or not held as text.
    fn numbered(&mut self, name: &'static str, repeats: bool) -> Option<&text::Numbered<'a>> {
        if !repeats {
            return None;
        }
        let at = match self.numbered.iter().position(|(n, _)| *n == name) {
            Some(at) => at,
            None => {
                let frame: &'a DataFrame = self.frame;
                let values = frame
                    .column(name)
                    .ok()?
                    .as_materialized_series()
                    .str()
                    .ok()?;
                self.numbered.push((name, text::Numbered::of(values)));
                self.numbered.len() - 1
            }
        };
        Some(&self.numbered[at].1)
    }

    /// Whether the frame's column `name` holds no value at all, as the state's columns do in a
    /// run without a state: a condition that reads it is answered without spelling out its
    /// nulls (ten million of them took 80 MB).
    fn missing(&self, name: &str) -> bool {
        matches!(self.frame.column(name), Ok(Column::Scalar(s)) if s.scalar().is_null())
    }

    /// The column `name` of the frame, as `dtype` (a column the input lacked is all null and
    /// may have another type).
    fn series(&self, name: &str, dtype: &DataType) -> PolarsResult<Series> {
        let series = self.frame.column(name)?.as_materialized_series();
        if series.dtype() == dtype {
            Ok(series.clone())
        } else {
            series.cast(dtype)
        }
    }

    /// Where a Boolean column, of the frame or worked out, is true.
    fn bools(&self, name: &str) -> PolarsResult<Bitmap> {
        match self.derived.iter().find(|(n, _)| n == name) {
            Some((_, answer)) => Ok(answer.clone()),
            None => Ok(known_true(self.series(name, &DataType::Boolean)?.bool()?)),
        }
    }

    /// The instant column `name` of the frame.
    fn instants(&self, name: &str) -> PolarsResult<Int64Chunked> {
        Ok(self.series(name, &DataType::Int64)?.i64()?.clone())
    }

    /// Where the instant `name` holds a time before `limit` (or at it, when `inclusive`): a
    /// column of the frame, or the last activity, else the consent time ([`col::ACTIVITY_REF`]),
    /// worked out where it is read. As a column it took 8 bytes a contact, made afresh for each
    /// rule that reads it.
    fn before(&self, name: &str, limit: i64, inclusive: bool) -> PolarsResult<Bitmap> {
        let rows = self.frame.height();
        // Where the column's time is before the limit, and where it holds one.
        let before = |name: &str| -> PolarsResult<(Bitmap, Bitmap)> {
            let Some(at) = held::<Int64Type>(self.frame, name)? else {
                return Ok((Bitmap::new_zeroed(rows), Bitmap::new_zeroed(rows)));
            };
            let held = present(&at);
            let before = match inclusive {
                true => bits_where(at.values(), |t| t <= limit),
                false => bits_where(at.values(), |t| t < limit),
            };
            Ok((&before & &held, held))
        };
        Ok(match name {
            col::ACTIVITY_REF => {
                let (active, has_activity) = before(col::LAST_ACTIVITY)?;
                let (consented, _) = before(col::CONSENT_AT)?;
                &active | &(&consented & &!&has_activity)
            }
            _ => before(name)?.0,
        })
    }

    /// Where a text column holds one of `values`; the status and the evidence are compared
    /// as their ranks ([`coded`]).
    fn one_of(&self, column: &'static str, values: &[&str]) -> PolarsResult<Bitmap> {
        let (column, values) = coded(column, values)?;
        let series = self.frame.column(column)?.as_materialized_series();
        if let (Ok(codes), Ok(wanted)) = (series.i32(), values.i32()) {
            return Ok(among(
                codes,
                &wanted.into_no_null_iter().collect::<Vec<_>>(),
            ));
        }
        let mut any = Bitmap::new_zeroed(self.frame.height());
        for i in 0..values.len() {
            let one = series.equal(&values.slice(i as i64, 1))?;
            any = &any | &known_true(&one);
        }
        Ok(any)
    }
}

/// Where a column holds a value: not null, and for text not empty. A text cell of white
/// space only is read as empty text (the readers trim it), and no more shows an IP, a source or
/// a consent text than an empty cell does (SPEC §3.1: "no IP", "not empty").
fn holds_value(column: &Column) -> PolarsResult<Bitmap> {
    if column.dtype() != &DataType::String {
        return Ok(known_true(&column.is_not_null()));
    }
    if let Column::Scalar(constant) = column {
        let filled = constant
            .scalar()
            .value()
            .extract_str()
            .is_some_and(|text| !text.is_empty());
        return Ok(Bitmap::new_with_value(filled, column.len()));
    }
    Ok(joined(
        column
            .as_materialized_series()
            .str()?
            .downcast_iter()
            .map(text::non_empty),
    ))
}

/// Where a Boolean column is true; a null is not.
fn known_true(values: &BooleanChunked) -> Bitmap {
    joined(values.downcast_iter().map(|array| match array.validity() {
        Some(valid) => array.values() & valid,
        None => array.values().clone(),
    }))
}

/// Where a column of codes holds one of `wanted` ([`columns::among`] of each chunk).
fn among(codes: &Int32Chunked, wanted: &[i32]) -> Bitmap {
    joined(
        codes
            .downcast_iter()
            .map(|array| columns::among(array, wanted)),
    )
}

/// One bitmap of a column's chunks' bitmaps, in order.
fn joined(chunks: impl Iterator<Item = Bitmap>) -> Bitmap {
    let mut chunks = chunks.peekable();
    let Some(first) = chunks.next() else {
        return Bitmap::new();
    };
    if chunks.peek().is_none() {
        return first;
    }
    let mut bits = MutableBitmap::with_capacity(first.len());
    bits.extend_from_bitmap(&first);
    for chunk in chunks {
        bits.extend_from_bitmap(&chunk);
    }
    bits.freeze()
}

/// `frame` with the columns of `table` added in order (later ones may read earlier ones).
pub fn with_derived(
    mut frame: DataFrame,
    table: &[Derived],
    cx: &Context<'_>,
) -> PolarsResult<DataFrame> {
    let mut rules = Rules::over(&frame, cx);
    for derived in table {
        let answer = rules.answer(&derived.when)?;
        rules.derive(derived.name, answer);
    }
    for column in rules.into_columns() {
        frame.with_column(column)?;
    }
    Ok(frame)
}
