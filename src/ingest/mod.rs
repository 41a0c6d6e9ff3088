//! Ingest (SPEC §2.1–2.2): find the input files, sniff each one, recognise its service, map its
//! headers onto the canonical fields, and hand polars a frame of its rows as strings.
//!
//! Every file is first read once by [`scan`] (hash + structure check). A clean UTF-8 file then
//! goes straight to polars' CSV reader; any other file takes the record-level pass of
//! [`records`], which puts each unreadable row in `rejects.csv` with its line.

pub mod profile;
pub mod records;
pub mod scan;

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;
use thiserror::Error;

use crate::fields::{Field, Status};
use profile::{Mapped, Profile};

/// A row that could not be used, for `rejects.csv` (SPEC §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub file: String,
    pub line: u64,
    pub problem: String,
    pub raw: String,
    /// Rejected for its form (wrong field count, invalid bytes): these count towards
    /// `max_reject_pct`; a row without an e-mail does not.
    pub form: bool,
}

impl Reject {
    pub const NO_EMAIL: &'static str = "no e-mail address";

    pub fn no_email(file: &str, line: u64, raw: String) -> Reject {
        Reject {
            file: file.to_string(),
            line,
            problem: Self::NO_EMAIL.to_string(),
            raw,
            form: false,
        }
    }
}

/// Why ingest could not go on. Each names the file and says what to do.
#[derive(Debug, Error)]
pub enum IngestError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} holds no CSV files")]
    EmptyDirectory { path: String },
    #[error("{path} is empty: it has no header line")]
    NoHeader { path: String },
    #[error(
        "{path} has no e-mail column; the headers found are: {headers}\n\nhint: name the column with --map email=COLUMN"
    )]
    NoEmailColumn { path: String, headers: String },
    #[error(
        "{path} has no date column to read activity from; the headers found are: {headers}\n\nhint: name it with --map last_active_at=COLUMN"
    )]
    NoActivityColumn { path: String, headers: String },
    #[error(
        "{path}: {rejected} of {rows} rows ({pct:.1}%) could not be read, more than the {max}% allowed; the file was probably read wrongly, so nothing was written\n\nhint: check the delimiter ({delimiter}) and the encoding; the first bad row is line {first_line}: {first_problem}"
    )]
    TooManyRejects {
        path: String,
        rejected: u64,
        rows: u64,
        pct: f64,
        max: f64,
        delimiter: String,
        first_line: u64,
        first_problem: String,
    },
    #[error("{path}: {source}")]
    Polars { path: String, source: PolarsError },
}

/// What a file is to the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A subscriber export: every row is a contact.
    Contacts,
    /// An engagement export (`--activity`): e-mail and dates, joined by e-mail key.
    Activity,
}

/// Where a file's statuses come from, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusSource {
    Column(String),
    FileName(Status),
    /// The service's per-status columns (`UNSUB_TIME`, `CLEAN_TIME`) where the name says nothing.
    Columns(Status),
    /// No status at all: read as subscribed (SPEC §2.2).
    None,
}

/// One input file, read and mapped.
pub struct Input {
    pub path: PathBuf,
    /// The path as shown in outputs and the report.
    pub name: String,
    pub role: Role,
    pub sha256: String,
    pub profile: &'static Profile,
    /// The profile's signature columns found in the header.
    pub matched: Vec<String>,
    pub encoding: &'static str,
    pub delimiter: u8,
    /// The header as written.
    pub headers: Vec<String>,
    /// The column names in the frame: the headers, empty ones named and duplicates suffixed.
    pub columns: Vec<String>,
    pub mapping: Vec<Mapped>,
    pub status_source: StatusSource,
    /// Data rows in the file, rejected ones included.
    pub rows: u64,
    /// Rows rejected for their form.
    pub form_rejects: u64,
    /// Rows rejected because their e-mail cell is empty.
    pub no_email: u64,
    /// The rows: one String column per entry of `columns`, and `line` (UInt32).
    pub frame: LazyFrame,
}

impl Input {
    /// The frame column that holds `field`, if the file has one.
    pub fn column_of(&self, field: Field) -> Option<&str> {
        self.mapping
            .iter()
            .find(|m| m.field == field)
            .map(|m| self.columns[m.index].as_str())
    }

    /// The header (as written) that holds `field`.
    pub fn header_of(&self, field: Field) -> Option<&str> {
        self.mapping
            .iter()
            .find(|m| m.field == field)
            .map(|m| m.header.as_str())
    }

    /// Whether the file carries any engagement column (SPEC §3.2: inactivity can be judged).
    pub fn has_engagement(&self) -> bool {
        self.mapping.iter().any(|m| m.field.is_engagement())
    }
}

/// What the user told ingest.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// `--map FIELD=COLUMN`.
    pub overrides: Vec<(Field, String)>,
    /// `--format SERVICE`.
    pub format: Option<&'static Profile>,
    /// The policy's `max_reject_pct`.
    pub max_reject_pct: f64,
}

