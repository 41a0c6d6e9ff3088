//! Outputs (SPEC §4): build each output table from the decided contacts, and write them all
//! atomically — staged in the output folder, renamed into place only when every file was
//! written, created with mode 0600 because they hold personal data.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::decide::col;
use crate::fields::Field;
use crate::ingest::Reject;
use crate::ingest::scan::hex;
use crate::normalize::date::format_expr;

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
    Table(DataFrame),
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
    let c = col(name);
    when(c.clone().str().contains(lit(r"^[=+\-@\t\r]"), false))
        .then(concat_str([lit("'"), c.clone()], "", false))
        .otherwise(c)
        .alias(name)
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

/// The CSV tables of SPEC §4 from the decided contacts and the rejected rows.
pub fn tables(
    contacts: &DataFrame,
    rejects: &[Reject],
    as_of: i64,
) -> PolarsResult<Vec<(&'static str, DataFrame)>> {
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
    let audit = lf
        .clone()
        .select([
            email(),
            col(col::OUTCOME),
            col(col::REASONS),
            col(col::EVIDENCE),
            date(CONSENT_DATE, "consent_date"),
            guarded(col::CONSENT_COLUMN).alias("consent_date_column"),
            date(LAST_ACTIVITY, "last_activity"),
            col(Field::Status.name()),
            guarded(col::SOURCES),
        ])
        .collect()?;
    // With --preset-by-country, the preset each contact was judged by.
    let audit = match contacts.column(crate::decide::PRESET) {
        Ok(preset) => {
            let mut audit = audit;
            audit.with_column(preset.clone())?;
            audit
        }
        Err(_) => audit,
    };
    let repermission = lf
        .clone()
        .filter(outcome_is("repermission"))
        .select([
            email(),
            names()[0].clone(),
            names()[1].clone(),
            col(col::REASONS),
            date(CONSENT_DATE, "consent_date"),
        ])
        .collect()?;
    let deletion = lf
        .clone()
        .filter(outcome_is("delete"))
        .select([email(), col(col::REASONS), yes_no(col::SUPPRESS)])
        .collect()?;
    let suppressed = lf
        .clone()
        .filter(col(col::SUPPRESS))
        .select([
            col(col::KEY),
            when(col(crate::decide::rules::Reason::Withdrawn.column()))
                .then(lit("withdrawn"))
                .otherwise(lit("bounced"))
                .alias("reason"),
            format_expr(col(col::WITHDRAWN_AT).fill_null(lit(as_of))).alias("since"),
        ])
        .collect()?;
    let keys: Vec<&str> = suppressed
        .column(col::KEY)?
        .str()?
        .iter()
        .map(|k| k.unwrap_or(""))
        .collect();
    let hashes = Column::new("email_sha256".into(), sha256_hex(&keys));
    let suppression = DataFrame::new(
        suppressed.height(),
        vec![
            hashes,
            suppressed.column("reason")?.clone(),
            suppressed.column("since")?.clone(),
        ],
    )?;
    let person = |frame: LazyFrame| {
        frame
            .select([
                email(),
                names()[0].clone(),
                names()[1].clone(),
                date(CONSENT_DATE, "consent_date"),
                date(LAST_ACTIVITY, "last_activity"),
            ])
            .collect()
    };
    let keep = person(lf.clone().filter(outcome_is("keep")))?;
    let no_marketing = person(lf.clone().filter(outcome_is("no-marketing")))?;
    let reengage = person(lf.filter(outcome_is("keep").and(col(
        crate::decide::rules::Reason::NearingInactivity.column(),
    ))))?;
    let rejects = rejects_table(rejects)?;
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

fn create_private(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

fn write_one(path: &Path, content: &mut Content, style: CsvStyle) -> Result<(), OutputError> {
    let name = path.display().to_string();
    let file = create_private(path).map_err(|source| OutputError::Write {
        dir: name.clone(),
        source,
    })?;
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    match content {
        Content::Table(frame) => {
            CsvWriter::new(&mut writer)
                .include_header(true)
                .include_bom(style.excel)
                .with_separator(if style.excel { b';' } else { b',' })
                .with_quote_style(QuoteStyle::Necessary)
                .with_line_terminator("\n".into())
                .finish(frame)
                .map_err(|source| OutputError::Csv {
                    file: name.clone(),
                    source,
                })?;
        }
        Content::Bytes(bytes) => writer
            .write_all(bytes)
            .map_err(|source| OutputError::Write {
                dir: name.clone(),
                source,
            })?,
    }
    let file = writer.into_inner().map_err(|e| OutputError::Write {
        dir: name.clone(),
        source: e.into_error(),
    })?;
    file.sync_all()
        .map_err(|source| OutputError::Write { dir: name, source })
}

/// Writes every output into `dir`: each to a staging folder inside `dir` first, then renamed
/// into place once all were written. On failure nothing in `dir` changes, and a `dir` this run
/// created is removed again. Returns the paths written.
pub fn commit(
    dir: &Path,
    mut outputs: Vec<Output>,
    style: CsvStyle,
) -> Result<Vec<PathBuf>, OutputError> {
    let write_err = |source| OutputError::Write {
        dir: dir.display().to_string(),
        source,
    };
    let created = create_dirs(dir).map_err(write_err)?;
    let result = (|| {
        for output in &outputs {
            let target = dir.join(output.name);
            if target.is_dir() {
                return Err(write_err(std::io::Error::other(format!(
                    "{} is a directory",
                    target.display()
                ))));
            }
        }
        let staging = tempfile::Builder::new()
            .prefix(".listaudit-staging-")
            .tempdir_in(dir)
            .map_err(write_err)?;
        for output in &mut outputs {
            write_one(
                &staging.path().join(output.name),
                &mut output.content,
                style,
            )?;
        }
        let mut written = Vec::new();
        for output in &outputs {
            let target = dir.join(output.name);
            std::fs::rename(staging.path().join(output.name), &target).map_err(write_err)?;
            written.push(target);
        }
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(write_err)?;
        Ok(written)
    })();
    if result.is_err() {
        for created_dir in created.iter().rev() {
            let _ = std::fs::remove_dir(created_dir);
        }
    }
    result
}

/// Creates `dir` and its missing parents; returns the folders it created, outermost first.
fn create_dirs(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut current = Some(dir);
    while let Some(d) = current {
        if d.as_os_str().is_empty() || d.exists() {
            break;
        }
        missing.push(d.to_path_buf());
        current = d.parent();
    }
    missing.reverse();
    for d in &missing {
        std::fs::create_dir(d)?;
    }
    Ok(missing)
}
