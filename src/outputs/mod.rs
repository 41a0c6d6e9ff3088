//! Outputs (SPEC §4): build each output table from the decided contacts, and write them all
//! atomically — staged in the output folder, renamed into place only when every file was
//! written, created with mode 0600 because they hold personal data.

pub mod commit;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use polars::prelude::*;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::decide::col;
use crate::fields::Field;
use crate::ingest::Reject;
use crate::ingest::scan::hex;
use crate::normalize::date::format_expr;
use crate::normalize::text::map_text;
use crate::state::Suppressed;

/// Every file a run writes, in the order they are listed.
pub const OUTPUT_FILES: [&str; 10] = [
    "audit.csv",
    "repermission.csv",
    "deletion.csv",
    "suppression.csv",
    "keep.csv",
    "no-marketing.csv",
    "reengage.csv",
    "rejects.csv",
    "report.json",
    "report.html",
];

/// Why the outputs could not be written. Nothing was replaced in any of these cases.
#[derive(Debug, Error)]
pub enum OutputError {
    #[error(
        "{dir} already holds outputs of an earlier run ({files})\n\nhint: pass --force to replace them, or choose another --out"
    )]
    Exists { dir: String, files: String },
    #[error("cannot write the outputs to {dir}: {source}")]
    Write { dir: String, source: std::io::Error },
    #[error("cannot write {file}: {source}")]
    Csv { file: String, source: PolarsError },
    #[error("cannot build the outputs: {0}")]
    Build(#[from] PolarsError),
}

/// One file of a run, ready to be written.
pub enum Content {
    /// A table, built when it is written.
    Table(Table),
    Bytes(Vec<u8>),
}

/// How a table is built from a slice of its source rows.
type Plan = Arc<dyn Fn(LazyFrame) -> LazyFrame + Send + Sync>;

/// An output table: its source rows and the plan that turns any slice of them into the table's
/// rows. It is built and written a slice at a time, so a large list never holds a whole
/// formatted table (at 10M contacts, audit.csv alone is larger than the input).
#[derive(Clone)]
pub struct Table {
    source: DataFrame,
    plan: Plan,
}

/// Source rows per written slice.
const SLICE_ROWS: usize = 1 << 18;

impl Table {
    fn new(
        source: DataFrame,
        plan: impl Fn(LazyFrame) -> LazyFrame + Send + Sync + 'static,
    ) -> Table {
        Table {
            source,
            plan: Arc::new(plan),
        }
    }

    /// A table that is its source.
    pub fn whole(frame: DataFrame) -> Table {
        Table::new(frame, |lf| lf)
    }

    /// The whole table at once.
    pub fn collect(&self) -> PolarsResult<DataFrame> {
        (self.plan)(self.source.clone().lazy()).collect()
    }

    /// The rows the table will have, without building it.
    pub fn count(&self) -> PolarsResult<u64> {
        let counted = (self.plan)(self.source.clone().lazy())
            .select([len()])
            .collect()?;
        Ok(counted
            .column("len")?
            .cast(&DataType::UInt64)?
            .u64()?
            .get(0)
            .unwrap_or(0))
    }

    /// Writes the table as CSV, slice by slice: the header (and BOM) once, then the rows.
    pub fn write(&self, writer: &mut impl Write, style: CsvStyle) -> PolarsResult<()> {
        let rows = self.source.height();
        let mut offset = 0;
        loop {
            let len = SLICE_ROWS.min(rows - offset);
            let slice = self.source.slice(offset as i64, len);
            let mut frame = (self.plan)(slice.lazy()).collect()?;
            write_csv(writer, &mut frame, style, offset == 0)?;
            offset += len;
            if offset >= rows {
                return Ok(());
            }
        }
    }
}

pub struct Output {
    pub name: &'static str,
    pub content: Content,
}

/// How CSV files are written.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvStyle {
    /// `--excel`: a BOM and `;`, so Dutch Excel opens the files correctly.
    pub excel: bool,
}

/// Cells a spreadsheet would run as a formula get a leading `'` (SPEC §4).
fn guarded(name: &str) -> Expr {
    map_text(col(name), guard_of).alias(name)
}

/// [`guarded`] of one value.
fn guard_of(value: &str) -> Cow<'_, str> {
    match value.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{value}")),
        _ => Cow::Borrowed(value),
    }
}

fn yes_no(name: &str) -> Expr {
    when(col(name))
        .then(lit("yes"))
        .otherwise(lit("no"))
        .alias(name)
}

fn outcome_is(outcome: &str) -> Expr {
    col(col::OUTCOME).eq(lit(outcome.to_string()))
}

