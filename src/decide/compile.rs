//! Compiles the rule tables of [`super::rules`] to polars expressions.

use polars::prelude::*;

use super::col;
use super::rules::{Cond, Days, Derived, Evidence, Pattern, Row, Switch};
use crate::fields;
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
    /// values (a source), so that each distinct value is tested once.
    fn matcher(&self, pattern: Pattern) -> PolarsResult<(Matcher, bool)> {
        let p = self.policy;
        let regex = |pattern: &str| -> PolarsResult<Matcher> {
            let regex = regex::Regex::new(pattern).map_err(|e| polars_err!(ComputeError: "{e}"))?;
            Ok(Box::new(move |v: &str| regex.is_match(v)))
        };
        Ok(match pattern {
            Pattern::BoughtSource => (regex(&whole_words(&p.bought_sources))?, true),
            Pattern::ImportSource => (regex(&whole_words(&p.import_sources))?, true),
            Pattern::PurchaseSource => (regex(&whole_words(&p.purchase_sources))?, true),
            Pattern::Placeholder => (regex(r"(?i)^\s*(?:unknown|-|n/a|none)\s*$")?, true),
            Pattern::ValidEmail => (Box::new(email::is_valid_address), false),
            Pattern::DeletionRequest => (Box::new(email::is_deletion_request), false),
        })
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

/// Whether at least `min` rows share each row's value (false for null). Most values on a list
/// are their own (consent seconds), so a first pass counts into a small table of saturating
/// counters by hash, which can only overcount; only the values whose counter reaches `min` are
/// then counted exactly. A hash table of every value cost more than all the reasons together.
fn shared_by_at_least(values: Expr, min: u32) -> Expr {
    values.map(
        move |c: Column| {
            let values = c.i64()?;
            // About four values a counter: few counters reach `min` by chance.
            let bits = (usize::BITS - values.len().leading_zeros())
                .saturating_sub(2)
                .clamp(16, 26);
            let slot =
                |v: i64| ((v as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize;
            let mut counters = vec![0u8; 1 << bits];
            for_each_present(values, |_, v| {
                let counter = &mut counters[slot(v)];
                *counter = counter.saturating_add(1);
            });
            let reach = |v: i64| u32::from(counters[slot(v)]) >= min.min(255);
            let mut counts: PlHashMap<i64, u32> = PlHashMap::new();
            for_each_present(values, |_, v| {
                if reach(v) {
                    *counts.entry(v).or_insert(0) += 1;
                }
            });
            // The answers as bits, eight to a byte; a null is no share. The counter rules out
            // most values without a lookup.
            let mut shared = vec![0u8; values.len().div_ceil(8)];
            for_each_present(values, |row, v| {
                if reach(v) && counts.get(&v).is_some_and(|n| *n >= min) {
                    shared[row / 8] |= 1 << (row % 8);
                }
            });
            let shared = polars_arrow::array::BooleanArray::new(
                ArrowDataType::Boolean,
                polars_arrow::bitmap::Bitmap::from_u8_vec(shared, values.len()),
                None,
            );
            Ok(BooleanChunked::with_chunk(c.name().clone(), shared).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::Boolean)),
    )
}

/// `f` of each value that is not null, with its row: only the set bits of a chunk's validity
/// are visited, where most rows are null. Iterating `Option`s over every row, and collecting
/// `Option<bool>`s, took the contact facts of ten million contacts 0.43-0.45 s, against
/// 0.33 s now.
fn for_each_present(values: &Int64Chunked, mut f: impl FnMut(usize, i64)) {
    let mut start = 0;
    for array in values.downcast_iter() {
        let numbers = array.values();
        match array.validity() {
            Some(valid) => valid.true_idx_iter().for_each(|i| f(start + i, numbers[i])),
            None => numbers
                .iter()
                .enumerate()
                .for_each(|(i, &v)| f(start + i, v)),
        }
        start += array.len();
    }
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

/// What a condition reads by `name`: a contact column, or one of the values the rules work out
/// from the contact columns where they read them. A column of those held 8 bytes a contact
/// through all the rules, at the peak of the run.
fn value(name: &str) -> Expr {
    match name {
        // Truncated to the second; toward zero, which groups values just as well.
        col::CONSENT_SECOND => col(col::CONSENT_AT) - col(col::CONSENT_AT) % lit(1000i64),
        col::ACTIVITY_REF => coalesce(&[col(col::LAST_ACTIVITY), col(col::CONSENT_AT)]),
        _ => col(name),
    }
}

/// A condition as a Boolean expression that is never null.
pub fn expr(cond: &Cond, cx: &Context<'_>) -> PolarsResult<Expr> {
    let never_null = |e: Expr| e.fill_null(lit(false));
    Ok(match cond {
        Cond::True(c) => never_null(col(*c)),
        Cond::False(c) => never_null(col(*c).eq(lit(false))),
        Cond::Present(c) => col(*c).is_not_null(),
        Cond::OneOf(c, values) => {
            let (column, values) = coded(c, values)?;
            never_null(col(column).is_in(lit(values).implode(false), false))
        }
        Cond::Is(c, v) => {
            let (column, value) = coded(c, &[*v])?;
            let value = Scalar::new(value.dtype().clone(), value.get(0)?.into_static());
            never_null(col(column).eq(lit(value)))
        }
        Cond::Matches(c, p) => {
            let (matcher, memoize) = cx.matcher(*p)?;
            never_null(text::test(col(*c), memoize, matcher))
        }
        Cond::Later(a, b) => never_null(col(*a).gt(col(*b))),
        Cond::OlderThan(c, d) => never_null(value(c).lt(lit(cx.days(*d)))),
        Cond::OnOrBefore(c, d) => never_null(col(*c).lt_eq(lit(cx.days(*d)))),
        Cond::BeforeGdpr(c) => never_null(col(*c).lt(lit(cx.gdpr_cutoff()))),
        Cond::Policy(s) => lit(cx.switch(*s)),
        Cond::Has(r) => never_null(col(r.column())),
        Cond::SharedByMany { flag, by } => {
            // The `by` value of each flagged row (null elsewhere), counted in one hash pass:
            // a window over every row cost more than all the reasons together.
            let flagged = when(col(*flag).fill_null(lit(false)))
                .then(value(by))
                .otherwise(lit(NULL).cast(DataType::Int64));
            never_null(shared_by_at_least(flagged, cx.policy.import_artifact_min))
        }
        Cond::Not(c) => expr(c, cx)?.not(),
        Cond::All(cs) => cs
            .iter()
            .map(|c| expr(c, cx))
            .collect::<PolarsResult<Vec<_>>>()?
            .into_iter()
            .reduce(Expr::and)
            .unwrap_or(lit(true)),
        Cond::Any(cs) => cs
            .iter()
            .map(|c| expr(c, cx))
            .collect::<PolarsResult<Vec<_>>>()?
            .into_iter()
            .reduce(Expr::or)
            .unwrap_or(lit(false)),
    })
}

/// Adds derived columns in table order (later ones may read earlier ones).
pub fn with_derived(
    frame: LazyFrame,
    table: &[Derived],
    cx: &Context<'_>,
) -> PolarsResult<LazyFrame> {
    table.iter().try_fold(frame, |frame, d| {
        Ok(frame.with_column(expr(&d.when, cx)?.alias(d.name)))
    })
}

/// A first-match table as one expression yielding the matching row's `value` (its name or
/// code), else `default`.
pub fn first_match<T>(
    table: &[Row<T>],
    value: impl Fn(&T) -> Expr,
    default: Expr,
    cx: &Context<'_>,
) -> PolarsResult<Expr> {
    table.iter().rev().try_fold(default, |otherwise, row| {
        Ok(when(expr(&row.when, cx)?)
            .then(value(&row.value))
            .otherwise(otherwise))
    })
}
