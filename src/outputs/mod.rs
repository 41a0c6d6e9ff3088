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
    Table(Box<LazyFrame>),
    Bytes(Vec<u8>),
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

/// Formatted once in [`tables`], then selected by every output that shows it.
const CONSENT_DATE: &str = "consent_date";
const LAST_ACTIVITY: &str = "last_activity_text";

fn date(formatted: &str, alias: &str) -> Expr {
    col(formatted).alias(alias)
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

/// The CSV tables of SPEC §4 from the decided contacts and the rejected rows, as plans: each
/// is built when it is written and dropped after, so a large list holds one table at a time.
pub fn tables(
    contacts: &DataFrame,
    rejects: &[Reject],
    as_of: i64,
) -> PolarsResult<Vec<(&'static str, LazyFrame)>> {
    let lf = contacts
        .clone()
        .lazy()
        .with_columns([
            format_expr(col(col::CONSENT_AT)).alias(CONSENT_DATE),
            format_expr(col(col::LAST_ACTIVITY)).alias(LAST_ACTIVITY),
        ])
        .collect()?
        .lazy();
    let email = || col(Field::Email.name());
    let names = || {
        [
            guarded(Field::FirstName.name()),
            guarded(Field::LastName.name()),
        ]
    };
    let mut audit_columns = vec![
        email(),
        col(col::OUTCOME),
        col(col::REASONS),
        col(col::EVIDENCE),
        date(CONSENT_DATE, "consent_date"),
        guarded(col::CONSENT_COLUMN).alias("consent_date_column"),
        date(LAST_ACTIVITY, "last_activity"),
        col(Field::Status.name()),
        map_text(
            coalesce(&[
                col(col::SOURCES),
                crate::decide::source_ref(col(col::SOURCE_FILE), col(col::LINE)),
            ]),
            guard_of,
        )
        .alias(col::SOURCES),
    ];
    // With --preset-by-country, the preset each contact was judged by.
    if contacts.column(crate::decide::PRESET).is_ok() {
        audit_columns.push(col(crate::decide::PRESET));
    }
    let audit = lf.clone().select(audit_columns);
    let repermission = lf.clone().filter(outcome_is("repermission")).select([
        email(),
        names()[0].clone(),
        names()[1].clone(),
        col(col::REASONS),
        date(CONSENT_DATE, "consent_date"),
    ]);
    let deletion = lf.clone().filter(outcome_is("delete")).select([
        email(),
        col(col::REASONS),
        yes_no(col::SUPPRESS),
    ]);
    // With a state, decide has hashed every key already.
    let hash = if contacts.column(col::KEY_SHA256).is_ok() {
        col(col::KEY_SHA256)
    } else {
        crate::normalize::email::sha256_expr(col(col::KEY))
    };
    let suppression = lf.clone().filter(col(col::SUPPRESS)).select([
        hash.alias("email_sha256"),
        when(col(crate::decide::rules::Reason::Withdrawn.column()))
            .then(lit("withdrawn"))
            .otherwise(lit("bounced"))
            .alias("reason"),
        format_expr(col(col::WITHDRAWN_AT).fill_null(lit(as_of))).alias("since"),
    ]);
    let person = |frame: LazyFrame| {
        frame.select([
            email(),
            names()[0].clone(),
            names()[1].clone(),
            date(CONSENT_DATE, "consent_date"),
            date(LAST_ACTIVITY, "last_activity"),
        ])
    };
    let keep = person(lf.clone().filter(outcome_is("keep")));
    let no_marketing = person(lf.clone().filter(outcome_is("no-marketing")));
    let reengage = person(lf.filter(outcome_is("keep").and(col(
        crate::decide::rules::Reason::NearingInactivity.column(),
    ))));
    let rejects = rejects_table(rejects)?.lazy();
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

/// The rows a table will have, without building it.
pub fn count(table: &LazyFrame) -> PolarsResult<u64> {
    let counted = table.clone().select([len()]).collect()?;
    Ok(counted
        .column("len")?
        .cast(&DataType::UInt64)?
        .u64()?
        .get(0)
        .unwrap_or(0))
}

/// Writes a table as CSV in the run's style: RFC 4180, `\n`, a BOM and `;` with `--excel`.
pub fn write_csv(
    writer: &mut impl Write,
    frame: &mut DataFrame,
    style: CsvStyle,
) -> PolarsResult<()> {
    CsvWriter::new(writer)
        // polars' default of 1024 rows per thread and round made writing a million rows take
        // 1.1 s here; 16384 took 0.65 s (65536 was no faster).
        .with_batch_size(
            std::num::NonZeroUsize::new(1 << 14).unwrap_or(std::num::NonZeroUsize::MIN),
        )
        .include_header(true)
        .include_bom(style.excel)
        .with_separator(if style.excel { b';' } else { b',' })
        .with_quote_style(QuoteStyle::Necessary)
        .with_line_terminator("\n".into())
        .finish(frame)
}
