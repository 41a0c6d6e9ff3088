//! Decide (SPEC §2.4 and §3): merge the rows of one person into one contact, judge the evidence
//! of consent, collect every reason that applies and pick the outcome. The merge runs as polars
//! expressions over the whole frame; the rules are the tables in [`rules`], evaluated by
//! [`evaluate::Rules`] a condition at a time.

pub mod evaluate;
mod order;
mod repeated;
pub mod rules;

use polars::lazy::dsl::max_horizontal;
use polars::prelude::*;

use crate::fields::{Field, Status};
pub use crate::normalize::col::{
    CONSENT_AT, CONSENT_COLUMN, CONSENT_HAS_TIME, ENGAGEMENT_FILE, FILE, KEY, LINE,
    STATUS_UNKNOWN_VALUE,
};
use crate::normalize::columns::{among, first_held, held, present, raise, starts};
use crate::normalize::email::key_of;
use crate::normalize::status;
use crate::normalize::text::Dictionary;
use crate::normalize::{self, activity_col};
pub use order::in_first_row_order;
use polars_arrow::array::{BooleanArray, PrimitiveArray};
use polars_arrow::bitmap::{Bitmap, MutableBitmap};
use polars_arrow::datatypes::ArrowDataType;
use std::collections::BTreeMap;
use std::hash::BuildHasher;

use chrono::{Datelike, NaiveDate};

use crate::normalize::date::{DateOrder, parse, start_of_day_millis};
use crate::policy::{Policy, Preset};
use crate::state::{Listed, Suppressed};
use evaluate::{Context, Otherwise, Rules, with_derived};
use repeated::Agg;
use rules::{Evidence, Outcome, Reason, Row};

/// Column names the rules and the outputs read, beyond the canonical fields.
pub mod col {
    pub use crate::normalize::col::*;
    pub const HAS_IP: &str = "has_ip";
    pub const DOI_CONFIRMED: &str = "doi_confirmed";
    pub const BOUGHT_SOURCE: &str = "bought_source";
    pub const IMPORT_SOURCE: &str = "import_source";
    pub const PURCHASE_SOURCE: &str = "purchase_source";
    pub const MEANINGFUL_SOURCE: &str = "meaningful_source";
    /// The evidence as its [`super::Evidence::rank`]; the rules name it, the writer spells it.
    pub const EVIDENCE: &str = "evidence";
    /// The consent time to the second; worked out where a rule reads it, never held.
    pub const CONSENT_SECOND: &str = "consent_second";
    pub const ARTIFACT_CANDIDATE: &str = "artifact_candidate";
    pub const IMPORT_ARTIFACT: &str = "import_artifact";
    pub const INACTIVITY_ASSESSABLE: &str = "inactivity_assessable";
    pub const ENGAGEMENT_DATA: &str = "engagement_data";
    pub const CUSTOMER: &str = "customer";
    pub const PENDING_SINCE: &str = "pending_since";
    pub const LAST_ACTIVITY: &str = "last_activity";
    /// The last activity, else the consent time; worked out where a rule reads it, never held.
    pub const ACTIVITY_REF: &str = "activity_ref";
    pub const WITHDRAWN_AT: &str = "withdrawn_at";
    pub const SOURCES: &str = "sources";
    /// Whether an order date or a customer's creation date is known (SPEC §3.2 soft opt-in).
    pub const CUSTOMER_DATE: &str = "order_or_creation_date_known";
    /// The outcome as its [`super::Outcome::code`].
    pub const OUTCOME: &str = "outcome";
    pub const SUPPRESS: &str = "suppress";
    /// A contact's reasons as the bits of one UInt32, the `k`th bit for the `k`th of
    /// [`super::reasons`]: the lists spell them from it.
    pub const REASON_BITS: &str = "reason_bits";
    pub const EVENT_AT: &str = "event_at";
    pub const RESTRICTIVE: &str = "restrictive";
    pub const ROW_ACTIVITY: &str = "row_activity";
    pub const FIRST_ROW: &str = "first_row";
    /// From the state (SPEC §8): when the contact's hash was suppressed, when a re-permission
    /// mail went out to them, and whether they renewed their consent since.
    pub const KEY_SHA256: &str = "key_sha256";
    pub const SUPPRESSED_SINCE: &str = "suppressed_since";
    pub const FIRST_LISTED: &str = "first_listed";
    pub const SENT_ON: &str = "sent_on";
    pub const RENEWED_AT: &str = "renewed_at";
    pub const RENEWED: &str = "renewed";
}