/// The hex SHA-256 of every value, computed over chunks in parallel.
pub fn sha256_hex(values: &[&str]) -> Vec<String> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = values.len().div_ceil(threads).max(1024);
    std::thread::scope(|scope| {
        let handles: Vec<_> = values
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|v| hex(&Sha256::digest(v.as_bytes())))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// The CSV tables of SPEC §4 from the decided contacts and the rejected rows, each a plan over
/// slices of the contacts (see [`Table`]).
pub fn tables(
    contacts: &DataFrame,
    rejects: &[Reject],
    as_of: i64,
    files: &[String],
) -> PolarsResult<Vec<(&'static str, Table)>> {
    let email = || col(Field::Email.name());
    let names = || {
        [
            guarded(Field::FirstName.name()),
            guarded(Field::LastName.name()),
        ]
    };
    let consent_date = || format_expr(col(col::CONSENT_AT)).alias("consent_date");
    let last_activity = || format_expr(col(col::LAST_ACTIVITY)).alias("last_activity");
    let mut audit_columns = vec![
        email(),
        col(col::OUTCOME),
        col(col::REASONS),
        col(col::EVIDENCE),
        consent_date(),
        guarded(col::CONSENT_COLUMN).alias("consent_date_column"),
        last_activity(),
        col(Field::Status.name()),
        map_text(sources(files), guard_of).alias(col::SOURCES),
    ];
    // With --preset-by-country, the preset each contact was judged by.
    if contacts.column(crate::decide::PRESET).is_ok() {
        audit_columns.push(col(crate::decide::PRESET));
    }
    let table = |plan: Box<dyn Fn(LazyFrame) -> LazyFrame + Send + Sync>| {
        Table::new(contacts.clone(), plan)
    };
    let audit = table(Box::new(move |lf| lf.select(audit_columns.clone())));
    let repermission_columns = [
        email(),
        names()[0].clone(),
        names()[1].clone(),
        col(col::REASONS),
        consent_date(),
    ];
    let repermission = table(Box::new(move |lf| {
        lf.filter(outcome_is("repermission"))
            .select(repermission_columns.clone())
    }));
    let deletion = table(Box::new(|lf| {
        lf.filter(outcome_is("delete")).select([
            col(Field::Email.name()),
            col(col::REASONS),
            yes_no(col::SUPPRESS),
        ])
    }));
    // With a state, decide has hashed every key already.
    let hash = if contacts.column(col::KEY_SHA256).is_ok() {
        col(col::KEY_SHA256)
    } else {
        crate::normalize::email::sha256_expr(col(col::KEY))
    };
    let suppression_columns = [
        hash.alias("email_sha256"),
        when(col(crate::decide::rules::Reason::Withdrawn.column()))
            .then(lit("withdrawn"))
            .otherwise(lit("bounced"))
            .alias("reason"),
        format_expr(col(col::WITHDRAWN_AT).fill_null(lit(as_of))).alias("since"),
    ];
    let suppression = table(Box::new(move |lf| {
        lf.filter(col(col::SUPPRESS))
            .select(suppression_columns.clone())
    }));
    let person_columns = [
        email(),
        names()[0].clone(),
        names()[1].clone(),
        consent_date(),
        last_activity(),
    ];
    let person = |filter: Expr| {
        let columns = person_columns.clone();
        table(Box::new(move |lf| {
            lf.filter(filter.clone()).select(columns.clone())
        }))
    };
    let keep = person(outcome_is("keep"));
    let no_marketing = person(outcome_is("no-marketing"));
    let reengage = person(outcome_is("keep").and(col(
        crate::decide::rules::Reason::NearingInactivity.column(),
    )));
    let rejects = Table::whole(rejects_table(rejects)?);
    Ok(vec![
        ("audit.csv", audit),
        ("repermission.csv", repermission),
        ("deletion.csv", deletion),
        ("suppression.csv", suppression),
        ("keep.csv", keep),
        ("no-marketing.csv", no_marketing),
        ("reengage.csv", reengage),
        ("rejects.csv", rejects),
    ])
}

/// Where each contact came from, `file:line;…` with the files' names: its own row's, or a
/// repeated key's rows (which decide spells with the files' indexes).
fn sources(files: &[String]) -> Expr {
    let names: Arc<[String]> = files.into();
    let name = col(col::FILE).replace_strict(
        lit(Series::new(
            "index".into(),
            (0..files.len() as u32).collect::<Vec<u32>>(),
        )),
        lit(Series::new("name".into(), files.to_vec())),
        None,
        Some(DataType::String),
    );
    let own = concat_str([name, col(col::LINE).cast(DataType::String)], ":", false);
    let spelled = col(col::SOURCES).map(
        move |column: Column| {
            let spell = |refs: &str| -> String {
                refs.split(';')
                    .map(|r| match r.split_once(':') {
                        Some((file, line)) => {
                            let name = file
                                .parse::<usize>()
                                .ok()
                                .and_then(|i| names.get(i))
                                .map_or(file, String::as_str);
                            format!("{name}:{line}")
                        }
                        None => r.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(";")
            };
            let spelled: StringChunked = column.str()?.iter().map(|refs| refs.map(spell)).collect();
            Ok(spelled.with_name(column.name().clone()).into_column())
        },
        |_, field| {
            Ok(polars::prelude::Field::new(
                field.name().clone(),
                DataType::String,
            ))
        },
    );
    coalesce(&[spelled, own])
}

/// suppression.csv (SPEC §4): the contacts withdrawn or bounced now (with the date the state
/// first recorded them), then every earlier hash that is not a contact who signed up again.
pub fn with_earlier(
    current: &DataFrame,
    contacts: &DataFrame,
    earlier: &BTreeMap<String, Suppressed>,
) -> PolarsResult<DataFrame> {
    let hashes = contacts.column(col::KEY_SHA256)?.str()?;
    let suppress = contacts.column(col::SUPPRESS)?.bool()?;
    let suppressed = contacts
        .column(&crate::decide::rules::Reason::Suppressed.column())?
        .bool()?;
    let mut now: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut resigned: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for ((hash, s), r) in hashes.iter().zip(suppress.iter()).zip(suppressed.iter()) {
        let Some(hash) = hash else { continue };
        if s == Some(true) {
            now.insert(hash);
        } else if r != Some(true) && earlier.contains_key(hash) {
            resigned.insert(hash);
        }
    }
    let current_hashes = current.column("email_sha256")?.str()?;
    let reasons = current.column("reason")?.str()?;
    let sinces = current.column("since")?.str()?;
    let (mut h, mut r, mut s) = (Vec::new(), Vec::new(), Vec::new());
    for ((hash, reason), since) in current_hashes.iter().zip(reasons.iter()).zip(sinces.iter()) {
        let hash = hash.unwrap_or("");
        h.push(hash.to_string());
        r.push(reason.unwrap_or("").to_string());
        s.push(
            earlier
                .get(hash)
                .map_or_else(|| since.unwrap_or("").to_string(), |e| e.since.clone()),
        );
    }
    for (hash, entry) in earlier {
        if !now.contains(hash.as_str()) && !resigned.contains(hash.as_str()) {
            h.push(hash.clone());
            r.push(entry.reason.clone());
            s.push(entry.since.clone());
        }
    }
    DataFrame::new(
        h.len(),
        vec![
            Column::new("email_sha256".into(), h),
            Column::new("reason".into(), r),
            Column::new("since".into(), s),
        ],
    )
}

fn rejects_table(rejects: &[Reject]) -> PolarsResult<DataFrame> {
    let frame = DataFrame::new(
        rejects.len(),
        vec![
            Column::new(
                "file".into(),
                rejects.iter().map(|r| r.file.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "line".into(),
                rejects.iter().map(|r| r.line).collect::<Vec<_>>(),
            ),
            Column::new(
                "problem".into(),
                rejects
                    .iter()
                    .map(|r| r.problem.as_str())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "raw".into(),
                rejects.iter().map(|r| r.raw.as_str()).collect::<Vec<_>>(),
            ),
        ],
    )?;
    frame
        .lazy()
        .select([guarded("file"), col("line"), col("problem"), guarded("raw")])
        .collect()
}

/// Refuses to run when `dir` holds outputs of an earlier run and `--force` was not given.
pub fn check_overwrite(dir: &Path, names: &[&str], force: bool) -> Result<(), OutputError> {
    if force {
        return Ok(());
    }
    let existing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| dir.join(name).exists())
        .collect();
    if existing.is_empty() {
        Ok(())
    } else {
        Err(OutputError::Exists {
            dir: dir.display().to_string(),
            files: existing.join(", "),
        })
    }
}

/// Writes a frame as CSV in the run's style: RFC 4180, `\n`, a BOM and `;` with `--excel`.
fn write_csv(
    writer: &mut impl Write,
    frame: &mut DataFrame,
    style: CsvStyle,
    header: bool,
) -> PolarsResult<()> {
    CsvWriter::new(writer)
        // polars' default of 1024 rows per thread and round made writing a million rows take
        // 1.1 s here; 16384 took 0.65 s (65536 was no faster).
        .with_batch_size(
            std::num::NonZeroUsize::new(1 << 14).unwrap_or(std::num::NonZeroUsize::MIN),
        )
        .include_header(header)
        .include_bom(style.excel && header)
        .with_separator(if style.excel { b';' } else { b',' })
        .with_quote_style(QuoteStyle::Necessary)
        .with_line_terminator("\n".into())
        .finish(frame)
}