/// Header names of `--activity` files that hold an activity date, after the engagement names.
const ACTIVITY_DATE_HEADERS: &[&str] = &[
    "date",
    "datum",
    "timestamp",
    "time",
    "activitydate",
    "eventdate",
    "openedat",
    "clickedat",
    "lastevent",
];

/// The files an INPUT names: the file itself, or every CSV below a directory in path order.
pub fn expand(input: &Path) -> Result<Vec<PathBuf>, IngestError> {
    let meta = std::fs::metadata(input).map_err(|source| IngestError::Read {
        path: input.display().to_string(),
        source,
    })?;
    if !meta.is_dir() {
        return Ok(vec![input.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut pending = vec![input.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| IngestError::Read {
            path: dir.display().to_string(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| IngestError::Read {
                path: dir.display().to_string(),
                source,
            })?;
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if is_csv_name(&path) {
                files.push(path);
            }
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(IngestError::EmptyDirectory {
            path: input.display().to_string(),
        });
    }
    Ok(files)
}

fn is_csv_name(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'));
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    !hidden && matches!(ext.as_deref(), Some("csv" | "tsv" | "txt"))
}

/// Picks the delimiter of a file from its first line, counting outside quotes (SPEC §2.1).
pub fn sniff_delimiter(head: &[u8]) -> u8 {
    const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
    let mut counts = [0usize; 4];
    let mut quoted = false;
    for &b in head {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            _ if !quoted => {
                if let Some(i) = CANDIDATES.iter().position(|c| *c == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let best = (0..4).max_by_key(|&i| (counts[i], std::cmp::Reverse(i)));
    best.filter(|&i| counts[i] > 0)
        .map_or(b',', |i| CANDIDATES[i])
}

/// Names for the frame's columns: empty headers become `column_N`, repeats get `_2`, `_3`.
pub fn column_names(headers: &[String]) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(headers.len());
    for (i, header) in headers.iter().enumerate() {
        let base = if header.trim().is_empty() {
            format!("column_{}", i + 1)
        } else {
            header.clone()
        };
        let mut name = base.clone();
        let mut n = 2;
        while names.contains(&name) || name == "line" {
            name = format!("{base}_{n}");
            n += 1;
        }
        names.push(name);
    }
    names
}

/// Reads one file: sniff, detect, map, check, and build its frame. Rows it cannot use are added
/// to `rejects`.
pub fn read_input(
    path: &Path,
    name: String,
    role: Role,
    options: &IngestOptions,
    rejects: &mut Vec<Reject>,
) -> Result<Input, IngestError> {
    let read_err = |source| IngestError::Read {
        path: name.clone(),
        source,
    };
    let mut head = Vec::with_capacity(64 * 1024);
    File::open(path)
        .map_err(read_err)?
        .take(64 * 1024)
        .read_to_end(&mut head)
        .map_err(read_err)?;
    let bom = if head.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let encoding = if bom > 0 { "utf-8 with BOM" } else { "utf-8" };
    let delimiter = sniff_delimiter(&head[bom..]);

    let headers = read_headers(path, bom, delimiter).map_err(read_err)?;
    if headers.is_empty() || headers.iter().all(|h| h.trim().is_empty()) {
        return Err(IngestError::NoHeader { path: name });
    }
    let columns = column_names(&headers);
    let (profile, matched) = match options.format {
        Some(profile) => (profile, Vec::new()),
        None => profile::detect(&headers),
    };
    let mut mapping = profile::map_columns(profile, &headers, &options.overrides);
    let header_list = || {
        headers
            .iter()
            .map(|h| format!("`{h}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let email_index = mapping
        .iter()
        .find(|m| m.field == Field::Email)
        .map(|m| m.index);
    let Some(email_index) = email_index else {
        return Err(IngestError::NoEmailColumn {
            path: name,
            headers: header_list(),
        });
    };
    if role == Role::Activity {
        mapping.retain(|m| m.field == Field::Email || m.field.is_engagement());
        if mapping.len() == 1 {
            let keys: Vec<String> = headers.iter().map(|h| profile::header_key(h)).collect();
            if let Some(index) = ACTIVITY_DATE_HEADERS
                .iter()
                .find_map(|name| keys.iter().position(|k| k == name))
            {
                mapping.push(Mapped {
                    field: Field::LastActiveAt,
                    index,
                    header: headers[index].clone(),
                    by_user: false,
                });
            } else {
                return Err(IngestError::NoActivityColumn {
                    path: name,
                    headers: header_list(),
                });
            }
        }
    }
    let status_source = status_source(profile, path, &headers, &mapping);

    let file = File::open(path).map_err(read_err)?;
    let scan = scan::scan(
        BufReader::with_capacity(1 << 20, file),
        bom,
        delimiter,
        headers.len(),
        Some(email_index),
    )
    .map_err(read_err)?;

    let polars_err = |source| IngestError::Polars {
        path: name.clone(),
        source,
    };
    let (frame, rows, form_rejects, no_email) = if scan.clean {
        let no_email = scan.empty_email.len() as u64;
        for (line, raw) in scan.empty_email {
            rejects.push(Reject::no_email(&name, line, raw));
        }
        let frame =
            polars_frame(path, delimiter, &columns, scan.record_lines).map_err(polars_err)?;
        (frame, scan.records, 0, no_email)
    } else {
        let bytes = std::fs::read(path).map_err(read_err)?;
        let before = rejects.len();
        let records = records::read(
            &bytes[bom.min(bytes.len())..],
            &name,
            delimiter,
            &columns,
            Some(email_index),
            rejects,
        )
        .map_err(polars_err)?;
        let no_email = rejects[before..].iter().filter(|r| !r.form).count() as u64;
        check_rejects(&name, delimiter, &records, &rejects[before..], options)?;
        (
            records.frame.lazy(),
            records.records,
            records.form_rejects,
            no_email,
        )
    };
    Ok(Input {
        path: path.to_path_buf(),
        name,
        role,
        sha256: scan.sha256,
        profile,
        matched,
        encoding,
        delimiter,
        headers,
        columns,
        mapping,
        status_source,
        rows,
        form_rejects,
        no_email,
        frame,
    })
}

fn check_rejects(
    name: &str,
    delimiter: u8,
    records: &records::Records,
    rejects: &[Reject],
    options: &IngestOptions,
) -> Result<(), IngestError> {
    if records.records == 0 || records.form_rejects == 0 {
        return Ok(());
    }
    let pct = records.form_rejects as f64 * 100.0 / records.records as f64;
    if pct <= options.max_reject_pct {
        return Ok(());
    }
    let first = rejects.iter().find(|r| r.form);
    Err(IngestError::TooManyRejects {
        path: name.to_string(),
        rejected: records.form_rejects,
        rows: records.records,
        pct,
        max: options.max_reject_pct,
        delimiter: delimiter_name(delimiter),
        first_line: first.map_or(0, |r| r.line),
        first_problem: first.map_or_else(String::new, |r| r.problem.clone()),
    })
}

/// How a delimiter is shown to people.
pub fn delimiter_name(delimiter: u8) -> String {
    match delimiter {
        b'\t' => "TAB".to_string(),
        other => format!("'{}'", other as char),
    }
}

fn read_headers(path: &Path, bom: usize, delimiter: u8) -> std::io::Result<Vec<String>> {
    let mut file = BufReader::new(File::open(path)?);
    let mut skip = [0u8; 3];
    file.read_exact(&mut skip[..bom])?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(file);
    let mut record = csv::ByteRecord::new();
    if !reader
        .read_byte_record(&mut record)
        .map_err(std::io::Error::other)?
    {
        return Ok(Vec::new());
    }
    Ok(record
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_string())
        .collect())
}

fn status_source(
    profile: &Profile,
    path: &Path,
    headers: &[String],
    mapping: &[Mapped],
) -> StatusSource {
    if let Some(m) = mapping.iter().find(|m| m.field == Field::Status) {
        return StatusSource::Column(m.header.clone());
    }
    if profile.status_from_file_name {
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if let Some(status) = profile::status_from_file_name(file_name) {
            return StatusSource::FileName(status);
        }
        let keys: Vec<String> = headers.iter().map(|h| profile::header_key(h)).collect();
        let has = |k: &str| keys.iter().any(|key| key == k);
        if has("unsubtime") {
            return StatusSource::Columns(Status::Unsubscribed);
        }
        if has("cleantime") {
            return StatusSource::Columns(Status::Cleaned);
        }
    }
    StatusSource::None
}

/// A clean file, read by polars with every column as a string.
fn polars_frame(
    path: &Path,
    delimiter: u8,
    columns: &[String],
    record_lines: Option<Vec<u32>>,
) -> PolarsResult<LazyFrame> {
    let schema: Schema = columns
        .iter()
        .map(|c| polars::prelude::Field::new(c.as_str().into(), DataType::String))
        .collect();
    let reader = LazyCsvReader::new(PlRefPath::try_from_path(path)?)
        .with_has_header(true)
        .with_separator(delimiter)
        .with_schema(Some(Arc::new(schema)))
        .with_glob(false)
        .with_missing_is_null(true);
    match record_lines {
        None => Ok(reader
            .with_row_index(Some(RowIndex {
                name: "line".into(),
                offset: 2,
            }))
            .finish()?),
        Some(lines) => {
            let mut frame = reader.finish()?.collect()?;
            frame.with_column(Column::new("line".into(), lines))?;
            Ok(frame.lazy())
        }
    }
}