/// What earlier runs remember, as frames the decision joins (SPEC §8).
pub struct Memory {
    /// `key_sha256`, `suppressed_since` (Int64 instant).
    pub suppression: DataFrame,
    /// `key_sha256`, `first_listed`, `sent_on` (Int64 instants, `sent_on` may be null).
    pub repermission: DataFrame,
    /// `key`, `renewed_at` (Int64): the "yes, keep me" answers of `--renewed`.
    pub renewed: Option<LazyFrame>,
}

impl Memory {
    /// The state's stores (and `--suppression` lists) as frames for the decision.
    pub fn new(
        earlier: &BTreeMap<String, Suppressed>,
        listed: &BTreeMap<String, Listed>,
        renewed: Option<LazyFrame>,
    ) -> PolarsResult<Memory> {
        let since: Vec<Option<i64>> = earlier
            .values()
            .map(|e| parse(&e.since, DateOrder::DayFirst).map(|p| p.millis))
            .collect();
        let suppression = DataFrame::new(
            earlier.len(),
            vec![
                Column::new(
                    col::KEY_SHA256.into(),
                    earlier.keys().cloned().collect::<Vec<_>>(),
                ),
                Column::new(col::SUPPRESSED_SINCE.into(), since),
            ],
        )?;
        let day = |d: NaiveDate| start_of_day_millis(d.year(), d.month(), d.day());
        let repermission = DataFrame::new(
            listed.len(),
            vec![
                Column::new(
                    col::KEY_SHA256.into(),
                    listed.keys().cloned().collect::<Vec<_>>(),
                ),
                Column::new(
                    col::FIRST_LISTED.into(),
                    listed
                        .values()
                        .map(|l| day(l.first_listed))
                        .collect::<Vec<_>>(),
                ),
                Column::new(
                    col::SENT_ON.into(),
                    listed
                        .values()
                        .map(|l| l.sent_on.map(day))
                        .collect::<Vec<_>>(),
                ),
            ],
        )?;
        Ok(Memory {
            suppression,
            repermission,
            renewed,
        })
    }
}

/// Joins the state onto the contacts and applies renewals: a renewed contact's consent is the
/// renewal (or its own later date), with full evidence (SPEC §8).
fn remember(contacts: LazyFrame, memory: Option<&Memory>) -> PolarsResult<LazyFrame> {
    let left = |how| JoinArgs {
        maintain_order: MaintainOrderJoin::Left,
        ..JoinArgs::new(how)
    };
    let contacts = match memory {
        None => {
            return Ok(contacts
                .with_columns(nothing_remembered().map(|(name, value)| lit(value).alias(name))));
        }
        Some(memory) => {
            let mut contacts = contacts
                .with_column(crate::normalize::email::sha256_expr(col(KEY)).alias(col::KEY_SHA256))
                .join(
                    memory.suppression.clone().lazy(),
                    [col(col::KEY_SHA256)],
                    [col(col::KEY_SHA256)],
                    left(JoinType::Left),
                )
                .join(
                    memory.repermission.clone().lazy(),
                    [col(col::KEY_SHA256)],
                    [col(col::KEY_SHA256)],
                    left(JoinType::Left),
                );
            contacts = match &memory.renewed {
                Some(renewed) => contacts.join(
                    renewed
                        .clone()
                        .group_by([col(KEY)])
                        .agg([col(col::RENEWED_AT).max()]),
                    [col(KEY)],
                    [col(KEY)],
                    left(JoinType::Left),
                ),
                None => contacts.with_column(int_null().alias(col::RENEWED_AT)),
            };
            contacts
        }
    };
    let renewed = col(col::RENEWED_AT).is_not_null().or(col(col::SENT_ON)
        .is_not_null()
        .and(col(CONSENT_AT).gt(col(col::SENT_ON)))
        .fill_null(lit(false)));
    let renewal_wins = col(col::RENEWED_AT).is_not_null().and(
        col(CONSENT_AT)
            .is_null()
            .or(col(col::RENEWED_AT).gt(col(CONSENT_AT))),
    );
    Ok(contacts
        .with_column(renewed.alias(col::RENEWED))
        .with_columns([
            when(renewal_wins.clone())
                .then(col(col::RENEWED_AT))
                .otherwise(col(CONSENT_AT))
                .alias(CONSENT_AT),
            when(renewal_wins)
                .then(lit(crate::normalize::REPERMISSION_COLUMN))
                .otherwise(col(CONSENT_COLUMN))
                .alias(CONSENT_COLUMN),
            when(col(col::RENEWED))
                .then(lit(Evidence::Full.rank()))
                .otherwise(col(col::EVIDENCE))
                .alias(col::EVIDENCE),
        ]))
}

/// What [`remember`] adds to the contacts when nothing is remembered: nobody renewed, and the
/// consent stays as it is.
fn nothing_remembered() -> [(&'static str, Scalar); 5] {
    let never = || Scalar::null(DataType::Int64);
    [
        (col::SUPPRESSED_SINCE, never()),
        (col::FIRST_LISTED, never()),
        (col::SENT_ON, never()),
        (col::RENEWED_AT, never()),
        (col::RENEWED, Scalar::from(false)),
    ]
}

fn int_null() -> Expr {
    lit(NULL).cast(DataType::Int64)
}

/// Rows with their per-row facts and evidence (SPEC §3.1).
fn judge_rows(rows: DataFrame, cx: &Context<'_>) -> PolarsResult<DataFrame> {
    let mut rows = with_derived(rows, &rules::row_facts(), cx)?;
    let evidence = Rules::over(&rows, cx).first_match(
        &rules::evidence_table(),
        |e| e.rank(),
        Otherwise::Value(Evidence::None.rank()),
    )?;
    rows.with_column(evidence.with_name(col::EVIDENCE.into()).into_column())?;
    Ok(rows)
}

/// The first row of the address's key where the key occurs on more than one row, else null:
/// one pass over a hash table of first rows, where a window `len().over(key)` also gathers
/// every group's rows. The table holds only row numbers (4 bytes a key, where a map from the
/// text held 24) and reads a row's address when its hash matches; each key is spelled from its
/// address as it is hashed (most addresses are their own key), so no column of keys is held.
/// The repeated keys' rows are then merged by this number rather than by their text.
fn repeated(addresses: Expr) -> Expr {
    addresses.map(
        |c: Column| {
            let keys = c.str()?;
            let chunks: Vec<_> = keys.downcast_iter().collect();
            Ok(repeated_rows(&chunks)
                .with_name(c.name().clone())
                .into_column())
        },
        |_, field| Ok(polars::prelude::Field::new(field.name().clone(), IDX_DTYPE)),
    )
}

/// How many bits of a key's hash pick its partition in [`repeated_rows`].
const PARTITION_BITS: u32 = 8;

/// For each row whose key another row has, the key's first row; null for the others (the
/// addresses are in `chunks`, one after the other; a null is no key).
///
/// One hash table of every key would miss the cache on almost every row. So the rows are
/// first hashed, one share of them per core, into partitions by the top bits of the hash,
/// each in row order; then each partition's keys, a 256th of them (40 thousand of ten
/// million), are looked up in a table of their own that stays in the cache, the partitions
/// shared over the cores. Only keys
/// whose next 32 hash bits agree are compared.
pub fn repeated_rows(chunks: &[&polars_arrow::array::Utf8ViewArray]) -> IdxCa {
    let len: usize = chunks.iter().map(|c| c.len()).sum();
    // Where each chunk's rows start, to find a row's text from its number.
    let starts = starts(chunks.iter().map(|c| c.len()));
    let key = |row: u32| {
        let row = row as usize;
        let chunk = starts.partition_point(|&s| s <= row) - 1;
        key_of(chunks[chunk].value(row - starts[chunk]))
    };
    let hasher = PlRandomState::default();
    let partitions = 1usize << PARTITION_BITS;
    // Each core's share of the rows, as (the hash's low 32 bits, row) per partition.
    let hashed: Vec<Vec<Vec<(u32, u32)>>> =
        crate::parallel::over_ranges(len, 1 << 16, |range: std::ops::Range<usize>| {
            let mut parts: Vec<Vec<(u32, u32)>> = (0..partitions)
                .map(|_| Vec::with_capacity(range.len() / partitions * 9 / 8 + 8))
                .collect();
            for (chunk, start) in chunks.iter().zip(&starts) {
                let from = range.start.max(*start);
                let to = range.end.min(start + chunk.len());
                if from >= to {
                    continue;
                }
                let rows = (*chunk).clone().sliced(from - start, to - from);
                for (row, address) in (from..to).zip(rows.iter()) {
                    if let Some(address) = address {
                        let hash = hasher.hash_one(key_of(address).as_ref());
                        parts[(hash >> (64 - PARTITION_BITS)) as usize]
                            .push((hash as u32, row as u32));
                    }
                }
            }
            parts
        });
    // The table's own hash of a fragment: spread over all the bits hashbrown reads.
    let spread = |fragment: u32| u64::from(fragment).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let per = partitions.div_ceil(crate::parallel::cores());
    let found = crate::parallel::map((0..partitions).step_by(per).collect(), |first: usize| {
        let mut found: Vec<u32> = Vec::new();
        let mut table: hashbrown::HashTable<(u32, u32)> = hashbrown::HashTable::new();
        for part in first..(first + per).min(partitions) {
            let entries = hashed.iter().map(|share| share[part].len()).sum();
            table.clear();
            table.reserve(entries, |&(fragment, _)| spread(fragment));
            // The shares follow each other in row order, so the first row of a key comes first.
            for &(fragment, row) in hashed.iter().flat_map(|share| &share[part]) {
                let mut this = None;
                let entry = table.entry(
                    spread(fragment),
                    |&(f, r)| f == fragment && *this.get_or_insert_with(|| key(row)) == key(r),
                    |&(f, _)| spread(f),
                );
                let seen = entry.or_insert((fragment, row)).get().1;
                if seen != row {
                    found.extend([seen, row]);
                }
            }
        }
        found
    });
    // Each found pair is a key's first row and another of its rows.
    let mut firsts: Vec<IdxSize> = vec![0; len];
    let mut repeated = MutableBitmap::from_len_zeroed(len);
    for pair in found.iter().flat_map(|found| found.chunks_exact(2)) {
        for row in pair {
            firsts[*row as usize] = pair[0] as IdxSize;
            repeated.set(*row as usize, true);
        }
    }
    IdxCa::from_vec_validity(PlSmallStr::EMPTY, firsts, Some(repeated.into()))
}

/// The consent columns of a contact: a repeated key takes them all from one of its rows.
const CONSENT_COLUMNS: [&str; 9] = [
    col::EVIDENCE,
    CONSENT_AT,
    CONSENT_COLUMN,
    CONSENT_HAS_TIME,
    col::HAS_IP,
    col::DOI_CONFIRMED,
    col::BOUGHT_SOURCE,
    col::PURCHASE_SOURCE,
    Field::MarketingConsent.name(),
];

/// The columns a repeated key takes from its first row that has a value.
const FIRST_VALUES: [&str; 3] = [
    STATUS_UNKNOWN_VALUE,
    Field::FirstName.name(),
    Field::LastName.name(),
];

/// The columns each row keeps for the merge after [`prepare`]: everything [`merge`] and the
/// rules after it read. The source's text, the country and the tags are left out: what the
/// source means is in its facts (bought, purchase, meaningful), and no rule or output after
/// the merge reads the others. On a large list each text column costs more than any number.
fn prepared_columns() -> Vec<&'static str> {
    let mut columns = vec![
        Field::Email.name(),
        FILE,
        LINE,
        col::STATUS_RANK,
        col::RESTRICTIVE,
        col::EVENT_AT,
        col::ROW_ACTIVITY,
        col::PENDING_SINCE,
        ENGAGEMENT_FILE,
        col::CUSTOMER_DATE,
    ];
    columns.extend(CONSENT_COLUMNS);
    columns.extend(FIRST_VALUES);
    columns
}

/// Canonical rows judged (SPEC §3.1) and reduced to what the merge reads. Row by row, so that
/// each batch of an input is prepared on its own and only this much of it is kept.
pub fn prepare(rows: LazyFrame, policy: &Policy, as_of: i64) -> PolarsResult<LazyFrame> {
    let cx = Context { policy, as_of };
    let mut rows = judge_rows(rows.collect()?, &cx)?;
    for column in row_events(&rows, policy)? {
        rows.with_column(column)?;
    }
    Ok(rows.select(prepared_columns())?.lazy())
}

/// A row's withdrawal or bounce, its latest engagement, whether it knows a customer's date,
/// and since when it is pending: each in one pass over the batch's columns, visiting only the
/// rows a value can come from. As polars expressions (a `when`/`then` chain, a maximum across
/// columns, a comparison with each status) they took 0.26 of the 0.9 CPU-s that preparing
/// ten million rows cost.
fn row_events(rows: &DataFrame, policy: &Policy) -> PolarsResult<[Column; 5]> {
    let height = rows.height();
    let rank = held::<Int32Type>(rows, col::STATUS_RANK)?;
    let ranks = |statuses: &[Status]| -> Bitmap {
        let wanted: Vec<i32> = statuses.iter().map(|s| status::rank_of(*s)).collect();
        rank.as_ref()
            .map_or_else(|| Bitmap::new_zeroed(height), |rank| among(rank, &wanted))
    };
    let withdrawn = ranks(&[Status::Unsubscribed, Status::Complained]);
    let cleaned = ranks(&[Status::Cleaned]);
    let pending = ranks(&[Status::Pending]);
    let instants = |field: Field| held::<Int64Type>(rows, field.name());
    let (unsubscribed, bounced) = (
        instants(Field::UnsubscribedAt)?,
        instants(Field::CleanedAt)?,
    );
    let (optin, created) = (instants(Field::OptinAt)?, instants(Field::CreatedAt)?);
    let order = instants(Field::LastOrderAt)?;

    // The rank is never null; were it, so would be whether the row is restrictive.
    let restrictive = BooleanArray::new(
        ArrowDataType::Boolean,
        &withdrawn | &cleaned,
        rank.as_ref().and_then(|r| r.validity().cloned()),
    );
    let event = first_held(height, [(&withdrawn, &unsubscribed), (&cleaned, &bounced)]);

    let mut engagement: Vec<Field> = Vec::new();
    if policy.opens_count {
        engagement.push(Field::LastOpenAt);
    }
    engagement.extend([Field::LastClickAt, Field::LastActiveAt, Field::LastOrderAt]);
    let mut latest = vec![i64::MIN; height];
    let mut engaged = Bitmap::new_zeroed(height);
    let mut take = |values: &[i64], rows: Bitmap| {
        raise(&mut latest, values, &rows);
        engaged = &engaged | &rows;
    };
    for field in engagement {
        if let Some(at) = instants(field)? {
            take(at.values(), present(&at));
        }
    }
    // A consent with full evidence is the person's own act (SPEC §3.2).
    if let (Some(evidence), Some(consent)) = (
        held::<Int32Type>(rows, col::EVIDENCE)?,
        held::<Int64Type>(rows, CONSENT_AT)?,
    ) {
        let full = among(&evidence, &[Evidence::Full.rank()]);
        take(consent.values(), &full & &present(&consent));
    }
    let activity = PrimitiveArray::new(ArrowDataType::Int64, latest.into(), Some(engaged));

    // Only whether the dates are known is read after this (soft opt-in): a Boolean is a bit a
    // row where the two times took 16 bytes.
    let known = |at: &Option<PrimitiveArray<i64>>| at.as_ref().map(present);
    let customer_date = match (known(&order), known(&created)) {
        (Some(a), Some(b)) => &a | &b,
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => Bitmap::new_zeroed(height),
    };
    let customer_date = BooleanArray::new(ArrowDataType::Boolean, customer_date, None);
    let pending_since = first_held(height, [(&pending, &optin), (&pending, &created)]);
    Ok([
        BooleanChunked::with_chunk(col::RESTRICTIVE.into(), restrictive).into_column(),
        Int64Chunked::with_chunk(col::EVENT_AT.into(), event).into_column(),
        Int64Chunked::with_chunk(col::ROW_ACTIVITY.into(), activity).into_column(),
        BooleanChunked::with_chunk(col::CUSTOMER_DATE.into(), customer_date).into_column(),
        Int64Chunked::with_chunk(col::PENDING_SINCE.into(), pending_since).into_column(),
    ])
}

/// A one-row key's value of a contact column.
enum Own {
    /// The row's column of this name, as it is.
    Column(&'static str),
    /// The same for every row.
    Constant(Scalar),
}

impl Own {
    /// The row's column it is, if any: a repeated key's value is merged from it.
    fn column(&self) -> Option<&'static str> {
        match self {
            Own::Column(name) => Some(name),
            Own::Constant(_) => None,
        }
    }
}

/// Merges the [`prepare`]d rows of one e-mail key into one contact (SPEC §2.4), in
/// first-occurrence order; with the repeated keys' sources, by the codes in [`col::SOURCES`].
fn merge(prepared: LazyFrame) -> PolarsResult<(DataFrame, Arc<[String]>)> {
    // A repeated key is known by its first row, a number: grouping by the key's text hashed
    // it again for every step (merging ten million rows' repeated keys took 0.25-0.26 s,
    // against 0.17 s by the number, as a polars query).
    // Most keys have one row: those need no merging at all. Only the keys seen more than once
    // are merged ([`repeated::merge`]; a real list has a few percent of them).
    let prepared = prepared
        .with_column(repeated(col(Field::Email.name())).alias(col::FIRST_ROW))
        .collect()?;
    // (column, its value for a one-row key, its aggregation over a key's rows), in output order.
    // The key is not among them: it is the address's key (`email::key`), and a contact
    // column of it took 16 bytes a contact; the steps that join on it spell it again.
    let mut merged: Vec<(&str, Own, Agg)> = vec![
        (
            Field::Email.name(),
            Own::Column(Field::Email.name()),
            Agg::First,
        ),
        // A one-row key's source is its own file and line, written out by the outputs.
        (FILE, Own::Column(FILE), Agg::First),
        (LINE, Own::Column(LINE), Agg::First),
        // A repeated key's rows as text, held as a code into the sources' dictionary; none
        // for a one-row key.
        (
            col::SOURCES,
            Own::Constant(Scalar::null(DataType::Int32)),
            Agg::Sources,
        ),
        (col::STATUS_RANK, Own::Column(col::STATUS_RANK), Agg::Status),
        // A row's event is its withdrawal or bounce: only a restrictive status has one.
        (
            col::WITHDRAWN_AT,
            Own::Column(col::EVENT_AT),
            Agg::Withdrawn,
        ),
        (
            col::PENDING_SINCE,
            Own::Column(col::PENDING_SINCE),
            Agg::Max,
        ),
        (col::LAST_ACTIVITY, Own::Column(col::ROW_ACTIVITY), Agg::Max),
        (col::ENGAGEMENT_DATA, Own::Column(ENGAGEMENT_FILE), Agg::Any),
        (
            col::CUSTOMER_DATE,
            Own::Column(col::CUSTOMER_DATE),
            Agg::Any,
        ),
    ];
    merged.extend(CONSENT_COLUMNS.map(|name| (name, Own::Column(name), Agg::Best)));
    merged.extend(FIRST_VALUES.map(|name| (name, Own::Column(name), Agg::FirstHeld)));

    let is_repeated = prepared.column(col::FIRST_ROW)?.is_not_null();
    let mut sources = Dictionary::default();
    let repeated = repeated::merge(
        &prepared.filter(&is_repeated)?,
        &merged
            .iter()
            .map(|(name, own, agg)| (*name, own.column(), *agg))
            .collect::<Vec<_>>(),
        &mut sources,
    )?;
    // Every row with its own values; `prepared` goes here, and with it every column no
    // contact needs. Its columns are moved, not selected: a polars `select` joins each
    // column's batches into one copy, which on a large list held the rows twice.
    let rows = is_repeated.len();
    let singles = merged
        .iter()
        .map(|(name, own, _)| match own {
            Own::Column(from) => Ok(prepared.column(from)?.clone().with_name((*name).into())),
            Own::Constant(value) => Ok(Column::new_scalar((*name).into(), value.clone(), rows)),
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    drop(prepared);
    let singles = DataFrame::new(rows, singles)?;
    let contacts = in_first_row_order(singles, &is_repeated, repeated)?;
    Ok((contacts, sources.names()))
}

/// The columns of a decided contact that the outputs, the report and the state read (with
/// every reason's flag, and the key's hash when there is a state); the rest go after deciding.
const KEPT: [&str; 19] = [
    Field::Email.name(),
    Field::FirstName.name(),
    Field::LastName.name(),
    col::STATUS_RANK,
    FILE,
    LINE,
    col::SOURCES,
    STATUS_UNKNOWN_VALUE,
    col::EVIDENCE,
    CONSENT_AT,
    CONSENT_COLUMN,
    col::LAST_ACTIVITY,
    col::WITHDRAWN_AT,
    col::IMPORT_ARTIFACT,
    col::INACTIVITY_ASSESSABLE,
    col::RENEWED,
    col::OUTCOME,
    col::SUPPRESS,
    col::REASON_BITS,
];

/// Everything decided about every contact, one row each in first-occurrence order.
pub struct Decision {
    pub contacts: DataFrame,
    /// The repeated keys' rows (`index:line;…`), by the codes in [`col::SOURCES`].
    pub sources: Arc<[String]>,
    /// Activity rows whose address is no contact of the inputs (SPEC §2.4).
    pub activity_only: u64,
}

/// The whole of SPEC §2.4 and §3 over the [`prepare`]d rows of every contacts input, with the
/// `--activity` rows (key, latest open, latest other engagement) joined by key.
pub fn decide(
    prepared: LazyFrame,
    activity: Option<LazyFrame>,
    memory: Option<&Memory>,
    policy: &Policy,
    as_of: i64,
) -> PolarsResult<Decision> {
    let cx = Context { policy, as_of };
    let (mut contacts, sources) = merge(prepared)?;
    let mut activity_only = 0;
    if activity.is_none() && memory.is_none() {
        // Nothing to join: the contacts stay in the chunks they were read in, which a polars
        // query over them would copy into one (on ten million contacts 0.34-0.38 s, and the
        // 600 MB of their columns held twice).
        let height = contacts.height();
        for (name, value) in nothing_remembered() {
            contacts.with_column(Column::new_scalar(name.into(), value, height))?;
        }
    } else {
        let mut joined = contacts.lazy().with_column(with_key());
        if let Some(activity) = activity {
            let per_key = activity_per_key(activity, policy)?;
            activity_only = without_contact(&per_key, joined.clone())?;
            joined = joined
                .join(
                    per_key.lazy(),
                    [col(KEY)],
                    [col(activity_col::KEY)],
                    JoinArgs {
                        maintain_order: MaintainOrderJoin::Left,
                        ..JoinArgs::new(JoinType::Left)
                    },
                )
                .with_columns([
                    max_horizontal([col(col::LAST_ACTIVITY), col(ACTIVITY_AT)])?
                        .alias(col::LAST_ACTIVITY),
                    lit(true).alias(col::ENGAGEMENT_DATA),
                ]);
        }
        contacts = remember(joined, memory)?.collect()?;
    }
    // The contact facts read the whole list (an import artefact is a consent second many
    // contacts share); everything after them reads one contact at a time.
    let contacts = with_derived(contacts, &rules::contact_facts(), &cx)?;
    let contacts = per_slice(contacts, |slice| judge(slice, memory.is_some(), &cx))?;
    Ok(Decision {
        contacts,
        sources,
        activity_only,
    })
}

/// `work` on slices of `frame` on the cores side by side, and the results stacked in order:
/// each column of the result is a chunk per slice. A slice is at most a core's share of the
/// rows and never crosses a chunk of them ([`normalize::columns::pieces`]; the contacts keep
/// the chunks their rows were read in), so that each of its columns is one array, which the
/// rules read as it is (a slice across chunks is copied into one first). Over the merged
/// contacts, one chunk a column, polars ran the reasons and the outcome on one core of two; in
/// slices they took 0.49-0.71 s on ten million contacts instead of 0.93-0.99 s (paired runs).
fn per_slice(
    frame: DataFrame,
    work: impl Fn(DataFrame) -> PolarsResult<DataFrame> + Sync,
) -> PolarsResult<DataFrame> {
    let per = frame.height().div_ceil(crate::parallel::cores());
    let mut slices: Vec<DataFrame> = normalize::columns::pieces(&frame, per)
        .into_iter()
        .map(|rows| frame.slice(rows.start as i64, rows.len()))
        .collect();
    if slices.is_empty() {
        slices.push(frame.clear());
    }
    drop(frame);
    let mut done = crate::parallel::map(slices, work).into_iter();
    let mut stacked = done.next().unwrap_or_else(|| Ok(DataFrame::empty()))?;
    for slice in done {
        stacked.vstack_mut_owned(slice?)?;
    }
    Ok(stacked)
}

/// The evidence downgrade, every reason and the outcome of `contacts`, whose contact facts are
/// known; with the key's hash when `hashed`.
fn judge(mut contacts: DataFrame, hashed: bool, cx: &Context<'_>) -> PolarsResult<DataFrame> {
    // The import-artefact rule downgrades full evidence after the merge (SPEC §3.1).
    let downgrade = [Row {
        value: Evidence::Partial,
        when: rules::all([
            rules::Cond::True(col::IMPORT_ARTIFACT),
            rules::Cond::Is(col::EVIDENCE, "full"),
        ]),
        source: "SPEC §3.1 import artefact",
    }];
    let evidence = contacts.column(col::EVIDENCE)?.i32()?.clone();
    let evidence = Rules::over(&contacts, cx).first_match(
        &downgrade,
        |e| e.rank(),
        Otherwise::Column(&evidence),
    )?;
    contacts.with_column(evidence.with_name(col::EVIDENCE.into()).into_column())?;
    let mut rules = Rules::over(&contacts, cx);
    let mut bits = vec![0u32; contacts.height()];
    for (k, row) in rules::reason_table().into_iter().enumerate() {
        let answer = rules.answer(&row.when)?;
        let bit = u32::try_from(k)
            .ok()
            .and_then(|k| 1u32.checked_shl(k))
            .ok_or_else(|| polars_err!(ComputeError: "more than 32 reasons"))?;
        crate::normalize::columns::set_bit_where(&answer, bit, &mut bits);
        rules.derive(row.value.column(), answer);
    }
    // The contacts hold the outcome, evidence and status as numbers (see `Outcome::code`); the
    // writer spells them.
    let outcome = rules.first_match(
        &rules::outcome_table(),
        |o| o.code(),
        Otherwise::Value(Outcome::Keep.code()),
    )?;
    let suppress = rules.answer(&rules::suppress_rule())?;
    rules.derive(col::SUPPRESS, suppress);
    let derived = rules.into_columns();
    contacts.with_column(outcome.with_name(col::OUTCOME.into()).into_column())?;
    contacts.with_column(UInt32Chunked::from_vec(col::REASON_BITS.into(), bits).into_column())?;
    for column in derived {
        contacts.with_column(column)?;
    }
    let mut kept: Vec<PlSmallStr> = KEPT.iter().map(|name| (*name).into()).collect();
    kept.extend(self::reasons().iter().map(|reason| reason.column().into()));
    if hashed {
        kept.push(col::KEY_SHA256.into());
    }
    contacts.select(kept)
}

const ACTIVITY_AT: &str = "activity_at";

/// A contact's key, from its address, for the steps that join on or hash it.
pub fn with_key() -> Expr {
    crate::normalize::email::key(col(Field::Email.name())).alias(KEY)
}

/// The latest engagement per key in the `--activity` rows, under the policy's `opens_count`.
fn activity_per_key(activity: LazyFrame, policy: &Policy) -> PolarsResult<DataFrame> {
    let latest = if policy.opens_count {
        max_horizontal([col(activity_col::OPEN), col(activity_col::OTHER)])?
    } else {
        col(activity_col::OTHER)
    };
    activity
        .group_by([col(activity_col::KEY)])
        .agg([latest.max().alias(ACTIVITY_AT)])
        .collect()
}

/// How many activity keys belong to no contact.
fn without_contact(per_key: &DataFrame, contacts: LazyFrame) -> PolarsResult<u64> {
    Ok(per_key
        .clone()
        .lazy()
        .join(
            contacts.select([col(KEY)]),
            [col(activity_col::KEY)],
            [col(KEY)],
            JoinArgs::new(JoinType::Anti),
        )
        .collect()?
        .height() as u64)
}

/// The preset each contact was judged by, with `--preset-by-country`.
pub const PRESET: &str = "preset";
const INPUT_ORDER: &str = "input_order";

/// SPEC §3 with `--preset-by-country`: each contact is judged by the policy of its country's
/// preset (its first non-empty country), else by `base`. The import-artefact rule counts within
/// each preset's contacts.
pub fn decide_by_country(
    rows: LazyFrame,
    activity: Option<LazyFrame>,
    memory: Option<&Memory>,
    base: Preset,
    policies: &[(Preset, Policy)],
    as_of: i64,
) -> PolarsResult<Decision> {
    let rows = rows
        .with_row_index(INPUT_ORDER, None)
        .with_column(with_key())
        .collect()?;
    let (codes, presets): (Vec<&str>, Vec<&str>) = [
        ("NL", Preset::Nl),
        ("DE", Preset::De),
        ("FR", Preset::Fr),
        ("GB", Preset::Uk),
        ("UK", Preset::Uk),
    ]
    .into_iter()
    .map(|(code, preset)| (code, preset.name()))
    .unzip();
    let per_key = rows
        .clone()
        .lazy()
        .group_by([col(KEY)])
        .agg([
            col(Field::Country.name())
                .first_non_null()
                .alias("contact_country"),
            col(INPUT_ORDER).min(),
        ])
        .with_column(
            col("contact_country")
                .str()
                .strip_chars(lit(NULL))
                .str()
                .to_uppercase()
                .replace_strict(
                    lit(Series::new("codes".into(), codes)),
                    lit(Series::new("presets".into(), presets)),
                    Some(lit(base.name())),
                    Some(DataType::String),
                )
                .fill_null(lit(base.name()))
                .alias(PRESET),
        )
        .collect()?;
    let rows = rows
        .lazy()
        .drop(cols([INPUT_ORDER]))
        .join(
            per_key.clone().lazy().select([col(KEY), col(PRESET)]),
            [col(KEY)],
            [col(KEY)],
            JoinArgs {
                maintain_order: MaintainOrderJoin::Left,
                ..JoinArgs::new(JoinType::Left)
            },
        )
        .collect()?;
    let mut parts = Vec::new();
    // Each part's sources, one after the other: a part's codes move on by those before it.
    let mut sources: Vec<String> = Vec::new();
    for (preset, policy) in policies {
        let part = rows
            .clone()
            .lazy()
            .filter(col(PRESET).eq(lit(preset.name())))
            .drop(cols([PRESET]));
        let decision = decide(
            prepare(part, policy, as_of)?,
            activity.clone(),
            memory,
            policy,
            as_of,
        )?;
        let before = i32::try_from(sources.len())
            .map_err(|_| polars_err!(ComputeError: "too many repeated keys"))?;
        sources.extend(decision.sources.iter().cloned());
        parts.push(decision.contacts.lazy().with_columns([
            lit(preset.name()).alias(PRESET),
            (col(col::SOURCES) + lit(before)).alias(col::SOURCES),
        ]));
    }
    let mut activity_only = 0;
    if let (Some(activity), Some((_, policy))) = (activity, policies.first()) {
        activity_only = without_contact(&activity_per_key(activity, policy)?, rows.lazy())?;
    }
    let order = per_key.lazy().select([col(KEY), col(INPUT_ORDER)]);
    let contacts = concat(parts, UnionArgs::default())?
        .with_column(with_key())
        .join(order, [col(KEY)], [col(KEY)], JoinArgs::new(JoinType::Left))
        .sort([INPUT_ORDER], SortMultipleOptions::default())
        .drop(cols([INPUT_ORDER, KEY]))
        .collect()?;
    Ok(Decision {
        contacts,
        sources: sources.into(),
        activity_only,
    })
}

/// The reasons, for counting.
pub fn reasons() -> Vec<Reason> {
    rules::reason_table().into_iter().map(|r| r.value).collect()
}
